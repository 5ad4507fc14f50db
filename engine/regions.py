"""Decision regions of two-feature data: a model's probabilities over a grid that covers the data, and the
cells where they cross a threshold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clf_tui.errors import DataError

if TYPE_CHECKING:
    from .trainer import Trainer

GRID_MARGIN = 0.08
"""The grid reaches this fraction of the data's range beyond its extreme rows on every side."""


@dataclass(frozen=True)
class RegionGrid:
    """An ``nx`` x ``ny`` grid of equal cells over the rectangle ``x_bounds`` x ``y_bounds`` of two features,
    in the model's (scaled) units.

    Row 0 holds the lowest values of the second feature, column 0 the lowest of the first; grids of
    probabilities over it have shape (ny, nx) for binary models and (ny, nx, k) for k classes.
    """

    x_bounds: tuple[float, float]
    y_bounds: tuple[float, float]
    nx: int
    ny: int

    def __post_init__(self) -> None:
        if self.nx < 1 or self.ny < 1:
            raise ValueError(f"a grid needs at least one cell each way, not {self.nx} x {self.ny}")

    @classmethod
    def covering(cls, X: np.ndarray, nx: int, ny: int, margin: float = GRID_MARGIN) -> RegionGrid:
        """A grid of ``nx`` x ``ny`` cells over the rows of ``X`` (n, 2), widened by ``margin`` of its range.

        Raises DataError unless ``X`` has exactly two features and at least one row.
        """
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != 2:
            n_features = X.shape[1] if X.ndim == 2 else X.ndim
            raise DataError(f"decision regions need exactly 2 features; this data has {n_features}")
        if len(X) == 0:
            raise DataError("decision regions need at least one row of data")
        bounds = []
        for values in (X[:, 0], X[:, 1]):
            low, high = float(values.min()), float(values.max())
            pad = margin * (high - low) if high > low else 1.0  # a constant feature still gets a range
            bounds.append((low - pad, high + pad))
        return cls(bounds[0], bounds[1], nx, ny)

    def resized(self, nx: int, ny: int) -> RegionGrid:
        """A grid of ``nx`` x ``ny`` cells over the same rectangle."""
        return RegionGrid(self.x_bounds, self.y_bounds, nx, ny)

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx): rows, then columns."""
        return self.ny, self.nx

    @property
    def cell_size(self) -> tuple[float, float]:
        """(width, height) of one cell."""
        return _width(self.x_bounds) / self.nx, _width(self.y_bounds) / self.ny

    @property
    def xs(self) -> np.ndarray:
        """The cell centres along the first feature."""
        return _centres(self.x_bounds, self.nx)

    @property
    def ys(self) -> np.ndarray:
        """The cell centres along the second feature."""
        return _centres(self.y_bounds, self.ny)

    def points(self) -> np.ndarray:
        """Every cell centre as a float32 (ny * nx, 2) array, row by row from the lowest."""
        gx, gy = np.meshgrid(self.xs, self.ys)
        return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)

    def cells_of(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, columns) of the cells holding each row of ``X``; rows beyond the grid go to its edge cells."""
        X = np.asarray(X)
        return _cell_index(X[:, 1], self.y_bounds, self.ny), _cell_index(X[:, 0], self.x_bounds, self.nx)


def grid_probabilities(trainer: Trainer, grid: RegionGrid) -> np.ndarray:
    """The trainer's model's probabilities at every cell centre: (ny, nx) P(class 1), or (ny, nx, k)."""
    probabilities = trainer.predict_proba(grid.points())
    return probabilities.reshape(grid.shape + probabilities.shape[1:])


def contour_cells(probability: np.ndarray, threshold: float) -> np.ndarray:
    """Where the contour P = ``threshold`` runs through a (ny, nx) grid of probabilities, as a bool mask.

    Between every two side-by-side or stacked cells on opposite sides of the threshold (P >=
    threshold being the positive side, the rule the confusion matrix counts by), the one nearer to
    the threshold is marked. A contour that is straight across the grid is then never more than
    a cell from the marked cells.
    """
    probability = np.asarray(probability, dtype=np.float64)
    positive = probability >= threshold
    distance = np.abs(probability - threshold)
    marked = np.zeros(probability.shape, dtype=bool)
    for axis in (0, 1):
        first = [slice(None)] * 2
        second = [slice(None)] * 2
        first[axis], second[axis] = slice(None, -1), slice(1, None)
        a, b = tuple(first), tuple(second)
        crosses = positive[a] != positive[b]
        a_nearer = distance[a] <= distance[b]
        marked[a] |= crosses & a_nearer
        marked[b] |= crosses & ~a_nearer
    return marked


def _width(bounds: tuple[float, float]) -> float:
    return bounds[1] - bounds[0]


def _centres(bounds: tuple[float, float], n: int) -> np.ndarray:
    edges = np.linspace(bounds[0], bounds[1], n + 1)
    return (edges[:-1] + edges[1:]) / 2


def _cell_index(values: np.ndarray, bounds: tuple[float, float], n: int) -> np.ndarray:
    """The cell of ``n`` equal ones across ``bounds`` that holds each value, clipped to the grid."""
    index = np.floor((values - bounds[0]) / _width(bounds) * n).astype(np.int64)
    return np.clip(index, 0, n - 1)
