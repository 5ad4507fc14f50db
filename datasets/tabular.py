"""User data in .npz archives, read and checked into Labelled rows (CSV files have csv_data); memory to read any data file."""

from __future__ import annotations

import traceback
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from clf_tui.datasets.labelled import Labelled, listing, numbered
from clf_tui.errors import DataError
from clf_tui.files import require_regular_file

FILE_TYPES = (".csv", ".npz")
NPZ_KEYS = ("X", "y", "feature_names", "class_names")
FLOAT32_MAX = float(np.finfo(np.float32).max)
"""The model computes in float32: a feature beyond this magnitude would become infinite."""


def read_file(path: str | Path, target: str | None) -> Labelled:
    """Read an .npz file (arrays X and y); checks that a path names a data file of a known type.

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
    if suffix == ".csv":  # a CSV file has column roles and preprocessing: csv_data reads it, for datasets.load
        raise DataError(f"{path}: CSV files are read by clf_tui.datasets.load, which gives each column its role")
    return read_npz(path)


@contextmanager
def enough_memory(path: Path) -> Iterator[None]:
    """Run the reading or converting of the data file ``path``; a MemoryError meanwhile (Python's, NumPy's,
    or pyarrow's ArrowMemoryError, which is one) becomes one DataError naming the file and its size."""
    try:
        yield
    except MemoryError as exc:
        # The error's frames hold what was read so far: cleared now, that memory is free for what reports the error.
        traceback.clear_frames(exc.__traceback__)
        raise DataError(f"not enough memory to read {path} ({_file_size(path)}); free memory or use fewer rows") from None


def _file_size(path: Path) -> str:
    try:
        n_bytes = path.stat().st_size
    except OSError:
        return "size unknown"
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{n_bytes} bytes"


def read_npz(path: Path) -> Labelled:
    """Read an .npz archive: X (rows x features, numeric), y (one label per row), and optionally
    feature_names and class_names (label i is class_names[i], so y must then hold 0..k-1)."""
    path = require_regular_file(path, DataError, "data file")
    with enough_memory(path):
        return _labelled_npz(path)


def _labelled_npz(path: Path) -> Labelled:
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
        except MemoryError:  # an archive too large to hold, not a damaged one
            raise
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
