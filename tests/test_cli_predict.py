"""clf-tui predict and inspect, and eval --data on a CSV file: a saved model applied to rows as they come."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from clf_tui.cli import main
from clf_tui.engine import Trainer, read_checkpoint
from clf_tui.engine.checkpoint import write_checkpoint
from clf_tui.engine.predict import predict_file
from tests.datasets.exports import customers, write_pandas

PRINTED_RTOL = 1e-5
"""predict writes probabilities with 6 significant digits."""
ROWS_RTOL = 1e-6
"""The same weights and inputs, but a matrix product over another number of rows may sum in another order."""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A model trained on a pandas export (the checkpoint), and that export."""
    folder = tmp_path_factory.mktemp("run")
    data = write_pandas(folder / "churn.csv", customers(300, three_classes=True, missing_labels=3))
    assert main(["train", "--dataset", str(data), "--target", "churn", "--epochs", "3", "--out", str(folder)]) == 0
    return folder / "checkpoint.pt", data


def rewrite(source: Path, path: Path, *, drop: tuple[str, ...] = (), order: list[str] | None = None,
            extra: bool = False, change: dict[tuple[int, str], str] | None = None) -> Path:
    """``source`` with columns dropped, reordered, one added, or cells changed (by row from 0 and column)."""
    with source.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [name for name in (order or list(rows[0])) if name not in drop]
    with path.open("w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(columns + (["comment"] if extra else []))
        for i, row in enumerate(rows):
            cells = [(change or {}).get((i, name), row[name]) for name in columns]
            out.writerow(cells + (["note"] if extra else []))
    return path


def read_output(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_predictions_on_the_training_file_without_its_target_are_the_models(run: tuple[Path, Path], tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture) -> None:
    checkpoint, data = run
    unlabelled = rewrite(data, tmp_path / "new.csv", drop=("churn",))
    assert main(["predict", str(checkpoint), "--data", str(unlabelled)]) == 0
    captured = capsys.readouterr()
    rows = read_output(captured.out)
    trainer = Trainer.from_checkpoint(checkpoint)
    names = trainer.data.class_names
    assert list(rows[0]) == ["customer_id", *(f"P({name})" for name in names), "predicted"]
    assert len(rows) == 300 and rows[0]["customer_id"] == "C00000"
    assert "columns the model does not use, ignored: 'joined'" in captured.err
    # The training rows, as the trainer holds them, and as predict saw them in the file.
    preprocessing = trainer.data.preprocessing
    from clf_tui.datasets.csv_table import read_table

    table = read_table(data, text_columns=("churn", "customer_id"))
    with data.open(newline="") as handle:
        churn = [row["churn"] for row in csv.DictReader(handle)]
    labels = np.array([label != "" for label in churn])
    X, _ = preprocessing.transform(table, trainer.data.scaler)
    expected = trainer.predict_proba(X)
    printed = np.array([[float(row[f"P({name})"]) for name in names] for row in rows])
    np.testing.assert_allclose(printed, expected, rtol=PRINTED_RTOL, atol=1e-7)
    assert [row["predicted"] for row in rows] == [names[k] for k in expected.argmax(axis=1)]
    # The validation rows, encoded for prediction, are the trainer's own validation split, bit for bit.
    from clf_tui.datasets.splitting import split_rows

    labelled = np.flatnonzero(labels)
    y = np.array([names.index(churn[i]) for i in labelled])
    _, val = split_rows(y, names, data.name, val_fraction=0.2, split_seed=13, stratify=True)
    np.testing.assert_array_equal(X[labelled[val]], trainer.data.X_val)
    np.testing.assert_allclose(expected[labelled[val]], trainer.evaluate()[1], rtol=ROWS_RTOL)


def test_reordered_and_extra_columns_change_nothing(run: tuple[Path, Path], tmp_path: Path) -> None:
    checkpoint, data = run
    plain, _ = predict_file(checkpoint, data)
    columns = ["churn", "visits", "city", "customer_id", "smoker", "plan", "income", "age", "joined"]  # no index
    shuffled, _ = predict_file(checkpoint, rewrite(data, tmp_path / "shuffled.csv", order=columns, extra=True))
    np.testing.assert_array_equal(shuffled.proba, plain.proba)
    assert shuffled.notes[0] == "columns the model does not use, ignored: 'joined', 'comment'"


def test_unseen_categories_and_missing_cells_in_new_rows(run: tuple[Path, Path], tmp_path: Path) -> None:
    checkpoint, data = run
    plain, trainer = predict_file(checkpoint, data)
    changed = rewrite(data, tmp_path / "changed.csv", change={(0, "city"): "Marseille", (1, "age"): "NA",
                                                              (2, "plan"): "", (3, "smoker"): "maybe"})
    new, _ = predict_file(checkpoint, changed)
    assert any("column 'city': 1 row with a category the training rows did not have ('Marseille')" in note
               for note in new.notes)
    assert np.isfinite(new.proba).all() and not np.array_equal(new.proba[:4], plain.proba[:4])
    np.testing.assert_array_equal(new.proba[4:], plain.proba[4:])
    # The unseen city is none of the cities: the same row with every city column at 0 (before scaling).
    preprocessing, scaler = trainer.data.preprocessing, trainer.data.scaler
    from clf_tui.datasets.csv_table import read_table

    X, _ = preprocessing.transform(read_table(changed, text_columns=("churn", "customer_id")), scaler)
    cities = [i for i, name in enumerate(preprocessing.feature_names) if name.startswith("city=")]
    np.testing.assert_allclose(X[0, cities], (0 - scaler.shift[cities]) / scaler.scale[cities], rtol=1e-6)


def test_a_missing_column_is_one_line_naming_it(run: tuple[Path, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    checkpoint, data = run
    without = rewrite(data, tmp_path / "without.csv", drop=("income",))
    assert main(["predict", str(checkpoint), "--data", str(without)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no column 'income', which the model needs" in err


def test_out_writes_a_file_and_eval_reads_the_labels(run: tuple[Path, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    checkpoint, data = run
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(checkpoint), "--data", str(data), "--out", str(out), "--threshold", "0.5"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and f"300 predictions (the most probable class) written to {out}" in captured.err
    assert len(read_output(out.read_text())) == 300
    assert main(["eval", str(checkpoint), "--data", str(data)]) == 0
    printed = capsys.readouterr().out
    assert f"evaluated on {data}, 297 rows (3 without a label left out)" in printed
    unlabelled = rewrite(data, tmp_path / "unlabelled.csv", drop=("churn",))
    assert main(["eval", str(checkpoint), "--data", str(unlabelled)]) == 2
    assert "has no column 'churn' to evaluate against" in capsys.readouterr().err


@pytest.mark.parametrize(("broken", "value"), [
    ("columns", "all"),
    ("fill", float("nan")),
    ("categories", [1, 2]),
    ("role", "pickle"),
])
def test_a_damaged_preprocessing_is_refused_in_one_line(run: tuple[Path, Path], tmp_path: Path, broken: str,
                                                        value: object, capsys: pytest.CaptureFixture) -> None:
    checkpoint, data = run
    state = read_checkpoint(checkpoint)
    preprocessing = state["preprocessing"]
    if broken == "columns":
        preprocessing["columns"] = value
    else:
        column = next(c for c in preprocessing["columns"] if c["role"] == ("numeric" if broken == "fill" else "categorical"))
        column[broken] = value
    damaged = write_checkpoint(tmp_path / "damaged.pt", state)
    assert main(["predict", str(damaged), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is damaged: its data description is not valid" in err


def test_inspect_prints_a_row_per_column(run: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    _, data = run
    assert main(["inspect", str(data), "--target", "churn", "--na", "?"]) == 0
    printed = capsys.readouterr().out
    for fragment in ("(column 1)", "row index (0..299)", "customer_id", "identifier", "categorical", "boolean",
                     "dates or times", "classes: None", "problems", "'visits': 1 cell is not a number"):
        assert fragment in printed, fragment
    assert main(["inspect", str(data)]) == 2
    assert "inspect needs --target" in capsys.readouterr().err


def test_labels_written_as_floats_are_the_classes_they_name(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """pandas writes integer labels beside a missing one as 1.0 and 0.0: the classes are 1 and 0, in new rows too."""
    rows = [f"{i},{i % 5},{'' if i == 7 else float(i % 2)}" for i in range(60)]
    data = tmp_path / "floats.csv"
    data.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    assert main(["train", "--dataset", str(data), "--target", "label", "--epochs", "2", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    predictions, trainer = predict_file(tmp_path / "checkpoint.pt", data)
    assert trainer.data.class_names == ("0", "1")
    assert predictions.y_true.tolist() == [-1 if i == 7 else i % 2 for i in range(60)]
