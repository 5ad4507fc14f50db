"""Honest numbers through the command line: intervals, calibration and costs in the summaries of train and eval,
metrics.csv's last row, and cross-validation with --folds; every printed number checked against the engine's
and scikit-learn's on the same rows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score, average_precision_score, balanced_accuracy_score, brier_score_loss, f1_score, log_loss,
    matthews_corrcoef, precision_score, recall_score, roc_auc_score,
)

from clf_tui.cli import main
from clf_tui.engine import RunConfig, Trainer, intervals, read_checkpoint
from clf_tui.engine.calibration import reliabilities
from clf_tui.engine.metrics import BinaryEval, MulticlassEval
from tests.datasets.exports import customers, write_pandas

BINARY_LABELS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "precision": "precision",
                 "recall": "recall (TPR)", "f1": "F1", "mcc": "MCC", "auroc": "AUROC",
                 "average_precision": "average precision"}


def table_rows(printed: str) -> list[list[str]]:
    """The cells of every row of every table printed (lines between │ rules)."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")] for line in printed.splitlines()
            if line.startswith("│")]


def row(printed: str, first: str, width: int) -> list[str]:
    """The last table row printed that begins with ``first`` and has ``width`` cells."""
    found = [cells for cells in table_rows(printed) if cells[0] == first and len(cells) == width]
    assert found, first
    return found[-1]


def binary_reference(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = p >= np.float32(threshold)
    return {"accuracy": accuracy_score(y, predicted), "balanced_accuracy": balanced_accuracy_score(y, predicted),
            "precision": precision_score(y, predicted, zero_division=0), "recall": recall_score(y, predicted),
            "f1": f1_score(y, predicted), "mcc": matthews_corrcoef(y, predicted), "auroc": roc_auc_score(y, p),
            "average_precision": average_precision_score(y, p)}


def cost_of(y: np.ndarray, p: np.ndarray, threshold: float, fp_cost: float, fn_cost: float,
            prevalence: float | None = None) -> float:
    prevalence = y.mean() if prevalence is None else prevalence
    predicted = p >= threshold
    fpr = (predicted & (y == 0)).sum() / (y == 0).sum()
    fnr = (~predicted & (y == 1)).sum() / (y == 1).sum()
    return fp_cost * (1 - prevalence) * fpr + fn_cost * prevalence * fnr


def least_cost(y: np.ndarray, p: np.ndarray, fp_cost: float, fn_cost: float,
               prevalence: float | None = None) -> tuple[float, float]:
    """By brute force: every score as the threshold (and 1 above them all), the highest of the least."""
    candidates = sorted({float(s) for s in p} | {np.inf}, reverse=True)
    costs = [cost_of(y, p, t, fp_cost, fn_cost, prevalence) for t in candidates]
    at = int(np.argmin(costs))
    return candidates[at], costs[at]


@pytest.fixture(scope="module")
def calibrated_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("honest") / "run"
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["train", "--dataset", "breast_cancer", "--hidden", "16", "--epochs", "6",
                     "--temperature-scaling", "--cost-fp", "1", "--cost-fn", "5", "--out", str(out)])
    assert code == 0
    return out, printed.getvalue()


def test_the_train_summary_shows_each_metric_with_its_interval(calibrated_run: tuple[Path, str]) -> None:
    out, printed = calibrated_run
    trainer = Trainer.from_checkpoint(out / "checkpoint.pt")
    y, p = trainer.evaluate()
    threshold = trainer.threshold
    evaluation = BinaryEval(y, p)
    bounds = {**intervals.threshold_intervals(evaluation, threshold), **intervals.ranking_intervals(evaluation)}
    for name, value in binary_reference(y, p, threshold).items():
        assert row(printed, BINARY_LABELS[name], 3) == [BINARY_LABELS[name], f"{value:.3f}", str(bounds[name])]
    assert "[low, high]: 95% interval, 1,000 stratified bootstraps of the validation rows" in printed
    summary = printed[printed.index("validation, 114 rows"):printed.index("checkpoint  ")]
    assert max(len(line) for line in summary.splitlines()) <= 80
    # metrics.csv's last row: the threshold and the intervals the summary shows; the other rows leave them empty.
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[-1]["threshold"]) == threshold
    for name in BINARY_LABELS:
        interval = bounds[name]
        assert (float(rows[-1][f"val_{name}_low"]), float(rows[-1][f"val_{name}_high"])) == (interval.low,
                                                                                              interval.high)
        assert all(r[f"val_{name}_low"] == "" for r in rows[:-1])
    assert [float(r["train_loss"]) for r in rows] == read_checkpoint(out / "checkpoint.pt")["history"]["loss"]


