"""Column roles: what each column of a CSV file is taken for (a feature of some kind, or dropped) and why.

Roles are decided from the whole file, as a reader decides types: they say what a column *is*.
Everything learned from values (medians, categories, scales) is fit on the training rows only,
in ``preprocess``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from clf_tui.datasets.csv_table import (
    Column, DateColumn, FlagColumn, NumberColumn, Table, TextColumn, as_numbers, as_text, describe_bad_cells,
)
from clf_tui.datasets.labelled import listing
from clf_tui.errors import DataError

Role = Literal["target", "numeric", "categorical", "boolean", "dropped"]
MAX_CATEGORIES = 50
"""A text column with more distinct values is free text or an identifier to one-hot encoding: dropped,
unless asked for as categorical (then its MAX_CATEGORIES most frequent values are kept)."""
NUMBER_SHARE = 0.95
"""A text column whose present cells read as numbers at least this often is numeric; the rest count as missing."""
STRAY_WORDS = 3
STRAY_NUMBER_SHARE = 0.8
"""So is one whose cells are numbers at least this often, but for at most STRAY_WORDS distinct words (such as
'?', '-' or 'abc'): in a small file one stray word is more than 5% of the cells."""
DATE_SHARE = 0.95
TRUE_WORDS = frozenset({"yes", "true", "y", "t"})
FLAG_PAIRS = (frozenset({"yes", "no"}), frozenset({"true", "false"}), frozenset({"y", "n"}), frozenset({"t", "f"}))
INDEX_HEADER = re.compile(r"^(|Unnamed: ?\d+|\.\.\.1)$")
"""The header of a row index: empty (pandas' to_csv, R's write.csv), or what pandas and readr name such a column."""
ID_HEADER = re.compile(r"(?i)^(id|ids|index|key|uuid|guid|row_?id|row_?number)$|(_id|_key)$|^id_|[a-z0-9]ID$")


@dataclass(frozen=True)
class Overrides:
    """Roles the user chose, by column name: dropped, one-hot encoded, or read as numbers."""

    drop: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()

    def check(self, table: Table, target: str) -> None:
        """DataError for a name that is not a column, the target, or a column given two roles."""
        for flag, names in (("drop", self.drop), ("categorical", self.categorical), ("numeric", self.numeric)):
            for name in names:
                if name not in table.names:
                    raise DataError(f"{table.name} has no column {name!r} (given to {flag}); its columns are "
                                    f"{listing(table.names)}")
                if name == target:
                    raise DataError(f"{name!r} is the target; {flag} applies to feature columns")
        twice = sorted((set(self.drop) & set(self.categorical)) | (set(self.drop) & set(self.numeric))
                       | (set(self.categorical) & set(self.numeric)))
        if twice:
            raise DataError(f"column {twice[0]!r} is given two roles; give each column one of drop, categorical, numeric")


@dataclass(frozen=True)
class ColumnRole:
    """One column's role, in words for the data report: what it holds, why this role, what is done with it."""

    name: str
    role: Role
    kind: str
    """What the cells hold: numbers, text, true/false, dates, or nothing."""
    reason: str
    n_missing: int
    values: str
    """Its range, or its distinct values."""
    action: str
    problem: str = ""
    """Something the user should know about the cells (numbers with stray words), or ''."""

    @property
    def is_feature(self) -> bool:
        return self.role in ("numeric", "categorical", "boolean")


@dataclass(frozen=True, eq=False)
class PlannedColumn:
    """A column with its role, and its cells in the form that role reads them."""

    role: ColumnRole
    column: Column


def plan_columns(table: Table, target: str, overrides: Overrides = Overrides()) -> tuple[PlannedColumn, ...]:
    """Every column of ``table`` with its role, in file order; ``target`` must be one of them."""
    overrides.check(table, target)
    return tuple(_plan(table, column, target, overrides) for column in table.columns)


def display_name(name: str, position: int) -> str:
    """A column's name, or '(column N)' for the nameless first column."""
    return name if name else f"(column {position})"


def _plan(table: Table, column: Column, target: str, overrides: Overrides) -> PlannedColumn:
    name, n = column.name, table.n_rows
    if name == target:
        text = column if isinstance(column, TextColumn) else _as_text(table, column)
        return _planned(text, "target", "labels", "the target (--target)", _words(text), "the classes to learn")
    if name in overrides.drop:
        return _dropped(column, _kind(column), "asked for (--drop)")
    if name in overrides.numeric:
        return _numeric(column, table, "asked for (--numeric)", forced=True)
    if name in overrides.categorical:
        text = column if isinstance(column, TextColumn) else _as_text(table, column)
        return _categorical(text, "asked for (--categorical)", forced=True)
    if isinstance(column, DateColumn) or (isinstance(column, TextColumn) and column.date_share >= DATE_SHARE
                                          and column.n_missing < n):
        return _dropped(column, "dates", "dates or times: not used (derive numbers from them, such as the month)")
    if column.n_missing == n:
        return _dropped(column, "nothing", "every cell is missing")
    if isinstance(column, FlagColumn):
        return _boolean(column, "true / false")
    if isinstance(column, NumberColumn):
        return _numeric(column, table, "numbers", forced=False)
    if column.number_share >= NUMBER_SHARE or (column.number_share >= STRAY_NUMBER_SHARE
                                                and column.n_other_words <= STRAY_WORDS):
        return _numeric(column, table, "numbers", forced=False)
    present = n - column.n_missing
    lowered = {value.lower() for value in column.values}
    if len(column.values) == 1:
        return _dropped(column, "text", f"constant: every present cell is {column.values[0]!r}", values=_words(column))
    if any(lowered <= pair for pair in FLAG_PAIRS):
        return _boolean(column, "yes / no words")
    if len(column.values) == present and present >= 10:
        return _dropped(column, "text", "identifier: a distinct value in every row", values=_words(column))
    if len(column.values) > MAX_CATEGORIES:
        return _dropped(column, "text", f"free text or too many values ({len(column.values):,}): one-hot encoding "
                        f"would make a column for each (the limit is {MAX_CATEGORIES}; --categorical keeps the "
                        f"{MAX_CATEGORIES} most frequent)", values=_words(column))
    return _categorical(column, "text", forced=False)


