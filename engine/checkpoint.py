"""What a checkpoint holds, in one place: a trainer's whole state as one plain dict of tensors and primitives
(``trainer_state``), read back and checked before any of it is used (``read_checkpoint``), and applied to a
trainer once every tensor has been checked against its model and optimiser (``restore_trainer``). The file
itself, its checksums and digest, is ``archive``'s part; the data it describes, ``saved_data``'s."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .archive import SLACK_BYTES, read_archive, write_archive
from .calibration import TEMPERATURE_BOUNDS
from .costs import Costs
from clf_tui.errors import CheckpointError
from .events import EpochEnded
from .saved_data import check_same_data, data_description, data_fingerprint
from .snapshot import is_state_dict, to_cpu
from .stopping import EarlyStoppingWatch

if TYPE_CHECKING:
    from .trainer import Trainer

FORMAT = "clf-tui checkpoint"
FORMAT_VERSION = 2
"""2: the SHA-256 digest of the contents is written with them. Version 1 files (no digest) are still read."""
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
HISTORY_KEYS = ("loss", "val_loss", "val_metrics", "duration_s")
"""The history as saved: one list per key, an entry per epoch (val_loss shorter without validation)."""
MAX_TENSOR_RATIO = 8
"""All the tensors of a checkpoint may take at most this many times its model's weights (plus SLACK_BYTES):
the weights, the early-stopping copy, two optimiser moments and the step counts take about four."""


def write_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` (already plain, as ``trainer_state`` gives it) to ``path`` atomically, with the digest of
    its contents: the old file survives any failure."""
    return write_archive(path, state)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and verify a checkpoint; anything else (corrupt, hostile, newer, edited) is a CheckpointError.

    Beyond the file's own checks (``archive.read_archive``): the format and its version, every entry's kind,
    tensors no larger than a few times the model's weights, weights and threshold finite and in range, and a
    data description that holds together.
    """
    path = Path(path)
    state, has_digest = read_archive(path)
    _check_structure(path, state)
    if state["format_version"] >= 2 and not has_digest:
        raise CheckpointError(f"{path} is damaged: it carries no digest of its contents")
    _check_tensor_sizes(path, state)
    _check_values(path, state)
    return state


def trainer_state(trainer: Trainer) -> dict[str, Any]:
    """The checkpoint dict of ``trainer``: tensors (copies, on the CPU) and primitives only."""
    data = trainer.data
    history = trainer.history
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": trainer.config.to_dict() if trainer.config is not None else None,
        "loss": trainer.spec.name if trainer.spec is not None else None,
        "model_state": to_cpu(trainer.unwrapped_model.state_dict()),
        "optimizer_state": to_cpu(trainer.optimizer.state_dict()),
        "epoch": trainer.total_epochs,
        "history": {
            "loss": [r.train_loss for r in history],
            "val_loss": [r.val_loss for r in history if r.val_loss is not None],
            "val_metrics": [dict(r.metrics) for r in history],
            "duration_s": [r.duration_s for r in history],
        },
        "rng": to_cpu(trainer.rng_state()),
        "threshold": float(trainer.threshold),
        "temperature": float(trainer.temperature),
        "costs": trainer.costs.to_dict() if trainer.costs is not None else None,
        "fold": trainer.fold,
        "class_names": list(data.class_names) if data is not None else None,
        "feature_names": list(data.feature_names) if data is not None else None,
        "scaler": data.scaler.to_dict() if data is not None else None,
        "preprocessing": data.preprocessing.to_dict() if data is not None and data.preprocessing else None,
        "data_fingerprint": data_fingerprint(data.X_train, data.y_train, data.class_names) if data is not None else None,
        "early_stopping": trainer.early_stopping_watch.to_dict(to_cpu),
    }


def restore_trainer(trainer: Trainer, state: dict[str, Any], *, source: str = "checkpoint",
                    check_data: bool = True) -> None:
    """Apply ``state`` (read by ``read_checkpoint``) to ``trainer``: weights, optimiser, history, random states,
    threshold and early-stopping watch. Everything is checked first, so a refused state changes nothing.

    Raises:
        CheckpointError: the state was saved from another model, holds optimiser tensors that do not fit its
            parameters (torch checks neither shape nor dtype, and a moment of the wrong shape corrupted memory),
            or, with ``check_data``, was trained on other data than the trainer's.
    """
    model = trainer.unwrapped_model
    if check_data and trainer.data is not None:
        check_same_data(state, trainer.data, source)
    problems = shape_mismatches(state["model_state"], model.state_dict())
    if problems:
        raise CheckpointError(f"{source} was saved from a different model: {'; '.join(problems[:4])}")
    problems = optimizer_state_mismatches(state["optimizer_state"], trainer.optimizer)
    if problems:
        raise CheckpointError(f"{source} is damaged: {'; '.join(problems[:3])}")
    dtypes = [name for name, value in state["model_state"].items() if value.dtype != model.state_dict()[name].dtype]
    if dtypes:
        raise CheckpointError(f"{source} is damaged: model entry {dtypes[0]!r} has another dtype than this model's")
    n_train = len(trainer.data.y_train) if trainer.data is not None else 0
    history = history_records(state["history"], n_train, source)
    watch = EarlyStoppingWatch.from_dict(state.get("early_stopping"), source, is_state_dict)
    if watch.best_weights is not None and shape_mismatches(watch.best_weights, model.state_dict()):
        raise CheckpointError(f"{source} is damaged: its early stopping weights do not fit the model")
    try:
        model.load_state_dict(state["model_state"])
        trainer.optimizer.load_state_dict(state["optimizer_state"])
        trainer.set_rng_state(state["rng"])
    except (ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"{source} does not fit this trainer: {exc}") from None
    trainer.history = history
    trainer.total_epochs = int(state["epoch"])
    trainer.threshold = float(state["threshold"])
    trainer.temperature = float(state.get("temperature", 1.0))
    trainer.costs = saved_costs(state, source)
    trainer.fold = state.get("fold")
    trainer.early_stopping_watch = watch


def saved_costs(state: dict[str, Any], source: str) -> Costs | None:
    """The costs a checkpoint's threshold was chosen by, or None (also for checkpoints older than costs).

    Raises:
        CheckpointError: the entry is not what ``Costs.to_dict`` writes.
    """
    saved = state.get("costs")
    if saved is None:
        return None
    try:
        return Costs.from_dict(saved)
    except ValueError as exc:
        raise CheckpointError(f"{source} is damaged: its costs are not valid ({exc})") from None


def history_records(saved: dict[str, Any], n_train: int, source: str) -> list[EpochEnded]:
    """A saved history as the EpochEnded records its run yielded (``n_train`` rows give the throughput).

    Raises:
        CheckpointError: an entry is not a list of numbers per epoch (of dicts, for the metrics).
    """
    lists = [saved.get(key, []) for key in HISTORY_KEYS]
    try:
        if not all(isinstance(values, list) for values in lists):
            raise TypeError
        losses, val_losses, val_metrics, durations = lists
        records = []
        for i, train_loss in enumerate(losses):
            duration_s = float(durations[i]) if i < len(durations) else 0.0
            records.append(EpochEnded(
                epoch=i + 1, train_loss=float(train_loss),
                val_loss=float(val_losses[i]) if i < len(val_losses) else None,
                metrics=dict(val_metrics[i]) if i < len(val_metrics) else {},
                duration_s=duration_s, samples_per_s=n_train / duration_s if duration_s else 0.0,
            ))
        return records
    except (TypeError, ValueError):
        raise CheckpointError(f"{source} is damaged: its history is not a list of numbers per epoch") from None


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


def _check_tensor_sizes(path: Path, state: dict[str, Any]) -> None:
    """Refuse tensors that claim more elements than their storage holds (a view that later copies would
    inflate), and tensors that together outweigh the model by more than MAX_TENSOR_RATIO."""
    model_bytes = sum(_nbytes(t) for t in state["model_state"].values())
    total = 0
    for tensor in _tensors(state):
        if _nbytes(tensor) > tensor.untyped_storage().nbytes():
            raise CheckpointError(f"{path} is damaged: a tensor of shape {tuple(tensor.shape)} claims more "
                                  "elements than it stores")
        total += _nbytes(tensor)
    if total > MAX_TENSOR_RATIO * model_bytes + SLACK_BYTES:
        raise CheckpointError(f"refused {path}: it holds {total / 2**20:,.1f} MB of tensors for a model of "
                              f"{model_bytes / 2**20:,.1f} MB; a checkpoint holds a few copies of its weights at most")


def _nbytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


def _tensors(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)


def _check_values(path: Path, state: dict[str, Any]) -> None:
    """Refuse weights that are not finite, a threshold outside [0, 1] and a data description that does not
    hold together: each would give wrong numbers, or a traceback, later."""
    threshold = state["threshold"]
    if not 0.0 <= threshold <= 1.0:  # NaN fails too
        raise CheckpointError(f"{path} is damaged: its threshold {threshold!r} is not a number between 0 and 1")
    temperature = state.get("temperature", 1.0)
    low, high = TEMPERATURE_BOUNDS
    if not isinstance(temperature, float) or not low <= temperature <= high:
        raise CheckpointError(f"{path} is damaged: its temperature {temperature!r} is not a number from {low} to {high}")
    saved_costs(state, str(path))
    fold = state.get("fold")
    config = state.get("config")
    folds = config.get("folds") if isinstance(config, dict) else None
    if fold is not None and not (type(fold) is int and type(folds) is int and 1 <= fold <= folds):
        raise CheckpointError(f"{path} is damaged: its fold {fold!r} is not one of the {folds!r} folds of its config")
    for name, value in state["model_state"].items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{path} is damaged: its weights are not all finite numbers ({name})")
    if any(state.get(key) is not None for key in ("class_names", "feature_names", "scaler", "preprocessing")):
        data_description(state, str(path))


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
