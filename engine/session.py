"""RunSession: one run as an app drives it. It owns the trainer and all that is derived from the live model (the
evaluations kept for replay, the decision-region grids, the threshold a save writes) and hands out plain,
immutable results: an app never holds the model, and never runs it on its own thread."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .atomic import claim_new_folder
from .comparison import CompareEvent
from .config import RunConfig
from .control import RunControl
from .evaluation import Evaluation
from .events import CheckpointSaved, EpochEnded, EvalReady, Event
from .regions import RegionGrid, grid_probabilities
from .replay import EpochRecords

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit

    from .crossval import CrossValEnded, CrossValEvent
    from .lr_finder import LRFinderResult
    from .parameters import LearnedParameters
    from .summary import ModelSummary
    from .trainer import Trainer


@dataclass(frozen=True, eq=False)
class OpenedRun:
    """A run just built from a config or restored from a checkpoint: what an app shows of it.

    ``records`` is where the session keeps each epoch's evaluation for replay; it only grows, under a lock,
    so an app may read it while a worker adds to it.
    """

    config: RunConfig | None
    data: DataSplit
    device: str
    device_note: str
    epoch: int
    """Epochs trained so far."""
    threshold: float
    """The decision threshold saved with the run (0.5 for a new one)."""
    history: tuple[EpochEnded, ...]
    records: EpochRecords
    checkpoint: str | None = None
    """The file it was restored from; None for a run built from a config."""


@dataclass(frozen=True, eq=False)
class EvaluationReady:
    """An epoch's validation predictions, evaluated, with the model's decision regions (two-feature data only)."""

    evaluation: Evaluation
    grid: RegionGrid | None = None
    grid_prob: np.ndarray | None = None

    @property
    def epoch(self) -> int:
        return self.evaluation.epoch


@dataclass(frozen=True, eq=False)
class RegionsReady:
    """The current model's decision regions over ``grid``: (ny, nx) P(class 1), or (ny, nx, k)."""

    grid: RegionGrid
    probability: np.ndarray
    epoch: int


@dataclass(frozen=True, eq=False)
class RangeTested:
    """A learning-rate range test's result, and the epoch of the weights it ran on (0: fresh ones)."""

    result: LRFinderResult
    epoch: int


@dataclass(frozen=True, eq=False)
class CrossValReady:
    """A cross-validation's end: how it ended, the folder its fold models went to and the files saved there, and,
    when every fold finished, the evaluation of the pooled out-of-fold predictions (each row once, predicted by
    the model that did not train on it)."""

    ended: CrossValEnded
    folder: str
    checkpoints: tuple[str, ...]
    evaluation: Evaluation | None


