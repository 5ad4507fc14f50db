"""Screenshots of the compare screen: its form with a refused variant, and a seeded comparison's results.

The comparison is one recorded once, headless and seeded (``tests/tui/recorded.py``), and its events
are replayed through the screen's own message, exactly as its worker posts them; nothing on the
screen depends on timing or on this CPU's floating-point kernels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from clf_tui.engine.comparison import CompareEvent
from clf_tui.tui.app import ClfApp
from clf_tui.tui.messages import CompareProgressed
from clf_tui.tui.screens.compare import CompareScreen

from .conftest import COMPACT, WIDE, steady_cursors, wait_ready, wait_until
from .recorded import COMPARE_BASE as BASE
from .recorded import COMPARE_VARIANTS as VARIANTS
from .recorded import comparison_events


@pytest.fixture(scope="module")
def events() -> list[CompareEvent]:
    return comparison_events()


def open_compare(variants: Sequence[str], events: Sequence[CompareEvent] = (),
                 keys: Sequence[str] = ()) -> Callable[[Pilot], Awaitable[None]]:
    """Open the compare screen, type ``variants``, replay ``events`` through it, then press ``keys``."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await wait_ready(pilot)
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        steady_cursors(screen)
        for i, text in enumerate(variants, start=1):
            screen.query_one(f"#variant-{i}", Input).value = text
        if events:
            screen.query_one("#compare-progress").add_class("-shown")
            for event in events:
                screen.post_message(CompareProgressed(event))
            await wait_until(pilot, lambda: screen.query_one("#compare-results").has_class("-shown"))
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_compare_results_compact(snap_compare, events: list[CompareEvent]) -> None:
    assert snap_compare(ClfApp(BASE), terminal_size=COMPACT, run_before=open_compare(VARIANTS, events))


def test_compare_results_compact_box_plots(snap_compare, events: list[CompareEvent]) -> None:
    assert snap_compare(ClfApp(BASE), terminal_size=COMPACT, run_before=open_compare(VARIANTS, events, ["pagedown", "pagedown", "pagedown"]))


def test_compare_results_wide(snap_compare, events: list[CompareEvent]) -> None:
    assert snap_compare(ClfApp(BASE), terminal_size=WIDE, run_before=open_compare(VARIANTS, events))


def test_compare_form_with_a_refused_variant_compact(snap_compare) -> None:
    assert snap_compare(ClfApp(BASE), terminal_size=COMPACT,
                        run_before=open_compare(["loss=mse", "lr=fast"], keys=["enter"]))
