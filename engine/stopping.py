"""The rules that end a run before its last epoch: a loss that diverges, and early stopping on the validation
loss. One object for each, used alike by a single run (Trainer) and by every seed of a comparison."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from clf_tui.errors import CheckpointError

DIVERGED_LOSS_RATIO = 1e3
"""A finite loss this many times the run's starting loss (or 1, if larger) has diverged too:
Adam at lr 1e6 drives the loss to 1e19 without ever making it infinite."""

Weights = TypeVar("Weights")


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when validation loss has not dropped by ``min_delta`` for ``patience`` epochs."""

    patience: int = 10
    min_delta: float = 0.0
    restore_best: bool = True


def diverged_loss(losses: Iterable[float | None], start_loss: float) -> float | None:
    """The first of ``losses`` that is not finite or has grown past the ceiling that ``start_loss`` sets, if any."""
    ceiling = DIVERGED_LOSS_RATIO * max(start_loss, 1.0)
    for loss in losses:
        if loss is not None and not (math.isfinite(loss) and loss <= ceiling):
            return loss
    return None


class DivergenceWatch:
    """The divergence rule over one run: the first batch loss of its first epoch sets the ceiling."""

    def __init__(self) -> None:
        self.start_loss: float | None = None

    def check(self, first_batch_loss: float, losses: Iterable[float | None]) -> float | None:
        """An epoch's losses judged (its first batch loss counts only for the run's first epoch): the loss that
        diverged, or None."""
        if self.start_loss is None:
            self.start_loss = float(first_batch_loss)
        return diverged_loss(losses, self.start_loss)


@dataclass
class EarlyStoppingWatch(Generic[Weights]):
    """Early stopping's watch over the validation loss: the best loss, its epoch and (when the rule restores
    them) its weights, and the epochs waited since.

    A single run keeps it in its checkpoints, so that a run continued by another ``train`` call, or
    resumed from a file, stops where an uninterrupted one would.
    """

    best_loss: float = math.inf
    best_epoch: int = 0
    waited: int = 0
    best_weights: Weights | None = None

    def ran_out(self, rule: EarlyStopping, epoch: int, val_loss: float, weights: Callable[[], Weights]) -> bool:
        """Watch ``epoch``'s validation loss; True once it has not improved for ``rule.patience`` epochs.

        ``weights()`` is called for an improved epoch, when the rule restores the best weights. Running out
        starts a fresh wait, so a run that goes on afterwards (a later ``train`` call) is watched anew.
        """
        if val_loss < self.best_loss - rule.min_delta:
            self.best_loss, self.best_epoch, self.waited = val_loss, epoch, 0
            self.best_weights = weights() if rule.restore_best else None
            return False
        self.waited += 1
        if self.waited < rule.patience:
            return False
        self.waited = 0
        return True

    def to_dict(self, weights_to_plain: Callable[[Weights], Any]) -> dict[str, Any]:
        best = None if self.best_weights is None else weights_to_plain(self.best_weights)
        return {"best_loss": self.best_loss, "best_epoch": self.best_epoch, "waited": self.waited, "best_model": best}

    @classmethod
    def from_dict(cls, saved: Any, source: str, is_weights: Callable[[Any], bool]) -> EarlyStoppingWatch:
        """The watch a checkpoint saved (a fresh one for a checkpoint from before it was saved); ``is_weights``
        tells whether the saved best weights are of the right kind.

        Raises:
            CheckpointError: the entry is not one ``to_dict`` writes.
        """
        if saved is None:
            return cls()
        try:
            best = saved["best_model"]
            if best is not None and not is_weights(best):
                raise TypeError("its best weights are not a state dict of tensors")
            return cls(float(saved["best_loss"]), int(saved["best_epoch"]), int(saved["waited"]), best)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{source} is damaged: its early stopping entry is unreadable ({exc})") from None
