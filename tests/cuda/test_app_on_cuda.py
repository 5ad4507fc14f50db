"""The app with device = "cuda", driven by its keys alone: one run, a threshold sweep, a save."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from textual.pilot import Pilot

from clf_tui.engine import RunConfig, Trainer
from clf_tui.tui.app import ClfApp
from tests.limits import HANG_S

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

DEVICE = "cuda"


async def wait_for(pilot: Pilot, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + HANG_S
    while not condition():
        assert time.monotonic() < deadline, f"no end after {HANG_S:.0f} s of waiting"
        await pilot.pause(0.05)


async def test_a_run_a_threshold_sweep_and_a_save_on_cuda(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the save prompt offers runs/<name>.pt
    app = ClfApp(RunConfig(dataset="moons", n_samples=400, epochs=3, device=DEVICE))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: app.run_state in ("finished", "stopped", "diverged"))
        assert app.run_state == "finished"
        start, deadline = app.threshold, time.monotonic() + HANG_S
        while app.threshold == start:  # the keys move it once the evaluation has arrived
            assert time.monotonic() < deadline
            await pilot.press("right")
            await pilot.pause(0.1)
        for key in ("right", "right", "left"):
            await pilot.press(key)
        await pilot.pause()
        assert app.threshold == pytest.approx(start + 0.02)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(Path("runs").glob("*.pt")))
    saved = Trainer.from_checkpoint(next(Path("runs").glob("*.pt")), device="cpu")
    assert saved.total_epochs == 3 and saved.config.device == DEVICE
    assert saved.threshold == pytest.approx(app.threshold)
