"""Built-in and user data sets, split and scaled."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clf_tui.datasets.builtin import BUILTINS, builtin_names, describe, make_builtin
from clf_tui.datasets.csv_data import DataReport, read_csv_data
from clf_tui.datasets.labelled import Labelled, listing
from clf_tui.datasets.labels import choose_positive
from clf_tui.datasets.preprocess import Preprocessing
from clf_tui.datasets.record import DataSplit, Scaler
from clf_tui.datasets.roles import Overrides
from clf_tui.datasets.sources import ArrayRows, CsvRows, Rows, scaled
from clf_tui.datasets.splitting import fold_rows, split_rows
from clf_tui.datasets.tabular import enough_memory, read_file
from clf_tui.errors import ConfigError, DataError

__all__ = ["DataReport", "DataSplit", "Fold", "Overrides", "Preprocessing", "Scaler", "builtin_names", "describe",
           "folds", "inspect", "load", "load_eval"]


def load(source: str, *, n_samples: int | None = None, noise: float | None = None, n_classes: int = 3,
         data_seed: int = 0, val_fraction: float = 0.2, split_seed: int = 13, stratify: bool = True,
         scaler: str = "standard", target: str | None = None, overrides: Overrides = Overrides(),
         na_values: tuple[str, ...] = (), missing_indicators: bool = False, positive: str | None = None) -> DataSplit:
    """Read a data set, split it into training and validation rows, and scale both.

    Args:
        source: a built-in name (see ``builtin_names()``) or a path to a .csv or .npz file.
        n_samples, noise, n_classes, data_seed: options of synthetic built-ins (None: the set's default).
        val_fraction, split_seed, stratify: scikit-learn's ``train_test_split`` (test_size,
            random_state, and stratify by the labels or not).
        scaler: "standard", "minmax" or "none", fit on the training split only.
        target: the label column of a CSV file.
        overrides, na_values, missing_indicators: a CSV file's column roles chosen by the user, its
            missing markers besides the default ones, and a "(missing)" column beside each feature
            with missing training cells.
        positive: the positive class (class 1) of a binary task; by default a file's class named
            1, yes, true or positive, else its rarer class, and a built-in's own class 1.

    Raises:
        DataError: the source is unknown, unreadable, not fit for classification, or a file too large
            for the memory left.
        ConfigError: an option is out of range.
    """
    with _file_memory(source):
        rows = _rows(source, n_samples=n_samples, noise=noise, n_classes=n_classes, data_seed=data_seed,
                     scaler=scaler, target=target, overrides=overrides, na_values=na_values,
                     missing_indicators=missing_indicators, positive=positive)
        train, val = split_rows(rows.y, rows.class_names, rows.name, val_fraction=val_fraction,
                                split_seed=split_seed, stratify=stratify)
        return rows.split(train, val)


@dataclass(frozen=True, eq=False)
class Fold:
    """One fold of a cross-validation: its data split, and where its rows are among the data set's rows."""

    number: int
    """From 1 to ``n_folds``."""
    n_folds: int
    train_rows: np.ndarray
    val_rows: np.ndarray
    """Positions of the validation rows among the data set's rows (a CSV file's labelled rows): over the folds,
    every row is in exactly one validation split."""
    data: DataSplit


def folds(source: str, n_folds: int, *, split_seed: int = 13, only: int | None = None,
          **options: Any) -> Iterator[Fold]:
    """The ``n_folds`` stratified folds of all of a data set's rows (a built-in's generated rows, a file's
    labelled rows), each with its preprocessing and scaler fit on its own training rows, one fold at a time.

    Args:
        source, options: as ``load`` takes them (all but val_fraction and stratify).
        split_seed: the seed of the shuffle before the rows are dealt into folds.
        only: yield this fold alone (from 1), without fitting the others.

    Raises:
        ConfigError: fewer than 2 folds, or ``only`` not one of them.
        DataError: as ``load``, or a class with fewer rows than folds.
    """
    if only is not None and not 1 <= only <= n_folds:
        raise ConfigError(f"fold {only} is not one of folds 1 to {n_folds}", field="folds")
    with _file_memory(source):
        rows = _rows(source, **options)
        dealt = fold_rows(rows.y, rows.class_names, rows.name, n_folds=n_folds, split_seed=split_seed)
    for number, (train, val) in enumerate(dealt, start=1):
        if only is None or number == only:
            with _file_memory(source):
                data = rows.split(train, val)
            yield Fold(number, n_folds, train, val, data)


