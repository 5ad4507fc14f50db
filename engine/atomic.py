"""Files written whole or not at all: atomic writes (a temporary file beside the target, fsync, os.replace),
names claimed by one process alone, and a lock that keeps a folder to one run at a time."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from clf_tui.errors import ClfError

try:
    import fcntl
except ImportError:  # Windows: folders go unlocked there
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".partial"
LOCK_NAME = ".clf-tui.lock"
"""The lock file a run holds in its folder while it writes there; removed when the run ends."""
UNOWNED_TEMP_STALE_S = 3600.0
"""Seconds after which a temporary file named without its writer's pid (as named before names held one)
counts as left behind by a save that never finished."""
# What follows ".NAME." in a temporary's name: "pid1234.k2j4f9ab" (mkstemp's letters), or the letters alone.
_TEMP_MIDDLE = re.compile(r"(?:pid(?P<pid>[0-9]+)\.)?[a-z0-9_]+")


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
    was, so a reader never sees a half-written file. The temporary file's name holds the
    writer's pid, so that the next save of ``path`` removes what a writer killed mid-save
    (kill -9, a power cut) left behind (``remove_stale_temporaries``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.pid{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent)
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


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files of saves of ``path`` that will never finish; return those removed.

    A temporary whose name holds a pid is stale once no process has that pid; one named
    without (as names were before they held one) once it is ``UNOWNED_TEMP_STALE_S`` old.
    A live writer's temporary, this process's own included, is never touched, nor are
    other targets' temporaries. Failures to look or remove are ignored: the save goes on.
    """
    prefix = f".{path.name}."
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        match = _TEMP_MIDDLE.fullmatch(name[len(prefix):-len(TEMP_SUFFIX)])
        if match is None:
            continue
        if match["pid"] is not None:
            stale = not _is_running(int(match["pid"]))
        else:
            try:
                stale = entry.stat(follow_symlinks=False).st_mtime < time.time() - UNOWNED_TEMP_STALE_S
            except OSError:
                continue
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _is_running(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user's counts); when unsure, True."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: it exists, and is someone else's
        return True
    return True


def claim_new_folder(path: Path) -> Path:
    """Create and return a folder no one else has: ``path``, or else the first free of ``path-2``, ``path-3``, ...

    ``os.mkdir`` fails on a name that exists, so of several processes claiming one name at
    once each gets a folder of its own. Parent folders are created as needed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for number in itertools.count(1):
        candidate = path if number == 1 else path.with_name(f"{path.name}-{number}")
        try:
            os.mkdir(candidate)
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


def claim_new_file(path: Path) -> Path:
    """Create and return an empty file no one else has: ``path``, or else ``STEM-2.SUFFIX``, ``STEM-3.SUFFIX``, ...

    Created with O_CREAT | O_EXCL, so that of several processes claiming one name at once each
    gets its own; replace it with ``write_atomic``. Parent folders are created as needed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for number in itertools.count(1):
        candidate = path if number == 1 else path.with_name(f"{path.stem}-{number}{path.suffix}")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


class FolderInUse(ClfError):
    """Another process holds the lock of ``folder``; ``pid`` is that process's id (None if it could not be read)."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(f"{folder} is in use by another clf-tui run ({holder}); wait for it to end")
        self.folder = folder
        self.pid = pid


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[Path]:
    """Hold ``folder`` (created if missing) for one process during the block.

    The lock is an ``flock`` on the file ``LOCK_NAME`` in the folder, which holds the
    holder's pid. The kernel releases it when the process ends, however it ends (kill -9
    included), so no lock outlives its run; the file is removed when the block ends. On a
    system without ``fcntl``, or a file system without locks, the folder goes unlocked.

    Raises:
        FolderInUse: at once, if another process (or another block of this one) holds the lock.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    fd = _lock_file(lock) if fcntl is not None else None
    try:
        yield folder
    finally:
        if fd is not None:
            # Removed while still held: a process that opened the file meanwhile finds, once it
            # holds its lock, that the name leads elsewhere now, and starts again (``_lock_file``).
            with contextlib.suppress(OSError):
                os.unlink(lock)
            os.close(fd)


def _lock_file(lock: Path) -> int | None:
    """Open and flock ``lock``, write this pid in it, and return its descriptor (None where flock is not supported)."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, NEW_FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise FolderInUse(lock.parent, pid) from None
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                return None
            raise
        try:
            held = os.fstat(fd)
            named = os.stat(lock)
            same = (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)
        except FileNotFoundError:
            same = False
        if same:
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            except BaseException:
                os.close(fd)
                raise
            return fd
        os.close(fd)  # the holder before removed it as it ended: lock the file that now has the name


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode("ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None  # the holder has yet to write it


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is flushed too.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
