"""Evaluation: one epoch's validation predictions, evaluated once (sorted) so that every threshold costs O(log n); for a
multiclass task, each class against the rest."""

from __future__ import annotations

import threading

import numpy as np

from clf_tui.errors import ClfError
from .intervals import Interval, multiclass_intervals, ranking_intervals, threshold_intervals
from .metrics import BinaryEval, MulticlassEval


class Evaluation:
    """The predictions of one epoch, evaluated once so that every threshold key costs O(log n).

    Binary tasks are evaluated on P(class 1). Multiclass tasks are scored by their argmax
    (``multiclass``), and the threshold views show one class against the rest: P(class c)
    with ``y_true == c`` as positives, built on first use per class and kept.
    """

    def __init__(self, epoch: int, y_true: np.ndarray, y_prob: np.ndarray, class_names: tuple[str, ...]) -> None:
        """Raises ClfError when the probabilities are not all finite (a diverged model)."""
        if not np.isfinite(y_prob).all():
            raise ClfError(f"the probabilities of epoch {epoch} hold NaN or infinite values: the model has diverged")
        self.epoch = epoch
        self.class_names = class_names
        self._y_true = y_true
        self._y_prob = y_prob
        self.multiclass = MulticlassEval.from_proba(y_true, y_prob) if y_prob.ndim == 2 else None
        self._binary: dict[int, BinaryEval] = {}
        self._ranking: dict[int, dict[str, Interval]] = {}
        self._multiclass_intervals: dict[str, Interval] | None = None
        self._lock = threading.Lock()  # built in a worker, read on the UI thread

    @property
    def is_binary(self) -> bool:
        return self.multiclass is None

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def y_true(self) -> np.ndarray:
        """The validation labels, in the order of the validation split's rows."""
        return self._y_true

    @property
    def y_prob(self) -> np.ndarray:
        """P(class 1) per row for binary tasks; (n, k) class probabilities for multiclass ones."""
        return self._y_prob

    def scores(self, positive: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, is_positive): P(class ``positive``) for every row and whether the row is of that class."""
        if self.is_binary:
            return self._y_prob, self._y_true == 1
        return self._y_prob[:, positive], self._y_true == positive

    def binary(self, positive: int) -> BinaryEval:
        """The sorted evaluation of class ``positive`` against the rest (for binary tasks: class 1)."""
        with self._lock:
            if positive not in self._binary:
                scores, is_positive = self.scores(positive)
                self._binary[positive] = BinaryEval(is_positive.astype(np.int8), scores)
            return self._binary[positive]

    def threshold_intervals(self, positive: int, threshold: float) -> dict[str, Interval]:
        """95% intervals of the metrics at ``threshold`` of class ``positive`` against the rest (about 1 ms)."""
        return threshold_intervals(self.binary(positive), threshold)

    def ranking_intervals(self, positive: int, *, compute: bool = True) -> dict[str, Interval] | None:
        """95% intervals of AUROC and AP of class ``positive`` against the rest, computed once (a tenth of a
        second or two on large sets); with ``compute`` False, only if they have been."""
        with self._lock:
            known = self._ranking.get(positive)
        if known is not None or not compute:
            return known
        found = ranking_intervals(self.binary(positive))
        with self._lock:
            return self._ranking.setdefault(positive, found)

    def argmax_intervals(self) -> dict[str, Interval] | None:
        """95% intervals of the argmax's accuracy, balanced accuracy, macro F1 and MCC; None for a binary task."""
        if self.multiclass is None:
            return None
        with self._lock:
            if self._multiclass_intervals is None:
                self._multiclass_intervals = multiclass_intervals(self.multiclass)
            return self._multiclass_intervals
