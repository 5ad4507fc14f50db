"""Runner: the run session's work in thread workers, what it gives posted as messages. The one module that knows both
worlds."""

from __future__ import annotations

import asyncio
import functools
import gc
import math
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.message import Message
from textual.message_pump import MessagePump
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

from clf_tui.engine import ClfError, RunConfig, RunControl
from clf_tui.engine.events import EpochEnded, EvalReady, Event
from clf_tui.engine.session import OpenedRun, RunSession

from . import messages
from .messages import Job

if TYPE_CHECKING:
    from clf_tui.engine.crossval import FoldEnded, FoldStarted
    from clf_tui.engine.session import CrossValReady

LANE = "run"
"""The group of the jobs that use the session's model: one at a time."""
COMPARE_GROUP = "compare"
EPOCHS_INTERVAL_S = 0.25
"""A training worker posts the epochs that ended at most this often, together: a fast run then wakes the UI
thread four times a second instead of once per epoch (each wake-up takes the GIL from training), and the log and
loss chart draw each batch as it comes."""
EVALUATION_INTERVAL_S = 1.0
"""While training, the latest evaluation is posted at most this often; a run's last one always is. Evaluating
sorts the validation scores, and every millisecond spent on it is one training waits for."""
STOP_TIMEOUT_S = 10.0
FAILURE_TITLES = {
    Job.OPEN: "Could not set up the run",
    Job.TRAIN: "Training failed",
    Job.RESTORE: "Could not open the checkpoint",
    Job.SAVE: "Could not save the checkpoint",
    Job.FIND_LR: "Learning-rate range test failed",
    Job.REGIONS: "Could not draw the decision regions",
    Job.SUMMARY: "Could not summarise the model",
    Job.COMPARE: "Comparison failed",
    Job.CROSS_VALIDATE: "Cross-validation failed",
}