class RunSession:
    """The trainer of the run an app shows, and what is derived from its model.

    Its methods are called from one worker thread at a time (the app's runner sees to it), never
    while another trains the model. ``region_size`` may be set from any thread: each grid is
    computed at the size it holds then.
    """

    def __init__(self) -> None:
        self.trainer: Trainer | None = None
        self.records: EpochRecords | None = None
        self.region_size: tuple[int, int] | None = None
        """(columns, rows) of the decision-region grids to compute; None for none."""
        self._grid: RegionGrid | None = None
        self._grid_data: DataSplit | None = None

    # -- opening a run ---------------------------------------------------------------

    def open(self, config: RunConfig) -> OpenedRun:
        """Build a new run (data, model, optimiser) from ``config``; it replaces the one held."""
        from .trainer import Trainer

        return self.adopt(Trainer.from_config(config))

    def restore(self, path: str | os.PathLike[str]) -> tuple[OpenedRun, EvaluationReady | None]:
        """Rebuild the run saved in ``path``, and evaluate its weights (None before its first epoch)."""
        from .trainer import Trainer

        trainer = Trainer.from_checkpoint(path)
        opened = self.adopt(trainer, checkpoint=str(path))
        if not trainer.total_epochs:
            return opened, None
        y_true, y_prob = trainer.evaluate()
        return opened, self.evaluated(self.record(EvalReady(trainer.total_epochs, y_true, y_prob)), intervals=True)

    def adopt(self, trainer: Trainer, *, records: EpochRecords | None = None,
              checkpoint: str | None = None) -> OpenedRun:
        """Hold ``trainer`` as the session's run (with ``records`` of its epochs kept so far, if any)."""
        if trainer.data is None:
            raise ValueError("a session runs trainers that know their data (Trainer.from_config)")
        self.trainer = trainer
        self.records = records
        return OpenedRun(trainer.config, trainer.data, str(trainer.device), trainer.device_note, trainer.total_epochs,
                         trainer.threshold, tuple(trainer.history), self._records(trainer), checkpoint)

    def _records(self, trainer: Trainer) -> EpochRecords:
        if self.records is None:
            assert trainer.data is not None
            self.records = EpochRecords(trainer.data.y_val)
        return self.records

    # -- training ---------------------------------------------------------------------

    def train(self, config: RunConfig, *, new_run: bool, control: RunControl) -> Iterator[OpenedRun | Event]:
        """Train ``config.epochs`` more epochs of the run held, or of a new one built from ``config`` first
        (then its OpenedRun comes first). Each evaluation is kept for replay, with the model's regions, as
        it arrives; ``evaluated`` turns the one an app is to draw into an EvaluationReady."""
        if new_run or self.trainer is None:
            yield self.open(config)
        trainer = self.trainer
        assert trainer is not None
        for event in trainer.run(config.epochs, control=control):
            if isinstance(event, EvalReady):
                self.record(event)
            yield event

    def record(self, event: EvalReady) -> EvalReady:
        """Keep ``event``'s probabilities for replay, with the model's decision regions for two-feature data;
        called between two epochs, when the model is not training."""
        assert self.trainer is not None
        grid, grid_prob = self._current_regions() or (None, None)
        self._records(self.trainer).add(event.epoch, event.y_prob, grid, grid_prob)
        return event

    def evaluated(self, event: EvalReady, *, intervals: bool = False) -> EvaluationReady:
        """``event`` evaluated for drawing (sorted once, so that each threshold then costs O(log n)), with the
        regions recorded for its epoch; with ``intervals``, the bootstrap intervals of AUROC and AP of every class
        too (up to a few tenths of a second: for the evaluation a run ends or pauses on, not each epoch's)."""
        assert self.trainer is not None and self.trainer.data is not None
        evaluation = Evaluation(event.epoch, event.y_true, event.y_prob, self.trainer.data.class_names)
        if intervals:
            for positive in [1] if evaluation.is_binary else range(evaluation.n_classes):
                evaluation.ranking_intervals(positive)
        record = self.records.get(event.epoch) if self.records is not None else None
        if record is None or record.grid is None:
            return EvaluationReady(evaluation)
        return EvaluationReady(evaluation, record.grid, record.grid_prob)

    # -- what the model shows now ---------------------------------------------------------

    def regions(self) -> RegionsReady | None:
        """The current model's decision regions at ``region_size``; None without two features or a size."""
        regions = self._current_regions()
        if regions is None:
            return None
        assert self.trainer is not None
        return RegionsReady(*regions, self.trainer.total_epochs)

    def _current_regions(self) -> tuple[RegionGrid, np.ndarray] | None:
        trainer, size = self.trainer, self.region_size
        data = trainer.data if trainer is not None else None
        if trainer is None or size is None or data is None or data.n_features != 2:
            return None
        if self._grid is None or self._grid_data is not data or (self._grid.nx, self._grid.ny) != size:
            self._grid_data = data
            extremes = [split.min(axis=0) for split in (data.X_train, data.X_val) if len(split)]
            extremes += [split.max(axis=0) for split in (data.X_train, data.X_val) if len(split)]
            self._grid = RegionGrid.covering(np.stack(extremes), *size)  # the extremes are all a grid needs
        return self._grid, grid_probabilities(trainer, self._grid)

    def summary(self) -> tuple[ModelSummary, LearnedParameters]:
        """Each layer of the model held, its output shape and parameters; and what it learned, its weights and the
        gradient norms of the training loss at them."""
        from .parameters import learned_parameters
        from .summary import summarize

        trainer = self._held()
        assert trainer.data is not None
        return summarize(trainer.unwrapped_model, trainer.data.n_features), learned_parameters(trainer)

    def save(self, path: str | os.PathLike[str], threshold: float) -> CheckpointSaved:
        """Write the run held to ``path``, with ``threshold`` as its decision threshold."""
        trainer = self._held()
        trainer.threshold = threshold
        saved = trainer.save_checkpoint(path)
        return CheckpointSaved(str(saved), trainer.total_epochs)

    # -- cross-validation ---------------------------------------------------------------------

    def cross_validate(self, config: RunConfig, *, control: RunControl) -> Iterator[CrossValEvent | CrossValReady]:
        """Cross-validate ``config`` (``engine.crossval``), saving each fold's model as ``fold-K.pt`` in a new
        folder under ``config.out_dir``; its events, less each epoch's evaluation of a fold (the fold's model is
        never held, and only the pooled predictions are drawn), then a CrossValReady for its CrossValEnded.

        The run held is let go first: each fold builds a model of its own, and none stays to save or draw.
        A folder nothing was saved in (the data failed to load) is removed again.
        """
        from .crossval import CrossValEnded, FoldEnded, cross_validate

        self.trainer, self.records = None, None
        folder = claim_new_folder(Path(config.out_dir) / f"{Path(config.dataset).stem}-{config.folds}-folds-"
                                  f"{time.strftime('%Y%m%d-%H%M%S')}")
        checkpoints: list[str] = []
        try:
            for event in cross_validate(config, control=control, checkpoint_dir=folder):
                if isinstance(event, FoldEnded) and event.checkpoint is not None:
                    checkpoints.append(event.checkpoint)
                if isinstance(event, CrossValEnded):
                    yield CrossValReady(event, str(folder), tuple(checkpoints), _pooled(event))
                elif not isinstance(event, EvalReady):
                    yield event
        finally:
            _remove_if_empty(folder)

    # -- work on models of its own ------------------------------------------------------------

    def find_lr(self, config: RunConfig, *, on_held: bool, adopt: bool, control: RunControl) -> Iterator[
            OpenedRun | RangeTested]:
        """The learning-rate range test on the held run's weights (``on_held``), which come back as they were;
        else on a model built from ``config``, held from then on if ``adopt`` (its OpenedRun comes first). A
        model built only for the test leaves torch's generator where the held run left it, for its dropout."""
        import torch

        from .lr_finder import find_lr

        if on_held:
            trainer = self._held()
            yield RangeTested(find_lr(trainer, control=control), trainer.total_epochs)
        elif adopt:
            yield self.open(config)
            yield RangeTested(find_lr(self._held(), control=control), 0)
        else:
            from .trainer import Trainer

            with torch.random.fork_rng():  # building the model seeds torch's generators
                result = find_lr(Trainer.from_config(config), control=control)
            yield RangeTested(result, 0)

    def compare(self, configs: Sequence[RunConfig], n_seeds: int, labels: Sequence[str],
                control: RunControl) -> Iterator[CompareEvent]:
        """A comparison (``engine.compare``) on models of its own; torch's generators stay as the held run left
        them, for its dropout."""
        import torch

        from .compare import compare

        with torch.random.fork_rng():  # building each seed's model seeds torch's generators
            yield from compare(configs, n_seeds, labels=labels, control=control)

    def _held(self) -> Trainer:
        if self.trainer is None:
            raise RuntimeError("no run is open")
        return self.trainer


def _pooled(ended: CrossValEnded) -> Evaluation | None:
    """The out-of-fold predictions evaluated for drawing, with the intervals of their ranking; None without a
    result."""
    result = ended.result
    if result is None:
        return None
    # Epoch 0: pooled from every fold's last epoch, they are no one epoch's predictions.
    evaluation = Evaluation(0, result.y_true, result.y_prob, result.class_names)
    for positive in [1] if evaluation.is_binary else range(evaluation.n_classes):
        evaluation.ranking_intervals(positive)
    return evaluation


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # it holds fold models (or is gone): keep it as it is
        pass
