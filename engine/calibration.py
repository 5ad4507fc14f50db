"""Calibration: whether a predicted probability of 0.8 comes true 80% of the time. The reliability diagram
(predicted probability in bins against the observed frequency, with the bins' counts), the Brier score and the
expected calibration error, for a binary task and each class of a multiclass one against the rest; and
temperature scaling, one scalar fit on the validation split that softens or sharpens every probability."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_BINS = 10
EPS = 1e-12
"""Probabilities are kept this far from 0 and 1 before their logarithm or logit is taken."""
TEMPERATURE_BOUNDS = (0.05, 20.0)


@dataclass(frozen=True, eq=False)
class Reliability:
    """A reliability diagram of ``n_bins`` equal bins over [0, 1], and the scores that sum it up.

    ``mean_predicted``, ``observed`` and ``counts`` have one entry per bin (NaN for an empty bin's mean and
    frequency): the mean predicted probability of the bin's rows, the share of them that are positive, and
    how many they are. ``ece`` weighs each bin's gap |observed - mean_predicted| by its share of the rows.
    """

    subject: str
    """What is predicted: the positive class, or one class against the rest."""
    edges: np.ndarray
    mean_predicted: np.ndarray
    observed: np.ndarray
    counts: np.ndarray
    brier: float
    ece: float


def reliability(is_positive: np.ndarray, probability: np.ndarray, subject: str = "", n_bins: int = N_BINS) -> Reliability:
    """The reliability diagram of ``probability`` (of being positive) against ``is_positive``: the bins of
    ``sklearn.calibration.calibration_curve(strategy="uniform")``, a bin's right edge in the next bin."""
    y = np.asarray(is_positive, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(bins, weights=p, minlength=n_bins) / counts
        observed = np.bincount(bins, weights=y, minlength=n_bins) / counts
    filled = counts > 0
    ece = float(np.sum(counts[filled] * np.abs(observed[filled] - mean_predicted[filled])) / len(p))
    return Reliability(subject, edges, mean_predicted, observed, counts, float(np.mean((p - y) ** 2)), ece)


def reliabilities(y_true: np.ndarray, y_prob: np.ndarray, class_names: tuple[str, ...],
                  n_bins: int = N_BINS) -> tuple[Reliability, ...]:
    """One diagram for a binary task (P(class 1)), one per class against the rest for a multiclass one."""
    y_prob = np.asarray(y_prob)
    if y_prob.ndim == 1:
        return (reliability(np.asarray(y_true) == 1, y_prob, class_names[1], n_bins),)
    return tuple(reliability(np.asarray(y_true) == c, y_prob[:, c], f"{name} vs rest", n_bins)
                 for c, name in enumerate(class_names))


def fit_temperature(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """The temperature T that minimises the log loss of ``apply_temperature(y_prob, T)`` on these rows: LBFGS on
    log T, in float64, from T = 1, kept within TEMPERATURE_BOUNDS."""
    import torch
    from torch.nn import functional as F

    logits = torch.from_numpy(_logits(np.asarray(y_prob)))
    targets = torch.from_numpy(np.asarray(y_true))
    binary = logits.ndim == 1
    if binary:
        targets = targets.to(torch.float64)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=100, tolerance_grad=1e-10, line_search_fn="strong_wolfe")

    def log_loss() -> torch.Tensor:
        optimizer.zero_grad()
        scaled = logits / log_t.exp()
        loss = F.binary_cross_entropy_with_logits(scaled, targets) if binary else F.cross_entropy(scaled, targets)
        loss.backward()
        return loss

    optimizer.step(log_loss)
    low, high = TEMPERATURE_BOUNDS
    return float(min(max(float(log_t.detach().exp()), low), high))


def apply_temperature(y_prob: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities after dividing the logits by ``temperature``: P(class 1) through its logit for a binary
    task, softmax of the log-probabilities for (n, k) ones. The dtype is kept; T = 1 changes nothing."""
    y_prob = np.asarray(y_prob)
    if temperature == 1.0:
        return y_prob
    scaled = _logits(y_prob) / temperature
    if y_prob.ndim == 1:
        out = 1.0 / (1.0 + np.exp(-scaled))
    else:
        scaled -= scaled.max(axis=1, keepdims=True)
        out = np.exp(scaled)
        out /= out.sum(axis=1, keepdims=True)
    return out.astype(y_prob.dtype)


def _logits(y_prob: np.ndarray) -> np.ndarray:
    """The logits the probabilities came from, up to a constant per row: logit(p), or log p per class."""
    p = np.clip(np.asarray(y_prob, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p) if p.ndim == 1 else np.log(p)
