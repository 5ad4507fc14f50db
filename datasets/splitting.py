"""The train / validation split, checked first so that scikit-learn never has to refuse it."""

from __future__ import annotations

import math

import numpy as np

from clf_tui.datasets.labelled import Labelled
from clf_tui.errors import ConfigError, DataError


def split(data: Labelled, *, val_fraction: float, split_seed: int,
          stratify: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, X_val, y_train, y_val`` by scikit-learn's ``train_test_split``; see ``split_rows``."""
    train, val = split_rows(data.y, data.class_names, data.name, val_fraction=val_fraction, split_seed=split_seed,
                            stratify=stratify)
    return data.X[train], data.X[val], data.y[train], data.y[val]


def split_rows(y: np.ndarray, class_names: tuple[str, ...], name: str, *, val_fraction: float, split_seed: int,
               stratify: bool) -> tuple[np.ndarray, np.ndarray]:
    """The training and validation row indices of labels ``y``, by scikit-learn's ``train_test_split``
    (which draws the same rows whatever else the rows hold).

    Raises:
        ConfigError: ``val_fraction`` is not between 0 and 1.
        DataError: fewer than 2 classes, an empty training split, or (with
            ``stratify``) a class or a split too small to stratify.
    """
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction = {val_fraction!r} is invalid: expected between 0 and 1, exclusive",
                          field="val_fraction")
    counts = np.bincount(y, minlength=len(class_names))
    present = np.flatnonzero(counts)
    if len(present) < 2:
        only = f", {class_names[present[0]]!r}" if len(present) else ""
        raise DataError(f"{name} has one class only{only} (all {len(y)} rows); a classifier needs at least 2")
    # The sizes train_test_split will make, by its own rounding.
    n_val = math.ceil(val_fraction * len(y))
    n_train = len(y) - n_val
    if n_train == 0:
        raise DataError(f"{name}: with {len(y)} rows, val_fraction = {val_fraction} leaves the training "
                        "split empty; lower val_fraction or add rows")
    if stratify:
        smallest = present[np.argmin(counts[present])]
        if counts[smallest] < 2:
            raise DataError(f"{name}: class {class_names[smallest]!r} has {counts[smallest]} row, too few "
                            "for a stratified split (each class needs 2); set stratify = false or add rows")
        for which, size, fix in (("training", n_train, "lower"), ("validation", n_val, "raise")):
            if size < len(present):
                raise DataError(f"{name}: a {which} split of {size} rows cannot hold all {len(present)} classes "
                                f"for a stratified split; {fix} val_fraction, add rows, or set stratify = false")
    from sklearn.model_selection import train_test_split

    return train_test_split(np.arange(len(y)), test_size=val_fraction, random_state=split_seed,
                            stratify=y if stratify else None)


def fold_rows(y: np.ndarray, class_names: tuple[str, ...], name: str, *, n_folds: int,
              split_seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (training, validation) row indices of each of ``n_folds`` stratified folds of labels ``y``, by
    scikit-learn's ``StratifiedKFold`` shuffled by ``split_seed``: every row is in one validation split.

    Raises:
        ConfigError: fewer than 2 folds.
        DataError: fewer than 2 classes, or a class with fewer rows than folds (each fold's validation rows
            hold every class).
    """
    if n_folds < 2:
        raise ConfigError(f"folds = {n_folds} is invalid for cross-validation: expected 2 or more", field="folds")
    counts = np.bincount(y, minlength=len(class_names))
    present = np.flatnonzero(counts)
    if len(present) < 2:
        only = f", {class_names[present[0]]!r}" if len(present) else ""
        raise DataError(f"{name} has one class only{only} (all {len(y)} rows); a classifier needs at least 2")
    smallest = present[np.argmin(counts[present])]
    if counts[smallest] < n_folds:
        raise DataError(f"{name}: class {class_names[smallest]!r} has {counts[smallest]} rows, too few for "
                        f"{n_folds} stratified folds (each fold's validation rows hold every class); lower folds "
                        "to at most that, or add rows")
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=split_seed)
    return list(folds.split(np.zeros(len(y)), y))
