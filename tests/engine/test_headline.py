"""The headline estimates: values equal to scikit-learn's, intervals equal to the bootstrap's, and the columns of
metrics.csv's last row."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score, average_precision_score, balanced_accuracy_score, f1_score, matthews_corrcoef, precision_score,
    recall_score, roc_auc_score,
)

from clf_tui.engine import intervals
from clf_tui.engine.headline import BINARY_HEADLINE, MULTICLASS_HEADLINE, estimates, interval_columns
from clf_tui.engine.metrics import BinaryEval, MulticlassEval


def test_binary_estimates_are_scikit_learns_values_with_the_bootstraps_intervals() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(400) < 0.3).astype(np.int64)
    p = (1 / (1 + np.exp(-(rng.normal(size=400) + 1.5 * y - 1)))).astype(np.float32)
    found = estimates(y, p, 0.4)
    assert tuple(found) == BINARY_HEADLINE
    predicted = p >= np.float32(0.4)
    reference = {
        "accuracy": accuracy_score(y, predicted), "balanced_accuracy": balanced_accuracy_score(y, predicted),
        "precision": precision_score(y, predicted), "recall": recall_score(y, predicted),
        "f1": f1_score(y, predicted), "mcc": matthews_corrcoef(y, predicted), "auroc": roc_auc_score(y, p),
        "average_precision": average_precision_score(y, p),
    }
    evaluation = BinaryEval(y, p)
    bounds = {**intervals.threshold_intervals(evaluation, 0.4), **intervals.ranking_intervals(evaluation)}
    for name, estimate in found.items():
        assert estimate.value == pytest.approx(reference[name], abs=1e-12), name
        assert estimate.interval == bounds[name]
        assert estimate.interval.low <= estimate.value <= estimate.interval.high
    assert str(found["accuracy"]) == f"{reference['accuracy']:.3f} {bounds['accuracy']}"


def test_multiclass_estimates_are_scikit_learns_values_with_the_bootstraps_intervals() -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 4, 300)
    p = rng.dirichlet(np.ones(4), 300)
    p[np.arange(300), y] += 0.5
    p /= p.sum(axis=1, keepdims=True)
    found = estimates(y, p, 0.5)
    assert tuple(found) == MULTICLASS_HEADLINE
    predicted = p.argmax(axis=1)
    reference = {"accuracy": accuracy_score(y, predicted), "balanced_accuracy": balanced_accuracy_score(y, predicted),
                 "macro_f1": f1_score(y, predicted, average="macro"), "mcc": matthews_corrcoef(y, predicted)}
    bounds = intervals.multiclass_intervals(MulticlassEval.from_proba(y, p))
    for name, estimate in found.items():
        assert estimate.value == pytest.approx(reference[name], abs=1e-12), name
        assert estimate.interval == bounds[name]


def test_interval_columns_name_each_bound() -> None:
    y = np.array([0, 1, 0, 1, 1, 0])
    columns = interval_columns(estimates(y, np.array([0.1, 0.8, 0.3, 0.6, 0.4, 0.7]), 0.5))
    assert list(columns)[:4] == ["val_accuracy_low", "val_accuracy_high", "val_balanced_accuracy_low",
                                 "val_balanced_accuracy_high"]
    assert len(columns) == 2 * len(BINARY_HEADLINE)
