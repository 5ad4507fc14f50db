"""One rule each: missing markers, labels, the positive class, overrides, rare and unseen categories, indicators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clf_tui import datasets
from clf_tui.errors import DataError

N = 40


def write(path: Path, header: str, rows: list[str]) -> str:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def numbered(cells: list[str], label: str = "y") -> list[str]:
    """Rows ``i,cell,label`` with labels that alternate x, y."""
    return [f"{i},{cell},{'xy'[i % 2] if label == 'y' else label}" for i, cell in enumerate(cells)]


def role_of(report: datasets.DataReport, name: str) -> tuple[str, str]:
    column = next(c for c in report.columns if c.name == name)
    return column.role, column.reason


def test_missing_markers_are_the_listed_ones_and_every_other_word_is_a_value(tmp_path: Path) -> None:
    words = ["NA", "N/A", "NaN", "nan", "null", "", "None", "?", "a", "b"] * 4
    path = write(tmp_path / "m.csv", "n,w,label", numbered(words))
    report = datasets.inspect(path, "label")
    w = next(c for c in report.columns if c.name == "w")
    assert w.role == "categorical" and w.n_missing == 24  # None, ?, a and b are values
    split = datasets.load(path, target="label")
    assert split.feature_names[1:] == ("w=?", "w=None", "w=a", "w=b")
    with_question = datasets.inspect(path, "label", na_values=("?",))
    assert next(c for c in with_question.columns if c.name == "w").n_missing == 28


def test_labels_name_classes_by_value_but_codes_with_leading_zeros_stay_apart(tmp_path: Path) -> None:
    by_value = write(tmp_path / "v.csv", "a,label", [f"{i},{label}" for i, label in enumerate(["1", "1.0", "2", "2e0", "10"] * 5)])
    assert datasets.inspect(by_value, "label").class_names == ("1", "2", "10")
    codes = write(tmp_path / "c.csv", "a,label", [f"{i},{label}" for i, label in enumerate(["1", "01", "2"] * 5)])
    assert datasets.inspect(codes, "label").class_names == ("01", "1", "2")
    big = [str(2**53), str(2**53 + 1)] * 5
    huge = write(tmp_path / "h.csv", "a,label", [f"{i},{label}" for i, label in enumerate(big)])
    assert datasets.inspect(huge, "label").class_names == (str(2**53), str(2**53 + 1))
    # Written as pandas writes whole numbers beside a missing label: still exact, never through float64.
    floats = write(tmp_path / "f.csv", "a,label", [f"{i},{label}.0" for i, label in enumerate(big)] + ["99,"])
    assert datasets.inspect(floats, "label").class_names == (str(2**53), str(2**53 + 1))


@pytest.mark.parametrize(("labels", "positive", "expected"), [
    (["no", "yes", "yes"], None, ("no", "yes")),  # named yes, although the more frequent
    (["Positive", "negative", "negative"], None, ("negative", "Positive")),
    (["ham", "spam", "spam"], None, ("spam", "ham")),  # else the rarer one
    (["ham", "spam", "spam"], "spam", ("ham", "spam")),
])
def test_the_positive_class_is_class_one(tmp_path: Path, labels: list[str], positive: str | None,
                                         expected: tuple[str, str]) -> None:
    path = write(tmp_path / "p.csv", "a,label", [f"{i},{label}" for i, label in enumerate(labels * 10)])
    split = datasets.load(path, target="label", positive=positive)
    assert split.class_names == expected and split.report.positive == expected[1]
    counts = {name: (labels * 10).count(name) for name in expected}
    assert np.bincount(np.concatenate([split.y_train, split.y_val])).tolist() == [counts[n] for n in expected]


def test_a_built_in_keeps_its_positive_class_unless_told(tmp_path: Path) -> None:
    assert datasets.load("breast_cancer").class_names == ("malignant", "benign")
    turned = datasets.load("breast_cancer", positive="malignant")
    assert turned.class_names == ("benign", "malignant")
    assert turned.class_counts["train"] == datasets.load("breast_cancer").class_counts["train"][::-1]


def test_overrides_give_a_column_the_role_asked_for(tmp_path: Path) -> None:
    rows = [f"{i},{i % 3},{['red', 'blue'][i % 2]},{i * 1.5},{'xy'[i % 2]}" for i in range(N)]
    path = write(tmp_path / "o.csv", "id,level,colour,size,label", rows)
    report = datasets.inspect(path, "label", overrides=datasets.Overrides(drop=("size",), categorical=("level",),
                                                                          numeric=("id",)))
    assert role_of(report, "size") == ("dropped", "asked for (--drop)")
    assert role_of(report, "level") == ("categorical", "asked for (--categorical)")
    assert role_of(report, "id") == ("numeric", "asked for (--numeric)")
    split = datasets.load(path, target="label", overrides=datasets.Overrides(categorical=("level",)))
    assert [name for name in split.feature_names if name.startswith("level")] == ["level=0", "level=1", "level=2"]
    with pytest.raises(DataError, match=r"has no column 'colour ' \(given to drop\); its columns are 'id', 'level'"):
        datasets.inspect(path, "label", overrides=datasets.Overrides(drop=("colour ",)))


def test_rare_categories_are_other_and_unseen_ones_none(tmp_path: Path) -> None:
    # 300 rows: "rare" in 2 (under 1% of the training rows), the rest common.
    cells = ["rare" if i in (5, 6) else ["a", "b", "c"][i % 3] for i in range(300)]
    path = write(tmp_path / "r.csv", "n,w,label", numbered(cells))
    split = datasets.load(path, target="label", stratify=False, scaler="none")
    fitted = split.preprocessing.columns[1]
    assert fitted.categories == ("a", "b", "c")
    in_training = "rare" in fitted.rare
    assert split.feature_names[1:] == ("w=a", "w=b", "w=c", *(["w=other"] if in_training else []))


def test_missing_indicators_mark_the_cells_that_were_filled(tmp_path: Path) -> None:
    cells = ["" if i % 4 == 0 else str(i) for i in range(N)]
    path = write(tmp_path / "i.csv", "n,v,label", numbered(cells))
    split = datasets.load(path, target="label", stratify=False, scaler="none", missing_indicators=True)
    assert split.feature_names == ("n", "v", "v (missing)")
    X = np.vstack([split.X_train, split.X_val])
    n = X[:, 0].astype(int)
    np.testing.assert_array_equal(X[:, 2], (n % 4 == 0).astype(np.float32))
    median = split.preprocessing.columns[1].fill
    assert (X[n % 4 == 0, 1] == np.float32(median)).all()
    train_values = np.array([float(v) for v, i in zip(split.X_train[:, 1], split.X_train[:, 0]) if int(i) % 4])
    assert median == np.median(train_values)


def test_inspect_collects_every_problem_of_a_file(tmp_path: Path) -> None:
    rows = [f"{i},{'abc' if i == 3 else i},{'-' if i in (7, 9) else i * 2},{'' if i == 11 else 'xy'[i % 2]}"
            for i in range(N)]
    path = write(tmp_path / "p.csv", "n,a,b,label", rows)
    report = datasets.inspect(path, "label")
    assert report.problems == (
        "column 'a': 1 cell is not a number (row 4: 'abc'): counted as missing",
        "column 'b': 2 cells are not numbers (rows 8, 10: '-'): counted as missing",
        "1 row without a label in 'label': left out",
    )


def test_a_large_file_read_block_by_block_gives_what_one_read_gives(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamed, a column's type comes from its first block: a stray word blocks later makes it read again."""
    from clf_tui.datasets import csv_table

    rng = np.random.default_rng(0)
    cells = [f"{value:.4f}" for value in rng.normal(size=3000)]
    cells[2500] = "abc"  # far past the first block
    path = write(tmp_path / "big.csv", "n,v,label", numbered(cells))
    at_once = datasets.inspect(path, "label")
    monkeypatch.setattr(csv_table, "STREAM_BYTES", 0)
    monkeypatch.setattr(csv_table, "STREAM_BLOCK_BYTES", 4096)
    streamed = datasets.inspect(path, "label")
    assert streamed == at_once
    assert role_of(streamed, "v") == ("numeric", "numbers")
    assert streamed.columns[1].problem == "1 cell is not a number (row 2501: 'abc'): counted as missing"
    monkeypatch.undo()
    whole = datasets.load(path, target="label")
    monkeypatch.setattr(csv_table, "STREAM_BYTES", 0)
    monkeypatch.setattr(csv_table, "STREAM_BLOCK_BYTES", 4096)
    np.testing.assert_array_equal(datasets.load(path, target="label").X_train, whole.X_train)