def test_the_train_summary_shows_calibration_before_and_after_the_temperature(calibrated_run: tuple[Path, str]) -> None:
    out, printed = calibrated_run
    trainer = Trainer.from_checkpoint(out / "checkpoint.pt")
    y, p = trainer.evaluate()
    temperature = trainer.temperature
    trainer.temperature = 1.0
    _, raw = trainer.evaluate()
    assert f"calibration of P(benign): Brier {brier_score_loss(y, p):.4f}" in printed
    assert f"before it: Brier {brier_score_loss(y, raw):.4f}" in printed
    assert (f"temperature {temperature:.3f}, fit on the validation rows: log loss from {log_loss(y, raw):.4f} to "
            f"{log_loss(y, p):.4f}") in printed
    bins = [cells for cells in table_rows(printed) if len(cells) == 7 and cells[0][:3] in [f"0.{i}" for i in range(10)]]
    for columns, probabilities in ((slice(1, 4), raw), (slice(4, 7), p)):
        observed, predicted = calibration_curve(y, probabilities, n_bins=10)
        shown = [cells[columns] for cells in bins if cells[columns][2] != "0"]
        assert [(mean, share) for mean, share, _ in shown] == [(f"{m:.3f}", f"{o:.3f}") for m, o in
                                                              zip(predicted, observed)]
        counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], probabilities), minlength=10)
        assert sorted(int(n) for _, _, n in shown) == sorted(int(c) for c in counts if c)


def test_the_train_summary_chooses_the_threshold_of_least_cost(calibrated_run: tuple[Path, str]) -> None:
    out, printed = calibrated_run
    trainer = Trainer.from_checkpoint(out / "checkpoint.pt")
    y, p = trainer.evaluate()
    threshold, cost = least_cost(y, p, 1.0, 5.0)
    assert trainer.threshold == threshold and read_checkpoint(out / "checkpoint.pt")["costs"]["false_negative"] == 5
    assert "costs of errors: a false positive 1, a false negative 5" in printed
    assert f"prevalence of positives: {y.mean():.3f} (the validation rows')" in printed
    assert f"least expected cost: {cost:.4f} per case, at threshold {threshold:.4g}" in printed
    assert "the one used" not in printed
    assert f"confusion matrix at {threshold:g}" in printed
    predicted = p >= np.float32(threshold)
    tn, fp = int(np.sum(~predicted & (y == 0))), int(np.sum(predicted & (y == 0)))
    fn, tp = int(np.sum(~predicted & (y == 1))), int(np.sum(predicted & (y == 1)))
    malignant, benign = row(printed, "malignant", 3), row(printed, "benign", 3)
    assert malignant[1].startswith(f"{tn} (") and malignant[2].startswith(f"{fp} (")
    assert benign[1].startswith(f"{fn} (") and benign[2].startswith(f"{tp} (")
    costs = [cells for cells in (line.split() for line in printed.splitlines()) if cells[:1] == ["cost"]]
    assert costs[-1][1:] == [f"{cost_of(y, p, t, 1.0, 5.0):.3f}" for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,
                                                                              0.8, 0.9)]