def _rows(source: str, *, n_samples: int | None = None, noise: float | None = None, n_classes: int = 3,
          data_seed: int = 0, scaler: str = "standard", target: str | None = None,
          overrides: Overrides = Overrides(), na_values: tuple[str, ...] = (), missing_indicators: bool = False,
          positive: str | None = None) -> Rows:
    """The rows of ``source`` before any split (``load``'s options)."""
    if _is_csv(source):
        csv = read_csv_data(_checked_path(Path(source)), target, overrides=overrides, na_values=na_values,
                            positive=positive)
        return CsvRows(csv, csv.labelled_rows(), scaler, missing_indicators, na_values)
    if overrides != Overrides() or na_values or missing_indicators:
        raise DataError(f"{source} is not a CSV file: drop, categorical, numeric, na_values and "
                        "missing_indicators apply to the columns of CSV files only")
    data = _read(source, target, dict(n_samples=n_samples, noise=noise, n_classes=n_classes, data_seed=data_seed))
    return ArrayRows(_with_positive(data, positive, by_rule=source not in BUILTINS), scaler)


def inspect(path: str, target: str | None, *, overrides: Overrides = Overrides(), na_values: tuple[str, ...] = (),
            positive: str | None = None) -> DataReport:
    """The data report of a CSV file, before any training: a role for every column, the classes, every problem.

    Raises:
        DataError: the file cannot be read as a table with that target column.
    """
    if not _is_csv(path):
        raise DataError(f"{path}: inspect reads .csv files")
    with _file_memory(path):
        return read_csv_data(Path(path), target, overrides=overrides, na_values=na_values, positive=positive).report


def _with_positive(data: Labelled, positive: str | None, *, by_rule: bool) -> Labelled:
    """``data`` with its positive class as class 1: the one named, or (``by_rule``) the default rule's choice."""
    if len(data.class_names) != 2:
        if positive is not None:
            raise DataError(f"{data.name}: positive = {positive!r} applies to two classes; this one has "
                            f"{len(data.class_names)}")
        return data
    if positive is None and not by_rule:
        return data
    counts = np.bincount(data.y, minlength=2)
    negative, positive_at = choose_positive(data.class_names, counts, data.name, positive)
    if (negative, positive_at) == (0, 1):
        return data
    return Labelled(data.name, data.X, 1 - data.y, data.feature_names, data.class_names[::-1])


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
    with _file_memory(source):
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
        return scaled(scaler, X, data, "evaluation"), y


def _read(source: str, target: str | None, builtin_options: dict[str, Any]) -> Labelled:
    if source in BUILTINS or not _looks_like_path(source):
        return make_builtin(source, **builtin_options)
    return read_file(source, target)


def _file_memory(source: str) -> AbstractContextManager[None]:
    """For a data file, ``enough_memory``: running short of memory while it is read, split, encoded or scaled
    is a DataError naming it."""
    return nullcontext() if source in BUILTINS or not _looks_like_path(source) else enough_memory(Path(source))


def _is_csv(source: str) -> bool:
    return source not in BUILTINS and Path(source).suffix.lower() == ".csv"


def _checked_path(path: Path) -> Path:
    if path.is_dir():
        raise DataError(f"{path} is a directory; give a .csv or .npz file")
    if not path.exists():
        raise DataError(f"no such file: {path}")
    return path


def _looks_like_path(source: str) -> bool:
    path = Path(source)
    return bool(path.suffix) or len(path.parts) > 1 or path.exists()
