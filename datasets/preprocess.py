"""Preprocessing fit on the training rows: missing values filled, categories one-hot encoded, flags as 1 / 0.

What is fit is plain data (column roles, medians, categories), so it travels in a checkpoint that
loads with ``weights_only=True`` and applies to new rows exactly as it applied in training. The
scaler (``scaling``) is fit on what it encodes, and applied as each column is encoded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from clf_tui.datasets.csv_table import Column, DateColumn, FlagColumn, NumberColumn, Table, TextColumn, as_numbers
from clf_tui.datasets.labelled import listing
from clf_tui.datasets.record import Scaler
from clf_tui.datasets.roles import MAX_CATEGORIES, TRUE_WORDS, PlannedColumn
from clf_tui.datasets.scaling import fit_scaler, joined_scalers
from clf_tui.datasets.tabular import FLOAT32_MAX
from clf_tui.errors import DataError

MIN_CATEGORY_SHARE = 0.01
"""A category seen in fewer training rows than this share (and never fewer than MIN_CATEGORY_ROWS) joins 'other'."""
MIN_CATEGORY_ROWS = 2
FALSE_WORDS = frozenset({"no", "false", "n", "f"})
OTHER = "other"
UNSEEN = -2


@dataclass(frozen=True)
class FittedColumn:
    """One source column as the model's input columns: numeric (one), boolean (one) or categorical (one per
    category, and 'other' for the rare ones), with a missing-indicator column after it when ``indicator``."""

    name: str
    role: str
    fill: float | str
    """What a missing cell becomes: the training median, the most frequent category, or 0 / 1."""
    categories: tuple[str, ...] = ()
    rare: tuple[str, ...] = ()
    """Categories of the training rows too rare to keep: encoded together, as 'other'."""
    indicator: bool = False

    @property
    def other(self) -> bool:
        return bool(self.rare)

    @property
    def feature_names(self) -> tuple[str, ...]:
        if self.role == "categorical":
            names = [f"{self.name}={category}" for category in self.categories] + ([f"{self.name}={OTHER}"] if self.other else [])
        else:
            names = [self.name]
        return tuple(names + ([f"{self.name} (missing)"] if self.indicator else []))


@dataclass(frozen=True)
class Preprocessing:
    """The fitted steps from a file's columns to the model's features, by column name."""

    columns: tuple[FittedColumn, ...]
    target: str
    identifier: str | None = None
    """A column that names each row (an ID), echoed by predictions; not a feature."""
    na_values: tuple[str, ...] = ()
    """Missing markers given besides the default ones, for reading new rows alike."""

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(name for column in self.columns for name in column.feature_names)

    @property
    def source_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def transform(self, table: Table, scaler: Scaler, rows: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        """The scaled float32 features of ``rows`` of ``table`` (all rows by default), and notes on what was
        unusual (categories never seen in training, cells that are not numbers). Numbers stay float64 until
        scaled, so a column far from zero (a year, an account balance) keeps its digits.

        Raises:
            DataError: a column this preprocessing needs is not in the table, or a number is beyond float32.
        """
        n = table.n_rows if rows is None else len(rows)
        X = np.empty((n, len(self.feature_names)), dtype=np.float32)
        notes: list[str] = []
        for (start, stop), block in self._blocks(table, rows, notes):
            scaler.columns(start, stop).transform(block, out=X[:, start:stop])
        return X, notes

    def fit_transform(self, table: Table, rows: np.ndarray, kind: str) -> tuple[np.ndarray, Scaler]:
        """The scaled float32 features of ``rows`` with the scaler of ``kind`` fit on them, each block of
        features fit and scaled as it is encoded (one pass over the rows)."""
        X = np.empty((len(rows), len(self.feature_names)), dtype=np.float32)
        parts = []
        for (start, stop), block in self._blocks(table, rows, []):
            part = fit_scaler(block, kind)
            part.transform(block, out=X[:, start:stop])
            parts.append(part)
        return X, joined_scalers(parts, kind, len(rows))

    def _blocks(self, table: Table, rows: np.ndarray | None,
                notes: list[str]) -> Iterator[tuple[tuple[int, int], np.ndarray]]:
        """Each fitted column's block of features for ``rows``, unscaled, with the feature columns it fills."""
        missing = [name for name in self.source_columns if name not in table.names]
        if missing:
            raise DataError(f"{table.name} has no column {missing[0]!r}, which the model needs"
                            + (f" (nor {listing(missing[1:])})" if len(missing) > 1 else "")
                            + f"; its columns are {listing(table.names)}")
        at = 0
        for fitted in self.columns:
            width = len(fitted.feature_names)
            yield (at, at + width), _encode(fitted, table.column(fitted.name), rows, notes, table.name)
            at += width

    @classmethod
    def numeric_columns(cls, names: tuple[str, ...], target: str) -> Preprocessing:
        """Each feature the column of its name, as numbers that must all be there: what a model saved
        before preprocessing existed was trained on."""
        return cls(tuple(FittedColumn(name, "numeric", math.nan) for name in names), target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "identifier": self.identifier,
            "na_values": list(self.na_values),
            "columns": [
                {"name": c.name, "role": c.role, "fill": c.fill, "categories": list(c.categories),
                 "rare": list(c.rare), "indicator": c.indicator}
                for c in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, saved: Any) -> Preprocessing:
        """The preprocessing ``to_dict`` wrote; ValueError for anything else."""
        if not isinstance(saved, dict) or not isinstance(saved.get("columns"), list):
            raise ValueError("preprocessing is not a dict with a list of columns")
        target, identifier, na_values = saved.get("target"), saved.get("identifier"), saved.get("na_values")
        if not isinstance(target, str) or not (identifier is None or isinstance(identifier, str)):
            raise ValueError("preprocessing names its target or identifier column by something other than text")
        if not isinstance(na_values, list) or not all(isinstance(v, str) for v in na_values):
            raise ValueError("preprocessing's missing markers are not a list of text")
        return cls(tuple(_fitted_from_dict(c) for c in saved["columns"]), target, identifier, tuple(na_values))


def fit_preprocessing(planned: tuple[PlannedColumn, ...], train_rows: np.ndarray, *, target: str,
                      missing_indicators: bool = False, na_values: tuple[str, ...] = ()) -> Preprocessing:
    """Fit each feature column's fill value and categories on ``train_rows`` only."""
    n_train = len(train_rows)
    min_rows = max(MIN_CATEGORY_ROWS, math.ceil(MIN_CATEGORY_SHARE * n_train))
    fitted = []
    for plan in planned:
        role, column = plan.role, plan.column
        if not role.is_feature:
            continue
        if role.role == "numeric":
            assert isinstance(column, NumberColumn)
            values = column.values[train_rows]
            present = values[~np.isnan(values)]
            fill = float(np.median(present)) if len(present) else 0.0
            fitted.append(FittedColumn(column.name, "numeric", fill,
                                       indicator=missing_indicators and len(present) < n_train))
        elif role.role == "boolean":
            values = _flags(column, train_rows)
            present = values[~np.isnan(values)]
            fill = float(present.mean() >= 0.5) if len(present) else 0.0
            fitted.append(FittedColumn(column.name, "boolean", fill,
                                       indicator=missing_indicators and len(present) < n_train))
        else:
            assert isinstance(column, TextColumn)
            codes = column.codes[train_rows]
            counts = np.bincount(codes[codes >= 0], minlength=len(column.values))
            ranked = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
            kept = [i for i in ranked if counts[i] >= min_rows][:MAX_CATEGORIES] or ranked[:MAX_CATEGORIES]
            if not ranked:  # no training row has a value: nothing to encode
                continue
            categories = tuple(sorted(column.values[i] for i in kept))
            rare = tuple(sorted(column.values[i] for i in ranked if i not in kept))
            fitted.append(FittedColumn(column.name, "categorical", column.values[ranked[0]], categories, rare,
                                       indicator=missing_indicators and bool((codes < 0).any())))
    identifier = next((p.role.name for p in planned if p.role.role == "dropped" and p.role.reason.startswith("identifier")),
                      None)
    return Preprocessing(tuple(fitted), target, identifier, na_values)


def _encode(fitted: FittedColumn, column: Column, rows: np.ndarray | None, notes: list[str], source: str) -> np.ndarray:
    """``fitted``'s feature columns for ``rows`` of ``column``: float64 numbers, or float32 ones and zeros."""
    if isinstance(column, DateColumn):
        raise DataError(f"{source}: column {fitted.name!r} holds dates here, but the model reads it as {fitted.role}")
    if fitted.role == "categorical":
        return _one_hot(fitted, column if isinstance(column, TextColumn) else _words_of(column), rows, notes)
    values = _flags(column, rows) if fitted.role == "boolean" else _numbers(fitted, column, rows, notes)
    block = np.empty((len(values), 2 if fitted.indicator else 1))
    block[:, 0] = values
    missing = np.isnan(block[:, 0])
    if missing.any():
        if math.isnan(fitted.fill):
            raise DataError(f"{source}: column {fitted.name!r} has {int(missing.sum())} missing cells, and this model "
                            "was saved without a way to fill them; fill them in, or train it again")
        block[missing, 0] = fitted.fill
    if len(values) and not -FLOAT32_MAX <= block[:, 0].min() <= block[:, 0].max() <= FLOAT32_MAX:
        at = int(np.flatnonzero(np.abs(block[:, 0]) > FLOAT32_MAX)[0])
        row = at if rows is None else int(rows[at])
        raise DataError(f"{source}: row {row + 1}, column {fitted.name!r} holds {block[at, 0]:g}; features must "
                        f"be finite numbers within float32's range, at most {FLOAT32_MAX:.3g} in size (rescale it, or "
                        "drop the row)")
    if fitted.indicator:
        block[:, 1] = missing
    return block


def _one_hot(fitted: FittedColumn, text: TextColumn, rows: np.ndarray | None, notes: list[str]) -> np.ndarray:
    """A 1 in the column of each row's category ('other' for a rare one; none for one never seen in training)."""
    position = {category: j for j, category in enumerate(fitted.categories)}
    other_at = len(fitted.categories) if fitted.other else UNSEEN
    rare = set(fitted.rare)
    fill_at = position[str(fitted.fill)]
    # Each of the column's words to its output column; the last entry takes code -1, a missing cell.
    word_to = np.array([position.get(word, other_at if word in rare else UNSEEN) for word in text.values] + [fill_at],
                       dtype=np.int64)
    codes = text.codes if rows is None else text.codes[rows]
    to = word_to[codes]
    out = np.zeros((len(codes), len(fitted.feature_names)), dtype=np.float32)
    hit = np.flatnonzero(to >= 0)
    out[hit, to[hit]] = 1.0
    unseen = np.flatnonzero(to == UNSEEN)
    if len(unseen):
        words = sorted({text.values[code] for code in codes[unseen[:1000]].tolist()})
        n = len(unseen)
        notes.append(f"column {fitted.name!r}: {n} row{'s' if n != 1 else ''} with a category the training rows did "
                     f"not have ({listing(words, 3)}), encoded as none of its categories")
    if fitted.indicator:
        out[:, -1] = codes < 0
    return out


def _numbers(fitted: FittedColumn, column: Column, rows: np.ndarray | None, notes: list[str]) -> np.ndarray:
    if isinstance(column, TextColumn):
        column = as_numbers(column)
        bad = len(column.bad_rows) if rows is None else int(np.isin(column.bad_rows, rows).sum())
        if bad:
            cells = "1 cell that is not a number" if bad == 1 else f"{bad} cells that are not numbers"
            notes.append(f"column {fitted.name!r}: {cells}, taken as missing")
    values = column.values
    return values if rows is None else values[rows]


def _flags(column: Column, rows: np.ndarray | None) -> np.ndarray:
    """1.0 / 0.0 / NaN (missing, or a word that is neither) for ``rows`` of a boolean column."""
    if isinstance(column, (FlagColumn, NumberColumn)):
        values = column.values if rows is None else column.values[rows]
        return np.where(np.isin(values, (0.0, 1.0)), values, np.nan)
    assert isinstance(column, TextColumn)
    by_word = np.array([1.0 if w.lower() in TRUE_WORDS else 0.0 if w.lower() in FALSE_WORDS else np.nan
                        for w in column.values] + [np.nan])
    codes = column.codes if rows is None else column.codes[rows]
    return by_word[codes]


def _words_of(column: Column) -> TextColumn:
    from clf_tui.datasets.csv_table import as_text

    assert isinstance(column, (NumberColumn, FlagColumn))
    return as_text(column)


def _fitted_from_dict(saved: Any) -> FittedColumn:
    if not isinstance(saved, dict):
        raise ValueError("a preprocessing column is not a dict")
    name, role, fill = saved.get("name"), saved.get("role"), saved.get("fill")
    categories, rare, indicator = saved.get("categories"), saved.get("rare"), saved.get("indicator")
    if not isinstance(name, str) or role not in ("numeric", "boolean", "categorical"):
        raise ValueError(f"a preprocessing column has name {name!r} and role {role!r}")
    for words in (categories, rare):
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            raise ValueError(f"column {name!r}: its categories are not a list of text")
    if not isinstance(indicator, bool):
        raise ValueError(f"column {name!r}: 'indicator' must be true or false")
    if role == "categorical":
        if not categories or len(set(categories) | set(rare)) != len(categories) + len(rare) or fill not in categories:
            raise ValueError(f"column {name!r}: a categorical column needs distinct categories, one of them its fill")
    elif not isinstance(fill, float) or not math.isfinite(fill) or categories or rare:
        raise ValueError(f"column {name!r}: a {role} column needs a finite number to fill with, and no categories")
    return FittedColumn(name, role, fill, tuple(categories), tuple(rare), indicator)
