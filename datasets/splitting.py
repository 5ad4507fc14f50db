"""The train / validation split, checked first so that scikit-learn never has to refuse it."""

from __future__ import annotations

import math

import numpy as np

from clf_tui.datasets.labelled import Labelled
from clf_tui.engine.errors import ConfigError, DataError


def split(data: Labelled, *, val_fraction: float, split_seed: int,
          stratify: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X_train, X_val, y_train, y_val`` by scikit-learn's ``train_test_split``.

    Raises:
        ConfigError: ``val_fraction`` is not between 0 and 1.
        DataError: fewer than 2 classes, an empty training split, or (with
            ``stratify``) a class or a split too small to stratify.
    """
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction = {val_fraction!r} is invalid: expected between 0 and 1, exclusive")
    counts = np.bincount(data.y, minlength=len(data.class_names))
    present = np.flatnonzero(counts)
    if len(present) < 2:
        raise DataError(f"{data.name} has one class only, {data.class_names[present[0]]!r} (all {len(data.y)} rows); "
                        "a classifier needs at least 2")
    # The sizes train_test_split will make, by its own rounding.
    n_val = math.ceil(val_fraction * len(data.y))
    n_train = len(data.y) - n_val
    if n_train == 0:
        raise DataError(f"{data.name}: with {len(data.y)} rows, val_fraction = {val_fraction} leaves the training "
                        "split empty; lower val_fraction or add rows")
    if stratify:
        smallest = present[np.argmin(counts[present])]
        if counts[smallest] < 2:
            raise DataError(f"{data.name}: class {data.class_names[smallest]!r} has {counts[smallest]} row, too few "
                            "for a stratified split (each class needs 2); set stratify = false or add rows")
        for which, size, fix in (("training", n_train, "lower"), ("validation", n_val, "raise")):
            if size < len(present):
                raise DataError(f"{data.name}: a {which} split of {size} rows cannot hold all {len(present)} classes "
                                f"for a stratified split; {fix} val_fraction, add rows, or set stratify = false")
    from sklearn.model_selection import train_test_split

    return train_test_split(data.X, data.y, test_size=val_fraction, random_state=split_seed,
                            stratify=data.y if stratify else None)
