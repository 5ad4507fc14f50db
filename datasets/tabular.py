"""User data: CSV files with a header row and .npz archives, read and checked into Labelled rows."""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections import Counter
from itertools import islice
from pathlib import Path

import numpy as np

from clf_tui.datasets.labelled import Labelled, listing, numbered
from clf_tui.engine.errors import DataError

FILE_TYPES = (".csv", ".npz")
NPZ_KEYS = ("X", "y", "feature_names", "class_names")
DELIMITERS = ",;\t|"
SNIFF_LINES = 50
FLOAT32_MAX = float(np.finfo(np.float32).max)
"""The model computes in float32: a feature beyond this magnitude would become infinite."""


def read_file(path: str | Path, target: str | None) -> Labelled:
    """Read a CSV file (labels in the column named ``target``) or an .npz file (arrays X and y).

    Raises:
        DataError: the file is missing, unreadable, or not fit for classification.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a directory; give a .csv or .npz file")
    suffix = path.suffix.lower()
    if suffix not in FILE_TYPES:
        problem = f"unsupported file type {path.suffix!r}" if suffix else "no file extension"
        raise DataError(f"{path}: {problem}; give a .csv file with a header row, or an .npz file with arrays X and y")
    if not path.exists():
        raise DataError(f"no such file: {path}")
    return read_csv(path, target) if suffix == ".csv" else read_npz(path)


def read_csv(path: Path, target: str | None) -> Labelled:
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
    return Labelled(path.name, X, y, tuple(name for _, name in features), class_names)


def read_npz(path: Path) -> Labelled:
    """Read an .npz archive: X (rows x features, numeric), y (one label per row), and optionally
    feature_names and class_names (label i is class_names[i], so y must then hold 0..k-1)."""
    arrays = _npz_arrays(path)
    missing = [key for key in ("X", "y") if key not in arrays]
    if missing:
        raise DataError(f"{path} has no array {missing[0]!r} (it holds: {listing(arrays) or 'nothing'}); "
                        "save one with np.savez(path, X=features, y=labels)")
    X, y = arrays["X"], arrays["y"]
    if X.ndim != 2 or 0 in X.shape:
        raise DataError(f"{path}: X has shape {X.shape}; expected a 2-D array with a row per sample "
                        "and a column per feature")
    if X.dtype.kind not in "biuf":
        raise DataError(f"{path}: X holds {X.dtype} values; features must be numbers")
    if y.ndim != 1:
        raise DataError(f"{path}: y has shape {y.shape}; expected 1-D, one label per row (y.ravel() flattens it)")
    if len(y) != len(X):
        raise DataError(f"{path}: X has {len(X)} rows but y has {len(y)} labels; give one label per row")
    # float32 stays float32: a float64 twin of a large table would double its memory for no precision.
    X = X.astype(np.float32 if X.dtype == np.float32 else np.float64, copy=False)
    # A finite float32 is within range by itself; only float64 needs the magnitude (and NaN fails both tests).
    outside = ~np.isfinite(X) if X.dtype == np.float32 else ~(np.abs(X) <= FLOAT32_MAX)
    if outside.any():
        row, column = np.argwhere(outside)[0]
        raise DataError(f"{path}: X[{row}, {column}] is {X[row, column]}; features must be finite numbers "
                        f"within float32's range, at most {FLOAT32_MAX:.3g} in size (fill in, rescale or drop the row)")
    feature_names = _names(path, arrays, "feature_names", X.shape[1]) or numbered("x", X.shape[1])
    class_names = _names(path, arrays, "class_names")
    if class_names:
        return Labelled(path.name, X, _indices(path, y, class_names), feature_names, class_names)
    if y.dtype.kind not in "biufU":
        raise DataError(f"{path}: y holds {y.dtype} values; labels must be numbers or strings")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise DataError(f"{path}: y[{row}] is {y[row]}; every label must be a finite number or a string")
    labels, class_names = _encode_labels(y.astype(np.int64) if y.dtype.kind == "b" else y)
    return Labelled(path.name, X, labels, feature_names, class_names)


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


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        handle = path.open("rb")  # our own handle: np.load leaks the one it opens when an archive is damaged
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        # Checked first: np.load would take any other file for a pickle and suggest loading it unsafely.
        if not zipfile.is_zipfile(handle):
            raise DataError(f"{path} is not an .npz archive; save one with np.savez(path, X=features, y=labels)")
        handle.seek(0)
        try:
            with np.load(handle, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except Exception as exc:  # a damaged archive fails as a zipfile, zlib, EOF, value or runtime error
            raise DataError(f"{path} is damaged or holds Python objects ({_one_line(exc)}); "
                            "save plain arrays with np.savez(path, X=features, y=labels)") from None
    # np.load hands over a member that is not in .npy format as its raw bytes.
    raw = [key for key in NPZ_KEYS if key in arrays and not isinstance(arrays[key], np.ndarray)]
    if raw:
        raise DataError(f"{path}: {raw[0]!r} is not a NumPy array but {len(arrays[raw[0]])} raw bytes; "
                        "save plain arrays with np.savez(path, X=features, y=labels)")
    return arrays


def _names(path: Path, arrays: dict[str, np.ndarray], key: str, count: int | None = None) -> tuple[str, ...]:
    """The optional array of names ``key``: distinct strings, ``count`` of them when given; () when absent."""
    if key not in arrays:
        return ()
    names = arrays[key]
    if names.ndim != 1 or names.dtype.kind != "U" or (count is not None and len(names) != count):
        expected = f"{count} strings" if count is not None else "a 1-D array of strings"
        raise DataError(f"{path}: {key} has shape {names.shape} and dtype {names.dtype}; expected {expected}")
    names = tuple(str(name) for name in names)
    duplicates = [name for name, count in Counter(names).items() if count > 1]
    if duplicates:
        raise DataError(f"{path}: {key} repeats {listing(duplicates)}; names must be distinct")
    return names


def _indices(path: Path, y: np.ndarray, class_names: tuple[str, ...]) -> np.ndarray:
    """Labels that index ``class_names``, checked."""
    k = len(class_names)
    numeric = y.dtype.kind in "biuf"
    outside = ~np.isin(y, np.arange(k)) if numeric else np.ones(len(y), dtype=bool)
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise DataError(f"{path}: y[{row}] is {y[row].item()!r}, but with class_names y must hold "
                        f"class indices 0..{k - 1}")
    return y.astype(np.int64)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
