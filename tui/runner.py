"""Runner: the engine's work in thread workers, its events forwarded as messages. The one module that knows both worlds."""

from __future__ import annotations

import asyncio
import math
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

from clf_tui import engine
from clf_tui.engine import ClfError, RunConfig, RunControl
from clf_tui.engine.events import CheckpointSaved, EpochEnded, EvalReady, Event
from clf_tui.engine.regions import RegionGrid, grid_probabilities
from clf_tui.engine.replay import EpochRecords

from .messages import EpochsEnded, LRRangeTested, TrainerReady, WorkFinished, wrap

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit
    from clf_tui.engine import Trainer

TRAINING_GROUP = "training"
FORWARD_INTERVAL_S = 0.1
"""A training worker posts the epochs that ended at most this often, together: a fast run then wakes
the UI thread ten times a second instead of once per epoch (each wake-up takes the GIL from training)."""
STOP_TIMEOUT_S = 10.0
FAILURE_TITLES = {
    "prepare": "Could not set up the run",
    "train": "Training failed",
    "restore": "Could not open the checkpoint",
    "save": "Could not save the checkpoint",
    "find_lr": "Learning-rate range test failed",
}


class Runner(Widget):
    """Builds, trains, range-tests, saves and restores trainers in thread workers; posts what happens to the app.

    Workers never touch widgets, and the app leaves a trainer alone while a worker of the
    ``training`` group runs: at most one runs at a time (``exclusive``). A training worker's
    ``cancelled_event`` is its run's stop flag, so quitting the app also stops training
    after the current batch. Messages go straight to the app, not bubbling up from here:
    that is one dispatch per event on the UI thread instead of three.

    The engine (torch, scikit-learn) is imported by the first worker that needs it, in its
    thread, so the app paints and answers keys while it loads.
    """

    DEFAULT_CSS = "Runner { display: none; }"

    def __init__(self) -> None:
        super().__init__()
        self._control: RunControl | None = None
        self.records: EpochRecords | None = None
        """The evaluations of the latest trainer's epochs, for replay; workers add to them, the app reads."""
        self.region_size: tuple[int, int] | None = None
        """(columns, rows) of the decision-region grid to compute with each evaluation, set by the app from
        its pane; None for no regions."""
        self._recorded: Trainer | None = None
        self._grid: RegionGrid | None = None
        self._grid_data: DataSplit | None = None

    @property
    def busy(self) -> bool:
        """Whether a worker of the training group (building, training, range-testing or restoring) is still at work."""
        return bool(self._training_workers())

    def working_on(self, work: str) -> bool:
        """Whether the training group's worker at work is ``work`` (prepare, train, restore, find_lr)."""
        return any(worker.name == work for worker in self._training_workers())

    def forward(self, event: Event) -> None:
        """Post ``event`` to the app as its message; safe from any thread."""
        self.app.post_message(wrap(event))

    @work(thread=True, exclusive=True, exit_on_error=False, group=TRAINING_GROUP)
    def prepare(self, config: RunConfig) -> None:
        """Build a trainer (data, model, optimiser) from ``config``."""
        self.app.post_message(TrainerReady(engine.Trainer.from_config(config), origin="config"))

    @work(thread=True, exclusive=True, exit_on_error=False, group=TRAINING_GROUP)
    def train(self, trainer: Trainer | None, config: RunConfig, n_epochs: int) -> None:
        """Train ``n_epochs`` more epochs; with no trainer, first build one from ``config``."""
        held = _HeldEvents(self.app.post_message)
        control = _PostingControl(held, stop_event=get_current_worker().cancelled_event)
        self._control = control
        if trainer is None:
            trainer = engine.Trainer.from_config(config)
            self.app.post_message(TrainerReady(trainer, origin="config"))
        try:
            for event in trainer.run(n_epochs, control=control):
                if isinstance(event, EvalReady):
                    self.record(trainer, event)
                held.add(event)
        finally:  # a failing run still shows the epochs it finished
            held.post()

    @work(thread=True, exclusive=True, exit_on_error=False, group=TRAINING_GROUP)
    def restore(self, path: str) -> None:
        """Rebuild the run saved in ``path``, then replay its history and evaluate its weights."""
        trainer = engine.Trainer.from_checkpoint(path)
        self.app.post_message(TrainerReady(trainer, origin=path))
        history = trainer.history
        if history:
            self.app.post_message(EpochsEnded(history))
        if trainer.total_epochs:
            y_true, y_prob = trainer.evaluate()
            event = EvalReady(trainer.total_epochs, y_true, y_prob)
            self.record(trainer, event)
            self.forward(event)

    def record(self, trainer: Trainer, event: EvalReady) -> None:
        """Keep ``event`` for replay, with the model's decision regions for two-feature data; in the worker's thread,
        between two epochs, so the model is not training."""
        if self._recorded is not trainer or self.records is None:
            self.records, self._recorded = EpochRecords(event.y_true), trainer
        grid, grid_prob = self.regions(trainer) or (None, None)
        self.records.add(event.epoch, event.y_prob, grid, grid_prob)

    def regions(self, trainer: Trainer) -> tuple[RegionGrid, np.ndarray] | None:
        """The model's probabilities over a grid of ``region_size`` that covers the trainer's data (both splits);
        None without two features or a size. Call it only where nothing trains the model meanwhile."""
        size, data = self.region_size, trainer.data
        if size is None or data is None or data.n_features != 2:
            return None
        if self._grid is None or self._grid_data is not data or (self._grid.nx, self._grid.ny) != size:
            self._grid_data = data
            extremes = [split.min(axis=0) for split in (data.X_train, data.X_val) if len(split)]
            extremes += [split.max(axis=0) for split in (data.X_train, data.X_val) if len(split)]
            self._grid = RegionGrid.covering(np.stack(extremes), *size)  # the extremes are all a grid needs
        return self._grid, grid_probabilities(trainer, self._grid)

    @work(thread=True, exclusive=True, exit_on_error=False, group=TRAINING_GROUP)
    def find_lr(self, trainer: Trainer | None, config: RunConfig, *, adopt: bool) -> None:
        """Run the learning-rate range test on ``trainer``, which comes back as it was; with no trainer,
        on one built from ``config``, handed to the app as its run if ``adopt``. A model built only for the
        test leaves torch's generator where the app's run left it, for that run's dropout."""
        control = RunControl(stop_event=get_current_worker().cancelled_event)
        if trainer is not None:
            self.app.post_message(LRRangeTested(engine.find_lr(trainer, control=control), trainer.total_epochs))
            return
        import torch  # in this worker's thread, as the engine is: never on the UI thread before the first frame

        with torch.random.fork_rng(enabled=not adopt):  # building the model seeds torch's generators
            trainer = engine.Trainer.from_config(config)
            if adopt:
                self.app.post_message(TrainerReady(trainer, origin="config"))
            result = engine.find_lr(trainer, control=control)
        self.app.post_message(LRRangeTested(result, trainer.total_epochs))

    @work(thread=True, exit_on_error=False, group="checkpoint")
    def save(self, trainer: Trainer, path: Path) -> None:
        """Write ``trainer``'s checkpoint (its ``threshold`` included) to ``path``."""
        saved = trainer.save_checkpoint(path)
        self.forward(CheckpointSaved(str(saved), trainer.total_epochs))

    def pause(self) -> None:
        if self._control is not None:
            self._control.pause()

    def resume(self) -> None:
        if self._control is not None:
            self._control.resume()

    def stop(self) -> None:
        """Ask the training group's work to end after the current batch (a paused run ends too).

        This sets the workers' ``cancelled_event`` without cancelling their asyncio tasks, so each
        worker stays running until its thread has really finished, and ``busy`` tells the truth.
        """
        for worker in self._training_workers():
            worker.cancelled_event.set()

    async def stop_and_wait(self) -> None:
        """Stop training and wait (at most STOP_TIMEOUT_S) until its thread has finished."""
        workers = self._training_workers()
        self.stop()
        if workers:
            # A failure was already reported by the app's state handler; here only the end matters.
            waits = asyncio.gather(*(worker.wait() for worker in workers), return_exceptions=True)
            try:
                await asyncio.wait_for(waits, STOP_TIMEOUT_S)
            except TimeoutError:
                pass  # still inside a long batch: the flag stops it there, after the app has gone

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a worker's failure becomes a notification; the app stays up.

        A ClfError is the user's to fix and says how in one line; anything else is a bug,
        shown with its type and logged with its traceback.
        """
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        worker = event.worker
        error = worker.error if event.state == WorkerState.ERROR else None
        if error is not None:
            title = FAILURE_TITLES.get(worker.name, "Error")
            # Messages quote paths, typed values and column names, so "[" in them must not be read as markup.
            if isinstance(error, ClfError):
                self.notify(error.message, title=title, severity="error", timeout=12, markup=False)
            else:
                self.notify(f"{type(error).__name__}: {error}", title=f"{title} (unexpected)", severity="error",
                            timeout=20, markup=False)
                self.log.error("".join(traceback.format_exception(error)))
        self.app.post_message(WorkFinished(worker.name, failed=error is not None))

    def _training_workers(self) -> list[Worker]:
        return [worker for worker in self.workers if worker.group == TRAINING_GROUP and not worker.is_finished]


class _HeldEvents:
    """The events of a training worker, posted to the app in order, the epochs of a fast run together.

    Epochs are held until FORWARD_INTERVAL_S has passed since the last post, then go out in one
    message. An evaluation goes out at once unless epochs are held (then with them): only the
    latest is ever drawn, so a newer one replaces a held one. Any other event first posts what
    is held. Used from the worker's thread only, so nothing can overtake.
    """

    def __init__(self, post: Callable[[Message], object]) -> None:
        self._post = post
        self._epochs: list[EpochEnded] = []
        self._evaluation: EvalReady | None = None
        self._posted_at = -math.inf

    def add(self, event: Event) -> None:
        if isinstance(event, EpochEnded):
            self._epochs.append(event)
            if time.monotonic() - self._posted_at >= FORWARD_INTERVAL_S:
                self.post()
        elif isinstance(event, EvalReady):
            self._evaluation = event
            if not self._epochs:
                self.post()
        else:
            self.post()
            self._post(wrap(event))

    def post(self) -> None:
        """Post what is held: the epochs in one message, then the evaluation."""
        if self._epochs:
            self._post(EpochsEnded(self._epochs))
            self._posted_at = time.monotonic()
        if self._evaluation is not None:
            self._post(wrap(self._evaluation))
        self._epochs, self._evaluation = [], None


class _PostingControl(RunControl):
    """A RunControl that posts the held epochs before the run blocks on pause, so a paused run shows them all."""

    def __init__(self, held: _HeldEvents, stop_event: threading.Event) -> None:
        super().__init__(stop_event=stop_event)
        self._held = held

    def wait_while_paused(self) -> float:
        if self.paused:
            self._held.post()
        return super().wait_while_paused()
