"""What the training commands share: the run folder that one run holds, metrics.csv, and running until the end
or a stop (a signal, a reader gone) with the exit code of how it ended."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from rich.console import Console

from clf_tui.arguments import UsageError
from clf_tui.engine import RunConfig, RunControl
from clf_tui.engine.atomic import FolderInUse, claim_new_folder, folder_lock, write_atomic
from clf_tui.engine.distributed import Launch
from clf_tui.report import cli_console

EXIT_DIVERGED = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, kill and a closed terminal (or a scheduler's time limit): each stops the run after its batch."""


def run_stoppable(work: Callable[[RunControl, Console], str], launch: Launch | None = None) -> int:
    """Call ``work(control, console)``, which trains under ``control`` and reports on ``console``, and return
    the exit code of how it ended (``work`` returns the end's reason).

    The first SIGINT (Ctrl-C), SIGTERM or SIGHUP stops the run after its batch; the run still writes
    its checkpoint and the command its files, and exits with 128 + the signal's number (130, 143,
    129). A second one aborts at once. A reader of standard output that goes away (``| head``)
    stops the run the same way, which exits with 141 as a process ended by SIGPIPE would. A run
    that diverged exits with 1, after writing what it has.
    """
    control = RunControl()
    stopped_by: list[int] = []

    def on_reader_gone() -> None:
        if not control.stop_requested:
            stopped_by.append(signal.SIGPIPE)
            control.stop()

    console = cli_console(file=WatchedStdout(on_reader_gone))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if control.stop_requested:  # a second signal means now
            raise KeyboardInterrupt
        stopped_by.append(signum)
        control.stop()
        again = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        console.print(f"stopping after this batch ({again} again to abort)...")

    # Across processes a stop would land on a different batch in each rank, while DDP keeps
    # them in step; there the signal reaches every rank through torchrun and ends the run.
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    if launch is None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, on_signal)
    try:
        reason = work(control, console)
    except KeyboardInterrupt:
        console.print("aborted: the last checkpoint written (if any) is intact")
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stopped_by:
        return 128 + stopped_by[0]
    return EXIT_DIVERGED if reason == "diverged" else 0


class WatchedStdout(io.TextIOBase):
    """Standard output that notices its reader going away: the write that finds the pipe closed sends
    the rest to /dev/null (so that nothing later fails on it, the interpreter's last flush included)
    and calls ``on_gone`` once."""

    def __init__(self, on_gone: Callable[[], None]) -> None:
        super().__init__()
        self._on_gone = on_gone
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
            except BrokenPipeError:
                self._gone = True
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
                self._on_gone()
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return not self._gone and sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()


def hold_folder(held: contextlib.ExitStack, args: argparse.Namespace, cfg: RunConfig, stem: str) -> Path:
    """The run's folder, locked until ``held`` closes: --out, or a new OUT_DIR/STEM-TIMESTAMP claimed for
    this run alone.

    Raises:
        UsageError: another run holds --out.
    """
    out = Path(args.out) if args.out else claim_new_folder(
        Path(cfg.out_dir) / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        held.enter_context(folder_lock(out))
    except FolderInUse as exc:
        raise UsageError(f"{exc.message} or give another --out") from None
    return out


def write_metrics_csv(path: Path, rows: list[dict[str, float | int | None]]) -> Path:
    """One row per epoch, atomically; columns are the union of the rows' keys in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns) or ["epoch"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_atomic(path, buffer.getvalue().encode("utf-8"))
