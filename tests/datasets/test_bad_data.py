"""Bad data raises DataError with one line that says what is wrong, where, and what to do."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clf_tui import datasets
from clf_tui.errors import DataError

GOOD_CSV = "a,b,label\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(20))
GOOD_ARRAYS = {"X": np.arange(40.0).reshape(20, 2), "y": np.arange(20) % 2}


def saved(save: Callable[..., None], arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes ``np.save`` / ``np.savez_compressed`` writes for ``arrays``."""
    buffer = io.BytesIO()
    save(buffer, **arrays)
    return buffer.getvalue()


GOOD_NPZ = saved(np.savez_compressed, GOOD_ARRAYS)
# The first member's compressed data starts after its 30-byte header and name: break it, keep the directory.
BROKEN_MEMBER_NPZ = GOOD_NPZ[:60] + bytes(b ^ 0xFF for b in GOOD_NPZ[60:90]) + GOOD_NPZ[90:]


def put(path: Path, content: str | bytes | dict[str, np.ndarray]) -> Path:
    """Write ``content`` as text, bytes or an .npz archive of arrays."""
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with path.open("wb") as handle:  # np.savez would append .npz to other names
            np.savez(handle, **content)
    return path


def load_error(path: Path, **options: Any) -> str:
    with pytest.raises(DataError) as raised:
        datasets.load(str(path), **options)
    message = str(raised.value)
    assert "\n" not in message and message == raised.value.message
    return message


def rows(labels: str) -> str:
    """A CSV with one feature and the given labels, one row each."""
    return "a,label\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels))


# id: (file contents, options of load besides target="label", fragments the message must hold)
CSV_CASES = {
    "empty file": ("", {}, ["data.csv is empty", "header row"]),
    "blank lines only": ("\n \n", {}, ["data.csv is empty"]),
    "header only": ("a,b,label\n", {}, ["has a header but no data rows"]),
    "target not given": (GOOD_CSV, {"target": None}, ["pass target", "'a', 'b', 'label'"]),
    "target missing": (GOOD_CSV, {"target": "class"}, ["has no column 'class'", "its columns are 'a', 'b', 'label'"]),
    "target only": ("label\nx\ny\n", {}, ["no feature columns", "'label'"]),
    "short row": ("a,b,label\n1,2,x\n3,4,y\n5,y\n", {}, ["line 4 has 2 fields but the header has 3"]),
    "long row": ("a,b,label\n1,2,x\n3,4,y,9\n", {}, ["line 3 has 4 fields but the header has 3"]),
    "duplicate column": ("a,b,a,label\n1,2,3,x\n", {}, ["names 'a' twice", "columns 1 and 3", "rename one"]),
    "nameless column after the first": ("a,,label\n0,1,x\n1,2,y\n", {}, ["column 2 of the header has no name"]),
    "not utf-8": ("a,b,label\n1,2,caf\xe9\n".encode("latin-1"), {}, ["not UTF-8", "0xe9", "save it as UTF-8"]),
    "no label at all": ("a,label\n1,NA\n2,\n", {}, ["no row has a label in 'label'"]),
    "nothing left to learn from": ("id,when,label\n" + "".join(f"{i},2021-01-{i + 1:02},{'xy'[i % 2]}\n"
                                                            for i in range(12)), {},
                                   ["no column is left to learn from", "'id': identifier", "'when': dates",
                                    "--numeric or --categorical"]),
    "an override names no column": (GOOD_CSV, {"overrides": datasets.Overrides(drop=("c",))},
                                    ["data.csv has no column 'c' (given to drop)", "'a', 'b', 'label'"]),
    "a column given two roles": (GOOD_CSV, {"overrides": datasets.Overrides(drop=("a",), numeric=("a",))},
                                 ["column 'a' is given two roles"]),
    "the target overridden": (GOOD_CSV, {"overrides": datasets.Overrides(categorical=("label",))},
                              ["'label' is the target", "feature columns"]),
    "a positive class that is not one": (GOOD_CSV, {"positive": "z"}, ["positive = 'z' is not a class", "'x', 'y'"]),
    "a word column read as numbers": ("a,b,label\n" + "".join(f"{i},{'uvw'[i % 3]},{'xy'[i % 2]}\n" for i in range(12)),
                                      {"overrides": datasets.Overrides(numeric=("b",))},
                                      ["column 'b' holds no numbers", "'u'"]),
    "one class": (rows("sss"), {}, ["one class only", "'s'", "all 3 rows", "at least 2"]),
    "class too small": (rows("x" * 9 + "r"), {}, ["class 'r' has 1 row", "stratified", "stratify = false", "add rows"]),
    "empty training split": (rows("xy"), {"val_fraction": 0.6, "stratify": False},
                             ["with 2 rows, val_fraction = 0.6 leaves the training split empty", "lower val_fraction"]),
    "validation split too small to stratify": (
        rows("xyz" * 3), {}, ["validation split of 2 rows cannot hold all 3 classes", "raise val_fraction",
                              "stratify = false"]),
    "training split too small to stratify": (
        rows("xyz" * 2), {"val_fraction": 0.6}, ["training split of 2 rows cannot hold all 3 classes",
                                                 "lower val_fraction"]),
}


