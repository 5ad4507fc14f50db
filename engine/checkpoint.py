"""Checkpoint files: one plain dict of tensors and primitives, written atomically, read without pickle code."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .atomic import is_temporary, write_atomic
from .errors import CheckpointError

FORMAT = "clf-tui checkpoint"
FORMAT_VERSION = 1
REQUIRED_KEYS = {
    "format": str,
    "format_version": int,
    "model_state": dict,
    "optimizer_state": dict,
    "epoch": int,
    "history": dict,
    "rng": dict,
    "threshold": float,
}


def write_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` (already plain) to ``path`` atomically: the old file survives any failure."""
    path = Path(path)
    # Serialised in memory first: torch's zip writer turns an error of the file it writes
    # into (a full disk, say) into a RuntimeError that no longer says what went wrong.
    buffer = io.BytesIO()
    torch.save(state, buffer)
    try:
        write_atomic(path, buffer.getbuffer())
    except OSError as exc:
        raise CheckpointError(f"could not write checkpoint {path}: {exc.strerror or exc}") from None
    return path


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a checkpoint; anything else (corrupt, hostile, newer) is a CheckpointError.

    ``torch.load(weights_only=True)`` refuses every pickled object but tensors and
    primitives, so a crafted file cannot run code while it is read.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no such checkpoint: {path}")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    if is_temporary(path):
        raise CheckpointError(f"{path} is the temporary file of a save that never finished, not a checkpoint; "
                              "open the file it was meant to replace")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty")
    try:
        with warnings.catch_warnings():
            # torch warns about odd files it then reads or refuses anyway; the caller gets one verdict.
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():
            raise CheckpointError(
                f"refused {path}: it carries Python objects that a checkpoint never holds (unsafe to load)"
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated)") from None
    except (RuntimeError, EOFError, ValueError, TypeError, OSError, zipfile.BadZipFile, KeyError, AttributeError,
            IndexError, UnicodeDecodeError, MemoryError):
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated)") from None
    _check_structure(path, state)
    return state


def _check_structure(path: Path, state: Any) -> None:
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a clf-tui checkpoint")
    version = state.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{path} has no format version; it is not a clf-tui checkpoint")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format version {version}, newer than this clf-tui reads ({FORMAT_VERSION}); upgrade clf-tui"
        )
    for key, kind in REQUIRED_KEYS.items():
        if not isinstance(state.get(key), kind):
            raise CheckpointError(f"{path} is damaged: its {key!r} entry is missing or not a {kind.__name__}")
    for name, value in state["model_state"].items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{path} is damaged: model entry {name!r} is not a tensor")


def shape_mismatches(saved: dict[str, torch.Tensor], current: dict[str, torch.Tensor]) -> list[str]:
    """Human-readable differences between two model state dicts (missing, extra, or reshaped entries)."""
    problems = []
    for name in saved.keys() | current.keys():
        if name not in current:
            problems.append(f"{name} is in the checkpoint but not in this model")
        elif name not in saved:
            problems.append(f"{name} is missing from the checkpoint")
        elif saved[name].shape != current[name].shape:
            problems.append(f"{name} is {tuple(saved[name].shape)} in the checkpoint but {tuple(current[name].shape)} here")
    return sorted(problems)


def optimizer_state_mismatches(saved: Any, optimizer: torch.optim.Optimizer) -> list[str]:
    """Why ``saved`` cannot be loaded into ``optimizer``, or []: every group's parameter count, and every
    tensor of every parameter's state, checked against that parameter before torch reads them. torch checks
    neither, and a moment of the wrong shape corrupts memory on the next step."""
    current = optimizer.state_dict()
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict) or not isinstance(
            saved.get("param_groups"), list):
        return ["the optimiser state is not a dict of 'state' and 'param_groups'"]
    groups = saved["param_groups"]
    if len(groups) != len(current["param_groups"]) or not all(
            isinstance(group, dict) and isinstance(group.get("params"), list) for group in groups):
        return ["the optimiser's parameter groups differ from this model's"]
    if [len(g["params"]) for g in groups] != [len(g["params"]) for g in current["param_groups"]]:
        return ["the optimiser's parameter groups hold other numbers of parameters than this model's"]
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    index_of = {index: at for at, index in enumerate(i for g in groups for i in g["params"])}
    problems = []
    for index, entries in saved["state"].items():
        if index not in index_of or not isinstance(entries, dict):
            problems.append(f"the optimiser state names a parameter {index!r} that it has no group for")
            continue
        parameter = parameters[index_of[index]]
        for name, value in entries.items():
            if not isinstance(value, torch.Tensor):
                continue
            if value.numel() == 1 and value.dim() <= 1:  # a step count
                if not value.is_floating_point() and value.dtype not in (torch.int32, torch.int64):
                    problems.append(f"the optimiser's {name!r} of parameter {index} is a {value.dtype}")
            elif value.shape != parameter.shape or value.dtype != parameter.dtype:
                problems.append(f"the optimiser's {name!r} of parameter {index} is {tuple(value.shape)} {value.dtype}, "
                                f"but the parameter is {tuple(parameter.shape)} {parameter.dtype}")
    return problems


def data_fingerprint(X_train: np.ndarray, y_train: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    """What identifies a training split: its shape, class names and a hash of its contents."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X_train).tobytes())
    digest.update(np.ascontiguousarray(y_train).tobytes())
    return {
        "n_train": int(X_train.shape[0]),
        "n_features": int(X_train.shape[1]),
        "class_names": list(class_names),
        "sha256": digest.hexdigest(),
    }