def test_eval_takes_costs_instead_of_a_threshold(calibrated_run: tuple[Path, str], capsys) -> None:
    out, _ = calibrated_run
    checkpoint = str(out / "checkpoint.pt")
    trainer = Trainer.from_checkpoint(checkpoint)
    y, p = trainer.evaluate()
    assert main(["eval", checkpoint, "--cost-fp", "1", "--cost-fn", "20", "--prevalence", "0.1"]) == 0
    printed = capsys.readouterr().out
    threshold, cost = least_cost(y, p, 1.0, 20.0, prevalence=0.1)
    assert f"threshold {threshold:g}, positive class benign" in printed
    assert "prevalence of positives: 0.100 (given)" in printed
    assert f"least expected cost: {cost:.4f} per case, at threshold {threshold:.4g}" in printed
    assert f"temperature {trainer.temperature:.3f}, fit on the validation rows" in printed
    # Without costs given, the saved ones are shown, at the saved threshold or at --threshold.
    assert main(["eval", checkpoint, "--threshold", "0.3"]) == 0
    printed = capsys.readouterr().out
    assert "costs of errors: a false positive 1, a false negative 5" in printed
    assert f"at threshold 0.3, the one used: {cost_of(y, p, np.float32(0.3), 1.0, 5.0):.4f} per case" in printed


