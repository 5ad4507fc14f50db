"""Screenshots of the learning-rate range test on moons, at 80 x 24 and 120 x 40.

The sweep is one recorded once on fresh weights (``tests/tui/recorded.py``) and handed to the app
as its worker hands a finished test; the screen shows no timings.
"""

from __future__ import annotations

from textual.pilot import Pilot

from clf_tui.tui.app import ClfApp
from clf_tui.engine.session import RangeTested
from clf_tui.tui.messages import RangeTestEnded
from clf_tui.tui.screens.lr_finder import LRFinderScreen

from .conftest import COMPACT, WIDE, wait_ready, wait_until
from .recorded import RANGE_TEST, range_test


async def open_range_test(pilot: Pilot) -> None:
    await wait_ready(pilot)
    pilot.app.post_message(RangeTestEnded(RangeTested(range_test(), 0)))
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LRFinderScreen))
    await pilot.pause()


def test_lr_finder_compact(snap_compare) -> None:
    assert snap_compare(ClfApp(RANGE_TEST), terminal_size=COMPACT, run_before=open_range_test)


def test_lr_finder_wide(snap_compare) -> None:
    assert snap_compare(ClfApp(RANGE_TEST), terminal_size=WIDE, run_before=open_range_test)
