"""Classification metrics on NumPy arrays: a binary threshold sweep with ROC / PR curves, and multiclass scores."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["BinaryEval", "BinaryReport", "MulticlassEval", "summary"]


def _ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator, or 0.0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def _rates(counts: np.ndarray, total: int) -> np.ndarray:
    """counts / total element-wise, or zeros when total is 0."""
    return counts / total if total else np.zeros(len(counts))


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise numerator / denominator as float64, 0.0 where the denominator is 0, without warnings."""
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator != 0)


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays, locked: they are cached and handed to every caller."""
    for array in arrays:
        array.flags.writeable = False
    return arrays


@dataclass(frozen=True)
class BinaryReport:
    """Confusion counts and rates of a binary classifier at one threshold.

    Cases that would divide 0 by 0 are defined, as scikit-learn does with ``zero_division=0``,
    and never warn: precision is 0 when nothing is predicted positive; recall (= TPR) is 0 when
    there are no positives; FPR and specificity are 0 when there are no negatives; F1 is 0 when
    tp = 0; MCC is 0 when any row or column of the confusion matrix is empty; balanced accuracy
    averages the recall of only the classes present in y_true.
    """

    threshold: float
    tn: int
    fp: int
    fn: int
    tp: int
    accuracy: float
    precision: float
    recall: float
    tpr: float
    fpr: float
    specificity: float
    f1: float
    balanced_accuracy: float
    mcc: float

    @classmethod
    def from_counts(cls, threshold: float, tn: int, fp: int, fn: int, tp: int) -> BinaryReport:
        """The report for these confusion counts (at least one of them non-zero)."""
        n_pos, n_neg = tp + fn, tn + fp
        recall = _ratio(tp, n_pos)
        specificity = _ratio(tn, n_neg)
        present = [rate for rate, count in ((specificity, n_neg), (recall, n_pos)) if count]
        mcc_denominator = (tp + fp) * n_pos * n_neg * (tn + fn)
        return cls(
            threshold=threshold,
            tn=tn,
            fp=fp,
            fn=fn,
            tp=tp,
            accuracy=(tp + tn) / (n_pos + n_neg),
            precision=_ratio(tp, tp + fp),
            recall=recall,
            tpr=recall,
            fpr=_ratio(fp, n_neg),
            specificity=specificity,
            f1=_ratio(2 * tp, 2 * tp + fp + fn),
            balanced_accuracy=sum(present) / len(present),
            mcc=(tp * tn - fp * fn) / math.sqrt(mcc_denominator) if mcc_denominator else 0.0,
        )


class BinaryEval:
    """Evaluates scores against 0/1 labels at any threshold; a score >= the threshold predicts positive.

    The positives' and the negatives' scores are sorted once, here; ``at`` then costs O(log n).
    Curves, AUROC and average precision are built on first use and cached; they equal
    scikit-learn's ``roc_curve`` (with ``drop_intermediate=True``), ``precision_recall_curve``,
    ``roc_auc_score`` and ``average_precision_score``, ties included, but never warn.

    Args:
        y_true: labels, 0 or 1, shape (n,).
        y_prob: scores of the positive class, any finite real values, shape (n,). Floating-point
            scores keep their dtype (float32 stays float32); integers become float64.

    Raises:
        ValueError: when the arrays are empty, differ in shape, or hold other labels or
            non-finite scores.
    """

    def __init__(self, y_true: ArrayLike, y_prob: ArrayLike) -> None:
        y_true = np.asarray(y_true)
        y_prob = np.asarray(y_prob)
        if not np.issubdtype(y_prob.dtype, np.floating):
            y_prob = y_prob.astype(np.float64)
        if y_true.ndim != 1 or y_prob.shape != y_true.shape:
            raise ValueError(
                f"y_true and y_prob must be 1-D of one length; got shapes {y_true.shape} and {y_prob.shape}"
            )
        if y_true.size == 0:
            raise ValueError("cannot evaluate an empty set: y_true and y_prob have no rows")
        is_pos = y_true == 1
        if not (is_pos | (y_true == 0)).all():
            raise ValueError(f"y_true must hold only 0 and 1; got the values {np.unique(y_true)[:10]}")
        if not np.isfinite(y_prob).all():
            raise ValueError("y_prob holds NaN or infinite scores; a model that produces them has diverged")
        self._scalar = y_prob.dtype.type
        self._pos, self._neg = _read_only(np.sort(y_prob[is_pos]), np.sort(y_prob[~is_pos]))
        self.n = int(y_true.size)
        self.n_pos = len(self._pos)
        self.n_neg = len(self._neg)

    @property
    def positive_scores(self) -> np.ndarray:
        """The positives' scores, sorted (read-only)."""
        return self._pos

    @property
    def negative_scores(self) -> np.ndarray:
        """The negatives' scores, sorted (read-only)."""
        return self._neg

    def at(self, threshold: float) -> BinaryReport:
        """Counts and rates when scores >= ``threshold`` predict positive, in O(log n).

        The threshold is first rounded to the scores' dtype, as NumPy does in ``y_prob >= threshold``
        with a Python float; comparing float32 scores with the float64 value instead disagrees at
        about 1% of thresholds. The report keeps the threshold as given.
        """
        with np.errstate(over="ignore"):  # beyond the dtype's range it becomes +-inf, which still compares right
            cut = self._scalar(threshold)
        tp = self.n_pos - int(self._pos.searchsorted(cut))
        fp = self.n_neg - int(self._neg.searchsorted(cut))
        return BinaryReport.from_counts(float(threshold), tn=self.n_neg - fp, fp=fp, fn=self.n_pos - tp, tp=tp)

    def roc_curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fpr, tpr, thresholds) as scikit-learn's ``roc_curve``: from (0, 0) at threshold +inf to (1, 1).

        Collinear points are dropped; thresholds are float64. With one class in y_true the undefined
        rate is all NaN, as in scikit-learn. The arrays are read-only.
        """
        return self._roc

    def pr_curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(precision, recall, thresholds) as scikit-learn's ``precision_recall_curve``.

        Thresholds rise; the curve ends at precision 1, recall 0, which has no threshold. With no
        positives recall is 1 throughout, as in scikit-learn. The arrays are read-only.
        """
        return self._pr

    @cached_property
    def auroc(self) -> float:
        """Area under the ROC curve (trapezoidal, as ``roc_auc_score``); NaN when y_true holds one class."""
        if not (self.n_pos and self.n_neg):
            return math.nan
        fpr, tpr, _ = self._roc
        return float(np.trapezoid(tpr, fpr))

    @cached_property
    def average_precision(self) -> float:
        """Average precision as scikit-learn's ``average_precision_score``.

        This is the step-wise sum of precision times each rise in recall, not the trapezoidal
        area under the PR curve (which interpolates linearly and is optimistic). It is 0 with no
        positives and 1 with no negatives.
        """
        precision, recall, _ = self._pr
        return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))

    def best_f1(self) -> float:
        """The score that, as a threshold, maximises F1; on ties the highest such score."""
        thresholds, tps, fps = self._sweep
        # 2 tp / (2 tp + fp + fn) with fn = n_pos - tp, computed as ``at`` does so the maximum is the same float.
        return float(thresholds[np.argmax(2 * tps / (tps + fps + self.n_pos))])

    def best_youden(self) -> float:
        """The score that, as a threshold, maximises Youden's J = TPR - FPR; on ties the highest such score."""
        thresholds, tps, fps = self._sweep
        return float(thresholds[np.argmax(_rates(tps, self.n_pos) - _rates(fps, self.n_neg))])

    def threshold_for_recall(self, recall: float) -> float:
        """The highest score whose recall as a threshold is >= ``recall``; the lowest score if none is."""
        thresholds, tps, _ = self._sweep
        # Recall never falls as the threshold falls, so the first score that reaches the target is the highest.
        first = int(np.searchsorted(_rates(tps, self.n_pos), recall))
        return float(thresholds[min(first, len(thresholds) - 1)])

    def sweep(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(thresholds, tps, fps): the distinct scores, falling, with the positives and the negatives that score at
        or above each, so that each is a threshold's counts. Read-only."""
        return self._sweep

    @cached_property
    def _sweep(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct scores, falling, with the positives and the negatives that score at or above each."""
        merged = np.concatenate([self._neg, self._pos])
        # A stable sort of two sorted runs is a linear merge (timsort), and each index tells which run it came
        # from; searchsorting every distinct score in both arrays instead costs several times more.
        order = np.argsort(merged, kind="stable")[::-1]
        scores = merged[order]
        ends = np.flatnonzero(np.append(scores[1:] != scores[:-1], True))  # last row of each run of tied scores
        tps = np.cumsum(order >= self.n_neg)[ends]
        return _read_only(scores[ends], tps, ends + 1 - tps)

    @cached_property
    def _roc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        thresholds, tps, fps = self._sweep
        if len(tps) > 2:
            # scikit-learn's drop_intermediate: keep the ends and every corner of the curve.
            corner = (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0)
            keep = np.concatenate([[True], corner, [True]])
            thresholds, tps, fps = thresholds[keep], tps[keep], fps[keep]
        tps = np.append(0, tps)
        fps = np.append(0, fps)
        fpr = fps / self.n_neg if self.n_neg else np.full(len(fps), np.nan)
        tpr = tps / self.n_pos if self.n_pos else np.full(len(tps), np.nan)
        return _read_only(fpr, tpr, np.append(np.inf, thresholds.astype(np.float64)))

    @cached_property
    def _pr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        thresholds, tps, fps = self._sweep
        precision = tps / (tps + fps)  # every distinct score has at least one row at or above it
        recall = tps / self.n_pos if self.n_pos else np.ones(len(tps))
        return _read_only(np.append(precision[::-1], 1.0), np.append(recall[::-1], 0.0), thresholds[::-1].copy())


class MulticlassEval:
    """Scores of predicted class labels 0 .. n_classes - 1 against true ones.

    Attributes follow scikit-learn's ``confusion_matrix`` and ``precision_recall_fscore_support``
    with ``labels=range(n_classes)`` and ``zero_division=0``: a class never predicted has
    precision 0, a class absent from y_true has recall 0, and F1 is 0 where tp is 0.

    Attributes:
        confusion: (k, k) int64 counts, rows true classes, columns predicted.
        precision, recall, f1: per class, float64.
        support: true rows per class, int64.
        accuracy: the fraction predicted right.
        macro, weighted: ``{"precision", "recall", "f1"}`` averaged plainly or weighted by support.

    Raises:
        ValueError: when the arrays are empty, differ in shape, or hold labels outside 0 .. k - 1.
    """

    def __init__(self, y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> None:
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if y_true.ndim != 1 or y_pred.shape != y_true.shape:
            raise ValueError(
                f"y_true and y_pred must be 1-D of one length; got shapes {y_true.shape} and {y_pred.shape}"
            )
        if y_true.size == 0:
            raise ValueError("cannot evaluate an empty set: y_true and y_pred have no rows")
        for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
            if labels.dtype.kind not in "biu" or labels.min() < 0 or labels.max() >= n_classes:
                raise ValueError(
                    f"{name} must hold integer labels 0 .. {n_classes - 1}; got the values {np.unique(labels)[:10]}"
                )
        k = n_classes
        self.n_classes = k
        cells = k * y_true.astype(np.intp) + y_pred.astype(np.intp)
        self.confusion = np.bincount(cells, minlength=k * k).reshape(k, k)
        tp = np.diagonal(self.confusion)
        predicted = self.confusion.sum(axis=0)
        self.support = self.confusion.sum(axis=1)
        self.precision = _divide(tp, predicted)
        self.recall = _divide(tp, self.support)
        self.f1 = _divide(2 * tp, self.support + predicted)
        self.accuracy = float(tp.sum() / y_true.size)
        scores = {"precision": self.precision, "recall": self.recall, "f1": self.f1}
        self.macro = {name: float(np.mean(values)) for name, values in scores.items()}
        self.weighted = {name: float(np.average(values, weights=self.support)) for name, values in scores.items()}

    @classmethod
    def from_proba(cls, y_true: ArrayLike, y_prob: ArrayLike) -> MulticlassEval:
        """Evaluates the argmax of (n, k) class probabilities; k is the number of columns."""
        y_prob = np.asarray(y_prob)
        if y_prob.ndim != 2:
            raise ValueError(f"y_prob must be 2-D, one column per class; got shape {y_prob.shape}")
        return cls(y_true, y_prob.argmax(axis=1), y_prob.shape[1])

    def most_confused(self, n: int = 5) -> list[tuple[int, int, int]]:
        """Up to ``n`` (true, predicted, count) off-diagonal cells with a count, most frequent first.

        Equal counts keep row-major order (by true class, then predicted class).
        """
        off_diagonal = self.confusion.copy()
        np.fill_diagonal(off_diagonal, 0)
        cells = np.argsort(-off_diagonal.ravel(), kind="stable")[:n]
        k = self.n_classes
        return [(int(c // k), int(c % k), int(off_diagonal.flat[c])) for c in cells if off_diagonal.flat[c]]


def summary(y_true: ArrayLike, y_prob: ArrayLike, n_classes: int) -> dict[str, float]:
    """The per-epoch validation metrics.

    Binary (``y_prob`` 1-D): accuracy at threshold 0.5, ``auroc`` and ``average_precision``.
    Multiclass (``y_prob`` of shape (n, k)): accuracy of the argmax and ``macro_f1``.
    """
    y_prob = np.asarray(y_prob)
    if y_prob.ndim == 1:
        binary = BinaryEval(y_true, y_prob)
        return {
            "accuracy": binary.at(0.5).accuracy,
            "auroc": binary.auroc,
            "average_precision": binary.average_precision,
        }
    multiclass = MulticlassEval(y_true, y_prob.argmax(axis=1), n_classes)
    return {"accuracy": multiclass.accuracy, "macro_f1": multiclass.macro["f1"]}
