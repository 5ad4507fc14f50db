"""A run's parts built from its config in one place: its data, its loss, its models (one per seed, seeded as a
single run seeds its own), its optimiser and its data as tensors. ``Trainer.from_config`` builds one seed's,
a comparison's ``SeedBatch`` several at once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .config import RunConfig
from .device import resolve_device
from clf_tui.errors import ConfigError
from .losses import LossSpec, loss_spec
from .memory import require_room
from .models import build_model
from .optimizers import build_optimizer

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit, Fold

VAL_CHUNK_ROWS = 8192
"""Validation runs through at most this many rows at a time (or a training batch, if larger)."""


@dataclass(frozen=True, eq=False)
class RunParts:
    """What a config builds for its data: the loss, its function, and one model per seed on ``device``."""

    spec: LossSpec
    loss_fn: nn.Module
    models: tuple[nn.Module, ...]
    device: torch.device
    device_note: str
    """Why this device ("auto: no CUDA device, using the CPU")."""


def load_data(cfg: RunConfig) -> DataSplit:
    """The data set that ``cfg`` names, split and scaled."""
    from clf_tui import datasets

    return datasets.load(cfg.dataset, val_fraction=cfg.val_fraction, split_seed=cfg.split_seed,
                         stratify=cfg.stratify, **_data_options(cfg))


def load_folds(cfg: RunConfig, only: int | None = None) -> Iterator[Fold]:
    """The ``cfg.folds`` stratified folds of the data set that ``cfg`` names, one at a time, each with its
    preprocessing and scaler fit on its own training rows (``only``: that fold alone, from 1)."""
    from clf_tui import datasets

    return datasets.folds(cfg.dataset, cfg.folds, split_seed=cfg.split_seed, only=only, **_data_options(cfg))


def _data_options(cfg: RunConfig) -> dict[str, Any]:
    """The options of ``datasets.load`` that choose and read the rows, before any split."""
    from clf_tui import datasets

    return dict(n_samples=cfg.n_samples, noise=cfg.noise, n_classes=cfg.n_classes, data_seed=cfg.data_seed,
                scaler=cfg.scaler, target=cfg.target,
                overrides=datasets.Overrides(cfg.drop, cfg.categorical, cfg.numeric), na_values=cfg.na_values,
                missing_indicators=cfg.missing_indicators, positive=cfg.positive)


def build_parts(cfg: RunConfig, data: DataSplit, seeds: Sequence[int] | None = None) -> RunParts:
    """The loss and the models of ``cfg`` for ``data``: one per seed (default: ``cfg.seed``), each built right
    after ``torch.manual_seed(seed)``, so that a seed's model is the same whichever builds it.

    Raises:
        ConfigError: a setting does not fit the data, or the models would not fit in the device's memory.
        DeviceError: the device asked for is not there.
    """
    spec = loss_spec(cfg.resolved_loss(data.task), data.n_classes)
    if cfg.has_costs and data.n_classes != 2:
        raise ConfigError(f"cost_fp and cost_fn choose the threshold between two classes, and {data.name} has "
                          f"{data.n_classes}, which are predicted by the most probable: leave the costs unset",
                          field="cost_fp")
    device, device_note = resolve_device(cfg.device)  # fail before building anything
    seeds = (cfg.seed,) if seeds is None else tuple(seeds)
    hidden = cfg.hidden if cfg.model == "mlp" else ()
    n_outputs = spec.n_outputs(data.n_classes)
    what = f"hidden = {hidden}" + (f" over {len(seeds)} seeds" if len(seeds) > 1 else "")
    require_room(what, data.n_features, n_outputs, hidden, max(cfg.batch_size, VAL_CHUNK_ROWS), device,
                 models=len(seeds))
    torch.set_num_threads(cfg.threads)
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        try:
            models.append(build_model(
                cfg.model, data.n_features, n_outputs,
                hidden=hidden, activation=cfg.activation, dropout=cfg.dropout, final_layer=spec.final_layer,
            ).to(device))
        except (MemoryError, RuntimeError) as exc:  # the estimate fell short of what the allocator had
            if isinstance(exc, RuntimeError) and "allocate" not in str(exc):
                raise
            raise ConfigError(f"{what}: not enough memory on {device} to build this model; "
                              "use smaller hidden layers") from None
    loss_fn = spec.make(pos_weight(cfg, data)).to(device)
    return RunParts(spec, loss_fn, tuple(models), device, device_note)


def build_optimizer_for(cfg: RunConfig, params: Iterable[torch.Tensor]) -> torch.optim.Optimizer:
    """``cfg``'s optimiser and its settings, over ``params``."""
    return build_optimizer(cfg.optimizer, params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                           weight_decay=cfg.weight_decay, betas=cfg.betas)


def pos_weight(cfg: RunConfig, data: DataSplit) -> float | None:
    """The weight of positive rows in ``bce_logits``: none, the training split's n_neg / n_pos, or a number."""
    if cfg.pos_weight == "none":
        return None
    if cfg.pos_weight == "auto":
        n_neg, n_pos = data.class_counts["train"]
        return n_neg / n_pos if n_pos else 1.0
    return float(cfg.pos_weight)


def split_tensors(data: DataSplit, spec: LossSpec) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(X_train, y_train, X_val, y_val) on the CPU, the labels as ``spec``'s loss takes them."""
    k = data.n_classes
    return (torch.from_numpy(data.X_train), spec.target(torch.from_numpy(data.y_train), k),
            torch.from_numpy(data.X_val), spec.target(torch.from_numpy(data.y_val), k))
