"""The model summary screen: every layer, the total, Escape, and a note when there is no model yet."""

from __future__ import annotations

import dataclasses
import io

from rich.console import Console
from textual.widgets import Static

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.formatting import byte_size
from clf_tui.tui.screens.model_summary import ModelSummaryScreen

from .conftest import COMPACT, error_messages, notifications, trainer_of, wait_ready, wait_until


def screen_text(screen: ModelSummaryScreen) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(screen.query_one("#summary-layers", Static).content)
    return console.export_text()


async def test_m_lists_every_layer_and_the_total(moons: RunConfig) -> None:
    app = ClfApp(dataclasses.replace(moons, hidden=(8, 4), dropout=0.1, loss="nll"))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await pilot.press("m")
        screen = app.screen
        assert isinstance(screen, ModelSummaryScreen)
        assert trainer_of(app) is not None
        model = trainer_of(app).model
        rows = [line.split() for line in screen_text(screen).splitlines()[2:] if line.strip()]
        assert [row[:2] for row in rows] == [[name, type(module).__name__] for name, module in model.named_children()]
        n_params = sum(p.numel() for p in model.parameters())
        assert screen.query_one("#summary-body").border_subtitle == f"{n_params:,} params · {byte_size(n_params * 4)}"
        await pilot.press("escape")
        assert not isinstance(app.screen, ModelSummaryScreen)


async def test_without_a_model_m_says_so(unloadable: RunConfig) -> None:
    app = ClfApp(unloadable)
    async with app.run_test(size=COMPACT) as pilot:
        await wait_until(pilot, lambda: bool(error_messages(app)) and app.run_state == "idle")
        await pilot.press("m")
        assert trainer_of(app) is None
        assert not isinstance(app.screen, ModelSummaryScreen)
        assert any("No model yet" in n.message for n in notifications(app))


def test_byte_sizes_read_like_a_file_manager() -> None:
    assert [byte_size(n) for n in (0, 1023, 1024, 49_357, 3 * 1024**2, 5 * 1024**3)] == [
        "0 B", "1023 B", "1.0 KiB", "48.2 KiB", "3.0 MiB", "5.0 GiB",
    ]
