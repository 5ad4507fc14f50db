"""Files the user names: refused before they are opened unless they are regular files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from clf_tui.errors import ClfError

KINDS = {
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
    stat.S_ISDIR: "a folder",
}


def require_regular_file(path: str | os.PathLike[str], error: type[ClfError], what: str) -> Path:
    """``path`` as a Path if it names a regular file (a link is followed); else ``error`` in one line.

    Opening a FIFO waits for a writer for ever, and a device such as /dev/zero never ends: neither is
    ever opened here. ``what`` names what the file was meant to be ("checkpoint", "data file").
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"no such {what}: {path}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in KINDS.items() if test(mode)), "not a regular file")
        raise error(f"{path} is {kind}, not a {what}; give a regular file") from None
    return path
