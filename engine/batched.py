"""SeedBatch: one configuration trained over several seeds at once, as one model over stacked weights."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from .build import VAL_CHUNK_ROWS, build_optimizer_for, build_parts, split_tensors
from .config import RunConfig
from .control import RunControl

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit

Weights = dict[str, torch.Tensor]
"""Stacked weights by state-dict name: one entry per seed along the first dimension."""


class SeedBatch:
    """The models of ``seeds`` for one configuration, trained in step as one batched model.

    Seed s's model is built as ``Trainer.from_config(cfg.replace(seed=s))`` builds it
    (``torch.manual_seed(s)``, then ``build_model``); the models' parameters are stacked
    along a new first dimension (``torch.func.stack_module_state``) and one forward runs
    them all: each Linear layer as one batched matrix product over the seeds, every other
    layer (activations, dropout, the final Sigmoid or LogSoftmax acts row by row) on all
    the seeds' rows at once. ``torch.func.vmap`` of the model's forward gives the same
    numbers, but its batching rules cost 390 µs a step of the benchmark's model against
    214 µs for the products written out, and 10 seeds then took 3.0x one seed's time
    where they now take about 2x. Each step's loss is the
    sum over seeds of each seed's mean batch loss, so each seed's gradient is its own,
    and the optimiser is the configuration's, over the stacked tensors: SGD (momentum,
    Nesterov, weight decay), RMSprop, Adam and AdamW update element by element, fused or
    not, so each seed keeps its own optimiser state (Adam's step count is shared, and
    equal, as every seed steps together). Each seed draws its batch order from its own
    generator seeded with s, one permutation per epoch, as the engine's TensorBatches
    do in a single run.

    A run of seed s therefore equals the single run of that seed up to float32 rounding
    (batched matrix products sum in another order). Dropout is the exception: each seed's
    masks come from the one global generator, drawn for all the seeds' rows together, so
    a run with dropout is a fair sample of the seed's runs, not that seed's single run.
    """

    def __init__(self, cfg: RunConfig, data: DataSplit, seeds: Sequence[int]) -> None:
        parts = build_parts(cfg, data, seeds)
        spec, models = parts.spec, parts.models
        self.device, self.device_note = parts.device, parts.device_note
        self.seeds = tuple(seeds)
        self.spec = spec
        self.batch_size = cfg.batch_size
        self.params, buffers = torch.func.stack_module_state(models)
        if buffers:
            raise ValueError("SeedBatch runs models without buffers (such as BatchNorm's running statistics)")
        # The structure to run, without weights; only its Linear layers hold parameters.
        self._layers = copy.deepcopy(models[0]).to("meta")
        self._linears = [name for name, layer in self._layers.named_children() if isinstance(layer, nn.Linear)]
        if 2 * len(self._linears) != len(self.params):
            raise ValueError("SeedBatch runs models whose only parameters are their Linear layers' weights and biases")
        self.optimizer = build_optimizer_for(cfg, self.params.values())
        self._loss_fn = parts.loss_fn
        self._loss_fn.reduction = "none"  # each seed's mean is taken in seed_losses
        # Each Linear layer's stacked weight, transposed for the batched product, and its stacked bias as a
        # row to add: views of the parameters, so the optimiser's steps show through.
        self._linear_args = tuple(
            (self.params[f"{name}.weight"].transpose(1, 2), self.params[f"{name}.bias"].unsqueeze(1))
            for name in self._linears
        )
        X_train, y_train, X_val, y_val = split_tensors(data, spec)
        self.X_train, self.y_train = X_train.to(self.device), y_train.to(self.device)
        self.X_val, self.y_val = X_val.to(self.device), y_val.to(self.device)
        self.y_true = spec.labels(self.y_val).cpu().numpy()
        self.generators = [torch.Generator().manual_seed(seed) for seed in seeds]

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Every seed's model on its own rows: ``x`` (seeds, rows, features) -> (seeds, rows, outputs).

        Rows shared by every seed (validation) come as an ``expand`` of one (rows, features) tensor.
        """
        seeds, rows = x.shape[:2]
        linear_args = iter(self._linear_args)
        for layer in self._layers.children():
            if isinstance(layer, nn.Linear):
                weight_t, bias = next(linear_args)
                x = torch.baddbmm(bias, x, weight_t)
            else:
                x = layer(x.flatten(0, 1)).view(seeds, rows, -1)
        return x

    def seed_losses(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Each seed's mean loss, shape (seeds,), from outputs (seeds, rows, ...) and targets (seeds, rows, ...).

        Seeds and rows are flattened into one batch for the loss, unreduced, and each seed's
        elements averaged: the mean that the loss's own ``reduction="mean"`` takes in a single run.
        """
        elements = self._loss_fn(outputs.flatten(0, 1), targets.flatten(0, 1))
        return elements.reshape(self.n_seeds, -1).mean(dim=1)

    def train_epoch(self, control: RunControl) -> tuple[np.ndarray, np.ndarray, float] | None:
        """One pass over the training data: each seed's mean loss and first batch loss, and the seconds
        paused; None if a stop was requested during it."""
        self._layers.train()
        n, size = len(self.X_train), self.batch_size
        orders = torch.stack([torch.randperm(n, generator=g) for g in self.generators]).to(self.device)
        total = torch.zeros(self.n_seeds, device=self.device)
        first: torch.Tensor | None = None
        paused_s = 0.0
        for start in range(0, n, size):
            if control.paused:
                paused_s += control.wait_while_paused()
            if control.stop_requested:
                return None
            index = orders[:, start : start + size]
            rows = index.reshape(-1)  # index_select of the rows, as a single run's TensorBatches gathers them
            x = self.X_train.index_select(0, rows).view(*index.shape, -1)
            y = self.y_train.index_select(0, rows).view(*index.shape, *self.y_train.shape[1:])
            losses = self.seed_losses(self.forward(x), y)
            losses.sum().backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            losses = losses.detach()
            if first is None:
                first = losses
            total.add_(losses, alpha=index.shape[1])
        return _floats(total) / n, _floats(first), paused_s

    def validate(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each seed's validation loss, and each seed's probabilities (as a single run's EvalReady holds them)."""
        self._layers.eval()
        total = torch.zeros(self.n_seeds, device=self.device)
        probs = []
        chunk = max(self.batch_size, VAL_CHUNK_ROWS)  # a single run's validation batches
        with torch.no_grad():
            for start in range(0, len(self.X_val), chunk):
                x = self.X_val[start : start + chunk]
                y = self.y_val[start : start + len(x)]
                outputs = self.forward(x.expand(self.n_seeds, *x.shape))
                total += self.seed_losses(outputs, y.expand(self.n_seeds, *y.shape)) * len(x)
                prob = self.spec.proba(outputs.flatten(0, 1)).float()
                probs.append(prob.view(self.n_seeds, len(x), *prob.shape[1:]))
        self._layers.train()
        y_prob = torch.cat(probs, dim=1).cpu().numpy()
        return _floats(total) / len(self.X_val), list(y_prob)

    def state(self) -> Weights:
        """The stacked parameters themselves, seeds along the first dimension (they change as it trains)."""
        return self.params

    def weights(self) -> Weights:
        """A copy of ``state()``."""
        return {name: value.detach().clone() for name, value in self.params.items()}

    @staticmethod
    def seed_weights(weights: Weights, i: int) -> dict[str, np.ndarray]:
        """The ``i``-th seed's entries of stacked ``weights``, as its model's state dict holds them, in NumPy."""
        return {name: value[i].detach().cpu().numpy().copy() for name, value in weights.items()}


def _floats(values: torch.Tensor) -> np.ndarray:
    """A device tensor of per-seed values as float64 NumPy, as ``.item()`` reads each in a single run."""
    return values.detach().cpu().numpy().astype(np.float64)
