"""Textual messages that carry engine events, and the trainers workers build, to the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from textual.message import Message

from clf_tui.engine import events

if TYPE_CHECKING:
    from clf_tui.engine import LRFinderResult, Trainer

EventT = TypeVar("EventT", bound=events.Event)


class TrainerReady(Message):
    """A worker built a trainer from a config (``origin`` "config") or restored one from a checkpoint file.

    The app owns the trainer from here on, but must leave it alone while a training worker runs it.
    """

    def __init__(self, trainer: Trainer, origin: str) -> None:
        super().__init__()
        self.trainer = trainer
        self.origin = origin

    @property
    def from_checkpoint(self) -> bool:
        return self.origin != "config"


class WorkFinished(Message):
    """A Runner worker ended: ``work`` names it (prepare, train, restore, save, find_lr); ``failed`` if it raised.

    The Runner has already told the user about a failure.
    """

    def __init__(self, work: str, failed: bool) -> None:
        super().__init__()
        self.work = work
        self.failed = failed


class LRRangeTested(Message):
    """A learning-rate range test ended; ``epoch`` is the epoch of the weights it ran on (0: fresh ones).

    The trainer it ran on is as it was before.
    """

    def __init__(self, result: LRFinderResult, epoch: int) -> None:
        super().__init__()
        self.result = result
        self.epoch = epoch


class EngineEvent(Message, Generic[EventT]):
    """An engine event, forwarded unchanged from the worker thread that produced it."""

    def __init__(self, event: EventT) -> None:
        super().__init__()
        self.event = event


class RunStarted(EngineEvent[events.RunStarted]):
    """Training began or resumed."""


class EpochsEnded(Message):
    """One or more epochs finished, oldest first.

    A training worker sends the epochs of a fast run together, a few times a second, so that
    the UI thread wakes that often rather than once per epoch; none is ever dropped, so the
    loss curve keeps all its points.
    """

    def __init__(self, epochs: Sequence[events.EpochEnded]) -> None:
        super().__init__()
        self.epochs = tuple(epochs)


class EvalReady(EngineEvent[events.EvalReady]):
    """Validation labels and probabilities of an epoch are ready."""


class CheckpointSaved(EngineEvent[events.CheckpointSaved]):
    """A checkpoint file was written."""


class RunEnded(EngineEvent[events.RunEnded]):
    """Training ended: completed, stopped, early stopped or diverged."""


_WRAPPERS: dict[type, type[EngineEvent]] = {
    events.RunStarted: RunStarted,
    events.EvalReady: EvalReady,
    events.CheckpointSaved: CheckpointSaved,
    events.RunEnded: RunEnded,
}


def wrap(event: events.Event) -> Message:
    """The message that carries ``event`` (an epoch as a batch of one)."""
    if isinstance(event, events.EpochEnded):
        return EpochsEnded([event])
    return _WRAPPERS[type(event)](event)
