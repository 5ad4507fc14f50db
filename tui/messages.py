"""Textual messages that carry the runner's results to the app: the session's plain, immutable results and the engine's
events, never a trainer or a tensor."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from textual.message import Message

from clf_tui.engine import events
from clf_tui.engine.session import CrossValReady

if TYPE_CHECKING:
    from clf_tui.engine import crossval
    from clf_tui.engine.comparison import CompareEvent
    from clf_tui.engine.session import EvaluationReady, OpenedRun, RangeTested, RegionsReady
    from clf_tui.engine.parameters import LearnedParameters
    from clf_tui.engine.summary import ModelSummary


class Job(Enum):
    """The runner's kinds of work; each runs in a thread worker named after it."""

    OPEN = "open"
    RESTORE = "restore"
    TRAIN = "train"
    FIND_LR = "find_lr"
    SAVE = "save"
    REGIONS = "regions"
    SUMMARY = "summary"
    COMPARE = "compare"
    CROSS_VALIDATE = "cross_validate"


@dataclass
class RunOpened(Message):
    """A run was built from a config or restored from a checkpoint; the app shows it from here on."""

    run: OpenedRun


@dataclass
class RunStarted(Message):
    """Training began or resumed."""

    event: events.RunStarted


@dataclass
class EpochsEnded(Message):
    """One or more epochs finished, oldest first.

    A training worker sends the epochs of a fast run together, a few times a second, so that the UI
    thread wakes that often rather than once per epoch; none is ever dropped, so the loss curve keeps
    all its points.
    """

    epochs: tuple[events.EpochEnded, ...]


@dataclass
class Evaluated(Message):
    """The latest epoch's evaluation, ready to draw (those in between are kept for replay, not sent)."""

    ready: EvaluationReady


@dataclass
class RegionsDrawn(Message):
    """The current model's decision regions, computed on request (a resize, a run opened)."""

    regions: RegionsReady


@dataclass
class TemperatureFitted(Message):
    """The run ended with a temperature fit on the validation split; its diagrams before and after."""

    event: events.TemperatureFitted


@dataclass
class CheckpointSaved(Message):
    """A checkpoint file was written."""

    event: events.CheckpointSaved


@dataclass
class RunEnded(Message):
    """Training ended: completed, stopped, early stopped or diverged."""

    event: events.RunEnded


@dataclass
class FoldStarted(Message):
    """A fold of a cross-validation began; its run's events follow (RunStarted, EpochsEnded, ..., RunEnded)."""

    event: crossval.FoldStarted


@dataclass
class FoldEnded(Message):
    """A fold's run ended; its metrics on its validation rows, and the file its model was saved to."""

    event: crossval.FoldEnded


@dataclass
class CrossValEnded(Message):
    """A cross-validation ended: with the evaluation of its pooled out-of-fold predictions, or (stopped,
    diverged) without one; and where its fold models are."""

    ready: CrossValReady


@dataclass
class RangeTestEnded(Message):
    """A learning-rate range test ended; the run it ran on (if any) is as it was before."""

    tested: RangeTested


@dataclass
class ModelSummarized(Message):
    """The layers of the run's model and what it learned, as the model summary shows them."""

    summary: ModelSummary
    parameters: LearnedParameters


@dataclass
class CompareProgressed(Message):
    """An event of a comparison, for the screen that asked for it."""

    event: CompareEvent


@dataclass
class JobEnded(Message):
    """A runner job ended; ``error`` is what it raised (the runner has told the user already), or None."""

    job: Job
    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


_WRAPPERS: dict[type, type[Message]] = {
    events.RunStarted: RunStarted,
    events.TemperatureFitted: TemperatureFitted,
    events.CheckpointSaved: CheckpointSaved,
    events.RunEnded: RunEnded,
    CrossValReady: CrossValEnded,
}


def wrap(event: events.RunStarted | events.TemperatureFitted | events.CheckpointSaved | events.RunEnded
         | crossval.FoldStarted | crossval.FoldEnded | CrossValReady) -> Message:
    """The message that carries ``event``."""
    wrapper = _WRAPPERS.get(type(event)) or _fold_wrappers()[type(event)]
    return wrapper(event)


@functools.cache
def _fold_wrappers() -> dict[type, type[Message]]:
    """The wrappers of a fold's start and end, whose module loads torch: imported by the first worker that
    cross-validates, as the app loads the engine only in workers."""
    from clf_tui.engine.crossval import FoldEnded as FoldEndedEvent, FoldStarted as FoldStartedEvent

    return {FoldStartedEvent: FoldStarted, FoldEndedEvent: FoldEnded}