@pytest.mark.parametrize(("content", "options", "fragments"), CSV_CASES.values(), ids=CSV_CASES)
def test_bad_csv_is_one_clear_line(tmp_path: Path, content: str | bytes, options: dict,
                                   fragments: list[str]) -> None:
    message = load_error(put(tmp_path / "data.csv", content), **{"target": "label", **options})
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# id: (arrays to save, or the file's bytes; fragments the message must hold)
NPZ_CASES = {
    "no X": ({"y": np.zeros(3)}, ["no array 'X'", "'y'", "np.savez(path, X="]),
    "no y": ({"X": np.zeros((3, 2))}, ["no array 'y'"]),
    "1-D X": ({"X": np.zeros(3), "y": np.zeros(3)}, ["X has shape (3,)", "2-D"]),
    "X without rows": ({"X": np.zeros((0, 2)), "y": np.zeros(0)}, ["X has shape (0, 2)"]),
    "2-D y": ({"X": np.zeros((3, 2)), "y": np.zeros((3, 1))}, ["y has shape (3, 1)", "1-D", "y.ravel()"]),
    "lengths differ": ({"X": np.zeros((3, 2)), "y": np.zeros(4)}, ["X has 3 rows but y has 4 labels"]),
    "text X": ({"X": np.array([["1", "a"]]), "y": np.zeros(1)}, ["X holds <U1 values", "numbers"]),
    "NaN in X": ({"X": np.array([[1.0, 2.0], [3.0, np.nan]]), "y": np.zeros(2)}, ["X[1, 1] is nan", "finite"]),
    "NaN in y": ({"X": np.zeros((2, 1)), "y": np.array([0.0, np.nan])}, ["y[1] is nan", "finite number or a string"]),
    "bytes y": ({"X": np.zeros((2, 1)), "y": np.array([b"a", b"b"])}, ["y holds |S1 values", "numbers or strings"]),
    "label outside class_names": ({**GOOD_ARRAYS, "y": np.arange(20) % 3, "class_names": np.array(["n", "p"])},
                                  ["y[2] is 2", "class indices 0..1"]),
    "feature_names of the wrong length": ({**GOOD_ARRAYS, "feature_names": np.array(["a"])},
                                          ["feature_names has shape (1,)", "expected 2 strings"]),
    "duplicate feature_names": ({**GOOD_ARRAYS, "feature_names": np.array(["a", "a"])},
                                ["feature_names repeats 'a'", "distinct"]),
    "Python objects": ({"X": np.array([[1, None]], dtype=object), "y": np.zeros(1)},
                       ["holds Python objects", "Object arrays", "np.savez"]),
    "npy, not npz": (saved(np.save, {"arr": np.zeros((3, 2))}), ["data.npz is not an .npz archive", "np.savez"]),
    "random bytes": (bytes(range(256)) * 4, ["data.npz is not an .npz archive"]),
    "truncated": (GOOD_NPZ[:300], ["data.npz is not an .npz archive"]),
    "broken member": (BROKEN_MEMBER_NPZ, ["data.npz is damaged", "np.savez"]),
}


@pytest.mark.parametrize(("content", "fragments"), NPZ_CASES.values(), ids=NPZ_CASES)
def test_bad_npz_is_one_clear_line(tmp_path: Path, content: dict[str, np.ndarray] | bytes,
                                   fragments: list[str]) -> None:
    message = load_error(put(tmp_path / "data.npz", content))
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_missing_file_and_unsupported_types(tmp_path: Path) -> None:
    assert load_error(tmp_path / "gone.csv", target="label") == f"no such file: {tmp_path / 'gone.csv'}"
    text = put(tmp_path / "data.txt", GOOD_CSV)
    assert "data.txt: unsupported file type '.txt'; give a .csv file" in load_error(text)
    bare = put(tmp_path / "data", GOOD_CSV)
    assert "data: no file extension; give a .csv file with a header row, or an .npz file" in load_error(bare)


def test_a_directory_is_not_a_data_file(tmp_path: Path) -> None:
    folder = tmp_path / "data.csv"
    folder.mkdir()
    assert "data.csv is a directory" in load_error(folder, target="label")
    assert "is a directory" in load_error(tmp_path)


def test_eval_set_must_have_the_models_features_and_classes(tmp_path: Path) -> None:
    names = {"feature_names": np.array(["a", "b"]), "class_names": np.array(["x", "y"])}
    train = datasets.load(str(put(tmp_path / "train.npz", {**GOOD_ARRAYS, **names})))
    other = put(tmp_path / "other.npz", {"X": np.zeros((1, 2)), "y": np.zeros(1), "feature_names": np.array(["a", "c"])})
    with pytest.raises(DataError, match=r"other.npz does not have the model's features: missing 'b', unexpected 'c'"):
        datasets.load_eval(str(other), target=None, feature_names=train.feature_names,
                           class_names=train.class_names, scaler=train.scaler)
    new_label = put(tmp_path / "new.npz", {"X": np.zeros((2, 2)), "y": np.array(["x", "z"]),
                                           "feature_names": np.array(["b", "a"])})
    with pytest.raises(DataError, match=r"new.npz has label 'z', which is not one of the model's classes \('x', 'y'\)"):
        datasets.load_eval(str(new_label), target=None, feature_names=train.feature_names,
                           class_names=train.class_names, scaler=train.scaler)


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_damaged_files_raise_data_error_and_nothing_else(tmp_path: Path, suffix: str) -> None:
    good = GOOD_CSV.encode() if suffix == ".csv" else GOOD_NPZ
    rng = random.Random(0)
    path = tmp_path / f"damaged{suffix}"
    for _ in range(300):
        damaged = bytearray(good)
        if rng.random() < 0.3:
            del damaged[rng.randrange(len(damaged)):]
        for _ in range(rng.randint(1, 4)):
            if damaged:
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path.write_bytes(bytes(damaged))
        try:
            datasets.load(str(path), target="label", stratify=False)
        except DataError as exc:
            assert "\n" not in str(exc)
