"""The memory a model takes to train, against what its device has free: a model that cannot fit is refused
before it is built, in one line, instead of failing inside torch's allocator (or in the kernel's OOM killer)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from clf_tui.errors import ConfigError

try:
    import resource
except ImportError:  # not on Windows: there only the available memory is known
    resource = None  # type: ignore[assignment]

TRAINING_COPIES = 8
"""Copies of the weights a run holds: the weights, their gradients, two optimiser moments, the snapshot of the
last good epoch (weights and moments) and early stopping's best weights."""
ACTIVATION_COPIES = 3
"""Per row and hidden unit: a layer's output, its activation, and the gradient flowing back through it."""


def parameter_count(n_features: int, n_outputs: int, hidden: Sequence[int]) -> int:
    """Weights and biases of a chain of Linear layers: n_features, *hidden, n_outputs wide."""
    widths = [n_features, *hidden, n_outputs]
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(widths, widths[1:]))


def training_bytes(n_features: int, n_outputs: int, hidden: Sequence[int], rows_at_once: int, *, models: int = 1) -> int:
    """About how much memory training ``models`` such float32 models takes, ``rows_at_once`` rows passing at once."""
    weights = parameter_count(n_features, n_outputs, hidden) * TRAINING_COPIES
    activations = rows_at_once * (sum(hidden) + n_outputs) * ACTIVATION_COPIES
    return 4 * models * (weights + activations)


def free_bytes(device: torch.device) -> int | None:
    """Memory free for this process on ``device``, where it can be told: for CUDA, the device's free memory;
    for the CPU, the system's available memory within this process's address-space limit (ulimit -v)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    limit = resource.getrlimit(resource.RLIMIT_AS)[0] if resource is not None else -1
    if limit not in (-1, getattr(resource, "RLIM_INFINITY", -1)):
        candidates.append(max(limit - _address_space_used(), 0))
    return min(candidates) if candidates else None


def require_room(what: str, n_features: int, n_outputs: int, hidden: Sequence[int], rows_at_once: int,
                 device: torch.device, *, models: int = 1) -> None:
    """Raise ConfigError naming ``what`` (the setting to change) if training would not fit on ``device``."""
    needed = training_bytes(n_features, n_outputs, hidden, rows_at_once, models=models)
    free = free_bytes(device)
    if free is not None and needed > free:
        n = parameter_count(n_features, n_outputs, hidden) * models
        raise ConfigError(f"{what}: a model of {n:,} parameters needs about {_size(needed)} to train, more than "
                          f"the {_size(free)} free on {device}; use smaller hidden layers or a smaller batch")


def _address_space_used() -> int:
    try:
        for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:,.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:,.0f} MiB"
