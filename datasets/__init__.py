"""Built-in and user data sets, split and scaled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from clf_tui.datasets.builtin import BUILTINS, builtin_names, describe, make_builtin
from clf_tui.datasets.labelled import Labelled, listing
from clf_tui.datasets.record import DataSplit, Scaler
from clf_tui.datasets.scaling import fit_scaler
from clf_tui.datasets.splitting import split
from clf_tui.datasets.tabular import read_file
from clf_tui.engine.errors import DataError

__all__ = ["DataSplit", "Scaler", "builtin_names", "describe", "load", "load_eval"]


def load(source: str, *, n_samples: int | None = None, noise: float | None = None, n_classes: int = 3,
         data_seed: int = 0, val_fraction: float = 0.2, split_seed: int = 13, stratify: bool = True,
         scaler: str = "standard", target: str | None = None) -> DataSplit:
    """Read a data set, split it into training and validation rows, and scale both.

    Args:
        source: a built-in name (see ``builtin_names()``) or a path to a .csv or .npz file.
        n_samples, noise, n_classes, data_seed: options of synthetic built-ins (None: the set's default).
        val_fraction, split_seed, stratify: scikit-learn's ``train_test_split`` (test_size,
            random_state, and stratify by the labels or not).
        scaler: "standard", "minmax" or "none", fit on the training split only.
        target: the label column of a CSV file.

    Raises:
        DataError: the source is unknown, unreadable, or not fit for classification.
        ConfigError: an option is out of range.
    """
    data = _read(source, target, dict(n_samples=n_samples, noise=noise, n_classes=n_classes, data_seed=data_seed))
    X_train, X_val, y_train, y_val = split(data, val_fraction=val_fraction, split_seed=split_seed, stratify=stratify)
    fitted = fit_scaler(X_train, scaler)
    # The split's rows are copies: float32 ones are scaled in place.
    X_train = _scaled(fitted, X_train, data, "training", out=X_train if X_train.dtype == np.float32 else None)
    X_val = _scaled(fitted, X_val, data, "validation", out=X_val if X_val.dtype == np.float32 else None)
    return DataSplit(data.name, X_train, y_train, X_val, y_val, data.feature_names, data.class_names, fitted)


def load_eval(source: str, *, target: str | None, feature_names: tuple[str, ...], class_names: tuple[str, ...],
              scaler: Scaler, **builtin_options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every row of ``source`` as one evaluation set for a trained model: ``(X, y)``.

    Columns are taken by name in the order of ``feature_names`` and scaled with the
    model's ``scaler``; labels are numbered as in ``class_names``. ``builtin_options``
    are ``load``'s n_samples, noise, n_classes and data_seed.

    Raises:
        DataError: the source cannot be read, its features differ from ``feature_names``,
            or it has a label that is not one of ``class_names``.
    """
    data = _read(source, target, builtin_options)
    missing = [name for name in feature_names if name not in data.feature_names]
    unexpected = [name for name in data.feature_names if name not in feature_names]
    if missing or unexpected:
        raise DataError(f"{data.name} does not have the model's features: missing {listing(missing) or 'none'}, "
                        f"unexpected {listing(unexpected) or 'none'}")
    X = data.X[:, [data.feature_names.index(name) for name in feature_names]]
    index = {name: i for i, name in enumerate(class_names)}
    unknown = [data.class_names[label] for label in np.unique(data.y) if data.class_names[label] not in index]
    if unknown:
        raise DataError(f"{data.name} has label {unknown[0]!r}, which is not one of the model's classes "
                        f"({listing(class_names)})")
    y = np.array([index[name] for name in data.class_names], dtype=np.int64)[data.y]
    return _scaled(scaler, X, data, "evaluation"), y


def _read(source: str, target: str | None, builtin_options: dict[str, Any]) -> Labelled:
    if source in BUILTINS or not _looks_like_path(source):
        return make_builtin(source, **builtin_options)
    return read_file(source, target)


def _scaled(scaler: Scaler, X: np.ndarray, data: Labelled, rows: str, out: np.ndarray | None = None) -> np.ndarray:
    """``scaler.transform(X, out=out)``, checked: a column that barely varies in the training rows can take
    other rows' values beyond float32's range.

    Raises:
        DataError: a scaled value is not a finite float32.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, with the column's name
        scaled = scaler.transform(X, out=out)
    overflowed = ~np.isfinite(scaled).all(axis=0)
    if overflowed.any():
        column = data.feature_names[int(np.flatnonzero(overflowed)[0])]
        raise DataError(f"{data.name}: column {column!r} of the {rows} rows leaves float32's range once scaled "
                        f"as the training rows were ({scaler.kind}); rescale or drop that column")
    return scaled


def _looks_like_path(source: str) -> bool:
    path = Path(source)
    return bool(path.suffix) or len(path.parts) > 1 or path.exists()
