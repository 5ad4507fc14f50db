"""User data from real CSV and .npz files: labels of any kind, delimiters, round trips, splits, evaluation sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clf_tui import datasets


def write_csv(path: Path, header: str, rows: list[str], delimiter: str = ",") -> Path:
    lines = [header, *rows]
    path.write_text("\n".join(line.replace(",", delimiter) for line in lines) + "\n", encoding="utf-8")
    return path


def animals(path: Path) -> Path:
    """Two features around a string label column, 60 rows in three unequal classes."""
    rng = np.random.default_rng(0)
    kinds = ["dog", "cat", "cat", "ant", "dog", "cat"] * 10
    rows = [f"{rng.normal():.3f},{kind},{rng.normal():.3f}" for kind in kinds]
    return write_csv(path, "weight,kind,height", rows)


def all_rows(split: datasets.DataSplit) -> tuple[np.ndarray, np.ndarray]:
    return np.vstack([split.X_train, split.X_val]), np.concatenate([split.y_train, split.y_val])


def test_string_labels_are_numbered_in_sorted_order_with_names_kept(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "pets.csv", "a,b,kind", ["1,2,dog", "3,4,cat", "5,6,dog", "7,8,cat", "9,1,emu",
                                                       "2,3,emu", "4,4,dog", "6,5,cat", "8,6,emu", "1,7,dog"])
    split = datasets.load(str(path), target="kind", scaler="none", stratify=False)
    assert split.name == "pets.csv"
    assert split.class_names == ("cat", "dog", "emu") and split.feature_names == ("a", "b")
    assert split.task == "multiclass"
    X, y = all_rows(split)
    by_first_feature = dict(zip(X[:, 0].tolist(), y.tolist()))
    assert by_first_feature[3.0] == 0 and by_first_feature[5.0] == 1 and by_first_feature[9.0] == 2


def test_target_column_anywhere_and_features_in_file_order(tmp_path: Path) -> None:
    split = datasets.load(str(animals(tmp_path / "animals.csv")), target="kind")
    assert split.feature_names == ("weight", "height") and split.class_names == ("ant", "cat", "dog")


@pytest.mark.parametrize(("labels", "class_names", "y"), [
    (["10", "2", "2", "10", "1"], ("1", "2", "10"), [2, 1, 1, 2, 0]),
    (["1.0", "2.5", "1", "-3", "2.50"], ("-3", "1", "2.5"), [1, 2, 1, 0, 2]),
    (["1e3", "0.5", "1000", "0.50"], ("0.5", "1000"), [1, 0, 1, 0]),
    (["b", "10", "a", "2"], ("10", "2", "a", "b"), [3, 0, 2, 1]),
])
def test_labels_sort_as_numbers_when_all_are_numbers(tmp_path: Path, labels: list[str],
                                                     class_names: tuple[str, ...], y: list[int]) -> None:
    path = write_csv(tmp_path / "labels.csv", "row,label", [f"{i},{label}" for i, label in enumerate(labels)])
    split = datasets.load(str(path), target="label", stratify=False, val_fraction=0.25, scaler="none")
    assert split.class_names == class_names
    X, y_loaded = all_rows(split)
    assert y_loaded[np.argsort(X[:, 0])].tolist() == y


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [f"{i},{i * 2 % 7},{'yes' if i % 2 else 'no'}" for i in range(20)]
    path = write_csv(tmp_path / "d.csv", "p,q,answer", rows, delimiter=delimiter)
    split = datasets.load(str(path), target="answer")
    assert split.feature_names == ("p", "q") and split.class_names == ("no", "yes")


def test_bom_quotes_crlf_spaces_and_blank_lines(tmp_path: Path) -> None:
    text = ('"size (cm)", "colour, code" ,label\r\n'
            '1.5,"2",\"big, red\"\r\n'
            ' 2.5 , 3 ,small\r\n'
            '\r\n'
            '3.5,4,"big, red"\r\n'
            '4.5,5,small\r\n'
            ',,\r\n')
    path = tmp_path / "quoted.csv"
    path.write_text(text, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    split = datasets.load(str(path), target="label", stratify=False, val_fraction=0.5, scaler="none")
    assert split.feature_names == ("size (cm)", "colour, code")
    assert split.class_names == ("big, red", "small")
    X, y = all_rows(split)
    assert sorted(X[:, 0].tolist()) == [1.5, 2.5, 3.5, 4.5]


def test_npz_round_trip_with_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = np.arange(40) % 2
    path = tmp_path / "arrays.npz"
    np.savez(path, X=X, y=y, feature_names=np.array(["a", "b", "c"]), class_names=np.array(["no", "yes"]))
    split = datasets.load(str(path), scaler="none", val_fraction=0.25)
    assert split.name == "arrays.npz"
    assert split.feature_names == ("a", "b", "c") and split.class_names == ("no", "yes")
    X_back, y_back = all_rows(split)
    order = np.lexsort(X_back.T)
    expected = np.lexsort(X.astype(np.float32).T)
    np.testing.assert_array_equal(X_back[order], X.astype(np.float32)[expected])
    np.testing.assert_array_equal(y_back[order], y[expected])


def test_npz_without_names_numbers_its_labels(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    np.savez_compressed(path, X=np.arange(60, dtype=np.int32).reshape(30, 2), y=np.repeat([7.0, 2.0, 4.5], 10))
    split = datasets.load(str(path))
    assert split.feature_names == ("x1", "x2") and split.class_names == ("2", "4.5", "7")
    strings = tmp_path / "strings.npz"
    np.savez(strings, X=np.ones((4, 1)), y=np.array(["b", "a", "b", "a"]))
    assert datasets.load(str(strings), stratify=False, val_fraction=0.5).class_names == ("a", "b")


def test_stratified_split_keeps_the_class_proportions(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [700, 200, 100])
    path = tmp_path / "unbalanced.npz"
    np.savez(path, X=rng.normal(size=(1000, 2)), y=y)
    split = datasets.load(str(path), val_fraction=0.3)
    assert split.class_counts == {"train": (490, 140, 70), "val": (210, 60, 30)}
    loose = datasets.load(str(path), val_fraction=0.3, stratify=False)
    assert sum(loose.class_counts["val"]) == 300 and loose.class_counts["val"] != (210, 60, 30)


def test_eval_set_takes_columns_by_name_and_labels_by_class_name(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    names = np.array(["ant", "cat", "dog"])
    path = tmp_path / "train.npz"
    np.savez(path, X=rng.normal(size=(60, 2)), y=np.arange(60) % 3, feature_names=np.array(["weight", "height"]),
             class_names=names)
    train = datasets.load(str(path))
    shuffled = tmp_path / "new.npz"
    np.savez(shuffled, X=np.array([[0.5, -1.0], [1.5, 0.25], [-2.0, 3.0]]), y=np.array(["dog", "ant", "dog"]),
             feature_names=np.array(["height", "weight"]))
    X, y = datasets.load_eval(str(shuffled), target=None, feature_names=train.feature_names,
                              class_names=train.class_names, scaler=train.scaler)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert y.tolist() == [2, 0, 2]
    raw_in_model_order = np.array([[-1.0, 0.5], [0.25, 1.5], [3.0, -2.0]])
    np.testing.assert_allclose(X, train.scaler.transform(raw_in_model_order))


def test_eval_set_from_a_built_in_matches_numeric_label_names(tmp_path: Path) -> None:
    train = datasets.load("moons", n_samples=200)
    X, y = datasets.load_eval("moons", target=None, feature_names=train.feature_names,
                              class_names=train.class_names, scaler=train.scaler, n_samples=50, data_seed=9)
    assert X.shape == (50, 2) and sorted(set(y.tolist())) == [0, 1]
    path = tmp_path / "floats.npz"
    np.savez(path, X=np.array([[0.1, 0.2], [0.3, 0.4]]), y=np.array([1.0, 0.0]))
    _, y = datasets.load_eval(str(path), target=None, feature_names=("x1", "x2"), class_names=("0", "1"),
                              scaler=train.scaler)
    assert y.tolist() == [1, 0]


@pytest.mark.parametrize(("y", "class_names"), [
    (np.array([2**53 + 1, 2**53] * 4, dtype=np.int64), (str(2**53), str(2**53 + 1))),  # one apart as float64
    (np.array([2**64 - 1, 2**64 - 2] * 4, dtype=np.uint64), (str(2**64 - 2), str(2**64 - 1))),
    (np.array([str(2**53 + 1), str(2**53)] * 4), (str(2**53), str(2**53 + 1))),
    (np.array(["1", "01", "1", "2"] * 2), ("01", "1", "2")),  # codes, as in a CSV target
])
def test_npz_labels_keep_their_identity_and_exact_names(tmp_path: Path, y: np.ndarray,
                                                        class_names: tuple[str, ...]) -> None:
    path = tmp_path / "labels.npz"
    np.savez(path, X=np.arange(len(y), dtype=np.float64)[:, None], y=y)
    split = datasets.load(str(path), stratify=False, val_fraction=0.25, scaler="none")
    assert split.class_names == class_names
    X, y_loaded = all_rows(split)
    named = [split.class_names[label] for label in y_loaded[np.argsort(X[:, 0])]]
    assert named == [str(label) for label in y.tolist()]