@pytest.mark.parametrize(("args", "message"), [
    (["--cost-fp", "1"], "--cost-fp is given without --cost-fn: give both costs"),
    (["--cost-fn", "1"], "--cost-fn is given without --cost-fp: give both costs"),
    (["--cost-fp", "1", "--cost-fn", "2", "--threshold", "0.4"], "--threshold and the costs both choose"),
    (["--prevalence", "0.2"], "--prevalence 0.2 weighs the costs of errors: give --cost-fp and --cost-fn too"),
    (["--cost-fp", "-1", "--cost-fn", "2"], "--cost-fp -1 is invalid: expected a finite number >= 0"),
    (["--cost-fp", "1", "--cost-fn", "2", "--prevalence", "1"], "--prevalence 1 is invalid"),
    (["--cost-fp", "0", "--cost-fn", "0"], "are both 0: nothing to weigh"),
])
def test_eval_refuses_costs_it_cannot_weigh_in_one_line(calibrated_run: tuple[Path, str], args: list[str],
                                                        message: str, capsys) -> None:
    out, _ = calibrated_run
    assert main(["eval", str(out / "checkpoint.pt"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("clf-tui: error: ") and message in err and err.count("\n") == 1


def test_a_multiclass_summary_has_intervals_and_each_class_calibration(tmp_path: Path, capsys) -> None:
    out = tmp_path / "iris"
    assert main(["train", "--dataset", "iris", "--epochs", "5", "--temperature-scaling", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    trainer = Trainer.from_checkpoint(out / "checkpoint.pt")
    y, p = trainer.evaluate()
    predicted = p.argmax(axis=1)
    bounds = intervals.multiclass_intervals(MulticlassEval.from_proba(y, p))
    for name, label, value in [
        ("accuracy", "accuracy", accuracy_score(y, predicted)),
        ("balanced_accuracy", "balanced accuracy", balanced_accuracy_score(y, predicted)),
        ("macro_f1", "macro F1", f1_score(y, predicted, average="macro")),
        ("mcc", "MCC", matthews_corrcoef(y, predicted)),
    ]:
        assert row(printed, label, 3) == [label, f"{value:.3f}", str(bounds[name])]
    temperature = trainer.temperature
    trainer.temperature = 1.0
    _, raw = trainer.evaluate()
    after, before = reliabilities(y, p, trainer.data.class_names), reliabilities(y, raw, trainer.data.class_names)
    for c, name in enumerate(trainer.data.class_names):
        assert row(printed, name, 5)[1:] == [f"{brier_score_loss(y == c, p[:, c]):.4f}", f"{after[c].ece:.4f}",
                                             f"{brier_score_loss(y == c, raw[:, c]):.4f}", f"{before[c].ece:.4f}"]
    assert f"temperature {temperature:.3f}, fit on the validation rows: log loss from {log_loss(y, raw):.4f}" in printed
    assert main(["eval", str(out / "checkpoint.pt"), "--cost-fp", "1", "--cost-fn", "2"]) == 2
    assert "choose the threshold between two classes; this model has 3" in capsys.readouterr().err
    assert main(["train", "--dataset", "iris", "--cost-fp", "1", "--cost-fn", "2", "--out", str(tmp_path / "x")]) == 2
    assert "iris has 3, which are predicted by the most probable" in capsys.readouterr().err


def test_folds_on_an_export_report_the_mean_and_std_of_each_folds_numbers(tmp_path: Path, capsys) -> None:
    data = customers(n=400, missing_labels=5)
    path = write_pandas(tmp_path / "churn.csv", data)
    out = tmp_path / "cv"
    assert main(["train", "--dataset", str(path), "--target", "churn", "--folds", "3", "--epochs", "8", "--hidden",
                 "8", "--cost-fp", "1", "--cost-fn", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert RunConfig.load(out / "config.toml").folds == 3 and not (out / "checkpoint.pt").exists()
    per_fold, pooled_y, pooled_p = [], [], []
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    n_labelled = 395
    for k in (1, 2, 3):
        model = Trainer.from_checkpoint(out / f"fold-{k}.pt")
        y, p = model.evaluate()
        pooled_y.append(y)
        pooled_p.append(p)
        found = binary_reference(y, p, model.threshold)
        found.update(threshold=model.threshold, expected_cost=cost_of(y, p, np.float32(model.threshold), 1.0, 3.0),
                     brier=brier_score_loss(y, p))
        per_fold.append(found)
        # Stratified folds of the labelled rows, each fit on its own training rows.
        assert abs(len(y) - n_labelled / 3) < 1 and len(model.data.y_train) + len(y) == n_labelled
        assert abs(y.mean() - np.mean([label == "left" for label in data.label if label is not None])) < 0.01
        history = read_checkpoint(out / f"fold-{k}.pt")["history"]["loss"]
        assert [float(r["train_loss"]) for r in rows if r["fold"] == str(k)] == history
        assert [int(r["epoch"]) for r in rows if r["fold"] == str(k)] == list(range(1, len(history) + 1))
    assert len(rows) == sum(1 for r in rows if r["fold"] in ("1", "2", "3"))
    for name, label in [*BINARY_LABELS.items(), ("threshold", "threshold"), ("expected_cost", "expected cost"),
                        ("brier", "Brier")]:
        values = [found[name] for found in per_fold]
        assert row(printed, label, 4) == [label, f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}",
                                          f"{min(values):.3f}", f"{max(values):.3f}"], name
    y, p = np.concatenate(pooled_y), np.concatenate(pooled_p)
    assert (f"AUROC {roc_auc_score(y, p):.3f}, average precision {average_precision_score(y, p):.3f}"
            in printed)
    assert f"out of fold ({n_labelled} rows, each predicted by the model that did not train on it)" in printed
    assert f"checkpoints {out / 'fold-1.pt'} to fold-3.pt" in printed
    # out-of-fold.csv: every labelled row once, with the probability its fold's model gives it.
    with (out / "out-of-fold.csv").open() as handle:
        predicted = list(csv.DictReader(handle))
    assert [int(r["row"]) for r in predicted] == list(range(n_labelled))
    for k in (1, 2, 3):
        fold_rows = [r for r in predicted if r["fold"] == str(k)]
        assert sorted(float(r["p_left"]) for r in fold_rows) == pytest.approx(sorted(pooled_p[k - 1].tolist()),
                                                                              rel=1e-5)  # written to 6 digits
        assert sorted(r["label"] == "left" for r in fold_rows) == sorted(pooled_y[k - 1] == 1)


def test_one_fold_or_none_is_a_single_run(tmp_path: Path, capsys) -> None:
    for folds in ("0", "1"):
        out = tmp_path / f"run-{folds}"
        assert main(["train", "--n-samples", "200", "--epochs", "2", "--folds", folds, "--out", str(out)]) == 0
        assert (out / "checkpoint.pt").exists() and not (out / "fold-1.pt").exists()
        assert "cross-validation" not in capsys.readouterr().out


def test_folds_are_refused_beside_resume_and_a_fold_is_not_resumed(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cv"
    assert main(["train", "--n-samples", "200", "--epochs", "2", "--folds", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    for args, message in [
        (["--folds", "3", "--resume", str(out / "fold-1.pt")],
         "--folds trains a new cross-validation and --resume continues one saved run: give one of them"),
        (["--resume", str(out / "fold-2.pt")], "fold-2.pt is fold 2 of a 2-fold cross-validation, which --resume "
                                                "does not continue"),
        (["--folds", "2", "--tensorboard", str(tmp_path / "tb")], "--tensorboard logs one run"),
    ]:
        assert main(["train", *args, "--out", str(tmp_path / "other")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    # A fold's checkpoint still evaluates, on its own fold's validation rows.
    assert main(["eval", str(out / "fold-2.pt")]) == 0
    assert "evaluated on moons validation split" in capsys.readouterr().out


def test_a_class_too_small_for_the_folds_is_one_line(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "rare.npz", X=rng.normal(size=(40, 2)), y=np.array([0] * 37 + [1] * 3))
    assert main(["train", "--dataset", str(tmp_path / "rare.npz"), "--folds", "5", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "class '1' has 3 rows, too few for 5 stratified folds" in err and err.count("\n") == 1


def test_costs_through_an_export_and_its_new_rows(tmp_path: Path, capsys) -> None:
    data = customers(n=500)
    path = write_pandas(tmp_path / "churn.csv", data)
    out = tmp_path / "run"
    assert main(["train", "--dataset", str(path), "--target", "churn", "--epochs", "10", "--hidden", "8",
                 "--cost-fp", "1", "--cost-fn", "4", "--prevalence", "0.2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    trainer = Trainer.from_checkpoint(out / "checkpoint.pt")
    y, p = trainer.evaluate()
    threshold, cost = least_cost(y, p, 1.0, 4.0, prevalence=0.2)
    assert trainer.threshold == threshold
    assert f"least expected cost: {cost:.4f} per case, at threshold {threshold:.4g}" in printed
    assert "prevalence of positives: 0.200 (given)" in printed
    # New rows of the same kind, evaluated at the threshold their own costs choose.
    other = write_pandas(tmp_path / "new.csv", customers(n=300, seed=1))
    assert main(["eval", str(out / "checkpoint.pt"), "--data", str(other), "--cost-fp", "1", "--cost-fn", "9"]) == 0
    printed = capsys.readouterr().out
    from clf_tui.engine.predict import predict_file

    predictions, _ = predict_file(out / "checkpoint.pt", other)
    y_new, p_new = predictions.y_true, predictions.proba[:, 1]
    threshold, cost = least_cost(y_new, p_new, 1.0, 9.0)
    assert f"threshold {threshold:g}, positive class left" in printed
    assert f"least expected cost: {cost:.4f} per case, at threshold {threshold:.4g}" in printed


def test_ctrl_c_in_a_fold_stops_as_a_single_run_and_keeps_the_folds_finished(tmp_path: Path, capsys,
                                                                              monkeypatch) -> None:
    import os
    import signal

    from clf_tui import crossval_command
    from clf_tui.engine.events import EpochEnded

    class InterruptingPrinter(crossval_command.ProgressPrinter):
        """Sends this process SIGINT, as Ctrl-C does, at the end of fold 2's second epoch."""

        folds_started = 0

        def handle(self, event: object) -> None:
            super().handle(event)
            if isinstance(event, EpochEnded) and event.epoch == 2 and InterruptingPrinter.folds_started == 2:
                os.kill(os.getpid(), signal.SIGINT)

        def __enter__(self) -> InterruptingPrinter:
            InterruptingPrinter.folds_started += 1
            return self

    monkeypatch.setattr(crossval_command, "ProgressPrinter", InterruptingPrinter)
    out = tmp_path / "cv"
    code = main(["train", "--n-samples", "300", "--epochs", "5", "--folds", "3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 130
    assert "stopped: stopped during fold 2 of 3; fold 1 finished: no cross-validated result" in printed
    assert read_checkpoint(out / "fold-1.pt")["epoch"] == 5 and read_checkpoint(out / "fold-2.pt")["epoch"] == 2
    assert not (out / "fold-3.pt").exists()
    with (out / "metrics.csv").open() as handle:
        assert [(r["fold"], r["epoch"]) for r in csv.DictReader(handle)] == [
            ("1", "1"), ("1", "2"), ("1", "3"), ("1", "4"), ("1", "5"), ("2", "1"), ("2", "2")]
    assert "mean ± std" not in printed
