"""Trainer: the course's StepByStep surface over an epoch loop that yields events."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from . import distributed, loader_batches, metrics
from .batching import TensorBatches
from .checkpoint import (
    FORMAT, FORMAT_VERSION, data_fingerprint, optimizer_state_mismatches, read_checkpoint, shape_mismatches, write_checkpoint,
)
from .config import RunConfig
from .control import RunControl
from .device import resolve_device
from .errors import CheckpointError, ClfError, ConfigError, DataError
from .events import CheckpointSaved, EpochEnded, Event, EvalReady, RunEnded, RunStarted
from .losses import LossSpec, loss_spec
from .memory import require_room
from .models import build_model
from .optimizers import build_optimizer, prefer_fused

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit

VAL_CHUNK_ROWS = 8192
# A finite loss this many times the run's starting loss (or 1, if larger) has diverged too:
# Adam at lr 1e6 drives the loss to 1e19 without ever making it infinite.
DIVERGED_LOSS_RATIO = 1e3


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when validation loss has not dropped by ``min_delta`` for ``patience`` epochs."""

    patience: int = 10
    min_delta: float = 0.0
    restore_best: bool = True


@dataclass
class _Patience:
    """Early stopping's watch over the validation loss.

    Part of the trainer's state and of its checkpoints, so that a run continued by another
    ``train`` call, or resumed from a file, stops where an uninterrupted one would.
    """

    best_loss: float = math.inf
    best_epoch: int = 0
    waited: int = 0
    best_model: dict[str, torch.Tensor] | None = None

    def to_dict(self) -> dict[str, Any]:
        best_model = None if self.best_model is None else _to_cpu(self.best_model)
        return {"best_loss": self.best_loss, "best_epoch": self.best_epoch, "waited": self.waited,
                "best_model": best_model}

    @classmethod
    def from_dict(cls, saved: Any, source: str) -> _Patience:
        """The watch a checkpoint saved; a fresh one for a checkpoint from before it was saved."""
        if saved is None:
            return cls()
        try:
            best_model = saved["best_model"]
            if best_model is not None and not all(isinstance(v, torch.Tensor) for v in best_model.values()):
                raise TypeError("best_model holds something other than tensors")
            return cls(float(saved["best_loss"]), int(saved["best_epoch"]), int(saved["waited"]), best_model)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{source} is damaged: its early stopping entry is unreadable ({exc})") from None


@dataclass(frozen=True)
class _EpochPass:
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


@dataclass
class _Snapshot:
    """Everything that changes during an epoch, so a run can step back to an epoch's end."""

    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    rng: dict[str, Any]