def _numeric(column: Column, table: Table, reason: str, *, forced: bool) -> PlannedColumn:
    if isinstance(column, DateColumn):
        raise DataError(f"{table.name}: column {column.name!r} holds dates, which cannot be read as numbers; "
                        "drop it or derive numbers from it")
    if isinstance(column, TextColumn):
        numbers = as_numbers(column)
        if forced and np.isnan(numbers.values).all() and column.n_missing < table.n_rows:
            raise DataError(f"{table.name}: column {column.name!r} holds no numbers (such as {column.values[0]!r}); "
                            "it cannot be read as numeric")
    elif isinstance(column, FlagColumn):
        numbers = NumberColumn(column.name, column.values, column.n_missing, np.empty(0, dtype=np.int64), ())
    else:
        numbers = column
    present = numbers.n_missing + len(numbers.bad_rows) < table.n_rows
    low, high = (float(np.nanmin(numbers.values)), float(np.nanmax(numbers.values))) if present else (0.0, 0.0)
    span = f"{_number(low)} – {_number(high)}" if present else "none"
    problem = describe_bad_cells(numbers)
    if problem:
        problem += ": counted as missing"
    if not forced and present and low == high:
        return _dropped(numbers, "numbers", f"constant: every present cell is {_number(low)}", values=_number(low),
                        problem=problem)
    if not forced and _is_row_index(numbers, table.n_rows):
        start = int(low)
        return _dropped(numbers, "numbers", f"row index ({start}..{table.n_rows - 1 + start})", values=span)
    if not forced and _is_identifier(numbers):
        return _dropped(numbers, "numbers", "identifier: named like one, a distinct whole number in every row",
                        values=span)
    return PlannedColumn(ColumnRole(numbers.name, "numeric", "numbers", reason, numbers.n_missing + len(numbers.bad_rows),
                                    span, "median for missing · scaled", problem), numbers)


def _categorical(column: TextColumn, reason: str, *, forced: bool) -> PlannedColumn:
    k = len(column.values)
    kept = min(k, MAX_CATEGORIES)
    action = f"one-hot, {kept} columns" + (" (the most frequent) + other" if k > kept else "")
    return _planned(column, "categorical", "text", reason if forced else f"{reason}, {k} values", _words(column),
                    action + " · most frequent for missing")


def _boolean(column: FlagColumn | TextColumn, reason: str) -> PlannedColumn:
    values = "true, false" if isinstance(column, FlagColumn) else _words(column)
    return _planned(column, "boolean", "true/false", reason, values, "1 / 0 · most frequent for missing")


def _dropped(column: Column, kind: str, reason: str, *, values: str = "", problem: str = "") -> PlannedColumn:
    return _planned(column, "dropped", kind, reason, values, "not used", problem)


def _planned(column: Column, role: Role, kind: str, reason: str, values: str, action: str,
             problem: str = "") -> PlannedColumn:
    n_missing = column.n_missing + (len(column.bad_rows) if isinstance(column, NumberColumn) else 0)
    return PlannedColumn(ColumnRole(column.name, role, kind, reason, n_missing, values, action, problem), column)


def _kind(column: Column) -> str:
    return {NumberColumn: "numbers", TextColumn: "text", FlagColumn: "true/false", DateColumn: "dates"}[type(column)]


def _as_text(table: Table, column: Column) -> TextColumn:
    if isinstance(column, DateColumn):
        raise DataError(f"{table.name}: column {column.name!r} holds dates; drop it or derive numbers from it")
    return as_text(column)


def _is_row_index(column: NumberColumn, n_rows: int) -> bool:
    if not INDEX_HEADER.match(column.name) or len(column.bad_rows) or column.n_missing:
        return False
    values = column.values
    return bool(values[0] in (0.0, 1.0) and np.array_equal(values, np.arange(n_rows) + values[0]))


def _is_identifier(column: NumberColumn) -> bool:
    if not ID_HEADER.search(column.name) or column.n_missing or len(column.bad_rows) or not column.is_integer:
        return False
    return len(np.unique(column.values)) == len(column.values)


def _words(column: TextColumn, limit: int = 3) -> str:
    counts = np.bincount(column.codes[column.codes >= 0], minlength=len(column.values))
    top = np.argsort(-counts, kind="stable")[:limit]
    shown = ", ".join(column.values[i] for i in top)
    return shown + (f", … ({len(column.values):,} in all)" if len(column.values) > limit else "")


def _number(value: float) -> str:
    return f"{value:.6g}"
