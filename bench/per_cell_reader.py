"""The CSV reader this project had before its columnar one, kept as the baseline of bench/read_csv.py.

It reads every cell through the standard csv module and checks it with float() in Python; every
column is numeric and a bad cell is an error. Only the benchmark uses it.
"""

from __future__ import annotations

import csv
import io
import math
from itertools import islice
from pathlib import Path

import numpy as np

DELIMITERS = ",;\t|"
SNIFF_LINES = 50
FLOAT32_MAX = float(np.finfo(np.float32).max)


class DataError(ValueError):
    pass


def listing(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def read_csv(path: Path, target: str | None) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read a CSV file with a header row; every column but ``target`` is a numeric feature."""
    rows = _csv_rows(path)
    if not rows:
        raise DataError(f"{path} is empty; expected a header row, then one row per sample")
    columns = _header(path, rows[0][1])
    if target is None:
        raise DataError(f"{path} is a CSV file: pass target, the name of its label column "
                        f"(columns: {listing(columns)})")
    if target not in columns:
        raise DataError(f"{path} has no column {target!r}; its columns are {listing(columns)}")
    if len(columns) == 1:
        raise DataError(f"{path} has no feature columns, only the target {target!r}")
    body = rows[1:]
    if not body:
        raise DataError(f"{path} has a header but no data rows")
    target_at = columns.index(target)
    features = [(at, name) for at, name in enumerate(columns) if at != target_at]
    X = np.empty((len(body), len(features)))
    labels = []
    for row, (line, cells) in enumerate(body):
        if len(cells) != len(columns):
            raise DataError(f"{path}: line {line} has {len(cells)} fields but the header has {len(columns)}; "
                            "check its delimiters and quotes")
        X[row] = [_number(path, line, name, cells[at]) for at, name in features]
        labels.append(_label(path, line, target, cells[target_at]))
    y, class_names = _encode_labels(_label_array(labels))
    return X, y, class_names


def _encode_labels(labels: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Number labels 0..k-1 in sorted order (numeric order for numbers), and name each class.

    Numbers are named canonically, so 1, 1.0 and "1.0" all name class "1" and 2.5 names "2.5".
    """
    classes, y = np.unique(labels, return_inverse=True)
    if labels.dtype.kind in "iuf":
        names = tuple(str(int(value)) if float(value).is_integer() else str(value) for value in classes.tolist())
    else:
        names = tuple(str(value) for value in classes.tolist())
    return y.astype(np.int64), names


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The file's non-blank records with the line each ends on."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:  # utf-8-sig drops a BOM
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x}); "
                        "save it as UTF-8 CSV") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    # skipinitialspace lets a quoted field follow "a, " as hand-written files often have it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text), skipinitialspace=True)
    try:
        # Spreadsheets often end a sheet with empty lines or ",,," rows: those are no samples.
        return [(reader.line_num, cells) for cells in reader if any(cell.strip() for cell in cells)]
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: {exc}; is it a CSV text file?") from None


def _sniff_delimiter(text: str) -> str:
    sample = "".join(islice(io.StringIO(text, newline=""), SNIFF_LINES))
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # a single column, or nothing to tell by
        return ","


def _header(path: Path, cells: list[str]) -> list[str]:
    columns = [cell.strip() for cell in cells]
    first_at: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if not name:
            raise DataError(f"{path}: column {position} of the header has no name; name it, or drop it "
                            "if it is a row index (pandas: to_csv(..., index=False))")
        if name in first_at:
            raise DataError(f"{path}: the header names {name!r} twice (columns {first_at[name]} and {position}); "
                            "rename one")
        first_at[name] = position
    return columns


def _number(path: Path, line: int, column: str, cell: str) -> float:
    text = cell.strip()
    if not text:
        raise DataError(f"{path}: line {line}, column {column!r} is empty; fill it in or drop the row")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}: line {line}, column {column!r} holds {text!r}, not a number; features must be "
                        "numeric (encode categories as numbers, or drop the column)") from None
    if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
        raise DataError(f"{path}: line {line}, column {column!r} holds {text!r}; features must be finite numbers "
                        f"within float32's range, at most {FLOAT32_MAX:.3g} in size (fill in, rescale or drop the row)")
    return value


def _label(path: Path, line: int, target: str, cell: str) -> str:
    text = cell.strip()
    if not text:
        raise DataError(f"{path}: line {line}: the target {target!r} is empty; every row needs a label")
    return text


def _label_array(labels: list[str]) -> np.ndarray:
    """The labels as numbers when every one is a finite number (so that 2 sorts before 10), else as strings."""
    try:
        numbers = np.array([float(label) for label in labels])
    except ValueError:
        return np.array(labels)
    return numbers if np.isfinite(numbers).all() else np.array(labels)
