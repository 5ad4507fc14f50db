"""Long runs stay bounded: 5,000 epochs through the app keep its memory within 50 MB of epoch 100's.

Memory is the resident size once the C allocator has handed back the pages it holds free (glibc's
malloc_trim): without that, what it keeps after a free depends on how the threads interleaved, and so on the
machine's load (the same run read 13 MB alone and 71 MB beside other work; 13 and 16 MB trimmed). The run
takes a process of its own, as the app has when a user runs it."""

from __future__ import annotations

import ctypes
import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Input

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets import epoch_log, loss_chart
from clf_tui.tui.widgets.epoch_log import EpochLog
from clf_tui.tui.widgets.loss_chart import LossChart
from tests.limits import HANG_S
from tests.tui.conftest import WIDE, train, trainer_of

ROOT = Path(__file__).resolve().parents[2]

FIRST_EPOCHS = 100
ALL_EPOCHS = 5_000
MAX_GROWTH_BYTES = 50 * 2**20


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc: the resident size as it is
        return None


LIBC = _glibc()


def resident_bytes() -> int:
    """The process's resident memory after a full garbage collection, the allocator's free pages handed back."""
    gc.collect()
    if LIBC is not None:
        LIBC.malloc_trim(0)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def measure(out_dir: str) -> dict[str, object]:
    """Train 5,000 epochs through the app, and say how its memory grew after epoch 100 and what it kept."""
    # A tiny model in one batch per epoch, so the app's side dominates; 1,200 validation rows make an
    # app that kept every epoch's evaluation (14 kB each) grow past the limit.
    config = RunConfig(dataset="moons", n_samples=6000, model="logistic", batch_size=6000, epochs=FIRST_EPOCHS,
                       device="cpu", out_dir=out_dir)
    app = ClfApp(config)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        after_first = resident_bytes()
        app.query_one("#field-epochs", Input).value = str(ALL_EPOCHS - FIRST_EPOCHS)
        await train(pilot)  # only the epochs changed: the same run goes on
        growth = resident_bytes() - after_first
        log, chart = app.query_one(EpochLog), app.query_one(LossChart)
        trainer = trainer_of(app)
        return {"state": app.run_state, "epochs": trainer.total_epochs if trainer is not None else 0,
                "growth": growth, "log_lines": len(log.lines), "chart_epochs": len(chart.epochs),
                "drawn": [len(series) for series in drawn_series(chart)]}


@pytest.mark.slow
def test_5000_epochs_keep_the_app_within_50_mb_of_where_it_stood_after_epoch_100(tmp_path: Path) -> None:
    # In a process of its own: the suite's earlier tests leave the allocator's heap in pieces that a trim
    # cannot hand back, which read as growth here (89 MB in one run beside other work, 13-16 MB alone).
    child = subprocess.run(
        [sys.executable, "-c", "import asyncio, json, sys\n"
         "from tests.faults.test_app_memory import measure\n"
         "print(json.dumps(asyncio.run(measure(sys.argv[1]))))", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=HANG_S)
    assert child.returncode == 0, child.stderr
    found = json.loads(child.stdout.splitlines()[-1])

    assert found["state"] == "finished" and found["epochs"] == ALL_EPOCHS
    growth = found["growth"]
    assert growth < MAX_GROWTH_BYTES, f"grew {growth / 2**20:.1f} MB from epoch {FIRST_EPOCHS} to {ALL_EPOCHS}"
    assert found["log_lines"] == epoch_log.MAX_LINES
    assert found["chart_epochs"] <= loss_chart.MAX_POINTS
    assert all(n <= loss_chart.MAX_POINTS for n in found["drawn"])


def drawn_series(chart: LossChart) -> list[list[float]]:
    """The x values of each series in the chart's plotext figure: what it draws, kept by plotext itself."""
    return chart.plt._active.monitor.x
