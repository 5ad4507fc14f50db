"""Validation metrics on one scale for any loss: accuracy, AUROC and log loss from a model's probabilities."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from . import metrics
from .drilldown import row_log_loss


def log_loss(y_true: ArrayLike, y_prob: ArrayLike) -> float:
    """The mean of -log P(true class), as scikit-learn's ``log_loss``: probabilities clipped to [eps, 1 - eps]
    of their dtype, so that a probability of exactly 0 for the true class costs -log(eps), not infinity.

    ``y_prob`` is P(class 1) (1-D) for two classes, (n, k) for more.
    """
    return float(np.mean(row_log_loss(y_true, y_prob)))


def macro_auroc(y_true: ArrayLike, y_prob: ArrayLike) -> float:
    """The mean over classes of each class's AUROC against the rest, as scikit-learn's
    ``roc_auc_score(multi_class="ovr", average="macro")``; classes absent from ``y_true`` are left out (NaN if
    every class is)."""
    y_true, y_prob = np.asarray(y_true), np.asarray(y_prob)
    scores = [metrics.BinaryEval((y_true == c).astype(np.int64), y_prob[:, c]).auroc for c in range(y_prob.shape[1])]
    found = [score for score in scores if math.isfinite(score)]
    return float(np.mean(found)) if found else math.nan


def comparable_metrics(y_true: ArrayLike, y_prob: ArrayLike, n_classes: int) -> dict[str, float]:
    """``metrics.summary``'s validation metrics with the ones every configuration of a comparison shares:
    ``accuracy``, ``auroc`` (macro one-vs-rest for several classes) and ``log_loss``."""
    y_prob = np.asarray(y_prob)
    out = metrics.summary(y_true, y_prob, n_classes)
    if y_prob.ndim == 2:
        out["auroc"] = macro_auroc(y_true, y_prob)
    out["log_loss"] = log_loss(y_true, y_prob)
    return out
