"""Generated CSV text and .npz contents: the loaders return a valid record or raise DataError, nothing else."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from clf_tui import datasets
from clf_tui.datasets import DataSplit, Scaler
from clf_tui.errors import DataError
from tests.faults.archives import zipped

FUZZ = settings(max_examples=250, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HUGE_FIELD_CHARS = 200_000  # beyond the csv module's field limit of 131,072 characters


def check_record(split: DataSplit) -> None:
    """Assert every invariant a DataSplit promises the engine."""
    n_features, k = len(split.feature_names), len(split.class_names)
    assert k >= 2 and len(set(split.class_names)) == k
    assert n_features >= 1 and len(set(split.feature_names)) == n_features
    for X, y in ((split.X_train, split.y_train), (split.X_val, split.y_val)):
        assert X.dtype == np.float32 and X.ndim == 2 and X.shape[1] == n_features
        assert np.isfinite(X).all()
        assert y.dtype == np.int64 and y.shape == (len(X),)
        assert ((0 <= y) & (y < k)).all()
    assert len(split.X_train) >= 1
    counts = split.class_counts
    assert sum(counts["train"]) == len(split.y_train) and sum(counts["val"]) == len(split.y_val)
    assert split.scaler.n_fit_rows == len(split.X_train)


def check_eval_rows(X: np.ndarray, y: np.ndarray, n_features: int, n_classes: int) -> None:
    """Assert what ``load_eval`` promises: finite float32 features in the model's order, labels 0..k-1."""
    assert X.dtype == np.float32 and X.ndim == 2 and X.shape == (len(y), n_features)
    assert np.isfinite(X).all()
    assert y.dtype == np.int64 and ((0 <= y) & (y < n_classes)).all()


def load_or_data_error(path: Path, **options: Any) -> DataSplit | None:
    """``datasets.load``'s record, checked, or None when it raised DataError; any other exception escapes."""
    try:
        split = datasets.load(str(path), **options)
    except DataError as exc:
        assert str(exc) and "\n" not in str(exc)
        event("DataError")
        return None
    event("valid record")
    check_record(split)
    return split


# ---- CSV text ---------------------------------------------------------------------------------------------------

ODD_NAMES = st.one_of(st.sampled_from(["", " ", "x,y", 'q"t', "\ufeffa", "nan", "a\nb"]), st.text(max_size=6))
NAMES = st.one_of(st.text("abcxyz_", min_size=1, max_size=5), ODD_NAMES)
GOOD_NUMBERS = st.one_of(st.integers(-1000, 1000), st.floats(-1e30, 1e30),
                         st.floats(width=16, allow_nan=False, allow_infinity=False)).map(str)
BAD_CELLS = st.one_of(st.sampled_from(["", " ", "nan", "NaN", "inf", "-Infinity", "1e999", "1e300", "-3.5e38", "abc",
                                       "1,5", "0x1F", "--1", "\x00", "é", "1 2", '"', 'a"b']), st.text(max_size=4))
LABEL_SETS = st.sampled_from([("0", "1"), ("cat", "dog"), ("1", "1.0", "2"), ("a", "b", "c", "d"), ("x",)])
FAULTS = st.lists(st.sampled_from(["bad cell", "bad label", "short row", "long row", "stray quote",
                                   "huge field", "duplicate name", "odd name", "other target", "blank lines", "BOM"]),
                  max_size=2)


def quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, str | None]:
    """CSV text and a target column name: a well-formed table, or one with up to two of the faults a user's
    file has, in a random dialect."""
    n_columns = draw(st.integers(2, 4))
    header = draw(st.lists(st.text("abcxyz_", min_size=1, max_size=5), min_size=n_columns, max_size=n_columns,
                           unique_by=str.strip))
    target_at = draw(st.integers(0, n_columns - 1))
    labels = draw(LABEL_SETS)
    rows = [draw(st.lists(GOOD_NUMBERS, min_size=n_columns, max_size=n_columns))
            for _ in range(draw(st.integers(1, 12)))]
    for row in rows:
        row[target_at] = draw(st.sampled_from(labels))
    faults = draw(FAULTS)
    any_row = rows[draw(st.integers(0, len(rows) - 1))]
    any_column = draw(st.integers(0, n_columns - 1))
    if "bad cell" in faults:
        any_row[any_column] = draw(BAD_CELLS)
    if "bad label" in faults:
        any_row[target_at] = draw(st.sampled_from(["", " ", "nan", "inf"]) | st.text(max_size=2))
    if "huge field" in faults:
        any_row[any_column] = draw(st.sampled_from("9x")) * HUGE_FIELD_CHARS
    if "duplicate name" in faults:
        header[any_column] = header[(any_column + 1) % n_columns]
    if "odd name" in faults:
        header[any_column] = draw(ODD_NAMES)
    if "short row" in faults:
        any_row.pop()
    if "long row" in faults:
        any_row.append(draw(GOOD_NUMBERS))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    quote_all = draw(st.booleans())
    needs_quotes = [delimiter, '"', "\n", "\r"]
    lines = [delimiter.join(quoted(cell) if quote_all or any(c in cell for c in needs_quotes) else cell
                            for cell in row) for row in [header, *rows]]
    if "stray quote" in faults:
        lines[-1] = '"' + lines[-1]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + newline
    if "blank lines" in faults:
        text += newline + delimiter * (n_columns - 1) + newline
    if "BOM" in faults:
        text = "\ufeff" + text
    target = header[target_at].strip()
    if "other target" in faults:
        target = draw(st.one_of(st.sampled_from([None, "missing"]), NAMES))
    return text, target


@FUZZ
@given(csv_files(), st.sampled_from(["standard", "minmax", "none"]), st.booleans())
@example(("a,a,y\n1,2,0\n3,4,1\n", "y"), "standard", False)  # a duplicate column name
@example(("\ufeffa;y\n1;0\n2;0\n3;1\n4;1\n", "y"), "minmax", True)  # a BOM and a semicolon
@example(("a,y\n1,0\n", "y"), "standard", False)  # a single row
@example(("a,y\n1,0\n2,0\n3,0\n", "y"), "standard", False)  # a single class
@example(("a,y\n1e300,0\n-1e300,0\n1,1\n2,1\n", "y"), "none", False)  # finite, yet beyond float32
def test_generated_csv_loads_or_raises_data_error(csv_file: tuple[str, str | None], scaler: str,
                                                   stratify: bool) -> None:
    text, target = csv_file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "data.csv")
        path.write_text(text, encoding="utf-8", newline="")
        load_or_data_error(path, target=target, scaler=scaler, stratify=stratify, val_fraction=0.25)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([".csv", ".npz"]))
@example(b"a,y\n\xff\xfe,0\n", ".csv")  # not UTF-8
@example(b"PK\x03\x04" + bytes(40), ".npz")  # a zip header, then nothing
def test_generated_bytes_load_or_raise_data_error(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, f"data{suffix}")
        path.write_bytes(content)
        load_or_data_error(path, target="y")


# ---- .npz contents ------------------------------------------------------------------------------------------------

DTYPES = st.one_of(hnp.boolean_dtypes(), hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(),
                   hnp.floating_dtypes(), hnp.complex_number_dtypes(), hnp.unicode_string_dtypes(max_len=3),
                   hnp.byte_string_dtypes(max_len=3), hnp.datetime64_dtypes())
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)


def any_arrays(dtypes: st.SearchStrategy[np.dtype] = DTYPES, shapes: st.SearchStrategy = SHAPES) -> st.SearchStrategy:
    return hnp.arrays(dtypes, shapes)


