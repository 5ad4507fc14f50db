"""SeedBatch: one configuration trained over several seeds at once, as one model vmapped over stacked weights."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .config import RunConfig
from .control import RunControl
from .device import resolve_device
from .losses import loss_spec
from .models import build_model
from .optimizers import build_optimizer
from .trainer import VAL_CHUNK_ROWS, _pos_weight

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit

Weights = dict[str, torch.Tensor]
"""Stacked weights by state-dict name: one entry per seed along the first dimension."""


class SeedBatch:
    """The models of ``seeds`` for one configuration, trained in step as one batched model.

    Seed s's model is built as ``Trainer.from_config(cfg.replace(seed=s))`` builds it
    (``torch.manual_seed(s)``, then ``build_model``); the models' parameters are stacked
    along a new first dimension (``torch.func.stack_module_state``) and one
    ``torch.func.vmap`` of the model's forward runs them all. Each step's loss is the
    sum over seeds of each seed's mean batch loss, so each seed's gradient is its own,
    and the optimiser is the configuration's, over the stacked tensors: SGD (momentum,
    Nesterov, weight decay), RMSprop, Adam and AdamW update element by element, fused or
    not, so each seed keeps its own optimiser state (Adam's step count is shared, and
    equal, as every seed steps together). Each seed draws its batch order from its own
    generator seeded with s, one permutation per epoch, as the engine's TensorBatches
    do in a single run.

    A run of seed s therefore equals the single run of that seed up to float32 rounding
    (batched matrix products sum in another order). Dropout is the exception: vmap draws
    each seed's masks (``randomness="different"``) from the one global generator, so a
    run with dropout is a fair sample of the seed's runs, not that seed's single run.
    """

    def __init__(self, cfg: RunConfig, data: DataSplit, seeds: Sequence[int]) -> None:
        spec = loss_spec(cfg.resolved_loss(data.task), data.n_classes)
        self.device, self.device_note = resolve_device(cfg.device)
        torch.set_num_threads(cfg.threads)
        models = []
        for seed in seeds:
            torch.manual_seed(seed)
            models.append(build_model(
                cfg.model, data.n_features, spec.n_outputs(data.n_classes), hidden=cfg.hidden,
                activation=cfg.activation, dropout=cfg.dropout, final_layer=spec.final_layer,
            ).to(self.device))
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
        self.optimizer = build_optimizer(
            cfg.optimizer, self.params.values(), lr=cfg.lr, momentum=cfg.momentum,
            nesterov=cfg.nesterov, weight_decay=cfg.weight_decay, betas=cfg.betas,
        )
        self._loss_fn = spec.make(_pos_weight(cfg, data)).to(self.device)
        self._loss_fn.reduction = "none"  # each seed's mean is taken in seed_losses
        # Only dropout draws random numbers; asking vmap for per-seed randomness costs time on every call.
        randomness = "different" if cfg.dropout > 0 else "error"
        # Each Linear layer's stacked weight and bias, in order, are the vmapped forward's first arguments:
        # separate ones, not a dict, which vmap would flatten anew on every call (a fifth of a small step).
        self._linear_args = tuple(self.params[f"{name}.{kind}"] for name in self._linears for kind in ("weight", "bias"))
        stacked = (0,) * len(self.params)
        self._forward = torch.vmap(self._forward_one, in_dims=(*stacked, 0), randomness=randomness)
        self._forward_shared = torch.vmap(self._forward_one, in_dims=(*stacked, None), randomness=randomness)
        k = data.n_classes
        self.X_train = torch.from_numpy(data.X_train).to(self.device)
        self.y_train = spec.target(torch.from_numpy(data.y_train), k).to(self.device)
        self.X_val = torch.from_numpy(data.X_val).to(self.device)
        self.y_val = spec.target(torch.from_numpy(data.y_val), k).to(self.device)
        self.y_true = spec.labels(self.y_val).cpu().numpy()
        self.generators = [torch.Generator().manual_seed(seed) for seed in seeds]

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def _forward_one(self, *tensors: torch.Tensor) -> torch.Tensor:
        """One seed's model on ``x``, the last argument, after its Linear layers' weights and biases.

        ``torch.func.functional_call`` would run any module so, but swaps every parameter
        into the module on each call: 1.2x the time of a whole step here.
        """
        *args, x = tensors
        linear_args = iter(args)
        for layer in self._layers.children():
            x = F.linear(x, next(linear_args), next(linear_args)) if isinstance(layer, nn.Linear) else layer(x)
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
            losses = self.seed_losses(self._forward(*self._linear_args, x), y)
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
                outputs = self._forward_shared(*self._linear_args, x)
                total += self.seed_losses(outputs, y.expand(self.n_seeds, *y.shape)) * len(x)
                probs.append(torch.stack([self.spec.proba(seed_outputs).float() for seed_outputs in outputs]))
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
