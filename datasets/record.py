"""DataSplit: the one record every loader returns, and the fitted scaler it carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

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
    def from_dict(cls, d: Any) -> Scaler:
        """The scaler ``to_dict`` wrote; ValueError for anything else: another kind, shift and scale of
        different lengths or not finite, a scale that is not positive (a fit never gives one)."""
        if not isinstance(d, dict) or d.get("kind") not in get_args(ScalerKind):
            raise ValueError("the scaler is not a dict of a known kind")
        shift, scale, n_fit_rows = d.get("shift"), d.get("scale"), d.get("n_fit_rows")
        if not (_numbers(shift) and _numbers(scale) and len(shift) == len(scale)):
            raise ValueError("the scaler's shift and scale are not two lists of numbers of one length")
        shift, scale = np.array(shift, dtype=np.float64), np.array(scale, dtype=np.float64)
        if not (np.isfinite(shift).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("the scaler's shift is not finite or its scale not finite and positive")
        if not isinstance(n_fit_rows, int) or isinstance(n_fit_rows, bool) or n_fit_rows < 0:
            raise ValueError(f"the scaler's row count {n_fit_rows!r} is not a whole number")
        return cls(d["kind"], shift, scale, n_fit_rows)


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


def _numbers(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
