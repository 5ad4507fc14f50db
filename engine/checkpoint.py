"""Checkpoint files: one plain dict of tensors and primitives, written atomically, read without pickle code.

A file is verified before any of it is used: it must be a regular file, a zip archive whose members
all match their CRC-32 (torch itself never checks them) and that inflates to no more than a few times
its size; read with ``weights_only``; of this format; its contents equal to the SHA-256 digest written
with them (which also catches a file edited and zipped again); its tensors no larger than a few times
its model's weights; its weights, threshold, scaler and preprocessing finite and in range.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .atomic import is_temporary, write_atomic
from .errors import CheckpointError
from .files import require_regular_file

if TYPE_CHECKING:
    from clf_tui.datasets import Preprocessing, Scaler

FORMAT = "clf-tui checkpoint"
FORMAT_VERSION = 2
"""2: the SHA-256 digest of the contents is written with them. Version 1 files (no digest) are still read."""
DIGEST_KEY = "content_sha256"
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
MAX_INFLATION = 4
"""A checkpoint's members are stored, not compressed: together they may hold at most this many times the
file's size (plus SLACK_BYTES). A small file that inflates to gigabytes was not written by clf-tui."""
MAX_TENSOR_RATIO = 8
"""All the tensors of a checkpoint may take at most this many times its model's weights (plus SLACK_BYTES):
the weights, the early-stopping copy, two optimiser moments and the step counts take about four."""
SLACK_BYTES = 2**20
"""Room for what does not grow with the model: the pickled entries, the random generators' states."""