class Trainer:
    """Trains a classifier: ``Trainer(model, loss_fn, optimizer)``, then ``set_loaders`` and ``train``.

    ``train(n)`` called again continues the run (epochs count on; nothing is
    reseeded), so training 10 + 10 epochs equals training 20. ``run(n)`` is the
    same loop as an iterator of events, for UIs and progress bars. An SGD, Adam or
    AdamW left on torch's default implementation steps with its fused kernel
    (``prefer_fused``); a DataLoader over a TensorDataset is read a batch at a time
    (``loader_batches``). Both keep the run the course loop would give.
    """

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
        self.losses: list[float] = []
        self.val_losses: list[float] = []
        self.val_metrics: list[dict[str, float]] = []
        self.epoch_durations_s: list[float] = []
        self.total_epochs = 0
        self.threshold = 0.5
        self.early_stopping: EarlyStopping | None = None
        self.config: RunConfig | None = None
        self.data: DataSplit | None = None
        self.default_seed = 42
        self._seeded = False
        self._n_classes: int | None = None
        self._patience = _Patience()
        self.launch: distributed.Launch | None = None

    # -- the course surface -------------------------------------------------

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
        return self.spec.proba(torch.from_numpy(self.predict(x))).numpy()

    # -- several processes ----------------------------------------------------

    @property
    def unwrapped_model(self) -> nn.Module:
        """The model itself, without the DistributedDataParallel wrapper that ``distribute`` puts on it."""
        return self.model.module if isinstance(self.model, DistributedDataParallel) else self.model

    @contextmanager
    def distribute(self, launch: distributed.Launch) -> Iterator[Trainer]:
        """Train as one rank of a torchrun launch within the ``with`` block.

        Enter it once loaders and device are set. It joins the launch's process group,
        moves to this rank's device (cuda:LOCAL_RANK when on CUDA) and wraps the model
        in DistributedDataParallel. Every rank draws the same batch order from the same
        seed and trains on its share, ``batch_size`` rows per rank and step. Validation
        splits the rows between the ranks and gathers them back, so every rank gets the
        losses and metrics one process would. Checkpoints hold the unwrapped model's
        weights. Leaving the block unwraps the model and leaves the group.

        Raises ClfError unless both loaders are TensorBatches, the training one shuffled;
        DataError if a split has fewer rows than the launch has processes.
        """
        self._check_shardable(launch.world_size)
        device = distributed.rank_device(launch, self.device)
        if device != self.device:
            self.to(device)
        backend = distributed.join(launch, device)
        device_note = self.device_note
        try:
            self.model = distributed.wrap_model(self.model, device)
            self._shard_loaders((launch.rank, launch.world_size))
            self.launch = launch
            self.device_note += f"; rank {launch.rank} of {launch.world_size} processes, {backend}"
            yield self
        finally:
            # Unwrap before leaving: DDP's reducer, were it to drop the group last, would tear
            # the group down holding the GIL while gloo's worker thread may still wait for the
            # GIL to free its last collective, and both would wait for ever.
            self.model = self.unwrapped_model
            self._shard_loaders(None)
            self.launch = None
            self.device_note = device_note
            distributed.leave()

    def _shard_loaders(self, shard: tuple[int, int] | None) -> None:
        for loader in (self.train_loader, self.val_loader):
            if loader is not None:
                loader.shard = shard

    def _check_shardable(self, world_size: int) -> None:
        """Refuse loaders that ``world_size`` ranks cannot share in step."""
        train, val = self.train_loader, self.val_loader
        if not (isinstance(train, TensorBatches) and train.shuffle and isinstance(val, (TensorBatches, type(None)))):
            raise ClfError("training on several processes needs the engine's TensorBatches as loaders, "
                           "shuffled for training, so that every rank takes its share in the same number of steps")
        for split, loader in (("training", train), ("validation", val)):
            if loader is not None and loader.n_samples < world_size:
                raise DataError(f"the {split} split has {loader.n_samples} rows, fewer than the {world_size} "
                                "processes that share it; start fewer processes or use more data")

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
        with the last good epoch's weights. Either way the state matches ``total_epochs``.
        A diverged run that finished no epoch writes no checkpoint, so the one it
        started from stays as it was.

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
        last_good = self._snapshot()
        start_epoch, start_loss = self.total_epochs, None
        end_epoch = self.total_epochs + n_epochs
        reason, message = "completed", f"trained {n_epochs} epochs"
        clock = _CheckpointClock(self.config)
        while self.total_epochs < end_epoch:
            started = time.perf_counter()
            epoch_pass = self._train_epoch(control)
            if epoch_pass is None:
                self._restore(last_good)
                reason, message = "stopped", f"stopped; the weights of epoch {self.total_epochs} are kept"
                break
            train_loss = epoch_pass.mean_loss
            if start_loss is None:
                start_loss = epoch_pass.first_batch_loss
                if self.launch is not None:  # every rank must judge divergence alike
                    start_loss = distributed.mean_across_ranks(start_loss, self.device)
            if self.launch is not None:  # every rank trained as many rows, so the mean of means is the mean
                train_loss = distributed.mean_across_ranks(train_loss, self.device)
            val_loss, y_true, y_prob = self._validate()
            epoch = self.total_epochs + 1
            bad = _diverged_loss((train_loss, val_loss), start_loss)
            if bad is not None:
                self._restore(last_good)
                reason = "diverged"
                message = (
                    f"diverged: the loss became {bad:.4g} at epoch {epoch} (from {start_loss:.4g} at the start); "
                    f"the weights of epoch {self.total_epochs} are kept. "
                    f"Try a lower learning rate (lr = {self.optimizer.param_groups[0]['lr']:g})"
                )
                break
            duration_s = max(time.perf_counter() - started - epoch_pass.paused_s, 1e-9)
            epoch_metrics = metrics.summary(y_true, y_prob, self.n_classes) if y_prob is not None else {}
            self.total_epochs = epoch
            self.losses.append(train_loss)
            if val_loss is not None:
                self.val_losses.append(val_loss)
            self.val_metrics.append(epoch_metrics)
            self.epoch_durations_s.append(duration_s)
            last_good = self._snapshot()
            yield EpochEnded(epoch, train_loss, val_loss, epoch_metrics, duration_s, n_train / duration_s)
            if y_prob is not None:
                yield EvalReady(epoch, y_true, y_prob)
            if self.early_stopping is not None and val_loss is not None and self._patience_ran_out(epoch, val_loss):
                rule, watch = self.early_stopping, self._patience
                reason = "early_stopped"
                message = f"early stop: validation loss has not improved for {rule.patience} epochs"
                if rule.restore_best and watch.best_model is not None:
                    self.unwrapped_model.load_state_dict(watch.best_model)
                    message += f"; kept the weights of epoch {watch.best_epoch} (val loss {watch.best_loss:.4f})"
                break
            if control.stop_requested:
                reason, message = "stopped", f"stopped after epoch {epoch}"
                break
            if checkpoint_path is not None and epoch < end_epoch and clock.due(epoch):  # the final one follows
                path = self.save_checkpoint(checkpoint_path)
                clock.restart()
                yield CheckpointSaved(str(path), epoch)
        if checkpoint_path is not None and (reason != "diverged" or self.total_epochs > start_epoch):
            path = self.save_checkpoint(checkpoint_path)
            yield CheckpointSaved(str(path), self.total_epochs)
        yield RunEnded(reason, self.total_epochs, message)

    def _patience_ran_out(self, epoch: int, val_loss: float) -> bool:
        """Watch ``epoch``'s validation loss; True once it has not improved for ``patience`` epochs.

        Running out starts a fresh wait, so a later ``train`` call trains on from the kept weights.
        """
        rule, watch = self.early_stopping, self._patience
        if val_loss < watch.best_loss - rule.min_delta:
            watch.best_loss, watch.best_epoch, watch.waited = val_loss, epoch, 0
            watch.best_model = _copy_tree(self.unwrapped_model.state_dict())
            return False
        watch.waited += 1
        if watch.waited < rule.patience:
            return False
        watch.waited = 0
        return True

    def _train_epoch(self, control: RunControl) -> _EpochPass | None:
        """One pass over the training data, or None if a stop was requested during it."""
        self.model.train()
        total = torch.zeros((), device=self.device)
        first_batch_loss = torch.zeros((), device=self.device)
        n_seen = 0
        paused_s = 0.0
        for x_batch, y_batch in loader_batches.batches(self.train_loader):
            if control.paused:
                paused_s += control.wait_while_paused()
            if control.stop_requested:
                return None
            loss = self._train_step(x_batch, y_batch)
            if n_seen == 0:
                first_batch_loss = loss
            # Summed on the device and read once per epoch: a per-step .item() syncs every batch.
            total.add_(loss, alpha=len(x_batch))
            n_seen += len(x_batch)
        return _EpochPass(total.item() / max(n_seen, 1), first_batch_loss.item(), paused_s)

    def _train_step(self, x_batch: torch.Tensor, y_batch: torch.Tensor) -> torch.Tensor:
        """One optimiser step on a batch of the training loader; the batch's loss before the step, on the device."""
        if not isinstance(self.train_loader, TensorBatches):  # the engine's batches are there already
            x_batch = x_batch.to(self.device, non_blocking=True)
            y_batch = y_batch.to(self.device, non_blocking=True)
        loss = self.loss_fn(self.model(x_batch), y_batch)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def _validate(self) -> tuple[float | None, np.ndarray | None, np.ndarray | None]:
        """Validation loss and, when the loss is known, labels and probabilities as NumPy."""
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
        return val_loss, y_true.cpu().numpy(), y_prob.cpu().numpy()

    def history_rows(self) -> list[dict[str, float | int | None]]:
        """One row per finished epoch: epoch, losses, validation metrics and duration."""
        rows = []
        for i, train_loss in enumerate(self.losses):
            row: dict[str, float | int | None] = {
                "epoch": i + 1,
                "train_loss": train_loss,
                "val_loss": self.val_losses[i] if i < len(self.val_losses) else None,
            }
            row.update({f"val_{k}": v for k, v in (self.val_metrics[i] if i < len(self.val_metrics) else {}).items()})
            row["duration_s"] = self.epoch_durations_s[i] if i < len(self.epoch_durations_s) else None
            rows.append(row)
        return rows

    def evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        """Validation labels and probabilities with the current weights."""
        _, y_true, y_prob = self._validate()
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

    def _rng_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"torch": torch.get_rng_state(), "generator": self.generator.get_state()}
        sampler_generator = _sampler_generator(self.train_loader)
        if sampler_generator is not None:
            state["sampler"] = sampler_generator.get_state()
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def _set_rng_state(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["torch"])
        self.generator.set_state(state["generator"])
        sampler_generator = _sampler_generator(self.train_loader)
        if sampler_generator is not None and "sampler" in state:
            sampler_generator.set_state(state["sampler"])
        if self.device.type == "cuda" and "cuda" in state:
            torch.cuda.set_rng_state(state["cuda"], self.device)

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(
            model=_copy_tree(self.model.state_dict()),
            optimizer=_copy_tree(self.optimizer.state_dict()),
            rng=self._rng_state(),
        )

    def _restore(self, snapshot: _Snapshot) -> None:
        self.model.load_state_dict(snapshot.model)
        self.optimizer.load_state_dict(snapshot.optimizer)
        self._set_rng_state(snapshot.rng)

    # -- checkpoints ---------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The checkpoint dict: tensors (copies, on the CPU) and primitives only; training on leaves it as it was."""
        data = self.data
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": self.config.to_dict() if self.config is not None else None,
            "loss": self.spec.name if self.spec is not None else None,
            "model_state": _to_cpu(self.unwrapped_model.state_dict()),
            "optimizer_state": _to_cpu(self.optimizer.state_dict()),
            "epoch": self.total_epochs,
            "history": {
                "loss": list(self.losses),
                "val_loss": list(self.val_losses),
                "val_metrics": list(self.val_metrics),
                "duration_s": list(self.epoch_durations_s),
            },
            "rng": _to_cpu(self._rng_state()),
            "threshold": float(self.threshold),
            "class_names": list(data.class_names) if data is not None else None,
            "feature_names": list(data.feature_names) if data is not None else None,
            "scaler": data.scaler.to_dict() if data is not None else None,
            "preprocessing": data.preprocessing.to_dict() if data is not None and data.preprocessing else None,
            "data_fingerprint": data_fingerprint(data.X_train, data.y_train, data.class_names) if data is not None else None,
            "early_stopping": self._patience.to_dict(),
        }

    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Write the whole training state to ``path`` atomically."""
        return write_checkpoint(path, self.state())

    def load_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Restore weights, optimiser, history, random state and threshold from ``path``.

        Raises CheckpointError if the file is unreadable, was saved from a model of
        another shape (the message lists which entries differ), or was trained on
        other data than this trainer's.
        """
        self.restore(read_checkpoint(path), source=str(path))

    def restore(self, state: dict[str, Any], *, source: str = "checkpoint", check_data: bool = True) -> None:
        """Apply a checkpoint dict already read (and so verified) by ``read_checkpoint``; every tensor is
        checked against this trainer's model and optimiser before any is used.

        With ``check_data``, a trainer that knows its data refuses a checkpoint whose
        training split differs from it.
        """
        if check_data and self.data is not None:
            _check_same_data(state, self.data, source)
        problems = shape_mismatches(state["model_state"], self.unwrapped_model.state_dict())
        if problems:
            raise CheckpointError(f"{source} was saved from a different model: {'; '.join(problems[:4])}")
        problems = optimizer_state_mismatches(state["optimizer_state"], self.optimizer)
        if problems:
            raise CheckpointError(f"{source} is damaged: {'; '.join(problems[:3])}")
        dtypes = [name for name, value in state["model_state"].items()
                  if value.dtype != self.unwrapped_model.state_dict()[name].dtype]
        if dtypes:
            raise CheckpointError(f"{source} is damaged: model entry {dtypes[0]!r} has another dtype than this model's")
        history = _epoch_lists(state["history"], source)  # refused before anything changes
        patience = _Patience.from_dict(state.get("early_stopping"), source)
        if patience.best_model is not None and shape_mismatches(patience.best_model, self.unwrapped_model.state_dict()):
            raise CheckpointError(f"{source} is damaged: its early stopping weights do not fit the model")
        try:
            self.unwrapped_model.load_state_dict(state["model_state"])
            self.optimizer.load_state_dict(state["optimizer_state"])
            self._set_rng_state(state["rng"])
        except (ValueError, KeyError, RuntimeError, TypeError) as exc:
            raise CheckpointError(f"{source} does not fit this trainer: {exc}") from None
        self.losses, self.val_losses, self.val_metrics, self.epoch_durations_s = history
        self.total_epochs = int(state["epoch"])
        self.threshold = float(state["threshold"])
        self._patience = patience
        self._seeded = True

    # -- building from a config ----------------------------------------------

    @classmethod
    def from_config(cls, cfg: RunConfig, data: DataSplit | None = None) -> Trainer:
        """Data, model, loss, optimiser and the engine's batching, all from ``cfg``."""
        if data is None:
            data = load_data(cfg)
        spec = loss_spec(cfg.resolved_loss(data.task), data.n_classes)
        device, _ = resolve_device(cfg.device)  # fail before building anything
        hidden = cfg.hidden if cfg.model == "mlp" else ()
        n_outputs = spec.n_outputs(data.n_classes)
        require_room(f"hidden = {hidden}", data.n_features, n_outputs, hidden,
                     max(cfg.batch_size, VAL_CHUNK_ROWS), device)
        torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        try:
            model = build_model(
                cfg.model, data.n_features, n_outputs,
                hidden=cfg.hidden, activation=cfg.activation, dropout=cfg.dropout, final_layer=spec.final_layer,
            ).to(device)
        except (MemoryError, RuntimeError) as exc:  # the estimate above fell short of what the allocator had
            if isinstance(exc, RuntimeError) and "allocate" not in str(exc):
                raise
            raise ConfigError(f"hidden = {hidden}: not enough memory on {device} to build this model; "
                              "use smaller hidden layers") from None
        optimizer = build_optimizer(
            cfg.optimizer, model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
            nesterov=cfg.nesterov, weight_decay=cfg.weight_decay, betas=cfg.betas,
        )
        trainer = cls(model, spec.make(_pos_weight(cfg, data)), optimizer, spec=spec)
        trainer.config = cfg
        trainer.data = data
        trainer.default_seed = cfg.seed
        if cfg.stops_early:
            trainer.early_stopping = EarlyStopping(cfg.patience, cfg.min_delta, cfg.restore_best)
        trainer.to(cfg.device)  # by name, so the device note says why ("auto: no CUDA device, ...")
        k = data.n_classes
        y_train = spec.target(torch.from_numpy(data.y_train), k)
        y_val = spec.target(torch.from_numpy(data.y_val), k)
        trainer.set_loaders(
            TensorBatches(torch.from_numpy(data.X_train), y_train, cfg.batch_size),
            TensorBatches(torch.from_numpy(data.X_val), y_val, max(cfg.batch_size, VAL_CHUNK_ROWS), shuffle=False),
        )
        return trainer

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], *, data: DataSplit | None = None,
                        device: str | None = None, check_data: bool = True) -> Trainer:
        """Rebuild a run from its checkpoint: config, data (re-loaded unless given), weights, state.

        Refuses a checkpoint whose training split differs from the data, unless
        ``check_data`` is False (to evaluate a saved model on other data).
        """
        state = read_checkpoint(path)
        if not isinstance(state.get("config"), dict):
            raise CheckpointError(f"{path} holds no run configuration; load it into a Trainer you build yourself")
        try:
            cfg = RunConfig.from_dict(state["config"], source=str(path))
        except ConfigError as exc:
            raise CheckpointError(f"{path} holds an invalid configuration: {exc.message}") from None
        if device is not None:
            cfg = cfg.replace(device=device)
        if data is None:
            data = load_data(cfg)
        if check_data:  # before building anything
            _check_same_data(state, data, str(path))
        trainer = cls.from_config(cfg, data)
        trainer.restore(state, source=str(path), check_data=False)
        return trainer


