"""The threshold of least expected cost, against a brute-force sweep of BinaryEval.at."""

from __future__ import annotations

import numpy as np
import pytest

from clf_tui.engine.costs import Costs, cost_curve
from clf_tui.errors import ConfigError
from clf_tui.engine.metrics import BinaryEval


def brute_force(evaluation: BinaryEval, costs: Costs, prevalence: float, thresholds: np.ndarray) -> np.ndarray:
    expected = []
    for threshold in thresholds:
        report = evaluation.at(float(threshold))
        fnr = report.fn / (report.fn + report.tp)
        expected.append(costs.false_positive * (1 - prevalence) * report.fpr + costs.false_negative * prevalence * fnr)
    return np.array(expected)


@pytest.mark.parametrize("costs", [Costs(1, 1), Costs(1, 10), Costs(5, 1), Costs(1, 4, prevalence=0.02),
                                   Costs(0, 1), Costs(2, 0)])
def test_the_least_cost_threshold_is_the_brute_force_one(costs: Costs) -> None:
    rng = np.random.default_rng(7)
    y = (rng.random(3000) < 0.1).astype(int)  # imbalanced
    scores = (1 / (1 + np.exp(-(rng.normal(size=3000) + 2 * y - 2)))).astype(np.float32)
    evaluation = BinaryEval(y, np.round(scores, 3))  # ties
    curve = cost_curve(evaluation, costs)
    prevalence = costs.prevalence if costs.prevalence is not None else y.mean()
    assert curve.prevalence == pytest.approx(prevalence)
    assert np.allclose(curve.costs, brute_force(evaluation, costs, prevalence, curve.thresholds), atol=1e-12)
    # Every threshold in between the curve's ones counts as the next one down: none is cheaper.
    grid = np.linspace(0, 1, 2001)
    best_threshold, best_cost = curve.best
    assert best_cost <= brute_force(evaluation, costs, prevalence, grid).min() + 1e-12
    assert brute_force(evaluation, costs, prevalence, np.array([best_threshold]))[0] == pytest.approx(best_cost)


def test_extreme_costs_predict_all_or_nothing_positive() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 500)
    evaluation = BinaryEval(y, rng.random(500))
    assert evaluation.at(cost_curve(evaluation, Costs(1, 1e9)).best[0]).fn == 0
    assert evaluation.at(cost_curve(evaluation, Costs(1e9, 1)).best[0]).fp == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"false_positive": -1}, "false positive = -1 is invalid"),
    ({"false_negative": float("nan")}, "false negative = nan is invalid"),
    ({"false_positive": 0, "false_negative": 0}, "both 0"),
    ({"prevalence": 1.0}, "prevalence = 1.0 is invalid"),
])
def test_impossible_costs_are_refused_by_name(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Costs(**kwargs)


def test_a_single_class_has_no_cost_curve() -> None:
    with pytest.raises(ConfigError, match="both classes"):
        cost_curve(BinaryEval(np.zeros(5, dtype=int), np.linspace(0, 1, 5)), Costs())
