"""Feature scalers fit on the training split: standard, min-max, or none."""

from __future__ import annotations

import numpy as np

from clf_tui.datasets.record import Scaler, ScalerKind
from clf_tui.engine.errors import ConfigError

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
        raise ConfigError(f"scaler = {kind!r} is invalid: expected one of {', '.join(SCALER_KINDS)}")
    X = np.asarray(X_train, dtype=np.float64)
    n_rows, n_features = X.shape
    if kind == "none":
        return Scaler(kind, np.zeros(n_features), np.ones(n_features), n_rows)
    eps = np.finfo(np.float64).eps
    if kind == "standard":
        shift, variance = X.mean(axis=0), X.var(axis=0)
        scale = np.sqrt(variance)
        # scikit-learn's bound on the round-off a constant column leaves in its variance
        constant = variance <= n_rows * eps * variance + (n_rows * shift * eps) ** 2
    else:
        shift = X.min(axis=0)
        scale = X.max(axis=0) - shift
        constant = scale < 10 * eps
    scale[constant] = 1.0
    return Scaler(kind, shift, scale, n_rows)
