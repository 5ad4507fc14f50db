"""Screenshots of the learning-rate range test on moons, at 80 x 24 and 120 x 40.

The sweep runs for real in the app, seeded and on one thread; the screen shows no timings.
"""

from __future__ import annotations

from textual.pilot import Pilot

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.screens.lr_finder import LRFinderScreen

from .conftest import COMPACT, WIDE, wait_ready, wait_until

MOONS = RunConfig(dataset="moons", n_samples=400, device="cpu")


async def open_range_test(pilot: Pilot) -> None:
    await wait_ready(pilot)
    await pilot.press("l")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LRFinderScreen))
    await pilot.pause()


def test_lr_finder_compact(snap_compare) -> None:
    assert snap_compare(ClfApp(MOONS), terminal_size=COMPACT, run_before=open_range_test)


def test_lr_finder_wide(snap_compare) -> None:
    assert snap_compare(ClfApp(MOONS), terminal_size=WIDE, run_before=open_range_test)
