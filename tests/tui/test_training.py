"""Training for real through the app: the log, the status, the confusion matrix at the threshold."""

from __future__ import annotations

import re

from clf_tui.engine import RunConfig
from clf_tui.engine.metrics import BinaryEval
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets.confusion_matrix_view import ConfusionMatrixView
from clf_tui.tui.widgets.epoch_log import EpochLog
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.loss_chart import LossChart
from clf_tui.tui.widgets.status_bar import StatusBar

from .conftest import COMPACT, WIDE, train, trainer_of, wait_ready, wait_until


def logged_epochs(log: EpochLog) -> list[int]:
    """The epochs of the log's epoch lines, in order (its notes left out)."""
    return [int(words[0]) for words in (line.plain.split() for line in log.lines) if words and words[0].isdigit()]

EPOCH_LINE = re.compile(r"^\s*(\d+) +\d+\.\d{4} +\d+\.\d{4} +\d\.\d{3} +\d\.\d{3} +\S+$")


def epoch_numbers(app: ClfApp) -> list[int]:
    return [int(m.group(1)) for line in app.query_one(EpochLog).lines if (m := EPOCH_LINE.match(line.plain))]


async def test_a_run_trains_to_completion_with_one_log_line_per_epoch(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)

        assert app.run_state == "finished"
        assert trainer_of(app) is not None and trainer_of(app).total_epochs == 5
        assert epoch_numbers(app) == [1, 2, 3, 4, 5]
        log = [line.plain for line in app.query_one(EpochLog).lines]
        assert any(line.startswith("training on cpu") for line in log)
        assert log[-1] == "trained 5 epochs"
        status = app.query_one(StatusBar).render().plain
        assert "finished" in status and "epoch 5/5" in status


async def test_the_confusion_matrix_shows_the_engines_counts_at_the_threshold(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)

        y_true, y_prob = trainer_of(app).evaluate()
        expected = BinaryEval(y_true, y_prob).at(0.5)
        report = app.query_one(EvaluationPanel).report
        assert (report.tn, report.fp, report.fn, report.tp) == (expected.tn, expected.fp, expected.fn, expected.tp)
        rows = app.query_one(ConfusionMatrixView).render().plain.splitlines()
        assert re.search(rf"true 0 +{expected.tn} .* {expected.fp} ", rows[1])
        assert re.search(rf"true 1 +{expected.fn} .* {expected.tp} ", rows[2])
        assert f"{expected.mcc:.3f}" in app.query_one(ConfusionMatrixView).render().plain


async def test_the_loss_chart_keeps_every_epoch_of_a_short_run(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=COMPACT) as pilot:
        await train(pilot)
        chart = app.query_one(LossChart)
        assert chart.epochs == [1, 2, 3, 4, 5]
        assert chart.train_losses == trainer_of(app).losses


async def test_training_again_continues_the_run(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        first = trainer_of(app)
        await train(pilot)
        assert trainer_of(app) is first and first.total_epochs == 10
        assert epoch_numbers(app) == list(range(1, 11))


async def test_a_changed_setting_starts_a_new_run(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        first = trainer_of(app)
        await pilot.press("e")
        lr = app.query_one("#field-lr")
        lr.value = "0.05"
        await pilot.press("escape")
        await train(pilot)
        assert trainer_of(app) is not first
        assert trainer_of(app).config.lr == 0.05 and trainer_of(app).total_epochs == 5


async def test_pause_holds_the_run_resume_continues_it_and_stop_ends_it() -> None:
    app = ClfApp(RunConfig(n_samples=200, epochs=2000, device="cpu"))
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.query_one(LossChart).epochs != [])
        await pilot.press("p")
        log = app.query_one(EpochLog)
        # The run blocks at its next batch, after posting the epochs it held: wait until the log shows them all.
        await wait_until(pilot, lambda: app.run_state == "paused" and logged_epochs(log)[-1:] == [trainer_of(app).total_epochs])
        await pilot.pause(0.3)
        held = len(app.query_one(EpochLog).lines)
        await pilot.pause(0.3)
        assert len(app.query_one(EpochLog).lines) == held  # nothing trains while paused
        await pilot.press("p")
        assert app.run_state == "training"
        await pilot.press("s")  # stop
        await wait_until(pilot, lambda: app.run_state == "stopped")
        assert app.query_one(EpochLog).lines[-1].plain.startswith("stopped")