def load_data(cfg: RunConfig) -> DataSplit:
    """The data set that ``cfg`` names, split and scaled."""
    from clf_tui import datasets

    return datasets.load(
        cfg.dataset, n_samples=cfg.n_samples, noise=cfg.noise, n_classes=cfg.n_classes,
        data_seed=cfg.data_seed, val_fraction=cfg.val_fraction, split_seed=cfg.split_seed,
        stratify=cfg.stratify, scaler=cfg.scaler, target=cfg.target,
        overrides=datasets.Overrides(cfg.drop, cfg.categorical, cfg.numeric), na_values=cfg.na_values,
        missing_indicators=cfg.missing_indicators, positive=cfg.positive,
    )


def _pos_weight(cfg: RunConfig, data: DataSplit) -> float | None:
    if cfg.pos_weight == "none":
        return None
    if cfg.pos_weight == "auto":
        n_neg, n_pos = data.class_counts["train"]
        return n_neg / n_pos if n_pos else 1.0
    return float(cfg.pos_weight)


def _check_same_data(state: dict[str, Any], data: DataSplit, source: str) -> None:
    """Raise CheckpointError if the checkpoint's training split is not ``data``'s (shape, classes or contents)."""
    saved = state.get("data_fingerprint")
    if not isinstance(saved, dict):
        return
    current = data_fingerprint(data.X_train, data.y_train, data.class_names)
    differs = [key for key in current if saved.get(key) != current[key]]
    # The fingerprint hashes the scaled split; raw values shifted or stretched as a whole
    # scale to the same numbers, and only the fitted scaling tells them apart.
    if isinstance(state.get("scaler"), dict) and state["scaler"] != data.scaler.to_dict():
        differs.append("scaling")
    if differs:
        raise CheckpointError(f"{source} was trained on other data than {data.name} (differs in: {', '.join(differs)})")


