"""Snapshots of what a training step changes (weights, optimiser state, random generators), to roll a run back to
an epoch's end; and copies of state trees, tensors cloned, that training on leaves as they were."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Snapshot:
    """Everything that changes during an epoch: the weights, the optimiser's state and the random states."""

    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    rng: dict[str, Any]


def copy_tree(value: Any, device: torch.device | None = None) -> Any:
    """A copy of a nested dict / list structure with every tensor cloned (onto ``device`` if given).

    Much cheaper than ``copy.deepcopy`` of a state dict, which runs once per epoch.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach()
        return value.clone() if device is None or value.device == device else value.to(device)
    if isinstance(value, dict):
        return {k: copy_tree(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(copy_tree(v, device) for v in value)
    return value


def to_cpu(value: Any) -> Any:
    """A copy of a nested dict / list structure with every tensor on the CPU."""
    return copy_tree(value, torch.device("cpu"))


def is_state_dict(value: Any) -> bool:
    """Whether ``value`` is a model state dict: tensors by name."""
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())
