"""DataSplit: the one record every loader returns, and the fitted scaler it carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from clf_tui.datasets.csv_data import DataReport
    from clf_tui.datasets.preprocess import Preprocessing

CHUNK_ROWS = 65536
"""Scalers work through this many rows at a time, in float64, so a large table never gets a float64 twin."""

Task = Literal["binary", "multiclass"]
ScalerKind = Literal["standard", "minmax", "none"]


@dataclass(frozen=True)
class Scaler:
    """A feature scaler fit on the training split: ``transform(X) = (X - shift) / scale``.

    ``n_fit_rows`` is the number of training rows it was fit on; ``shift`` and
    ``scale`` are float64 arrays with one entry per feature (zeros and ones for
    ``kind="none"``; a constant feature keeps scale 1 so it never divides by 0).
    """

    kind: ScalerKind
    shift: np.ndarray
    scale: np.ndarray
    n_fit_rows: int

    def transform(self, X: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        """Scale raw features the way the training split was scaled, as float32.

        The arithmetic is float64, CHUNK_ROWS rows at a time. ``out`` (float32, X's shape)
        receives the result; it may be ``X`` itself, to scale a float32 table in place.
        """
        X = np.asarray(X)
        if out is None:
            out = np.empty(X.shape, dtype=np.float32)
        for start in range(0, len(X), CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            out[rows] = (np.asarray(X[rows], dtype=np.float64) - self.shift) / self.scale
        return out

    def columns(self, start: int, stop: int) -> Scaler:
        """The scaler of features ``start`` to ``stop`` alone."""
        return Scaler(self.kind, self.shift[start:stop], self.scale[start:stop], self.n_fit_rows)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """Scaled features back in the data's own units, as float64: ``X * scale + shift``.

        Meant for a few rows at a time (those shown to a user); float32 rounding of the scaled
        values carries over, so a value comes back within a float32 step of the original.
        """
        return np.asarray(X, dtype=np.float64) * self.scale + self.shift

    def to_dict(self) -> dict:
        """Plain lists and primitives, for checkpoints."""
        return {
            "kind": self.kind,
            "shift": [float(v) for v in self.shift],
            "scale": [float(v) for v in self.scale],
            "n_fit_rows": int(self.n_fit_rows),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Scaler":
        return cls(
            kind=d["kind"],
            shift=np.asarray(d["shift"], dtype=np.float64),
            scale=np.asarray(d["scale"], dtype=np.float64),
            n_fit_rows=int(d["n_fit_rows"]),
        )


@dataclass(frozen=True)
class DataSplit:
    """Train and validation arrays with everything needed to read them.

    ``X_*`` are float32 of shape (n, n_features), already scaled; ``y_*`` are int64
    labels in 0..k-1, where label i is ``class_names[i]``.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    scaler: Scaler
    task: Task = field(init=False)
    preprocessing: Preprocessing | None = None
    """How a CSV file's columns became the features (fit on the training rows), for new rows alike; None otherwise."""
    report: DataReport | None = None
    """A CSV file's data report: each column's role, the classes, the problems found."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", "binary" if len(self.class_names) == 2 else "multiclass")

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def class_counts(self) -> dict[str, tuple[int, ...]]:
        """Rows per class in each split, in class order: ``{"train": (...), "val": (...)}``."""
        k = self.n_classes
        return {
            "train": tuple(int(c) for c in np.bincount(self.y_train, minlength=k)),
            "val": tuple(int(c) for c in np.bincount(self.y_val, minlength=k)),
        }
