"""Confusion-matrix drill-down: the rows behind each cell, highest log loss first, and the most confused pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .metrics import MulticlassEval

__all__ = ["CellSamples", "ConfusedPair", "DrillDown", "predicted_classes", "row_log_loss"]


def _probabilities(y_prob: ArrayLike) -> np.ndarray:
    """``y_prob`` as a floating array of probabilities (integers become float64, as BinaryEval does).

    Raises:
        ValueError: when it is not 1-D or 2-D, or holds values that are not finite or not in [0, 1].
    """
    y_prob = np.asarray(y_prob)
    if not np.issubdtype(y_prob.dtype, np.floating):
        y_prob = y_prob.astype(np.float64)
    if y_prob.ndim not in (1, 2):
        raise ValueError(f"y_prob must be 1-D (P(class 1)) or 2-D (one column per class); got shape {y_prob.shape}")
    if not np.isfinite(y_prob).all():
        raise ValueError("y_prob holds NaN or infinite values; a model that produces them has diverged")
    if y_prob.size and (y_prob.min() < 0 or y_prob.max() > 1):
        raise ValueError(f"y_prob must hold probabilities in [0, 1]; got values from {y_prob.min()} to {y_prob.max()}")
    return y_prob


def predicted_classes(y_prob: ArrayLike, threshold: float = 0.5) -> np.ndarray:
    """The class each row is predicted as, by the engine's metrics' rules, as int64.

    Binary (``y_prob`` 1-D, P(class 1)): class 1 where P(class 1) >= ``threshold``, the threshold
    first rounded to the probabilities' dtype, as ``BinaryEval.at`` counts. Multiclass (``y_prob``
    of shape (n, k)): the argmax, the first of tied columns, as ``MulticlassEval.from_proba``;
    ``threshold`` does not apply.
    """
    y_prob = _probabilities(y_prob)
    if y_prob.ndim == 2:
        return y_prob.argmax(axis=1).astype(np.int64)
    return (y_prob >= y_prob.dtype.type(threshold)).astype(np.int64)


def row_log_loss(y_true: ArrayLike, y_prob: ArrayLike) -> np.ndarray:
    """Each row's log loss, -log P(true class), as float64.

    P(true class) is P(class 1) or 1 - P(class 1) for binary ``y_prob`` (1-D), the true class's
    column for multiclass ones (n, k). As in scikit-learn's ``log_loss``, the probabilities are
    clipped to [eps, 1 - eps] of their dtype and the logarithm is taken in that dtype, so the
    rows' mean equals ``log_loss(y_true, y_prob)`` and no row is infinite.

    This is each row's training loss for ``cross_entropy``, ``nll``, ``bce`` and ``bce_logits``
    without ``pos_weight`` (up to the clipping, which only moves rows with P(true class) < eps);
    with ``pos_weight`` the training loss of a positive row is this times the weight, and ``mse``
    trains on another loss altogether.

    Raises:
        ValueError: when the arrays differ in length or the labels are not classes of ``y_prob``.
    """
    y_prob = _probabilities(y_prob)
    y_true = np.asarray(y_true)
    n_classes = 2 if y_prob.ndim == 1 else y_prob.shape[1]
    if y_true.ndim != 1 or len(y_true) != len(y_prob):
        raise ValueError(f"y_true must be 1-D with one label per row of y_prob; got shapes {y_true.shape} "
                         f"and {y_prob.shape}")
    if y_true.size and (y_true.dtype.kind not in "biu" or y_true.min() < 0 or y_true.max() >= n_classes):
        raise ValueError(f"y_true must hold integer labels 0 .. {n_classes - 1}; got the values {np.unique(y_true)[:10]}")
    if y_prob.ndim == 1:
        p_true = np.where(y_true == 1, y_prob, 1 - y_prob)
    else:
        p_true = np.take_along_axis(y_prob, y_true.astype(np.intp)[:, None], axis=1)[:, 0]
    eps = np.finfo(y_prob.dtype).eps
    return (-np.log(np.clip(p_true, eps, 1 - eps))).astype(np.float64)


@dataclass(frozen=True)
class CellSamples:
    """The rows of one confusion-matrix cell, highest log loss first, equal losses by row.

    ``rows`` index the evaluated arrays (for the app: rows of the validation split's ``X_val``).
    ``probability`` is P(class 1) for binary tasks (the score the threshold cuts) and P(predicted
    class) for multiclass ones; ``log_loss`` is -log P(true class), as ``row_log_loss``.
    """

    true_class: int
    predicted_class: int
    rows: np.ndarray
    probability: np.ndarray
    log_loss: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class ConfusedPair:
    """One off-diagonal cell: ``count`` rows of ``true_class`` predicted as ``predicted_class``, which are
    ``share`` of the rows of ``true_class``."""

    true_class: int
    predicted_class: int
    count: int
    share: float


class DrillDown:
    """The rows behind every cell of one evaluation's confusion matrix.

    Cells are counted by the engine's own rules (see ``predicted_classes``): binary tasks at
    ``threshold``, multiclass ones by argmax. Per-row log losses are computed once, here; ``cell``
    then costs one pass over the rows and a sort of the cell's own.

    Args:
        y_true: labels 0 .. k - 1, shape (n,).
        y_prob: P(class 1), shape (n,), or class probabilities, shape (n, k).
        threshold: binary tasks only: P(class 1) at or above it predicts class 1.

    Raises:
        ValueError: when the arrays are empty, differ in length, or hold labels that are not
            classes of ``y_prob`` or values that are not probabilities.
    """

    def __init__(self, y_true: ArrayLike, y_prob: ArrayLike, threshold: float = 0.5) -> None:
        y_prob = _probabilities(y_prob)
        self.is_binary = y_prob.ndim == 1
        self.threshold = float(threshold) if self.is_binary else None
        """The threshold of a binary task; None for multiclass ones, which the argmax decides."""
        self.n_classes = 2 if self.is_binary else int(y_prob.shape[1])
        self.y_true = np.asarray(y_true)
        self.log_loss = row_log_loss(self.y_true, y_prob)  # first, as it checks the labels against y_prob
        self.y_pred = predicted_classes(y_prob, threshold)
        self.scores = MulticlassEval(self.y_true, self.y_pred, self.n_classes)
        """The confusion matrix (``scores.confusion``: rows true, columns predicted) and per-class scores."""
        self._y_prob = y_prob

    @property
    def confusion(self) -> np.ndarray:
        return self.scores.confusion

    def cell(self, true_class: int, predicted_class: int) -> CellSamples:
        """The rows of ``true_class`` predicted as ``predicted_class``, highest log loss first."""
        for name, value in (("true_class", true_class), ("predicted_class", predicted_class)):
            if not 0 <= value < self.n_classes:
                raise ValueError(f"{name} = {value} is not a class: expected 0 .. {self.n_classes - 1}")
        rows = np.flatnonzero((self.y_true == true_class) & (self.y_pred == predicted_class))
        losses = self.log_loss[rows]
        rows = rows[np.argsort(-losses, kind="stable")]  # rows rise, so a stable sort keeps equal losses by row
        probability = self._y_prob[rows] if self.is_binary else self._y_prob[rows, predicted_class]
        return CellSamples(true_class, predicted_class, rows, probability, self.log_loss[rows])

    def most_confused(self, n: int | None = None) -> list[ConfusedPair]:
        """Up to ``n`` (every one if None) off-diagonal cells with rows, most rows first, equal counts by
        (true class, predicted class)."""
        pairs = self.scores.most_confused(self.n_classes**2 if n is None else n)
        return [
            ConfusedPair(true, predicted, count, count / int(self.scores.support[true]))
            for true, predicted, count in pairs
        ]
