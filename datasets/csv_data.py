"""A CSV file end to end: read, column roles, labels, split, preprocessing fit on the training rows, and its report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clf_tui.datasets.csv_table import Table, read_table
from clf_tui.datasets.labelled import listing
from clf_tui.datasets.labels import encode_target
from clf_tui.datasets.preprocess import Preprocessing, fit_preprocessing
from clf_tui.datasets.record import Scaler
from clf_tui.datasets.roles import ColumnRole, Overrides, PlannedColumn, plan_columns
from clf_tui.errors import DataError


@dataclass(frozen=True)
class DataReport:
    """What a CSV file holds and what training makes of it: a role for every column, the classes, the problems."""

    name: str
    n_rows: int
    target: str
    columns: tuple[ColumnRole, ...]
    class_names: tuple[str, ...]
    class_counts: tuple[int, ...]
    """Rows per class over the whole file (rows without a label left out)."""
    n_unlabelled: int
    """Rows whose label is missing: left out of training and validation."""
    problems: tuple[str, ...] = field(default=())
    """Every problem found, in words; training goes on past each."""

    @property
    def positive(self) -> str | None:
        """The positive class of a binary task (class 1), or None."""
        return self.class_names[1] if len(self.class_names) == 2 else None

    @property
    def features(self) -> tuple[ColumnRole, ...]:
        return tuple(column for column in self.columns if column.is_feature)


@dataclass(frozen=True, eq=False)
class CsvData:
    """A CSV file read and planned: its table, every column's plan, the labels, and the report."""

    table: Table
    planned: tuple[PlannedColumn, ...]
    y: np.ndarray
    """Class indices, -1 for a row without a label."""
    report: DataReport

    def labelled_rows(self) -> np.ndarray:
        return np.flatnonzero(self.y >= 0)

    def fit(self, train_rows: np.ndarray, *, missing_indicators: bool,
            na_values: tuple[str, ...]) -> Preprocessing:
        """The preprocessing fit on ``train_rows``: fill values and categories of those rows only."""
        return fit_preprocessing(self.planned, train_rows, target=self.report.target,
                                 missing_indicators=missing_indicators, na_values=na_values)

    def features(self, preprocessing: Preprocessing, scaler: Scaler, rows: np.ndarray) -> np.ndarray:
        """``rows`` as scaled float32 features, by ``preprocessing`` and ``scaler``."""
        return preprocessing.transform(self.table, scaler, rows)[0]


def read_csv_data(path: Path, target: str | None, *, overrides: Overrides = Overrides(), na_values: tuple[str, ...] = (),
                  positive: str | None = None) -> CsvData:
    """Read ``path``, give each column a role, and encode the labels of the column ``target``.

    Raises:
        DataError: the file cannot be read, has no such target, no feature to learn from, or an
            override names no column.
    """
    # The target and the columns asked to be categorical are read as the words they are written as.
    table = read_table(path, na_values=na_values, text_columns=((target,) if target else ()) + overrides.categorical)
    if target is None:
        raise DataError(f"{path} is a CSV file: pass target, the name of its label column "
                        f"(columns: {listing(table.names)})")
    if target not in table.names:
        raise DataError(f"{path} has no column {target!r}; its columns are {listing(table.names)}")
    if len(table.names) == 1:
        raise DataError(f"{path} has no feature columns, only the target {target!r}")
    planned = plan_columns(table, target, overrides)
    y, class_names = encode_target(table.column(target), path.name, positive)
    problems = [f"column {plan.role.name!r}: {plan.role.problem}" for plan in planned if plan.role.problem]
    n_unlabelled = int((y < 0).sum())
    if n_unlabelled == len(y):
        raise DataError(f"{path}: no row has a label in {target!r}; every cell of it is missing")
    if n_unlabelled:
        problems.append(f"{n_unlabelled:,} row{'s' if n_unlabelled != 1 else ''} without a label in {target!r}: "
                        "left out")
    if not any(plan.role.is_feature for plan in planned):
        dropped = "; ".join(f"{plan.role.name!r}: {plan.role.reason}" for plan in planned if plan.role.role == "dropped")
        raise DataError(f"{path}: no column is left to learn from ({dropped}); keep one with --numeric or --categorical")
    counts = np.bincount(y[y >= 0], minlength=len(class_names))
    report = DataReport(path.name, table.n_rows, target, tuple(plan.role for plan in planned), class_names,
                        tuple(int(c) for c in counts), n_unlabelled, tuple(problems))
    return CsvData(table, planned, y, report)