@st.composite
def npz_members(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """Arrays X and y that fit together, or with up to two faults: any dtype or shape, wild values, names that
    do not fit, a missing array."""
    n_rows, n_features = draw(st.integers(2, 12)), draw(st.integers(1, 3))
    members = {
        "X": draw(hnp.arrays(st.sampled_from([np.float32, np.float64]), (n_rows, n_features),
                             elements=st.floats(-1e6, 1e6, width=32))),
        "y": draw(hnp.arrays(st.sampled_from([np.int64, np.float64]), n_rows, elements=st.integers(0, 2))),
    }
    faults = draw(st.lists(st.sampled_from(["wild X", "any X", "any y", "string y", "bool y", "feature_names",
                                            "class_names", "missing"]), max_size=2))
    if "wild X" in faults:
        members["X"] = draw(hnp.arrays(hnp.floating_dtypes() | hnp.integer_dtypes(), (n_rows, n_features)))
    if "any X" in faults:
        members["X"] = draw(any_arrays())
    if "any y" in faults:
        members["y"] = draw(any_arrays())
    if "string y" in faults:
        members["y"] = draw(hnp.arrays(st.just(np.dtype("U3")), n_rows, elements=st.sampled_from(["a", "b", "nan"])))
    if "bool y" in faults:
        members["y"] = draw(hnp.arrays(st.just(np.bool_), n_rows))
    if "feature_names" in faults:
        members["feature_names"] = draw(any_arrays(hnp.unicode_string_dtypes(max_len=2), hnp.array_shapes(max_dims=1)))
    if "class_names" in faults:
        # NumPy's fixed-width strings drop trailing NULs, so a name of "\x00" cannot be stored as drawn.
        members["class_names"] = draw(hnp.arrays(st.just(np.dtype("U2")), st.integers(1, 4),
                                                 elements=st.text(st.characters(exclude_characters="\x00"),
                                                                  max_size=2)))
    if "missing" in faults:
        del members[draw(st.sampled_from(["X", "y"]))]
    return members


def npz_bytes(members: dict[str, np.ndarray], save: Callable[..., None]) -> bytes:
    buffer = io.BytesIO()
    save(buffer, **members)
    return buffer.getvalue()


@FUZZ
@given(npz_members(), st.sampled_from([np.savez, np.savez_compressed]), st.sampled_from(["standard", "minmax"]))
@example({"X": np.array([[1e300], [-1e300], [0.0], [1.0]]), "y": np.array([0, 0, 1, 1])}, np.savez, "minmax")
def test_generated_npz_loads_or_raises_data_error(members: dict[str, np.ndarray], save: Callable[..., None],
                                                  scaler: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "data.npz")
        path.write_bytes(npz_bytes(members, save))
        load_or_data_error(path, scaler=scaler, stratify=False, val_fraction=0.3)


NPY_LIKE_BYTES = st.binary(max_size=80).map(lambda tail: b"\x93NUMPY" + tail)  # .npy's magic, then anything


@FUZZ
@given(st.dictionaries(st.sampled_from(["X.npy", "y.npy", "X", "y.npy.npy", "../y.npy"]),
                       st.binary(max_size=40) | NPY_LIKE_BYTES, max_size=3))
@example({"X.npy": b"not an array", "y.npy": b"nor this"})
def test_hand_made_zip_members_load_or_raise_data_error(members: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "data.npz")
        path.write_bytes(zipped(members))
        load_or_data_error(path)


# ---- evaluation data ----------------------------------------------------------------------------------------------

MODEL_SCALER = Scaler("minmax", np.array([0.0, -1.0]), np.array([1e-30, 2.0]), n_fit_rows=10)


@FUZZ
@given(csv_files())
@example(("a,b,y\n1e20,0,cat\n0,0,dog\n", "y"))  # fine as data, beyond float32 once scaled
def test_generated_csv_evaluates_or_raises_data_error(csv_file: tuple[str, str | None]) -> None:
    text, target = csv_file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "eval.csv")
        path.write_text(text, encoding="utf-8", newline="")
        try:
            X, y = datasets.load_eval(str(path), target=target, feature_names=("a", "b"), class_names=("cat", "dog"),
                                      scaler=MODEL_SCALER)
        except DataError:
            return
        check_eval_rows(X, y, n_features=2, n_classes=2)


# ---- the checks themselves ----------------------------------------------------------------------------------------

def good_split() -> DataSplit:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "good.csv")
        path.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10)), encoding="utf-8")
        return datasets.load(str(path), target="y")


@pytest.mark.parametrize("broken", [
    {"X_val": np.full((2, 1), np.inf, dtype=np.float32)},
    {"X_train": np.zeros((8, 1))},
    {"y_train": np.full(8, 2)},
    {"class_names": ("0",)},
])
def test_the_record_check_refuses_a_broken_record(broken: dict[str, Any]) -> None:
    split = good_split()
    check_record(split)
    with pytest.raises(AssertionError):
        check_record(DataSplit(**{**{name: getattr(split, name) for name in (
            "name", "X_train", "y_train", "X_val", "y_val", "feature_names", "class_names", "scaler")}, **broken}))


def test_a_leaked_exception_fails_the_property(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were the reader to let a ValueError through, the property would fail, not pass quietly."""
    def leaky_read(*args: Any, **kwargs: Any) -> None:
        raise ValueError("could not convert string to float")

    monkeypatch.setattr("clf_tui.datasets.read_csv_data", leaky_read)
    with pytest.raises(ValueError):
        test_generated_csv_loads_or_raises_data_error()
