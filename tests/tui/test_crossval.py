"""Cross-validation through the app, for real: each fold in the log, the pooled out-of-fold predictions on the
evaluation page at the threshold, the fold models on disk, and a stop that ends without a result."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import Runner
from clf_tui.tui.widgets.curve_chart import CurveChart
from clf_tui.tui.widgets.epoch_log import EpochLog
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.status_bar import StatusBar

from .conftest import notifications, train, wait_until

SIZE = (120, 36)
MEAN_STD = re.compile(r"(accuracy|AUROC) +\d\.\d{3} ± \d\.\d{3}")


def log_lines(app: ClfApp) -> list[str]:
    return [line.plain for line in app.query_one(EpochLog).lines]


@pytest.fixture
def three_folds(tmp_path: Path) -> RunConfig:
    """Three folds of 150 moons rows, two epochs each: a cross-validation of a second or two."""
    return RunConfig(dataset="moons", n_samples=150, epochs=2, folds=3, device="cpu", out_dir=str(tmp_path))


async def test_a_cross_validation_shows_every_fold_and_the_pooled_out_of_fold_evaluation(
        three_folds: RunConfig) -> None:
    app = ClfApp(three_folds)
    async with app.run_test(size=SIZE) as pilot:
        await train(pilot)

        assert app.run_state == "finished"
        log = log_lines(app)
        for fold in (1, 2, 3):
            assert any(re.match(rf"fold {fold}/3: \d+ training rows, \d+ validation rows$", line) for line in log)
        assert {match.group(1) for line in log for match in MEAN_STD.finditer(line)} == {"accuracy", "AUROC"}
        assert any(line.startswith("out of fold: AUROC ") for line in log)
        assert "fold 3/3" in app.query_one(StatusBar).render().plain

        panel = app.query_one(EvaluationPanel)
        evaluation = panel.evaluation
        assert evaluation is not None
        y_true, y_prob = evaluation.y_true, evaluation.y_prob
        assert len(y_true) == len(y_prob) == 150 and np.bincount(y_true).tolist() == [75, 75]
        auroc = roc_auc_score(y_true, y_prob)
        assert panel.binary is not None and panel.binary.auroc == pytest.approx(auroc)
        assert str(app.query_one("#roc", CurveChart).border_title).startswith(f"AUROC {auroc:.3f}")
        assert "out of fold, 3 folds of 150 rows" in str(app.query_one("#confusion").border_subtitle)

        await pilot.press("3", "right")  # the evaluation page, where the threshold keys act
        threshold = app.threshold
        assert threshold == pytest.approx(0.51)
        report = panel.report
        assert report is not None and report.threshold == threshold
        tn, fp, fn, tp = confusion_matrix(y_true, (y_prob >= threshold).astype(int), labels=[0, 1]).ravel()
        assert (report.tn, report.fp, report.fn, report.tp) == (tn, fp, fn, tp)

        await pilot.press("ctrl+s")
        await pilot.pause()
        told = [n.message for n in notifications(app) if n.title == "Fold models"]
        assert len(told) == 1
        folder = Path(re.search(r"fold-1\.pt to fold-3\.pt are in (.+); ctrl\+o opens one\.$", told[0]).group(1))
        assert folder.parent == Path(three_folds.out_dir)
        assert all((folder / f"fold-{fold}.pt").is_file() for fold in (1, 2, 3))


async def test_a_stopped_cross_validation_ends_without_a_result(three_folds: RunConfig) -> None:
    app = ClfApp(three_folds.replace(epochs=2000))
    async with app.run_test(size=SIZE) as pilot:
        runner = app.query_one(Runner)
        await wait_until(pilot, lambda: not runner.busy and app.run_state != "loading")
        await pilot.press("s")
        status = app.query_one(StatusBar)
        await wait_until(pilot, lambda: status.epoch >= 1)  # the first fold's first epoch has been drawn
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state == "stopped" and not runner.busy)

        log = log_lines(app)
        assert any(re.match(r"stopped during fold \d of 3; .*no cross-validated result$", line) for line in log)
        assert not any(MEAN_STD.search(line) for line in log)
        assert app.query_one(EvaluationPanel).evaluation is None
        assert "stopped" in app.query_one(StatusBar).render().plain


async def test_a_class_with_fewer_rows_than_folds_fails_with_one_clear_message(tmp_path: Path) -> None:
    csv = tmp_path / "rare.csv"
    rows = [f"{i},{i % 7},{int(i in (3, 11))}" for i in range(40)]
    csv.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    out = tmp_path / "runs"
    app = ClfApp(RunConfig(dataset=str(csv), target="label", epochs=2, folds=3, device="cpu", out_dir=str(out)))
    async with app.run_test(size=SIZE) as pilot:
        runner = app.query_one(Runner)
        await wait_until(pilot, lambda: not runner.busy and app.run_state != "loading")
        await pilot.press("s")
        await wait_until(pilot, lambda: not runner.busy and app.run_state != "loading")

        failures = [n for n in notifications(app) if n.title == "Cross-validation failed"]
        assert len(failures) == 1 and "fold" in failures[0].message
        assert app.query_one(StatusBar).problem.startswith("Cross-validation failed: ")
        assert app.run_state == "idle" and app.query_one(EvaluationPanel).evaluation is None
        assert not any(out.iterdir())  # the folder claimed for the fold models is gone again
