"""Confidence intervals of validation metrics: a stratified bootstrap over the validation rows, drawn as counts.

Resampling the positives with replacement (and, apart, the negatives) makes the number of positives that a
threshold counts as such a binomial draw, so every threshold metric's bootstrap is two binomial draws per
resample, exactly; a key that moves the threshold costs microseconds. AUROC and AP depend on the whole
ranking: their resamples are multinomial counts over the distinct scores (exact), or over at most MAX_BINS
quantile bins of them, whose small bias is taken out by shifting the interval by the difference between the
exact and the binned estimate. Intervals are percentile intervals; the seed is fixed, so a metric's
interval is the same every time it is asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .metrics import BinaryEval, MulticlassEval

RESAMPLES = 1000
LEVEL = 0.95
SEED = 0
MAX_BINS = 1000
"""Above this many distinct scores, AUROC and AP are resampled over this many quantile bins of them: each
resample then costs the same at 1,000 rows as at 1,000,000."""
THRESHOLD_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "fpr", "f1", "mcc")
RANKING_METRICS = ("auroc", "average_precision")
MULTICLASS_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "mcc")


@dataclass(frozen=True)
class Interval:
    """A ``level`` confidence interval from ``low`` to ``high``."""

    low: float
    high: float
    level: float = LEVEL

    def __str__(self) -> str:
        return f"[{self.low:.3f}, {self.high:.3f}]"


def threshold_intervals(evaluation: BinaryEval, threshold: float, *, resamples: int = RESAMPLES,
                        level: float = LEVEL, seed: int = SEED) -> dict[str, Interval]:
    """Intervals of the metrics at ``threshold`` (THRESHOLD_METRICS), from ``resamples`` stratified resamples."""
    report = evaluation.at(threshold)
    rng = np.random.default_rng(seed)
    n_pos, n_neg = evaluation.n_pos, evaluation.n_neg
    tp = rng.binomial(n_pos, report.tp / n_pos, resamples) if n_pos else np.zeros(resamples, dtype=np.int64)
    fp = rng.binomial(n_neg, report.fp / n_neg, resamples) if n_neg else np.zeros(resamples, dtype=np.int64)
    return _percentiles(_threshold_metrics(tp.astype(np.float64), fp.astype(np.float64), n_pos, n_neg), level)


def _threshold_metrics(tp: np.ndarray, fp: np.ndarray, n_pos: int, n_neg: int) -> dict[str, np.ndarray]:
    """Each metric of BinaryReport, for arrays of counts (as ``BinaryReport.from_counts`` defines it)."""
    fn, tn = n_pos - tp, n_neg - fp
    recall = _divide(tp, np.full_like(tp, n_pos))
    specificity = _divide(tn, np.full_like(tn, n_neg))
    present = [rate for rate, count in ((specificity, n_neg), (recall, n_pos)) if count]
    mcc_denominator = (tp + fp) * n_pos * n_neg * (tn + fn)
    return {
        "accuracy": (tp + tn) / (n_pos + n_neg),
        "balanced_accuracy": sum(present) / len(present),
        "precision": _divide(tp, tp + fp),
        "recall": recall,
        "fpr": _divide(fp, np.full_like(fp, n_neg)),
        "f1": _divide(2 * tp, 2 * tp + fp + fn),
        "mcc": _divide(tp * tn - fp * fn, np.sqrt(mcc_denominator)),
    }


def ranking_intervals(evaluation: BinaryEval, *, resamples: int = RESAMPLES, level: float = LEVEL,
                      seed: int = SEED, max_bins: int = MAX_BINS) -> dict[str, Interval]:
    """Intervals of AUROC and AP from ``resamples`` stratified resamples (over quantile bins of the scores when
    there are more than ``max_bins`` distinct ones); NaN bounds when a class is absent."""
    n_pos, n_neg = evaluation.n_pos, evaluation.n_neg
    if not (n_pos and n_neg):
        return {name: Interval(math.nan, math.nan, level) for name in RANKING_METRICS}
    pos, neg = evaluation.positive_scores, evaluation.negative_scores
    pooled = np.concatenate([pos, neg])
    edges = np.unique(pooled)
    if len(edges) > max_bins:  # bins of about equal numbers of rows
        edges = np.append(np.unique(np.quantile(pooled, np.linspace(0, 1, max_bins + 1)[1:-1])), np.inf)
    # Bin b holds the scores above edges[b - 1] up to edges[b]: with the distinct scores as edges, one per bin.
    pos_counts = np.diff(np.append(0, pos.searchsorted(edges, side="right")))
    neg_counts = np.diff(np.append(0, neg.searchsorted(edges, side="right")))
    rng = np.random.default_rng(seed)
    pos_draws = rng.multinomial(n_pos, pos_counts / n_pos, size=resamples)
    neg_draws = rng.multinomial(n_neg, neg_counts / n_neg, size=resamples)
    resampled = _ranking_metrics(pos_draws, neg_draws)
    binned = _ranking_metrics(pos_counts[None, :], neg_counts[None, :])
    exact = {"auroc": evaluation.auroc, "average_precision": evaluation.average_precision}
    shifted = {name: values + (exact[name] - binned[name][0]) for name, values in resampled.items()}
    return _percentiles(shifted, level)


def _ranking_metrics(pos: np.ndarray, neg: np.ndarray) -> dict[str, np.ndarray]:
    """AUROC and AP of each row of counts per score bin (bins rising; a bin's scores tie)."""
    pos, neg = pos.astype(np.float64), neg.astype(np.float64)
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives in lower bins
    auroc = (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)
    # Falling thresholds: each bin's positives raise recall by pos / n_pos at the precision of all rows so far.
    tps = np.cumsum(pos[:, ::-1], axis=1)
    fps = np.cumsum(neg[:, ::-1], axis=1)
    precision = _divide(tps, tps + fps)
    average_precision = (pos[:, ::-1] * precision).sum(axis=1) / n_pos
    return {"auroc": auroc, "average_precision": average_precision}


def multiclass_intervals(evaluation: MulticlassEval, *, resamples: int = RESAMPLES, level: float = LEVEL,
                         seed: int = SEED) -> dict[str, Interval]:
    """Intervals of the argmax's accuracy, balanced accuracy, macro F1 and MCC: each true class's rows resampled
    apart (stratified), so a resample's confusion matrix has each row's counts drawn multinomially."""
    confusion = evaluation.confusion
    rng = np.random.default_rng(seed)
    rows = []
    for row in confusion:
        total = int(row.sum())
        rows.append(rng.multinomial(total, row / total, size=resamples) if total
                    else np.zeros((resamples, len(row)), dtype=np.int64))
    matrices = np.stack(rows, axis=1).astype(np.float64)  # (resamples, true class, predicted class)
    return _percentiles(multiclass_metrics(matrices), level)


def multiclass_metrics(matrices: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, balanced accuracy, macro F1 and MCC of a stack of confusion matrices (rows true classes), as
    scikit-learn defines them (balanced accuracy over the classes present, ``zero_division=0``)."""
    tp = np.diagonal(matrices, axis1=1, axis2=2)
    support, predicted = matrices.sum(axis=2), matrices.sum(axis=1)
    n = matrices.sum(axis=(1, 2))
    recall = _divide(tp, support)
    present = support > 0
    f1 = _divide(2 * tp, support + predicted)
    correct = tp.sum(axis=1)
    covariance = correct * n - (support * predicted).sum(axis=1)
    mcc_denominator = np.sqrt((n**2 - (predicted**2).sum(axis=1)) * (n**2 - (support**2).sum(axis=1)))
    return {
        "accuracy": correct / n,
        "balanced_accuracy": (recall * present).sum(axis=1) / present.sum(axis=1),
        "macro_f1": f1.mean(axis=1),
        "mcc": _divide(covariance, mcc_denominator),
    }


def _percentiles(samples: dict[str, np.ndarray], level: float) -> dict[str, Interval]:
    tail = 100 * (1 - level) / 2
    return {name: Interval(float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail)), level)
            for name, values in samples.items()}


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise numerator / denominator, 0.0 where the denominator is 0, without warnings."""
    numerator, denominator = np.broadcast_arrays(np.asarray(numerator, dtype=np.float64),
                                                 np.asarray(denominator, dtype=np.float64))
    return np.divide(numerator, denominator, out=np.zeros(numerator.shape), where=denominator != 0)
