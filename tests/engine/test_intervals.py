"""Bootstrap intervals: the counts formulas against scikit-learn, the binned ranking resamples against the exact
ones, and the intervals' coverage of the true value of a problem whose truth is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import (
    accuracy_score, average_precision_score, balanced_accuracy_score, f1_score, matthews_corrcoef, roc_auc_score,
)

from clf_tui.engine import intervals
from clf_tui.engine.metrics import BinaryEval, MulticlassEval


def test_threshold_metrics_of_counts_equal_the_binary_report() -> None:
    n_pos, n_neg = 40, 60
    tp, fp = np.meshgrid(np.arange(n_pos + 1, dtype=np.float64), np.arange(n_neg + 1, dtype=np.float64))
    tp, fp = tp.ravel(), fp.ravel()
    computed = intervals._threshold_metrics(tp, fp, n_pos, n_neg)
    from clf_tui.engine.metrics import BinaryReport

    for i in range(0, len(tp), 97):
        report = BinaryReport.from_counts(0.5, tn=n_neg - int(fp[i]), fp=int(fp[i]), fn=n_pos - int(tp[i]), tp=int(tp[i]))
        for name in intervals.THRESHOLD_METRICS:
            assert computed[name][i] == pytest.approx(getattr(report, name), abs=1e-12), name


def test_ranking_metrics_of_counts_per_distinct_score_equal_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    scores = np.round(rng.random(500) + 0.3 * y, 2)  # many ties
    evaluation = BinaryEval(y, scores)
    edges = np.unique(scores)
    pos = np.diff(np.append(0, evaluation.positive_scores.searchsorted(edges, side="right")))
    neg = np.diff(np.append(0, evaluation.negative_scores.searchsorted(edges, side="right")))
    ranking = intervals._ranking_metrics(pos[None, :], neg[None, :])
    assert ranking["auroc"][0] == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert ranking["average_precision"][0] == pytest.approx(average_precision_score(y, scores), abs=1e-12)


def test_multiclass_metrics_of_a_confusion_matrix_equal_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 4, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 4, 300))
    confusion = MulticlassEval(y_true, y_pred, 4).confusion
    computed = intervals.multiclass_metrics(confusion[None].astype(np.float64))
    assert computed["accuracy"][0] == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-12)
    assert computed["balanced_accuracy"][0] == pytest.approx(balanced_accuracy_score(y_true, y_pred), abs=1e-12)
    assert computed["macro_f1"][0] == pytest.approx(f1_score(y_true, y_pred, average="macro"), abs=1e-12)
    assert computed["mcc"][0] == pytest.approx(matthews_corrcoef(y_true, y_pred), abs=1e-12)


def test_intervals_hold_the_estimate_and_are_the_same_each_time() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 2000)
    evaluation = BinaryEval(y, rng.normal(size=2000) + y)
    report = evaluation.at(0.4)
    first, again = intervals.threshold_intervals(evaluation, 0.4), intervals.threshold_intervals(evaluation, 0.4)
    assert first == again
    for name in intervals.THRESHOLD_METRICS:
        assert first[name].low <= getattr(report, name) <= first[name].high, name
    ranking = intervals.ranking_intervals(evaluation)
    assert ranking["auroc"].low < evaluation.auroc < ranking["auroc"].high
    assert ranking["average_precision"].low < evaluation.average_precision < ranking["average_precision"].high


def test_quantile_bins_of_many_scores_keep_the_interval_of_the_exact_resamples() -> None:
    """Binned into 200 bins or resampled over all 4,000 distinct scores: the same interval, to well within its
    width (the bias of binning is taken out by the shift, and what is left is Monte Carlo noise)."""
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 4000)
    evaluation = BinaryEval(y, rng.normal(size=4000) + 1.2 * y)
    exact = intervals.ranking_intervals(evaluation, max_bins=10_000)
    binned = intervals.ranking_intervals(evaluation, max_bins=200)
    for name in intervals.RANKING_METRICS:
        width = exact[name].high - exact[name].low
        assert abs(binned[name].low - exact[name].low) < 0.15 * width, name
        assert abs(binned[name].high - exact[name].high) < 0.15 * width, name


def test_a_class_absent_gives_undefined_ranking_intervals() -> None:
    evaluation = BinaryEval(np.ones(10, dtype=int), np.linspace(0, 1, 10))
    assert all(math.isnan(i.low) and math.isnan(i.high) for i in intervals.ranking_intervals(evaluation).values())


DRAWS = 200
SHIFT = 1.0
THRESHOLD = 0.5


def true_values() -> dict[str, float]:
    """Positives score N(SHIFT, 1), negatives N(0, 1), half of each: the population's metrics in closed form."""
    tpr, fpr = norm.sf(THRESHOLD - SHIFT), norm.sf(THRESHOLD)
    return {"auroc": norm.cdf(SHIFT / math.sqrt(2)), "accuracy": 0.5 * tpr + 0.5 * (1 - fpr), "recall": tpr}


def test_95_percent_intervals_cover_the_true_value_about_95_percent_of_the_time() -> None:
    """Over 200 validation sets of 600 rows drawn from a problem whose metrics are known in closed form.

    A 95% interval covers the truth in 95% of the draws, give or take sampling: with 200 draws the count of
    covered ones has a standard deviation of 3.1, so 180 to 199 (within about 3 of them) is asked for. The
    draws are seeded, so the count is the same on every machine.
    """
    truth = true_values()
    rng = np.random.default_rng(2026)
    covered = dict.fromkeys(truth, 0)
    for _ in range(DRAWS):
        y = np.repeat([0, 1], 300)
        scores = rng.normal(size=600) + SHIFT * y
        evaluation = BinaryEval(y, scores)
        found = {**intervals.threshold_intervals(evaluation, THRESHOLD), **intervals.ranking_intervals(evaluation)}
        for name, value in truth.items():
            covered[name] += found[name].low <= value <= found[name].high
    for name, count in covered.items():
        assert 180 <= count <= 199, (name, count)