def write_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` (already plain) to ``path`` atomically, with the digest of its contents: the old
    file survives any failure."""
    path = Path(path)
    state = {key: value for key, value in state.items() if key != DIGEST_KEY}
    state[DIGEST_KEY] = content_digest(state)
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
    """Read and verify a checkpoint; anything else (corrupt, hostile, newer, edited) is a CheckpointError.

    ``torch.load(weights_only=True)`` refuses every pickled object but tensors and
    primitives, so a crafted file cannot run code while it is read. The bytes are read
    once, verified, and loaded from memory, so the file cannot change in between.
    """
    path = Path(path)
    if is_temporary(path):
        raise CheckpointError(f"{path} is the temporary file of a save that never finished, not a checkpoint; "
                              "open the file it was meant to replace")
    require_regular_file(path, CheckpointError, "checkpoint")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    except MemoryError:
        raise CheckpointError(f"not enough memory to read checkpoint {path}") from None
    if not raw:
        raise CheckpointError(f"checkpoint {path} is empty")
    if raw.startswith(b"PK"):
        _verify_archive(path, raw)
    try:
        with warnings.catch_warnings():
            # torch warns about odd files it then reads or refuses anyway; the caller gets one verdict.
            warnings.simplefilter("ignore")
            state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():
            raise CheckpointError(
                f"refused {path}: it carries Python objects that a checkpoint never holds (unsafe to load)"
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated)") from None
    except (RuntimeError, EOFError, ValueError, TypeError, OSError, zipfile.BadZipFile, KeyError, AttributeError,
            IndexError, UnicodeDecodeError, MemoryError):
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated)") from None
    del raw
    _check_structure(path, state)
    _check_digest(path, state)
    _check_tensor_sizes(path, state)
    _check_values(path, state)
    return state


def _verify_archive(path: Path, raw: bytes) -> None:
    """Refuse a zip whose members would inflate past MAX_INFLATION, or any member whose bytes do not match
    its CRC-32: one flipped bit anywhere in a stored tensor is caught here."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
            inflated = sum(member.file_size for member in members)
            if inflated > MAX_INFLATION * len(raw) + SLACK_BYTES:
                raise CheckpointError(
                    f"refused {path}: its {len(raw) / 2**20:.1f} MB would inflate to {inflated / 2**20:,.0f} MB; "
                    "clf-tui stores checkpoints uncompressed, so this is not one it wrote")
            for member in members:
                with archive.open(member) as handle:  # checks the CRC-32 once the member is read to its end
                    while handle.read(2**20):
                        pass
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, OSError) as exc:
        if "CRC" in str(exc):
            raise CheckpointError(f"{path} is damaged: its bytes do not match their checksums "
                                  "(changed or corrupted after it was saved)") from None
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated)") from None


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


def content_digest(state: dict[str, Any]) -> str:
    """The SHA-256 of a checkpoint dict's contents: every key, value and tensor (dtype, shape and bytes), in
    order. A list and a tuple hash alike, as a checkpoint read back may hold either."""
    digest = hashlib.sha256()
    _feed(digest, state)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}:".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}:".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, (list, tuple)):
        digest.update(f"L{len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        digest.update(f"S{len(data)}:".encode())
        digest.update(data)
    elif value is None or isinstance(value, (bool, int)):
        digest.update(f"{type(value).__name__[0]}{value!r};".encode())
    elif isinstance(value, float):
        digest.update(f"F{value.hex()};".encode())
    else:  # torch.load's weights_only allows a few more (a dtype, a device, bytes): none is in a checkpoint
        raise TypeError(f"a checkpoint holds no {type(value).__name__}")


def _check_digest(path: Path, state: dict[str, Any]) -> None:
    if state["format_version"] < 2:  # written before the digest was; the archive's checksums still hold
        return
    saved = state.get(DIGEST_KEY)
    if not isinstance(saved, str):
        raise CheckpointError(f"{path} is damaged: it carries no digest of its contents")
    try:
        actual = content_digest({key: value for key, value in state.items() if key != DIGEST_KEY})
    except TypeError as exc:
        raise CheckpointError(f"{path} is damaged: {exc}") from None
    if actual != saved:
        raise CheckpointError(f"{path} is damaged: its contents differ from the digest saved with them "
                              "(changed after it was saved)")
    del state[DIGEST_KEY]  # read back, a state is what was given to write_checkpoint


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


@dataclass(frozen=True)
class DataDescription:
    """How a saved model reads new rows: its features and classes by name, its scaler and its preprocessing
    (for data saved without one, each feature is the numeric column of its name)."""

    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    scaler: Scaler
    preprocessing: Preprocessing


def data_description(state: dict[str, Any], source: str) -> DataDescription:
    """The checked description of the data a checkpoint's model was trained on.

    Raises:
        CheckpointError: it has none, or its names, scaler and preprocessing do not hold together.
    """
    from clf_tui.datasets import Preprocessing, Scaler

    entries = {key: state.get(key) for key in ("class_names", "feature_names", "scaler")}
    if all(value is None for value in entries.values()):
        raise CheckpointError(f"{source} holds no description of its data, so new rows cannot be mapped onto it")
    class_names, feature_names = entries["class_names"], entries["feature_names"]
    for key in ("class_names", "feature_names"):
        names = entries[key]
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names) \
                or len(set(names)) != len(names):
            raise CheckpointError(f"{source} is damaged: its {key} are not a list of distinct names")
    if len(class_names) < 2:
        raise CheckpointError(f"{source} is damaged: it names {len(class_names)} classes")
    try:
        scaler = Scaler.from_dict(entries["scaler"])
        if state.get("preprocessing") is not None:
            preprocessing = Preprocessing.from_dict(state["preprocessing"])
        else:  # saved from numeric columns alone: each feature is the column of its name
            config = state.get("config")
            target = config.get("target") if isinstance(config, dict) else None
            preprocessing = Preprocessing.numeric_columns(tuple(feature_names), target if isinstance(target, str) else "")
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{source} is damaged: its data description is not valid ({exc})") from None
    if preprocessing.feature_names != tuple(feature_names) or len(scaler.shift) != len(feature_names):
        raise CheckpointError(f"{source} is damaged: its preprocessing ({len(preprocessing.feature_names)} features), "
                              f"scaler ({len(scaler.shift)}) and feature names ({len(feature_names)}) disagree")
    return DataDescription(tuple(feature_names), tuple(class_names), scaler, preprocessing)
