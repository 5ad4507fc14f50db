"""Checkpoint files on disk: written atomically with a digest of their contents, and verified before a byte of
them is trusted: a regular file, a zip archive whose members all match their CRC-32 (torch itself never checks
them) and that inflates to no more than a few times its size, read with ``weights_only`` so that it cannot run
code, and its contents equal to the SHA-256 digest written with them (which also catches a file edited and zipped
again). What the contents mean is ``checkpoint``'s part."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch

from .atomic import is_temporary, write_atomic
from clf_tui.errors import CheckpointError
from clf_tui.files import require_regular_file

DIGEST_KEY = "content_sha256"
MAX_INFLATION = 4
"""A checkpoint's members are stored, not compressed: together they may hold at most this many times the
file's size (plus SLACK_BYTES). A small file that inflates to gigabytes was not written by clf-tui."""
SLACK_BYTES = 2**20
"""Room for what does not grow with a file or a model: the pickled entries, the random generators' states."""


def write_archive(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` (plain: tensors and primitives) to ``path`` atomically, with the digest of its contents
    under DIGEST_KEY: the old file survives any failure."""
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


def read_archive(path: str | os.PathLike[str]) -> tuple[Any, bool]:
    """What ``path`` holds, verified as this module's docstring says, and whether it carried a digest (which
    then matched, and is left out of what is returned).

    The bytes are read once, verified, and loaded from memory, so the file cannot change in between.

    Raises:
        CheckpointError: anything but a whole, unchanged torch file of tensors and primitives.
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
        _verify_zip(path, raw)
    try:
        with warnings.catch_warnings():
            # torch warns about odd files it then reads or refuses anyway; the caller gets one verdict.
            warnings.simplefilter("ignore")
            loaded = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():
            raise CheckpointError(
                f"refused {path}: it carries Python objects that a checkpoint never holds (unsafe to load)"
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated)") from None
    except (RuntimeError, EOFError, ValueError, TypeError, OSError, zipfile.BadZipFile, KeyError, AttributeError,
            IndexError, UnicodeDecodeError, MemoryError):
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated)") from None
    if not isinstance(loaded, dict) or DIGEST_KEY not in loaded:
        return loaded, False
    saved = loaded.pop(DIGEST_KEY)
    try:
        actual = content_digest(loaded)
    except TypeError as exc:
        raise CheckpointError(f"{path} is damaged: {exc}") from None
    if actual != saved:
        raise CheckpointError(f"{path} is damaged: its contents differ from the digest saved with them "
                              "(changed after it was saved)")
    return loaded, True


def content_digest(state: dict[str, Any]) -> str:
    """The SHA-256 of a state's contents: every key, value and tensor (dtype, shape and bytes), in order.
    A list and a tuple hash alike, as a state read back may hold either."""
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


def _verify_zip(path: Path, raw: bytes) -> None:
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