class Runner(Widget):
    """Runs the session's work (build, restore, train, cross-validate, range-test, save, regions, summary,
    compare) in thread workers and posts its results to the app as messages.

    Workers never touch widgets. The jobs that use the session's model run one at a time (the ``run``
    lane, ``busy`` while one is at work); a comparison trains models of its own in a lane of its own. A
    training worker's ``cancelled_event`` is its run's stop flag, so quitting the app also stops training
    after the current batch. Messages go straight to the app: one dispatch per result on the UI thread.

    The engine (torch, scikit-learn) is imported by the first worker that needs it, in its thread, so
    the app paints and answers keys while it loads.
    """

    DEFAULT_CSS = "Runner { display: none; }"

    busy: reactive[bool] = reactive(False, init=False)
    """Whether a job of the run lane is at work (or about to be)."""

    def __init__(self) -> None:
        super().__init__()
        self.session = RunSession()
        self._control: RunControl | None = None
        self._when_idle: Callable[[], object] | None = None
        self._compare_target: MessagePump | None = None

    # -- the run lane ---------------------------------------------------------------------

    def open(self, config: RunConfig) -> None:
        """Build a run (data, model, optimiser) from ``config``."""
        self._start(Job.OPEN, lambda: self._opened(self.session.open(config)))

    def restore(self, path: str) -> None:
        """Rebuild the run saved in ``path``, its history and the evaluation of its weights."""

        def restore() -> None:
            opened, evaluated = self.session.restore(path)
            self._opened(opened)
            if evaluated is not None:
                self.app.post_message(messages.Evaluated(evaluated))

        self._start(Job.RESTORE, restore)

    def train(self, config: RunConfig, *, new_run: bool) -> None:
        """Train ``config.epochs`` more epochs of the run, or of a new one built from ``config`` first."""

        def train() -> None:
            held = _HeldEvents(self.app.post_message, self.session)
            control = _PostingControl(held, stop_event=get_current_worker().cancelled_event)
            self._control = control
            try:
                for item in self.session.train(config, new_run=new_run, control=control):
                    if isinstance(item, OpenedRun):
                        self._opened(item)
                    else:
                        held.add(item)
            finally:  # a failing run still shows the epochs it finished
                held.post()

        self._start(Job.TRAIN, train)

    def cross_validate(self, config: RunConfig) -> None:
        """Cross-validate ``config`` (``RunSession.cross_validate``): each fold's run posted as a run's is, between
        its FoldStarted and FoldEnded; paused and stopped as a run is."""

        def cross_validate() -> None:
            held = _HeldEvents(self.app.post_message, self.session)
            control = _PostingControl(held, stop_event=get_current_worker().cancelled_event)
            self._control = control
            try:
                for item in self.session.cross_validate(config, control=control):
                    _freeze_loaded_objects()  # the first event comes once the engine and the data are loaded
                    held.add(item)
            finally:  # a failing fold still shows the epochs it finished
                held.post()

        self._start(Job.CROSS_VALIDATE, cross_validate)

    def find_lr(self, config: RunConfig, *, on_held: bool, adopt: bool) -> None:
        """The learning-rate range test (``RunSession.find_lr``)."""

        def find_lr() -> None:
            control = RunControl(stop_event=get_current_worker().cancelled_event)
            for item in self.session.find_lr(config, on_held=on_held, adopt=adopt, control=control):
                if isinstance(item, OpenedRun):
                    self._opened(item)
                else:
                    self.app.post_message(messages.RangeTestEnded(item))

        self._start(Job.FIND_LR, find_lr)

    def save(self, path: Path, threshold: float) -> Worker[None]:
        """Write the run's checkpoint, ``threshold`` included, to ``path``; the worker, to wait for."""
        return self._start(Job.SAVE, lambda: self.app.post_message(messages.wrap(self.session.save(path, threshold))))

    def draw_regions(self, size: tuple[int, int], *, now: bool) -> None:
        """Compute region grids of ``size`` from now on; ``now``, the current model's too, unless another job is
        using it (its next evaluation comes with the regions)."""
        self.session.region_size = size
        if now and not self.busy and self.session.trainer is not None:
            self._start(Job.REGIONS, self._post_regions)

    def _post_regions(self) -> None:
        regions = self.session.regions()
        if regions is not None:
            self.app.post_message(messages.RegionsDrawn(regions))

    def summarize(self) -> None:
        """The layers of the run's model (its forward pass needs the model to itself)."""
        self._start(Job.SUMMARY, lambda: self.app.post_message(messages.ModelSummarized(*self.session.summary())))

    def after_current_job(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the run lane's job at work (or the next to start) has ended well, after the app
        has heard of its end; a failure forgets it, as does a later call."""
        self._when_idle = callback

    def _start(self, job: Job, work: Callable[[], None]) -> Worker[None]:
        if self._workers(LANE):  # the workers, not ``busy``: a job just ended is idle before its end is handled
            raise RuntimeError(f"{job.value}: the run is busy")  # the app asks only when it is not
        self.busy = True
        return self.run_worker(work, name=job.value, group=LANE, thread=True, exit_on_error=False)

    def _opened(self, opened: OpenedRun) -> None:
        _freeze_loaded_objects()
        self.app.post_message(messages.RunOpened(opened))
        if self.session.region_size is not None:
            self._post_regions()  # an untrained model's regions, until the first epoch's arrive

    def working_on(self, job: Job) -> bool:
        """Whether ``job`` is the run lane's work now."""
        return any(worker.name == job.value for worker in self._workers(LANE))

    def pause(self) -> None:
        if self._control is not None:
            self._control.pause()

    def resume(self) -> None:
        if self._control is not None:
            self._control.resume()

    def stop(self) -> None:
        """Ask the run lane's work to end after the current batch (a paused run ends too).

        This sets the workers' ``cancelled_event`` without cancelling their asyncio tasks, so each
        worker stays running until its thread has really finished, and ``busy`` tells the truth.
        """
        for worker in self._workers(LANE):
            worker.cancelled_event.set()

    async def stop_and_wait(self) -> None:
        """Stop the run lane's work and wait (at most STOP_TIMEOUT_S) until its thread has finished."""
        workers = self._workers(LANE)
        self.stop()
        if workers:
            # A failure was already reported by the state handler; here only the end matters.
            waits = asyncio.gather(*(worker.wait() for worker in workers), return_exceptions=True)
            try:
                await asyncio.wait_for(waits, STOP_TIMEOUT_S)
            except TimeoutError:
                pass  # still inside a long batch: the flag stops it there, after the app has gone

    # -- comparisons ----------------------------------------------------------------------

    def compare(self, configs: Sequence[RunConfig], n_seeds: int, labels: Sequence[str], *,
                reply_to: MessagePump) -> None:
        """Train ``configs`` over ``n_seeds`` seeds; ``reply_to`` gets the progress and the results."""
        self._compare_target = reply_to

        def compare() -> None:
            control = RunControl(stop_event=get_current_worker().cancelled_event)
            for event in _throttled_progress(self.session.compare(configs, n_seeds, labels, control)):
                reply_to.post_message(messages.CompareProgressed(event))

        self.run_worker(compare, name=Job.COMPARE.value, group=COMPARE_GROUP, thread=True, exit_on_error=False)

    @property
    def comparing(self) -> bool:
        return bool(self._workers(COMPARE_GROUP))

    def cancel_comparison(self) -> bool:
        """Ask a running comparison to end after its batch; False if none runs (or it is ending already)."""
        workers = [worker for worker in self._workers(COMPARE_GROUP) if not worker.cancelled_event.is_set()]
        for worker in workers:
            worker.cancelled_event.set()
        return bool(workers)

    # -- the end of every job ---------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a job's end is told: a failure becomes a notification (the app stays up), the
        app hears which job ended, and work waiting for the lane starts.

        A ClfError is the user's to fix and says how in one line; anything else is a bug, shown with its type
        and logged with its traceback.
        """
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        worker = event.worker
        job = Job(worker.name)
        error = worker.error if event.state == WorkerState.ERROR else None
        if error is not None:
            title = FAILURE_TITLES[job]
            if not isinstance(error, ClfError):
                title += " (unexpected)"
                self.log.error("".join(traceback.format_exception(error)))
            # A dialog on top says it itself (the compare screen in its status line); the status line keeps the
            # reason in any case. Messages quote paths, typed values and column names: never read as markup.
            if not isinstance(self.app.screen, ModalScreen):
                self.notify(failure_text(error), title=title, severity="error", timeout=12, markup=False)
        ended = messages.JobEnded(job, error)
        if job is Job.COMPARE and self._compare_target is not None:
            self._compare_target.post_message(messages.JobEnded(job, error))
        self.app.post_message(ended)
        if worker.group == LANE:
            self.busy = bool(self._workers(LANE))
            waiting, self._when_idle = self._when_idle, None
            if waiting is not None and error is None and not self.busy:
                self.app.call_later(waiting)  # after the app has heard of this job's end

    def _workers(self, group: str) -> list[Worker[Any]]:
        return [worker for worker in self.workers if worker.group == group and not worker.is_finished]


def failure_text(error: BaseException) -> str:
    """A job's failure in one line: a ClfError's own message, anything else with its type."""
    return error.message if isinstance(error, ClfError) else f"{type(error).__name__}: {error}"


@functools.cache
def _freeze_loaded_objects() -> None:
    """Leave every object alive now out of garbage collection, once the engine is loaded: mostly the modules of
    torch, scikit-learn and Textual, about 250k objects that a full collection would otherwise scan, for 0.1-0.2 s
    each time, in the middle of training and redraws alike."""
    gc.collect()
    gc.freeze()


class _HeldEvents:
    """The events of a training worker, posted to the app in order, the epochs of a fast run together.

    Epochs are held until EPOCHS_INTERVAL_S has passed since the last post, then go out in one message;
    the latest evaluation goes with them when EVALUATION_INTERVAL_S has passed since the last one went
    (only the latest is ever drawn, so a newer one replaces a held one), evaluated only then. Any other
    event first posts all that is held. Used from the worker's thread only, so nothing can overtake.
    """

    def __init__(self, post: Callable[[Message], object], session: RunSession) -> None:
        self._post = post
        self._session = session
        self._epochs: list[EpochEnded] = []
        self._evaluation: EvalReady | None = None
        self._epochs_at = self._evaluation_at = -math.inf

    def add(self, event: Event | FoldStarted | FoldEnded | CrossValReady) -> None:
        if isinstance(event, EpochEnded):
            self._epochs.append(event)
            if time.monotonic() - self._epochs_at >= EPOCHS_INTERVAL_S:
                self.post(final=False)
        elif isinstance(event, EvalReady):
            self._evaluation = event
            if not self._epochs and time.monotonic() - self._evaluation_at >= EVALUATION_INTERVAL_S:
                self.post(final=False)
        else:
            self.post()
            self._post(messages.wrap(event))

    def post(self, *, final: bool = True) -> None:
        """Post the epochs held in one message, then the evaluation held if its interval has passed (or if
        ``final``: before any other event, a pause, the run's end)."""
        now = time.monotonic()
        if self._epochs:
            self._post(messages.EpochsEnded(tuple(self._epochs)))
            self._epochs, self._epochs_at = [], now
        if self._evaluation is not None and (final or now - self._evaluation_at >= EVALUATION_INTERVAL_S):
            self._post(messages.Evaluated(self._session.evaluated(self._evaluation, intervals=final)))
            self._evaluation, self._evaluation_at = None, now


class _PostingControl(RunControl):
    """A RunControl that posts what is held before the run blocks on pause, so a paused run shows it all."""

    def __init__(self, held: _HeldEvents, stop_event: threading.Event) -> None:
        super().__init__(stop_event=stop_event)
        self._held = held

    def wait_while_paused(self) -> float:
        if self.paused:
            self._held.post()
        return super().wait_while_paused()


def _throttled_progress(events: Iterable[Any]) -> Iterable[Any]:
    """A comparison's events, its epoch progress at most every EPOCHS_INTERVAL_S (a fast comparison ends
    thousands of epochs a second)."""
    from clf_tui.engine.comparison import SeedsEpochEnded

    last = -math.inf
    for event in events:
        if isinstance(event, SeedsEpochEnded):
            now = time.monotonic()
            if now - last < EPOCHS_INTERVAL_S:
                continue
            last = now
        yield event

