"""Run the command line in a pseudo-terminal, as a person at a terminal would, and read what it drew there."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import IO

from tests.limits import HANG_S


@dataclass(frozen=True)
class Outcome:
    returncode: int
    terminal: str
    """What the command wrote to the pseudo-terminal (escape codes included)."""
    stdout: str
    """What it wrote to standard output when that was not the terminal."""
    stderr: str


def run_in_terminal(*args: str, stdin_terminal: bool = True, stdout_terminal: bool = True) -> Outcome:
    """``python -m clf_tui ARGS`` with standard input and output each a pseudo-terminal, or else /dev/null
    (input) and a pipe (output); standard error is always a pipe."""
    master, slave = pty.openpty()
    stdin: int | IO[bytes] = slave if stdin_terminal else subprocess.DEVNULL
    stdout: int = slave if stdout_terminal else subprocess.PIPE
    process = subprocess.Popen([sys.executable, "-m", "clf_tui", *args], stdin=stdin, stdout=stdout,
                               stderr=subprocess.PIPE)
    os.close(slave)
    drawn = b""
    started = time.monotonic()
    while time.monotonic() - started < HANG_S:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # every end of the terminal closed: the command has ended
                break
            if not chunk:
                break
            drawn += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    out, err = process.communicate(timeout=HANG_S)
    return Outcome(process.returncode, drawn.decode(errors="replace"), (out or b"").decode(), err.decode())
