"""A saved model applied to new rows of a CSV file: its own preprocessing, its scaler, its threshold."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clf_tui.datasets import DataSplit
from clf_tui.datasets.csv_table import Table, TextColumn, as_text, read_table
from clf_tui.datasets.labelled import listing
from clf_tui.datasets.labels import label_name
from clf_tui.datasets.scaling import finite_or_refused

from .checkpoint import read_checkpoint
from clf_tui.errors import DataError
from .saved_data import data_description
from .trainer import Trainer


@dataclass(frozen=True, eq=False)
class Predictions:
    """One row per input row: its identifier, P(class) for every class, and the predicted class.

    ``y_true`` holds the rows' labels as class indices (-1 where missing) when the file had the
    target column, else None.
    """

    id_name: str
    ids: list[str]
    class_names: tuple[str, ...]
    proba: np.ndarray
    """(n, k) probabilities, class i in column i."""
    predicted: np.ndarray
    threshold: float | None
    """The binary threshold the predictions used; None for multiclass (argmax)."""
    y_true: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def predict_file(checkpoint: str | os.PathLike[str], data: str | os.PathLike[str], *, threshold: float | None = None,
                 device: str = "cpu") -> tuple[Predictions, Trainer]:
    """Apply the model saved in ``checkpoint`` to every row of the CSV file ``data``.

    Columns are matched by name in any order; extra ones are ignored (with a note); the target
    column may be there or not. A binary task predicts its positive class at ``threshold`` (by
    default the one saved). The trainer comes back too, its validation split being these rows.

    Raises:
        CheckpointError: the checkpoint is unreadable or holds no description of its data.
        DataError: the file cannot be read, lacks a column the model needs, or has a label that is
            not one of the model's classes.
    """
    description = data_description(read_checkpoint(checkpoint), str(checkpoint))
    preprocessing, scaler, class_names = description.preprocessing, description.scaler, description.class_names
    path = Path(data)
    if path.suffix.lower() != ".csv":
        raise DataError(f"{path}: predictions read .csv files")
    if not path.exists():
        raise DataError(f"no such file: {path}")
    categorical = tuple(column.name for column in preprocessing.columns if column.role == "categorical")
    text_columns = tuple(name for name in (preprocessing.target, preprocessing.identifier) if name) + categorical
    table = read_table(path, na_values=preprocessing.na_values, text_columns=text_columns)
    with np.errstate(over="ignore", invalid="ignore"):
        X, notes = preprocessing.transform(table, scaler)
    known = (*preprocessing.source_columns, preprocessing.target, preprocessing.identifier)
    extra = [name for name in table.names if name and name not in known]
    if extra:
        notes.insert(0, f"columns the model does not use, ignored: {listing(extra, 6)}")
    finite_or_refused(X, preprocessing.feature_names, path.name, "new")
    y_true = _labels(table, preprocessing.target, class_names) if preprocessing.target in table.names else None
    y = np.zeros(len(X), dtype=np.int64) if y_true is None else np.maximum(y_true, 0)
    split = DataSplit(path.name, X[:0], y[:0], X, y, preprocessing.feature_names, class_names, scaler,
                      preprocessing=preprocessing)
    trainer = Trainer.from_checkpoint(checkpoint, data=split, device=device, check_data=False)
    if threshold is None:
        threshold = trainer.threshold
    proba = trainer.predict_proba(X)
    if proba.ndim == 1:
        predicted = (proba >= np.float32(threshold)).astype(np.int64)
        proba = np.stack([1 - proba, proba], axis=1)
    else:
        predicted, threshold = proba.argmax(axis=1), None
    id_name, ids = _identifiers(table, preprocessing.identifier)
    return Predictions(id_name, ids, class_names, proba, predicted, threshold, y_true, notes), trainer


def _labels(table: Table, target: str, class_names: tuple[str, ...]) -> np.ndarray:
    """The target column's labels as the model's class indices, -1 where missing."""
    column = table.column(target)
    text = column if isinstance(column, TextColumn) else as_text(column)
    index = {name: i for i, name in enumerate(class_names)}
    # As the training file named them: 1.0 is class "1" where the classes are numbers.
    names = [word if word in index else label_name(word) for word in text.values]
    unknown = [word for word, name in zip(text.values, names) if name not in index]
    if unknown:
        raise DataError(f"{table.name} has label {unknown[0]!r} in {target!r}, which is not one of the model's "
                        f"classes ({listing(class_names)})")
    by_word = np.array([index[name] for name in names] + [-1], dtype=np.int64)
    return by_word[text.codes]


def _identifiers(table: Table, identifier: str | None) -> tuple[str, list[str]]:
    """The identifier column's values if the table has it, else row numbers from 1."""
    if identifier and identifier in table.names:
        column = table.column(identifier)
        text = column if isinstance(column, TextColumn) else as_text(column)
        words = list(text.values) + [""]
        return identifier, [words[code] for code in text.codes.tolist()]
    return "row", [str(i) for i in range(1, table.n_rows + 1)]
