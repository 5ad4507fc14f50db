"""A data set's rows before any split, and the split that fits preprocessing and scaler on its training rows alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clf_tui.datasets.csv_data import CsvData
from clf_tui.datasets.labelled import Labelled
from clf_tui.datasets.record import DataSplit, Scaler
from clf_tui.datasets.scaling import finite_or_refused, fit_scaler


@dataclass(frozen=True, eq=False)
class ArrayRows:
    """A built-in's generated rows or an .npz file's, raw."""

    data: Labelled
    scaler: str

    @property
    def name(self) -> str:
        return self.data.name

    @property
    def y(self) -> np.ndarray:
        return self.data.y

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.data.class_names

    def split(self, train: np.ndarray, val: np.ndarray) -> DataSplit:
        """Rows ``train`` and ``val`` (positions in ``y``), scaled by a scaler fit on the ``train`` rows."""
        data = self.data
        X_train, X_val = data.X[train], data.X[val]
        fitted = fit_scaler(X_train, self.scaler)
        # The rows taken are copies: float32 ones are scaled in place.
        X_train = scaled(fitted, X_train, data, "training", out=X_train if X_train.dtype == np.float32 else None)
        X_val = scaled(fitted, X_val, data, "validation", out=X_val if X_val.dtype == np.float32 else None)
        return DataSplit(data.name, X_train, data.y[train], X_val, data.y[val], data.feature_names, data.class_names,
                         fitted)


@dataclass(frozen=True, eq=False)
class CsvRows:
    """A CSV file's labelled rows (``rows``, positions in its table), each column's role planned."""

    csv: CsvData
    rows: np.ndarray
    scaler: str
    missing_indicators: bool
    na_values: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.csv.report.name

    @property
    def y(self) -> np.ndarray:
        return self.csv.y[self.rows]

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.csv.report.class_names

    def split(self, train: np.ndarray, val: np.ndarray) -> DataSplit:
        """Rows ``train`` and ``val`` (positions in ``y``), the preprocessing and the scaler fit on the ``train``
        rows, both encoded and scaled by them."""
        csv, report = self.csv, self.csv.report
        train_rows, val_rows = self.rows[train], self.rows[val]
        preprocessing = csv.fit(train_rows, missing_indicators=self.missing_indicators, na_values=self.na_values)
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, with the column's name
            X_train, fitted = preprocessing.fit_transform(csv.table, train_rows, self.scaler)
            X_train = finite_or_refused(X_train, preprocessing.feature_names, report.name, "training")
            X_val = finite_or_refused(csv.features(preprocessing, fitted, val_rows), preprocessing.feature_names,
                                      report.name, "validation")
        return DataSplit(report.name, X_train, csv.y[train_rows], X_val, csv.y[val_rows],
                         preprocessing.feature_names, report.class_names, fitted, preprocessing=preprocessing,
                         report=report)


Rows = ArrayRows | CsvRows


def scaled(scaler: Scaler, X: np.ndarray, data: Labelled, rows: str, out: np.ndarray | None = None) -> np.ndarray:
    """``scaler.transform(X, out=out)``, refused if a value leaves float32's range."""
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, with the column's name
        result = scaler.transform(X, out=out)
    return finite_or_refused(result, data.feature_names, data.name, rows)
