"""Trainer: the course's StepByStep surface over an epoch loop that yields events."""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from . import checkpoint, distributed, graphed, loader_batches, metrics
from .batching import TensorBatches
from .build import VAL_CHUNK_ROWS, build_optimizer_for, build_parts, load_data, load_folds, split_tensors
from .calibration import apply_temperature, fit_temperature, reliabilities
from .config import RunConfig
from .control import RunControl
from .costs import Costs, least_cost_threshold
from .device import resolve_device
from clf_tui.errors import CheckpointError, ClfError, ConfigError
from .events import CheckpointSaved, EpochEnded, EvalReady, Event, RunEnded, RunStarted, TemperatureFitted
from .losses import LossSpec
from .optimizers import prefer_fused
from .snapshot import Snapshot, copy_tree
from .stopping import DivergenceWatch, EarlyStopping, EarlyStoppingWatch

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit


@dataclass(frozen=True)
class EpochPass:
    """One pass over the training data: the mean loss, the first batch's loss and the seconds paused."""

    mean_loss: float
    first_batch_loss: float
    paused_s: float


class _CheckpointClock:
    """When a run writes a checkpoint before its end: at the end of every ``checkpoint_every_epochs``-th epoch
    of the trainer's life, or of the first epoch to end ``checkpoint_every_s`` seconds or more after the last
    checkpoint (or the run's start). 0 turns either rule off; with no config, both are off."""

    def __init__(self, config: RunConfig | None) -> None:
        self.every_s = config.checkpoint_every_s if config is not None else 0.0
        self.every_epochs = config.checkpoint_every_epochs if config is not None else 0
        self.last_s = time.monotonic()

    def due(self, epoch: int) -> bool:
        by_epochs = self.every_epochs > 0 and epoch % self.every_epochs == 0
        return by_epochs or (self.every_s > 0 and time.monotonic() - self.last_s >= self.every_s)

    def restart(self) -> None:
        self.last_s = time.monotonic()


