"""Threshold keys: every count, rate, marker and cursor follows the engine's evaluation at once."""

from __future__ import annotations

import numpy as np
import pytest

from clf_tui.engine import RunConfig
from clf_tui.engine.metrics import BinaryEval, BinaryReport
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets.confusion_matrix_view import ConfusionMatrixView
from clf_tui.tui.widgets.curve_chart import CurveChart
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.probability_view import ProbabilityView

from .conftest import WIDE, notifications, train, trainer_of


def assert_shows(app: ClfApp, expected: BinaryReport) -> None:
    """Everything on the evaluation panes is at ``expected``'s threshold and counts."""
    shown = app.query_one(EvaluationPanel).report
    assert shown == expected
    assert app.query_one("#roc", CurveChart).point == (expected.fpr, expected.tpr)
    assert app.query_one("#pr", CurveChart).point == (expected.recall, expected.precision)
    assert app.query_one(ProbabilityView).threshold == expected.threshold
    text = app.query_one(ConfusionMatrixView).render().plain
    for rate in (expected.tpr, expected.fpr, expected.precision, expected.f1, expected.accuracy, expected.mcc):
        assert f"{rate:.3f}" in text


@pytest.fixture
async def trained(moons: RunConfig):
    """A finished moons run, and the engine's own evaluation of its weights."""
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        y_true, y_prob = trainer_of(app).evaluate()
        yield pilot, BinaryEval(y_true, y_prob)


async def test_arrow_keys_move_the_threshold_and_every_view_follows(trained) -> None:
    pilot, engine = trained
    app = pilot.app
    assert_shows(app, engine.at(0.5))
    expected_after = {"right": 0.51, "shift+right": 0.56, "left": 0.55, "shift+left": 0.5}
    for key, threshold in expected_after.items():
        await pilot.press(key)
        assert app.threshold == pytest.approx(threshold)
        assert_shows(app, engine.at(app.threshold))


async def test_counts_change_when_the_threshold_crosses_scores(trained) -> None:
    pilot, engine = trained
    app = pilot.app
    for _ in range(8):
        await pilot.press("shift+right")
    high = app.query_one(EvaluationPanel).report
    assert app.threshold == pytest.approx(0.9)
    assert high.tp + high.fp < engine.at(0.5).tp + engine.at(0.5).fp
    assert_shows(app, engine.at(0.9))


async def test_the_threshold_stays_within_zero_and_one(trained) -> None:
    pilot, engine = trained
    for _ in range(12):
        await pilot.press("shift+right")
    assert pilot.app.threshold == 1.0
    await pilot.press("0")
    assert pilot.app.threshold == 0.5
    assert_shows(pilot.app, engine.at(0.5))


async def test_snapping_uses_the_engines_thresholds(trained) -> None:
    pilot, engine = trained
    app = pilot.app
    await pilot.press("f")
    assert app.threshold == engine.best_f1()
    assert_shows(app, engine.at(engine.best_f1()))
    await pilot.press("j")
    assert app.threshold == engine.best_youden()
    assert_shows(app, engine.at(engine.best_youden()))


async def test_a_typed_recall_target_snaps_to_the_engines_threshold(trained) -> None:
    pilot, engine = trained
    app = pilot.app
    await pilot.press("r")
    await pilot.press(*"0.95", "enter")
    await pilot.pause()
    assert app.threshold == engine.threshold_for_recall(0.95)
    assert app.query_one(EvaluationPanel).report.recall >= 0.95


async def test_a_bad_recall_is_refused_in_the_prompt(trained) -> None:
    pilot, engine = trained
    app = pilot.app
    await pilot.press("r")
    await pilot.press(*"1.5", "enter")
    assert "at most 1" in str(app.screen.query_one("#recall-note").render())
    await pilot.press("escape")
    assert app.threshold == 0.5


async def test_multiclass_threshold_keys_drive_one_class_against_the_rest() -> None:
    app = ClfApp(RunConfig(dataset="iris", epochs=5, device="cpu"))
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        y_true, y_prob = trainer_of(app).evaluate()
        panel = app.query_one(EvaluationPanel)
        assert app.positive_class == 1
        await pilot.press("right_square_bracket")
        assert app.positive_class == 2
        await pilot.press("right")
        one_vs_rest = BinaryEval((y_true == 2).astype(int), y_prob[:, 2])
        assert panel.report == one_vs_rest.at(0.51)
        assert "virginica vs rest" in app.query_one(ConfusionMatrixView).render().plain
        expected = np.bincount(y_true * 3 + y_prob.argmax(axis=1), minlength=9).reshape(3, 3)
        assert (panel.evaluation.multiclass.confusion == expected).all()


async def test_threshold_keys_before_any_evaluation_say_why_nothing_moves(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("f")
        assert any("first" in n.message for n in notifications(app))
        assert app.threshold == 0.5
