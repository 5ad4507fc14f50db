"""The honest numbers in the app: each rate's interval at the threshold shown, recounted as it moves; the
reliability diagram before and after temperature scaling; the expected cost over every threshold, the run's
costs choosing the threshold it ends with and k snapping back to it. At 80 x 24 and 120 x 40, one page at a
time, as a student's terminal shows them. Every number is checked against the engine and scikit-learn."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from clf_tui.engine import RunConfig, intervals
from clf_tui.engine.costs import Costs, expected_cost
from clf_tui.engine.metrics import BinaryEval
from clf_tui.tui import formatting
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets.calibration_chart import CalibrationChart
from clf_tui.tui.widgets.confusion_matrix_view import ConfusionMatrixView
from clf_tui.tui.widgets.cost_chart import CostChart

from .conftest import train, trainer_of

SIZES = [(80, 24), (120, 40)]
IMBALANCED = RunConfig(dataset="breast_cancer", positive="malignant", hidden=(8,), epochs=8, device="cpu",
                       cost_fp=1.0, cost_fn=10.0)
"""Malignant is 37% of the rows; a missed one costs ten false alarms."""


def brute_force_least_cost(y: np.ndarray, p: np.ndarray, costs: Costs) -> float:
    """The least expected cost per case over every score as the threshold, and one above them all."""
    prevalence = y.mean() if costs.prevalence is None else costs.prevalence
    best = np.inf
    for t in [*np.unique(p), np.inf]:
        predicted = p >= t
        fpr = (predicted & (y == 0)).sum() / (y == 0).sum()
        fnr = (~predicted & (y == 1)).sum() / (y == 1).sum()
        best = min(best, costs.false_positive * (1 - prevalence) * fpr + costs.false_negative * prevalence * fnr)
    return best


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_each_rate_shows_its_interval_at_the_threshold_and_follows_it(moons: RunConfig,
                                                                            size: tuple[int, int]) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=size) as pilot:
        await train(pilot)
        await pilot.press("3")
        evaluation = BinaryEval(*trainer_of(app).evaluate())
        for keys in ((), ("right",) * 5):
            await pilot.press(*keys)
            text = app.query_one(ConfusionMatrixView).render().plain
            found = intervals.threshold_intervals(evaluation, app.threshold)
            report = evaluation.at(app.threshold)
            for label, name in (("TPR/recall", "recall"), ("FPR", "fpr"), ("precision", "precision"), ("F1", "f1"),
                                ("accuracy", "accuracy"), ("MCC", "mcc")):
                line = next(line for line in text.splitlines() if line.strip().startswith(label))
                assert line.split(label, 1)[1].strip() == f"{getattr(report, name):.3f} {found[name]}", label
        assert app.threshold == 0.55


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_reliability_diagram_before_and_after_the_temperature(size: tuple[int, int]) -> None:
    app = ClfApp(dataclasses.replace(IMBALANCED, temperature_scaling=True, cost_fp=None, cost_fn=None))
    async with app.run_test(size=size) as pilot:
        await train(pilot)
        await pilot.press("3", *["v"] * (2 if size == (80, 24) else 1))
        chart = app.query_one(CalibrationChart)
        assert chart.region.area  # on screen
        trainer = trainer_of(app)
        y, p = trainer.evaluate()  # calibrated by the temperature the run fit
        is_positive = (y == 1).astype(int)
        shown = chart.reliability
        assert shown is not None
        observed, predicted = calibration_curve(is_positive, p, n_bins=10, strategy="uniform")
        filled = shown.counts > 0
        np.testing.assert_allclose(shown.observed[filled], observed, rtol=1e-6)
        np.testing.assert_allclose(shown.mean_predicted[filled], predicted, rtol=1e-5)  # float32 probabilities
        assert shown.brier == pytest.approx(brier_score_loss(is_positive, p), rel=1e-6)
        assert f"at T {trainer.temperature:.2f}" in str(chart.border_title)
        assert "ECE" in str(chart.border_title) and "→" in str(chart.border_title)  # before → after


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_run_costs_choose_the_threshold_and_k_snaps_back_to_it(size: tuple[int, int]) -> None:
    app = ClfApp(IMBALANCED)
    async with app.run_test(size=size) as pilot:
        await train(pilot)
        await pilot.press("3", *["v"] * (3 if size == (80, 24) else 2))
        chart = app.query_one(CostChart)
        assert chart.region.area
        trainer = trainer_of(app)
        y, p = trainer.evaluate()
        costs = Costs(1.0, 10.0)
        least = brute_force_least_cost(y, p, costs)
        # The run ended on the threshold of least cost, the one a save keeps; the chart marks it.
        assert app.threshold == trainer.threshold
        assert expected_cost(BinaryEval(y, p), costs, app.threshold) == pytest.approx(least, abs=1e-12)
        assert chart.best[1] == pytest.approx(least, abs=1e-12)
        assert chart.point == (app.threshold, pytest.approx(least, abs=1e-12))
        assert f"least {least:.3g} at threshold {formatting.threshold(chart.best[0])}" in str(chart.border_title)
        await pilot.press("0")  # back to 0.5: the point moves along the curve
        assert chart.point == (0.5, pytest.approx(expected_cost(BinaryEval(y, p), costs, 0.5), abs=1e-12))
        await pilot.press("k")
        assert app.threshold == chart.best[0] and chart.point[1] == pytest.approx(least, abs=1e-12)
