"""Cross-validation folds: they partition the rows, keep the class shares, and fit each fold's preprocessing and
scaler on its own training rows, as ``load`` fits them on its split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from clf_tui import datasets
from clf_tui.datasets.builtin import make_builtin
from clf_tui.errors import ConfigError, DataError

from .exports import customers, write_pandas


def check_partition(folds: list[datasets.Fold], y: np.ndarray) -> None:
    """Every row in one validation split exactly, each training split the rest, each class's share kept."""
    n = len(y)
    every = np.concatenate([fold.val_rows for fold in folds])
    np.testing.assert_array_equal(np.sort(every), np.arange(n))
    k = len(folds)
    for number, fold in enumerate(folds, start=1):
        assert (fold.number, fold.n_folds) == (number, k)
        np.testing.assert_array_equal(np.sort(np.concatenate([fold.train_rows, fold.val_rows])), np.arange(n))
        np.testing.assert_array_equal(fold.data.y_val, y[fold.val_rows])
        np.testing.assert_array_equal(fold.data.y_train, y[fold.train_rows])
        for c, total in enumerate(np.bincount(y)):
            assert abs(np.sum(y[fold.val_rows] == c) - total / k) < 1  # stratified: floor or ceil of its share


def test_the_folds_of_a_built_in_partition_its_generated_rows_and_scale_on_their_training_rows() -> None:
    raw = make_builtin("wine")
    folds = list(datasets.folds("wine", 4, split_seed=3))
    assert len(folds) == 4
    check_partition(folds, raw.y)
    for fold in folds:
        scaler = StandardScaler().fit(raw.X[fold.train_rows])
        np.testing.assert_allclose(fold.data.scaler.shift, scaler.mean_)
        np.testing.assert_allclose(fold.data.X_val, scaler.transform(raw.X[fold.val_rows]), rtol=1e-5, atol=1e-5)
        assert fold.data.scaler.n_fit_rows == len(fold.train_rows)
    # The shuffle follows split_seed; one fold alone is that fold, fit alike.
    assert not np.array_equal(next(datasets.folds("wine", 4, split_seed=4)).val_rows, folds[0].val_rows)
    (third,) = datasets.folds("wine", 4, split_seed=3, only=3)
    np.testing.assert_array_equal(third.val_rows, folds[2].val_rows)
    np.testing.assert_array_equal(third.data.X_train, folds[2].data.X_train)


def test_the_folds_of_an_export_use_its_labelled_rows_and_fit_the_preprocessing_per_fold(tmp_path: Path) -> None:
    data = customers(n=300, missing_labels=6)
    path = write_pandas(tmp_path / "churn.csv", data, stray_word_at=None)
    folds = list(datasets.folds(str(path), 3, target="churn"))
    labelled = np.flatnonzero([label is not None for label in data.label])
    y = np.array([data.label[i] == "left" for i in labelled], dtype=np.int64)  # "left", the rarer, is class 1
    assert folds[0].data.class_names == ("stayed", "left")
    check_partition(folds, y)
    numbers = np.column_stack([data.age, data.income])[labelled]
    for fold in folds:
        columns = [fold.data.feature_names.index(name) for name in ("age", "income")]
        reference = make_pipeline(SimpleImputer(strategy="median"), StandardScaler()).fit(numbers[fold.train_rows])
        np.testing.assert_allclose(fold.data.X_val[:, columns], reference.transform(numbers[fold.val_rows]),
                                   rtol=1e-5, atol=1e-5)
        fills = {column.name: column.fill for column in fold.data.preprocessing.columns}
        assert fills["age"] == np.nanmedian(numbers[fold.train_rows, 0])
    assert len({fold.data.preprocessing.columns[0].fill for fold in folds}) > 1  # each fold its own median


def test_load_still_fits_on_its_training_split_alone(tmp_path: Path) -> None:
    data = customers(n=300)
    path = write_pandas(tmp_path / "churn.csv", data, stray_word_at=None)
    split = datasets.load(str(path), target="churn", val_fraction=0.25, split_seed=5)
    assert len(split.y_val) == 75 and split.preprocessing is not None and split.report is not None
    ages = split.X_train[:, split.feature_names.index("age")]
    assert abs(float(ages.mean())) < 1e-6  # scaled on these rows


def test_an_npz_file_folds_like_a_built_in(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(90, 3)), np.repeat([0, 1, 2], 30)
    np.savez(tmp_path / "three.npz", X=X, y=y)
    folds = list(datasets.folds(str(tmp_path / "three.npz"), 5))
    check_partition(folds, y)


def test_too_few_rows_of_a_class_for_the_folds_is_refused_in_one_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "rare.npz", X=rng.normal(size=(40, 2)), y=np.array([0] * 37 + [1] * 3))
    with pytest.raises(DataError, match=r"rare\.npz: class '1' has 3 rows, too few for 5 stratified folds"):
        next(datasets.folds(str(tmp_path / "rare.npz"), 5))
    with pytest.raises(ConfigError, match="folds = 1 is invalid for cross-validation") as info:
        next(datasets.folds("moons", 1))
    assert info.value.field == "folds"
    with pytest.raises(ConfigError, match="fold 4 is not one of folds 1 to 3"):
        next(datasets.folds("moons", 3, only=4))