class Trainer:
    """Trains a classifier: ``Trainer(model, loss_fn, optimizer)``, then ``set_loaders`` and ``train``.

    ``train(n)`` called again continues the run (epochs count on; nothing is
    reseeded), so training 10 + 10 epochs equals training 20. ``run(n)`` is the
    same loop as an iterator of events, for UIs and progress bars. An SGD, Adam or
    AdamW left on torch's default implementation steps with its fused kernel
    (``prefer_fused``); a DataLoader over a TensorDataset is read a batch at a time
    (``loader_batches``). Both keep the run the course loop would give.

    ``history`` holds one EpochEnded per finished epoch (its losses, validation metrics
    and duration); the course's ``losses`` and ``val_losses`` are views of it.
    """

    cuda_graphs: bool = True
    """On CUDA, replay each full batch's step from a captured CUDA graph where ``graph_refusal`` allows; set it to
    False on a trainer to step eagerly."""
    step_graph: graphed.StepGraph | None = None
    """The captured training step, once an epoch on CUDA has captured one."""

    def __init__(
        self,
        model: nn.Module,
        loss_fn: nn.Module,
        optimizer: torch.optim.Optimizer,
        *,
        spec: LossSpec | None = None,
    ) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        prefer_fused(optimizer)
        self.spec = spec if spec is not None else LossSpec.of_module(loss_fn)
        first = next(model.parameters(), None)
        self.device = first.device if first is not None else torch.device("cpu")
        self.device_note = str(self.device)
        self.train_loader: Any = None
        self.val_loader: Any = None
        self.generator = torch.Generator()
        self.history: list[EpochEnded] = []
        self.total_epochs = 0
        self.threshold = 0.5
        self.temperature = 1.0
        """Probabilities are sigmoid(logit / T) (softmax for several classes): 1 until ``fit_temperature``."""
        self.costs: Costs | None = None
        """The costs of errors that chose ``threshold`` (the config's ``cost_fp`` and ``cost_fn``), or None."""
        self.fold: int | None = None
        """Which of the config's ``folds`` this trainer's data is (from 1), in a cross-validation; else None."""
        self.early_stopping: EarlyStopping | None = None
        self.early_stopping_watch: EarlyStoppingWatch[dict[str, torch.Tensor]] = EarlyStoppingWatch()
        self.config: RunConfig | None = None
        self.data: DataSplit | None = None
        self.default_seed = 42
        self.launch: distributed.Launch | None = None
        self._seeded = False
        self._n_classes: int | None = None

    # -- the course surface -------------------------------------------------

    @property
    def losses(self) -> list[float]:
        """The training loss of every finished epoch."""
        return [record.train_loss for record in self.history]

    @property
    def val_losses(self) -> list[float]:
        """The validation loss of every finished epoch (none without a validation loader)."""
        return [record.val_loss for record in self.history if record.val_loss is not None]

    @property
    def val_metrics(self) -> list[dict[str, float]]:
        """The validation metrics of every finished epoch."""
        return [record.metrics for record in self.history]

    def to(self, device: str | torch.device) -> Trainer:
        """Move model, loss, optimiser state and the engine's batches to ``device``.

        Strings go through ``resolve_device``: "auto", "cpu", "cuda", "cuda:N"; asking
        for CUDA where there is none raises DeviceError.
        """
        if isinstance(device, torch.device):
            device = str(device)
        self.device, self.device_note = resolve_device(device)
        self.model.to(self.device)
        self.loss_fn.to(self.device)
        for state in self.optimizer.state.values():
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and key != "step":
                    state[key] = value.to(self.device)
        for loader in (self.train_loader, self.val_loader):
            if isinstance(loader, TensorBatches):
                loader.to(self.device)
        return self

    def set_loaders(self, train_loader: Any, val_loader: Any = None) -> None:
        """Use a torch DataLoader or the engine's TensorBatches for training (and validation).

        TensorBatches draw their order from this trainer's generator, so ``set_seed``
        and checkpoints cover it.
        """
        for loader in (train_loader, val_loader):
            if isinstance(loader, TensorBatches):
                loader.to(self.device)
        if isinstance(train_loader, TensorBatches):
            train_loader.generator = self.generator
        self.train_loader = train_loader
        self.val_loader = val_loader

    def set_seed(self, seed: int = 42) -> None:
        """Seed weights' randomness (dropout) and batch order."""
        torch.manual_seed(seed)
        self.generator.manual_seed(seed)
        sampler_generator = _sampler_generator(self.train_loader)
        if sampler_generator is not None:
            sampler_generator.manual_seed(seed)
        self._seeded = True

    def train(self, n_epochs: int, seed: int | None = None) -> None:
        """Train ``n_epochs`` more epochs. ``seed`` (default: the config's, else 42) applies only
        to a trainer that has not been seeded yet; later calls continue where the last stopped."""
        if not self._seeded:
            self.set_seed(self.default_seed if seed is None else seed)
        for _ in self.run(n_epochs):
            pass

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Raw model outputs for ``x`` (NumPy or tensor), in eval mode with no grad, as NumPy."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                x_tensor = torch.as_tensor(x, dtype=torch.float32).to(self.device)
                return self.unwrapped_model(x_tensor).float().cpu().numpy()
        finally:
            self.model.train(was_training)

    def predict_proba(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Probabilities for ``x``: P(class 1) for binary models, (n, k) for multiclass."""
        if self.spec is None:
            raise ClfError("this trainer's loss is not one clf-tui knows, so outputs cannot be read as probabilities")
        return apply_temperature(self.spec.proba(torch.from_numpy(self.predict(x))).numpy(), self.temperature)

    # -- several processes ----------------------------------------------------

    @property
    def unwrapped_model(self) -> nn.Module:
        """The model itself, without the DistributedDataParallel wrapper that ``distribute`` puts on it."""
        return self.model.module if isinstance(self.model, DistributedDataParallel) else self.model

    def distribute(self, launch: distributed.Launch) -> AbstractContextManager[Trainer]:
        """Train as one rank of a torchrun launch within the ``with`` block (``distributed.distributing``)."""
        return distributed.distributing(self, launch)

    # -- the epoch loop -----------------------------------------------------

    def run(
        self,
        n_epochs: int,
        *,
        control: RunControl | None = None,
        checkpoint_path: str | os.PathLike[str] | None = None,
    ) -> Iterator[Event]:
        """Train ``n_epochs`` more epochs, yielding RunStarted, per epoch EpochEnded and
        EvalReady, CheckpointSaved (when ``checkpoint_path`` is given) and RunEnded.

        A stop request ends the run after the current batch and steps back to the end
        of the last finished epoch. A loss that is NaN, infinite or beyond
        ``DIVERGED_LOSS_RATIO`` times the run's first batch loss ends it as ``diverged``
        with the last good epoch's weights (``stopping.DivergenceWatch``). Either way the
        state matches ``total_epochs``. A diverged run that finished no epoch writes no
        checkpoint, so the one it started from stays as it was.

        With ``checkpoint_path``, a trainer that has a config (``from_config``) also writes
        checkpoints during the run, at the end of an epoch, as the config's
        ``checkpoint_every_epochs`` and ``checkpoint_every_s`` say (so that kill -9 or a power
        cut loses at most that much), each one yielding CheckpointSaved. Each holds the state
        after that epoch's history, early-stopping watch and random state were updated, so
        that resuming from it continues as if never stopped. A trainer built by hand writes
        only the final checkpoint.
        """
        if self.train_loader is None:
            raise ClfError("no training data: call set_loaders(train_loader, val_loader) before training")
        if n_epochs < 1:
            raise ConfigError(f"n_epochs = {n_epochs} is invalid: expected a whole number >= 1")
        control = control or RunControl()
        if not self._seeded:
            self.set_seed(self.default_seed)
        n_train = _n_samples(self.train_loader)
        kept_temperature = self.temperature
        if self.config is not None and self.config.temperature_scaling:
            # A temperature belongs to the weights it was fit on: this run's epochs validate uncalibrated, as they
            # would had the run never stopped, and its end fits the temperature again.
            self.temperature = 1.0
        yield RunStarted(
            device=str(self.device),
            device_note=self.device_note,
            start_epoch=self.total_epochs,
            n_epochs=n_epochs,
            n_train=n_train,
            n_val=_n_samples(self.val_loader),
            task="binary" if self.n_classes == 2 else "multiclass",
            n_classes=self.n_classes or 0,
        )
        last_good = self.snapshot()
        start_epoch, end_epoch = self.total_epochs, self.total_epochs + n_epochs
        divergence = DivergenceWatch()
        reason, message = "completed", f"trained {n_epochs} epochs"
        clock = _CheckpointClock(self.config)
        while self.total_epochs < end_epoch:
            started = time.perf_counter()
            epoch_pass = self.train_epoch(control)
            if epoch_pass is None:
                self.rollback(last_good)
                reason, message = "stopped", f"stopped; the weights of epoch {self.total_epochs} are kept"
                break
            train_loss, first_batch_loss = epoch_pass.mean_loss, epoch_pass.first_batch_loss
            if self.launch is not None:  # every rank trained as many rows, so the mean of means is the mean
                train_loss = distributed.mean_across_ranks(train_loss, self.device)
                if divergence.start_loss is None:  # every rank must judge divergence alike
                    first_batch_loss = distributed.mean_across_ranks(first_batch_loss, self.device)
            val_loss, y_true, y_prob = self.validate()
            epoch = self.total_epochs + 1
            bad = divergence.check(first_batch_loss, (train_loss, val_loss))
            if bad is not None:
                self.rollback(last_good)
                reason = "diverged"
                message = (
                    f"diverged: the loss became {bad:.4g} at epoch {epoch} (from {divergence.start_loss:.4g} at "
                    f"the start); the weights of epoch {self.total_epochs} are kept. "
                    f"Try a lower learning rate (lr = {self.optimizer.param_groups[0]['lr']:g})"
                )
                break
            duration_s = max(time.perf_counter() - started - epoch_pass.paused_s, 1e-9)
            epoch_metrics = metrics.summary(y_true, y_prob, self.n_classes) if y_prob is not None else {}
            self.total_epochs = epoch
            ended = EpochEnded(epoch, train_loss, val_loss, epoch_metrics, duration_s, n_train / duration_s)
            self.history.append(ended)
            last_good = self.snapshot()
            yield ended
            if y_prob is not None:
                yield EvalReady(epoch, y_true, y_prob)
            rule, watch = self.early_stopping, self.early_stopping_watch
            if rule is not None and val_loss is not None and watch.ran_out(rule, epoch, val_loss, self._weights):
                reason = "early_stopped"
                message = f"early stop: validation loss has not improved for {rule.patience} epochs"
                if rule.restore_best and watch.best_weights is not None:
                    self.unwrapped_model.load_state_dict(watch.best_weights)
                    message += f"; kept the weights of epoch {watch.best_epoch} (val loss {watch.best_loss:.4f})"
                break
            if control.stop_requested:
                reason, message = "stopped", f"stopped after epoch {epoch}"
                break
            if checkpoint_path is not None and epoch < end_epoch and clock.due(epoch):  # the final one follows
                path = self.save_checkpoint(checkpoint_path)
                clock.restart()
                yield CheckpointSaved(str(path), epoch)
        finished = reason != "diverged" or self.total_epochs > start_epoch
        chosen = None
        if finished and self.config is not None and self.val_loader is not None:
            costs_before = self.costs
            notes = yield from self.end_of_run()
            message = "; ".join([message, *notes])
            if self.costs is not costs_before:  # the end of the run weighed the costs and took their threshold
                chosen = self.threshold
        elif not finished:
            self.temperature = kept_temperature  # the weights are the ones it was fit on
        if checkpoint_path is not None and finished:
            path = self.save_checkpoint(checkpoint_path)
            yield CheckpointSaved(str(path), self.total_epochs)
        yield RunEnded(reason, self.total_epochs, message, chosen)

    def end_of_run(self) -> Generator[Event, None, list[str]]:
        """What the config asks of the end of a run, on the weights it ends with: temperature scaling (yields
        TemperatureFitted, then EvalReady of the last epoch with the calibrated probabilities), then the
        threshold of least expected cost (``costs.least_cost_threshold``) on that evaluation. Returns notes
        for RunEnded's message."""
        cfg = self.config
        notes: list[str] = []
        if cfg is None or not (cfg.temperature_scaling or cfg.has_costs):
            return notes
        if cfg.temperature_scaling:
            yield self.fit_temperature()
            notes.append(f"temperature {self.temperature:.3f}")
        y_true, y_prob = self.evaluate()
        if cfg.temperature_scaling:
            yield EvalReady(self.total_epochs, y_true, y_prob)
        if cfg.has_costs and y_prob.ndim == 1:
            costs = Costs(cfg.cost_fp, cfg.cost_fn, cfg.prevalence)
            try:
                self.threshold, cost = least_cost_threshold(metrics.BinaryEval(y_true, y_prob), costs)
            except ConfigError as exc:  # a validation split of one class: no rate to weigh
                notes.append(f"the threshold stays {self.threshold:g}: {exc.message}")
            else:
                self.costs = costs
                notes.append(f"threshold {self.threshold:.4g}, least expected cost {cost:.4g} per case")
        return notes

    def _weights(self) -> dict[str, torch.Tensor]:
        return copy_tree(self.unwrapped_model.state_dict())

    def train_epoch(self, control: RunControl | None = None) -> EpochPass | None:
        """One pass over the training data, or None if a stop was requested during it (the batches trained
        before it stay trained: ``rollback`` a snapshot to undo them).

        On CUDA, each full batch replays the step captured in a CUDA graph where ``graph_refusal`` finds nothing
        against it (``graphed.StepGraph``); every other step is the eager ``train_step``. Either way the batches
        are the same and the loss is summed on the device and read once.
        """
        control = control or RunControl()
        self.model.train()
        if self.graph_refusal() is None:
            if self.step_graph is None:
                self.step_graph = graphed.StepGraph()
            sums = self.step_graph.train_epoch(self, control)
        else:
            sums = self.eager_epoch(control)
        if sums is None:
            return None
        total, first_batch_loss = torch.stack((sums.total_loss, sums.first_batch_loss)).tolist()
        return EpochPass(total / max(sums.n_seen, 1), first_batch_loss, sums.paused_s)

    def eager_epoch(self, control: RunControl) -> graphed.EpochSums | None:
        """One pass over the training data with ``train_step`` for every batch, its sums still on the device;
        None if a stop was requested during it."""
        total = torch.zeros((), device=self.device)
        first_batch_loss = torch.zeros((), device=self.device)
        n_seen = 0
        paused_s = 0.0
        for x_batch, y_batch in loader_batches.batches(self.train_loader):
            if control.paused:
                paused_s += control.wait_while_paused()
            if control.stop_requested:
                return None
            loss = self.train_step(x_batch, y_batch)
            if n_seen == 0:
                first_batch_loss = loss
            # Summed on the device and read once per epoch: a per-step .item() syncs every batch.
            total.add_(loss, alpha=len(x_batch))
            n_seen += len(x_batch)
        return graphed.EpochSums(total, first_batch_loss, n_seen, paused_s)

    def graph_refusal(self) -> str | None:
        """Why the next epoch steps eagerly instead of replaying a captured CUDA graph; None when it replays one
        (``graphed.refusal``: on the CPU, always "the trainer is on cpu")."""
        return graphed.refusal(self)

    def train_step(self, x_batch: torch.Tensor, y_batch: torch.Tensor) -> torch.Tensor:
        """One optimiser step on a batch of the training loader; the batch's loss before the step, on the device."""
        if not isinstance(self.train_loader, TensorBatches):  # the engine's batches are there already
            x_batch = x_batch.to(self.device, non_blocking=True)
            y_batch = y_batch.to(self.device, non_blocking=True)
        loss = self.loss_fn(self.model(x_batch), y_batch)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def validate(self) -> tuple[float | None, np.ndarray | None, np.ndarray | None]:
        """Validation loss and, when the loss is known, labels and probabilities as NumPy; all None without a
        validation loader."""
        if self.val_loader is None:
            return None, None, None
        self.model.eval()
        total = torch.zeros((), device=self.device)
        n_seen = 0
        probs, labels = [], []
        with torch.inference_mode():
            for x_batch, y_batch in loader_batches.batches(self.val_loader):
                x_batch = x_batch.to(self.device, non_blocking=True)
                y_batch = y_batch.to(self.device, non_blocking=True)
                outputs = self.unwrapped_model(x_batch)
                total += self.loss_fn(outputs, y_batch) * len(x_batch)
                n_seen += len(x_batch)
                if self.spec is not None:
                    probs.append(self.spec.proba(outputs).float())
                    labels.append(self.spec.labels(y_batch))
        self.model.train()
        if self.launch is not None:  # each rank validated its own block of rows
            total, n_seen = distributed.sum_across_ranks(total, n_seen)
        val_loss = total.item() / max(n_seen, 1)
        if not probs:
            return val_loss, None, None
        y_true, y_prob = torch.cat(labels), torch.cat(probs)
        if self.launch is not None:
            y_true, y_prob = distributed.gather_rows(y_true), distributed.gather_rows(y_prob)
        self._n_classes = 2 if y_prob.ndim == 1 else y_prob.shape[1]
        return val_loss, y_true.cpu().numpy(), apply_temperature(y_prob.cpu().numpy(), self.temperature)

    def fit_temperature(self) -> TemperatureFitted:
        """Fit the temperature on the validation split (LBFGS on the log loss of the model's own probabilities)
        and use it from now on; the event holds the reliability diagrams before (T = 1) and after."""
        self.temperature = 1.0
        y_true, y_prob = self.evaluate()
        names = self.data.class_names if self.data is not None else tuple(str(c) for c in range(self.n_classes or 2))
        self.temperature = fit_temperature(y_true, y_prob)
        return TemperatureFitted(self.total_epochs, self.temperature, reliabilities(y_true, y_prob, names),
                                 reliabilities(y_true, apply_temperature(y_prob, self.temperature), names))

    def history_rows(self) -> list[dict[str, float | int | None]]:
        """One row per finished epoch: epoch, losses, validation metrics and duration."""
        return [{"epoch": record.epoch, "train_loss": record.train_loss, "val_loss": record.val_loss,
                 **{f"val_{name}": value for name, value in record.metrics.items()},
                 "duration_s": record.duration_s} for record in self.history]

    def evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        """Validation labels and probabilities with the current weights."""
        _, y_true, y_prob = self.validate()
        if y_prob is None:
            raise ClfError("nothing to evaluate: set a validation loader and use a loss clf-tui knows")
        return y_true, y_prob

    @property
    def n_classes(self) -> int | None:
        """Classes of the task, from the data or, failing that, the model's last validation."""
        if self.data is not None:
            return self.data.n_classes
        return self._n_classes

    # -- snapshots, for stepping back to an epoch's end ----------------------

    def rng_state(self) -> dict[str, Any]:
        """The random states a run draws from: torch's, the batch order's, a DataLoader sampler's, CUDA's."""
        state: dict[str, Any] = {"torch": torch.get_rng_state(), "generator": self.generator.get_state()}
        sampler_generator = _sampler_generator(self.train_loader)
        if sampler_generator is not None:
            state["sampler"] = sampler_generator.get_state()
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        """Put back random states ``rng_state`` took; the trainer counts as seeded from then on."""
        torch.set_rng_state(state["torch"])
        self.generator.set_state(state["generator"])
        sampler_generator = _sampler_generator(self.train_loader)
        if sampler_generator is not None and "sampler" in state:
            sampler_generator.set_state(state["sampler"])
        if self.device.type == "cuda" and "cuda" in state:
            torch.cuda.set_rng_state(state["cuda"], self.device)
        self._seeded = True

    def snapshot(self) -> Snapshot:
        """What a training step changes (weights, optimiser state, random states), copied: ``rollback`` returns
        to it. The history, epoch count and early-stopping watch are not in it."""
        return Snapshot(copy_tree(self.model.state_dict()), copy_tree(self.optimizer.state_dict()), self.rng_state())

    def rollback(self, snapshot: Snapshot) -> None:
        """Return the weights, optimiser state and random states to ``snapshot``."""
        self.model.load_state_dict(snapshot.model)
        self.optimizer.load_state_dict(snapshot.optimizer)
        self.set_rng_state(snapshot.rng)

    # -- checkpoints ---------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The checkpoint dict (``checkpoint.trainer_state``): copies on the CPU; training on leaves it as it was."""
        return checkpoint.trainer_state(self)

    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Write the whole training state to ``path`` atomically."""
        return checkpoint.write_checkpoint(path, self.state())

    def load_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Restore weights, optimiser, history, random state and threshold from ``path``.

        Raises CheckpointError if the file is unreadable, was saved from a model of
        another shape (the message lists which entries differ), or was trained on
        other data than this trainer's.
        """
        self.restore(checkpoint.read_checkpoint(path), source=str(path))

    def restore(self, state: dict[str, Any], *, source: str = "checkpoint", check_data: bool = True) -> None:
        """Apply a checkpoint dict already read (and so verified) by ``read_checkpoint``; every tensor is
        checked against this trainer's model and optimiser before any is used (``checkpoint.restore_trainer``).

        With ``check_data``, a trainer that knows its data refuses a checkpoint whose
        training split differs from it.
        """
        checkpoint.restore_trainer(self, state, source=source, check_data=check_data)

    # -- building from a config ----------------------------------------------

    @classmethod
    def from_config(cls, cfg: RunConfig, data: DataSplit | None = None) -> Trainer:
        """Data, model, loss, optimiser and the engine's batching, all from ``cfg`` (``build.build_parts``)."""
        if data is None:
            data = load_data(cfg)
        parts = build_parts(cfg, data)
        model = parts.models[0]
        trainer = cls(model, parts.loss_fn, build_optimizer_for(cfg, model.parameters()), spec=parts.spec)
        trainer.device, trainer.device_note = parts.device, parts.device_note
        trainer.config = cfg
        trainer.data = data
        trainer.default_seed = cfg.seed
        if cfg.stops_early:
            trainer.early_stopping = EarlyStopping(cfg.patience, cfg.min_delta, cfg.restore_best)
        X_train, y_train, X_val, y_val = split_tensors(data, parts.spec)
        trainer.set_loaders(
            TensorBatches(X_train, y_train, cfg.batch_size),
            TensorBatches(X_val, y_val, max(cfg.batch_size, VAL_CHUNK_ROWS), shuffle=False),
        )
        return trainer

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], *, data: DataSplit | None = None,
                        device: str | None = None, check_data: bool = True) -> Trainer:
        """Rebuild a run from its checkpoint: config, data (re-loaded unless given), weights, state.

        Refuses a checkpoint whose training split differs from the data, unless
        ``check_data`` is False (to evaluate a saved model on other data).
        """
        state = checkpoint.read_checkpoint(path)
        if not isinstance(state.get("config"), dict):
            raise CheckpointError(f"{path} holds no run configuration; load it into a Trainer you build yourself")
        try:
            cfg = RunConfig.from_dict(state["config"], source=str(path))
        except ConfigError as exc:
            raise CheckpointError(f"{path} holds an invalid configuration: {exc.message}") from None
        if device is not None:
            cfg = cfg.replace(device=device)
        fold = state.get("fold")
        if data is None:  # a fold's model was trained on its fold's rows
            data = load_data(cfg) if fold is None else next(load_folds(cfg, only=fold)).data
        if check_data:  # before building anything
            checkpoint.check_same_data(state, data, str(path))
        trainer = cls.from_config(cfg, data)
        trainer.restore(state, source=str(path), check_data=False)
        return trainer


def _n_samples(loader: Any) -> int:
    if loader is None:
        return 0
    if isinstance(loader, TensorBatches):
        return loader.n_samples
    try:
        return len(loader.dataset)
    except (AttributeError, TypeError):
        return 0


def _sampler_generator(loader: Any) -> torch.Generator | None:
    sampler = getattr(loader, "sampler", None)
    return getattr(sampler, "generator", None)
