"""A threshold from costs: the expected cost per case of every threshold, given what a false positive and a false
negative cost and how common positives are where the model will be used, and the threshold of least cost."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from clf_tui.errors import ConfigError
from .metrics import BinaryEval


@dataclass(frozen=True)
class Costs:
    """What each kind of error costs (any unit, the same for both), and the share of positives expected in
    deployment (None: the validation split's)."""

    false_positive: float = 1.0
    false_negative: float = 1.0
    prevalence: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("cost of a false positive", self.false_positive),
                            ("cost of a false negative", self.false_negative)):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} = {value!r} is invalid: expected a finite number >= 0")
        if self.false_positive == 0 and self.false_negative == 0:
            raise ConfigError("the costs of a false positive and of a false negative are both 0: nothing to weigh")
        if self.prevalence is not None and not 0 < self.prevalence < 1:
            raise ConfigError(f"prevalence = {self.prevalence!r} is invalid: expected a share between 0 and 1")

    def to_dict(self) -> dict[str, float | None]:
        return {"false_positive": self.false_positive, "false_negative": self.false_negative,
                "prevalence": self.prevalence}

    @classmethod
    def from_dict(cls, saved: Any) -> Costs:
        """The costs ``to_dict`` wrote; ValueError for anything else: other keys, costs that are not finite
        numbers >= 0 (or both 0), a prevalence outside (0, 1)."""
        if not isinstance(saved, dict) or set(saved) != {"false_positive", "false_negative", "prevalence"}:
            raise ValueError("the costs are not a dict of false_positive, false_negative and prevalence")
        values = [saved["false_positive"], saved["false_negative"]]
        if saved["prevalence"] is not None:
            values.append(saved["prevalence"])
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise ValueError("the costs and the prevalence are not numbers")
        try:
            return cls(float(saved["false_positive"]), float(saved["false_negative"]),
                       None if saved["prevalence"] is None else float(saved["prevalence"]))
        except ConfigError as exc:
            raise ValueError(exc.message) from None


@dataclass(frozen=True, eq=False)
class CostCurve:
    """The expected cost per case at each threshold: ``thresholds`` falling, from one above every score (nothing
    predicted positive) down to the lowest score (everything positive)."""

    thresholds: np.ndarray
    costs: np.ndarray
    prevalence: float

    @property
    def best(self) -> tuple[float, float]:
        """(threshold, cost) of least expected cost; on ties the highest such threshold."""
        at = int(np.argmin(self.costs))
        return float(self.thresholds[at]), float(self.costs[at])


def expected_cost(evaluation: BinaryEval, costs: Costs, threshold: float) -> float:
    """The expected cost per case of predicting positive from ``threshold`` up, as ``cost_curve`` weighs it."""
    if not (evaluation.n_pos and evaluation.n_neg):
        raise ConfigError("an expected cost needs both classes among the validation rows")
    prevalence = costs.prevalence if costs.prevalence is not None else evaluation.n_pos / evaluation.n
    report = evaluation.at(threshold)
    return (costs.false_positive * (1 - prevalence) * report.fp / evaluation.n_neg
            + costs.false_negative * prevalence * report.fn / evaluation.n_pos)


def least_cost_threshold(evaluation: BinaryEval, costs: Costs) -> tuple[float, float]:
    """(threshold, expected cost per case) of least expected cost among thresholds a checkpoint can hold, in
    [0, 1]: when predicting nothing positive is cheapest and a score is 1 exactly, the curve's threshold above
    every score is above 1, and 1 (which counts those rows as positive) is the least cost left."""
    curve = cost_curve(evaluation, costs)
    if curve.thresholds[0] <= 1.0:
        return curve.best
    at = 1 + int(np.argmin(curve.costs[1:]))
    return float(curve.thresholds[at]), float(curve.costs[at])


def cost_curve(evaluation: BinaryEval, costs: Costs) -> CostCurve:
    """The expected cost per case of every distinct threshold of ``evaluation``:
    ``cost_fp * (1 - prevalence) * FPR + cost_fn * prevalence * FNR``, rates taken on the validation rows.

    Raises:
        ConfigError: the validation rows hold a single class, so one of the rates is undefined.
    """
    if not (evaluation.n_pos and evaluation.n_neg):
        raise ConfigError("a threshold from costs needs both classes among the validation rows")
    prevalence = costs.prevalence if costs.prevalence is not None else evaluation.n_pos / evaluation.n
    thresholds, tps, fps = evaluation.sweep()
    above = np.nextafter(thresholds[0], np.inf)  # a threshold above every score predicts nothing positive
    thresholds = np.append(above, thresholds)
    fpr = np.append(0, fps) / evaluation.n_neg
    fnr = 1 - np.append(0, tps) / evaluation.n_pos
    expected = costs.false_positive * (1 - prevalence) * fpr + costs.false_negative * prevalence * fnr
    return CostCurve(thresholds.astype(np.float64), expected, prevalence)
