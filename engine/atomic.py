"""Atomic file writes: a temporary file beside the target, fsync, then os.replace."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".partial"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


NEW_FILE_MODE = 0o666 & ~_umask()
"""The mode open() gives a new file here; mkstemp's own 0600 would hide a checkpoint from the user's group."""


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """Yield a binary file whose contents replace ``path`` only if the block finishes.

    On any error the temporary file is removed and an existing ``path`` is left as it
    was, so a reader never sees a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, NEW_FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes | memoryview) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_writer(path) as handle:
        handle.write(data)
    return path


def is_temporary(path: Path) -> bool:
    """True if ``path`` is named like the temporary file of an ``atomic_writer`` (one a crash may leave)."""
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is flushed too.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
