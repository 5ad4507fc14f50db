"""Learning-rate range test: train a few steps at exponentially growing rates, then put the trainer back.

The loss against the rate (on a log axis) falls slowly where the rate is too small, fastest
where it suits the model, then climbs and explodes once it is too large. The suggestion is
where the smoothed loss falls fastest against log(lr) (Smith, "Cyclical learning rates for
training neural networks", 2017; the steepest-descent rule of fastai and torch-lr-finder).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import loader_batches
from .control import RunControl
from clf_tui.errors import ClfError, ConfigError, DataError

if TYPE_CHECKING:
    from .trainer import Trainer

StopReason = Literal["completed", "exploded", "stopped"]
EDGE_FRACTION = 0.1
"""The first tenth of the sweep is left out of the suggestion: the smoothed loss averages only a
few batches there, and one unlucky first batch can look like a steep fall."""
SLOPE_FRACTION = 0.03
"""The slope at a point spans this fraction of the curve on either side (3 steps of 100)."""
NO_SUGGESTION = "the smoothed loss never fell (try a lower start or a higher end rate)"


@dataclass(frozen=True)
class LRFinderResult:
    """One range test: the rates tried, the loss at each, and the rate it suggests.

    ``lrs``, ``losses`` and ``smoothed`` have one entry per step taken: ``n_steps`` of them
    when the sweep completed, fewer when it stopped early (the step at which the loss
    exploded is the last one recorded).
    """

    start_lr: float
    end_lr: float
    n_steps: int
    """Steps asked for."""
    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    """The training loss of each step's batch, before that step's update."""
    smoothed: tuple[float, ...]
    """Exponential moving average of ``losses``, bias-corrected (see ``find_lr``)."""
    stop_reason: StopReason
    suggestion_index: int | None
    """Index into ``lrs`` of the suggested rate; None when the smoothed loss never fell."""

    @property
    def suggestion(self) -> float | None:
        """The suggested learning rate, one of ``lrs``; None when there is none."""
        return None if self.suggestion_index is None else self.lrs[self.suggestion_index]

    @property
    def outcome(self) -> str:
        """How the sweep went, in words: how far it got and why it ended."""
        taken = len(self.lrs)
        if self.stop_reason == "completed":
            return f"swept {self.start_lr:.3g} to {self.end_lr:.3g} in {taken} steps"
        if self.stop_reason == "exploded":
            return f"the loss exploded at step {taken} of {self.n_steps} (lr {self.lrs[-1]:.3g})"
        return f"stopped at step {taken} of {self.n_steps}"

    @property
    def message(self) -> str:
        """The outcome and the suggestion, in one line."""
        if self.suggestion is None:
            return f"{self.outcome}; no suggestion: {NO_SUGGESTION}"
        return f"{self.outcome}; the loss falls fastest at lr {self.suggestion:.3g}"


def find_lr(
    trainer: Trainer,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    n_steps: int = 100,
    smoothing: float = 0.05,
    diverge_ratio: float = 4.0,
    control: RunControl | None = None,
) -> LRFinderResult:
    """Run a learning-rate range test on ``trainer``'s model, loss, optimiser and training loader.

    Step i trains one batch at ``start_lr * (end_lr / start_lr) ** (i / (n_steps - 1))`` (every
    parameter group alike), drawing batches from the training loader over and over. The loss
    is smoothed by a moving average corrected for its start at zero (as Adam corrects its
    moments): ``a_i = smoothing * loss_i + (1 - smoothing) * a_(i-1)``, ``a_(-1) = 0``, and
    ``s_i = a_i / (1 - (1 - smoothing) ** (i + 1))``; uncorrected, or started at the first
    loss, the first batch would weigh on the curve for dozens of steps. The sweep ends
    early once a loss is not finite or the smoothed loss passes ``diverge_ratio`` times its
    lowest, or when ``control`` asks it to stop. Afterwards weights, optimiser state (its
    rates included), random states (torch's, the trainer's generator, a DataLoader's sampler)
    and every module's train / eval mode are as they were; the history is never touched.

    Raises:
        ConfigError: a rate that is not positive, ``start_lr >= end_lr``, ``n_steps < 2``,
            ``smoothing`` outside (0, 1] or ``diverge_ratio <= 1``.
        ClfError: the trainer has no training loader.
        DataError: the training loader yields no batch.
    """
    _check_arguments(start_lr, end_lr, n_steps, smoothing, diverge_ratio)
    if trainer.train_loader is None:
        raise ClfError("no training data: call set_loaders(train_loader, val_loader) before the range test")
    control = control or RunControl()
    lrs = np.geomspace(start_lr, end_lr, n_steps).tolist()
    losses: list[float] = []
    smoothed: list[float] = []
    average = 0.0
    lowest = math.inf
    stop_reason: StopReason = "completed"
    snapshot = trainer.snapshot()
    modes = {module: module.training for module in trainer.model.modules()}
    try:
        trainer.model.train()
        batches = _cycle(trainer.train_loader)
        for lr in lrs:
            if control.stop_requested:
                stop_reason = "stopped"
                break
            for group in trainer.optimizer.param_groups:
                group["lr"] = lr
            loss = trainer.train_step(*next(batches)).item()
            losses.append(loss)
            average = smoothing * loss + (1 - smoothing) * average
            smoothed.append(average / (1 - (1 - smoothing) ** len(losses)))
            lowest = min(lowest, smoothed[-1])
            if not math.isfinite(loss) or smoothed[-1] > diverge_ratio * lowest:
                stop_reason = "exploded"
                break
    finally:
        trainer.optimizer.zero_grad(set_to_none=True)
        trainer.rollback(snapshot)
        for module, training in modes.items():
            module.training = training
    taken = len(losses)
    return LRFinderResult(
        start_lr=float(start_lr), end_lr=float(end_lr), n_steps=n_steps, lrs=tuple(lrs[:taken]),
        losses=tuple(losses), smoothed=tuple(smoothed), stop_reason=stop_reason,
        suggestion_index=steepest_descent(lrs[:taken], smoothed),
    )


def steepest_descent(lrs: Any, smoothed: Any) -> int | None:
    """Index of the steepest fall of ``smoothed`` against log10(``lrs``), or None if it never falls.

    The slope at point i is taken across SLOPE_FRACTION of the curve on either side, not between
    neighbours: batch noise survives smoothing as single-step jumps that would otherwise outweigh
    the broad fall. Only points up to the lowest smoothed loss count (what follows is the climb),
    and not the first EDGE_FRACTION of them (the average is warming up), nor those whose span
    would reach past either end of the curve.
    """
    values = np.asarray(smoothed, dtype=np.float64)
    finite = np.isfinite(values)
    n = len(values) if finite.all() else int(np.argmin(finite))  # a loss that exploded ends the curve
    values, log_lrs = values[:n], np.log10(np.asarray(lrs[:n], dtype=np.float64))
    span = max(1, round(SLOPE_FRACTION * n))
    first = max(span, math.ceil(EDGE_FRACTION * n))
    last = min(int(np.argmin(values)) if n else -1, n - 1 - span)
    if first > last:
        return None
    slopes = (values[2 * span :] - values[: -2 * span]) / (log_lrs[2 * span :] - log_lrs[: -2 * span])
    best = first + int(np.argmin(slopes[first - span : last - span + 1]))
    return best if slopes[best - span] < 0 else None


def _check_arguments(start_lr: float, end_lr: float, n_steps: int, smoothing: float, diverge_ratio: float) -> None:
    for name, value in (("start_lr", start_lr), ("end_lr", end_lr)):
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{name} = {value!r} is invalid: a learning rate must be a finite number > 0")
    if start_lr >= end_lr:
        raise ConfigError(f"start_lr = {start_lr:g} is invalid: the sweep must start below end_lr = {end_lr:g}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 2:
        raise ConfigError(f"n_steps = {n_steps!r} is invalid: expected a whole number >= 2")
    if not 0 < smoothing <= 1:
        raise ConfigError(f"smoothing = {smoothing!r} is invalid: expected a weight in (0, 1] for the newest loss")
    if not diverge_ratio > 1:
        raise ConfigError(f"diverge_ratio = {diverge_ratio!r} is invalid: expected a number > 1")


def _cycle(loader: Any) -> Iterator[Any]:
    """The loader's batches, pass after pass (each pass draws its own order, as an epoch would)."""
    while True:
        empty = True
        for batch in loader_batches.batches(loader):
            empty = False
            yield batch
        if empty:
            raise DataError("the training loader yields no batches, so there is nothing to run the range test on")
