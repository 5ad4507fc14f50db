"""The headline numbers of an evaluation, each with its 95% bootstrap interval: what a summary prints, what
metrics.csv's last row keeps, and what cross-validation averages over its folds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .intervals import (
    LEVEL, RESAMPLES, Interval, multiclass_intervals, multiclass_metrics, ranking_intervals, threshold_intervals,
)
from .metrics import BinaryEval, MulticlassEval

BINARY_HEADLINE = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc", "auroc",
                   "average_precision")
"""Binary: the metrics at the threshold, then the ranking's (which no threshold changes)."""
MULTICLASS_HEADLINE = ("accuracy", "balanced_accuracy", "macro_f1", "mcc")
LABELS = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "precision": "precision",
          "recall": "recall (TPR)", "f1": "F1", "mcc": "MCC", "auroc": "AUROC", "average_precision": "average precision",
          "macro_f1": "macro F1"}
INTERVAL_NOTE = f"[low, high]: {LEVEL:.0%} interval, {RESAMPLES:,} stratified bootstraps of the validation rows"


@dataclass(frozen=True)
class Estimate:
    """A metric's value on the validation rows and its bootstrap interval."""

    value: float
    interval: Interval

    def __str__(self) -> str:
        return f"{self.value:.3f} {self.interval}"


def binary_estimates(evaluation: BinaryEval, threshold: float) -> dict[str, Estimate]:
    """BINARY_HEADLINE at ``threshold``: each value with its interval (``intervals``)."""
    report = evaluation.at(threshold)
    values = {name: getattr(report, name) for name in BINARY_HEADLINE[:6]}
    values.update(auroc=evaluation.auroc, average_precision=evaluation.average_precision)
    bounds = {**threshold_intervals(evaluation, threshold), **ranking_intervals(evaluation)}
    return {name: Estimate(float(values[name]), bounds[name]) for name in BINARY_HEADLINE}


def multiclass_estimates(evaluation: MulticlassEval) -> dict[str, Estimate]:
    """MULTICLASS_HEADLINE of the argmax: each value with its interval (``intervals``)."""
    values = multiclass_metrics(evaluation.confusion[None].astype(np.float64))
    bounds = multiclass_intervals(evaluation)
    return {name: Estimate(float(values[name][0]), bounds[name]) for name in MULTICLASS_HEADLINE}


def estimates(y_true: np.ndarray, y_prob: np.ndarray, threshold: float) -> dict[str, Estimate]:
    """The headline estimates of validation labels and probabilities: binary at ``threshold`` (1-D
    ``y_prob``), multiclass by the most probable class ((n, k) ``y_prob``)."""
    if np.asarray(y_prob).ndim == 1:
        return binary_estimates(BinaryEval(y_true, y_prob), threshold)
    return multiclass_estimates(MulticlassEval.from_proba(y_true, y_prob))


def interval_columns(found: dict[str, Estimate]) -> dict[str, float]:
    """``val_<metric>_low`` and ``val_<metric>_high`` of each estimate, for a row of metrics.csv."""
    columns = {}
    for name, estimate in found.items():
        columns[f"val_{name}_low"] = estimate.interval.low
        columns[f"val_{name}_high"] = estimate.interval.high
    return columns
