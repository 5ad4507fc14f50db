"""Feature scalers fit on the training split: standard, min-max, or none."""

from __future__ import annotations

import numpy as np

from clf_tui.datasets.record import CHUNK_ROWS, Scaler, ScalerKind
from clf_tui.errors import ConfigError, DataError

SCALER_KINDS: tuple[ScalerKind, ...] = ("standard", "minmax", "none")


def fit_scaler(X_train: np.ndarray, kind: str) -> Scaler:
    """Fit a scaler of ``kind`` on the training rows.

    ``standard`` shifts by the mean and divides by the population standard deviation
    (as scikit-learn's StandardScaler); ``minmax`` shifts by the minimum and divides
    by the range (as MinMaxScaler onto [0, 1]); ``none`` leaves features as they are.
    A feature that scikit-learn would call constant keeps scale 1.

    Raises:
        ConfigError: ``kind`` is not one of ``SCALER_KINDS``.
    """
    if kind not in SCALER_KINDS:
        raise ConfigError(f"scaler = {kind!r} is invalid: expected one of {', '.join(SCALER_KINDS)}", field="scaler")
    X = np.asarray(X_train)
    n_rows, n_features = X.shape
    if kind == "none":
        return Scaler(kind, np.zeros(n_features), np.ones(n_features), n_rows)
    eps = np.finfo(np.float64).eps
    # A column too large for float64's arithmetic (an infinite value, or a sum or square past 1.8e308) gets an
    # infinite or NaN shift, or scale 1: its values then leave float32's range once scaled, and the caller's
    # finite_or_refused names it. NumPy's warnings on the way would only precede that one message.
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "standard":
            shift, variance = _mean_and_variance(X)
            scale = np.sqrt(variance)
            # scikit-learn's bound on the round-off a constant column leaves in its variance
            constant = variance <= n_rows * eps * variance + (n_rows * shift * eps) ** 2
        else:
            shift = X.min(axis=0).astype(np.float64)
            scale = X.max(axis=0).astype(np.float64) - shift
            constant = scale < 10 * eps
    scale[constant] = 1.0
    return Scaler(kind, shift, scale, n_rows)


def finite_or_refused(X: np.ndarray, feature_names: tuple[str, ...], source: str, rows: str) -> np.ndarray:
    """``X``, scaled, if every value is a finite float32: a column that barely varies in the training rows can
    take other rows' values beyond float32's range once scaled as those were.

    Raises:
        DataError: naming the first such column.
    """
    overflowed = ~np.isfinite(X).all(axis=0)
    if overflowed.any():
        column = feature_names[int(np.flatnonzero(overflowed)[0])]
        raise DataError(f"{source}: column {column!r} of the {rows} rows leaves float32's range once scaled as the "
                        "training rows were; rescale or drop that column")
    return X


def joined_scalers(parts: list[Scaler], kind: str, n_rows: int) -> Scaler:
    """One scaler of the features that ``parts`` (each fit by ``fit_scaler`` on a block of side-by-side
    columns) scale: each feature's shift and scale depend on its own column only."""
    if not parts:
        return fit_scaler(np.empty((n_rows, 0)), kind)
    return Scaler(parts[0].kind, np.concatenate([p.shift for p in parts]), np.concatenate([p.scale for p in parts]),
                  n_rows)


def _mean_and_variance(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and population variance in float64, two passes of CHUNK_ROWS rows at a time."""
    mean = X.mean(axis=0, dtype=np.float64)
    squares = np.zeros(X.shape[1])
    for start in range(0, len(X), CHUNK_ROWS):
        deviations = X[start:start + CHUNK_ROWS].astype(np.float64) - mean
        squares += np.einsum("ij,ij->j", deviations, deviations)
    return mean, squares / len(X)
