"""Textual messages that carry engine events, and the trainers workers build, to the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from textual.message import Message

from clf_tui.engine import events

if TYPE_CHECKING:
    from clf_tui.engine import Trainer

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
    """A Runner worker ended: ``work`` names it (prepare, train, restore, save); ``failed`` if it raised.

    The Runner has already told the user about a failure.
    """

    def __init__(self, work: str, failed: bool) -> None:
        super().__init__()
        self.work = work
        self.failed = failed


class EngineEvent(Message, Generic[EventT]):
    """An engine event, forwarded unchanged from the worker thread that produced it."""

    def __init__(self, event: EventT) -> None:
        super().__init__()
        self.event = event


class RunStarted(EngineEvent[events.RunStarted]):
    """Training began or resumed."""


class EpochEnded(EngineEvent[events.EpochEnded]):
    """An epoch finished; every one is delivered (never coalesced), so the loss curve keeps all its points."""


class EvalReady(EngineEvent[events.EvalReady]):
    """Validation labels and probabilities of an epoch are ready."""


class CheckpointSaved(EngineEvent[events.CheckpointSaved]):
    """A checkpoint file was written."""


class RunEnded(EngineEvent[events.RunEnded]):
    """Training ended: completed, stopped, early stopped or diverged."""


_WRAPPERS: dict[type, type[EngineEvent]] = {
    events.RunStarted: RunStarted,
    events.EpochEnded: EpochEnded,
    events.EvalReady: EvalReady,
    events.CheckpointSaved: CheckpointSaved,
    events.RunEnded: RunEnded,
}


def wrap(event: events.Event) -> EngineEvent:
    """The message that carries ``event``."""
    return _WRAPPERS[type(event)](event)