def _epoch_lists(
    history: dict[str, Any], source: str
) -> tuple[list[float], list[float], list[dict[str, float]], list[float]]:
    """A checkpoint history's losses, validation losses, metrics and durations, one entry per epoch.

    Raises CheckpointError if one of them is not a list of numbers (of dicts, for the metrics).
    """
    lists = [history.get(key, []) for key in ("loss", "val_loss", "val_metrics", "duration_s")]
    try:
        if not all(isinstance(values, list) for values in lists):
            raise TypeError
        losses, val_losses, val_metrics, durations = lists
        return ([float(v) for v in losses], [float(v) for v in val_losses], [dict(m) for m in val_metrics],
                [float(v) for v in durations])
    except (TypeError, ValueError):
        raise CheckpointError(f"{source} is damaged: its history is not a list of numbers per epoch") from None


def _diverged_loss(losses: tuple[float | None, ...], start_loss: float) -> float | None:
    """The first of ``losses`` that is not finite or has grown past the divergence ceiling, if any."""
    ceiling = DIVERGED_LOSS_RATIO * max(start_loss, 1.0)
    for loss in losses:
        if loss is not None and not (math.isfinite(loss) and loss <= ceiling):
            return loss
    return None


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


def _copy_tree(value: Any, device: torch.device | None = None) -> Any:
    """A copy of a nested dict / list structure with every tensor cloned (onto ``device`` if given).

    Much cheaper than ``copy.deepcopy`` of a state dict, which runs once per epoch.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach()
        return value.clone() if device is None or value.device == device else value.to(device)
    if isinstance(value, dict):
        return {k: _copy_tree(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_tree(v, device) for v in value)
    return value


def _to_cpu(value: Any) -> Any:
    """A copy of a nested dict / list structure with every tensor on the CPU."""
    return _copy_tree(value, torch.device("cpu"))
