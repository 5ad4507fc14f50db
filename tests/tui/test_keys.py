"""The key map: every binding is described, has an id, is in the help and in the command palette."""

from __future__ import annotations

import io

from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import OptionList, Static

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.keys import BINDINGS
from clf_tui.tui.screens.help import HelpScreen

from .conftest import WIDE, train, wait_until


def test_every_binding_has_a_description_an_explanation_and_a_unique_id() -> None:
    assert all(b.description and b.tooltip and b.id for b in BINDINGS)
    assert len({b.id for b in BINDINGS}) == len(BINDINGS)


async def test_the_help_screen_lists_every_key(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-keys", Static).content)
        text = console.export_text()
        for binding in BINDINGS:
            assert binding.description in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_command_palette_runs_a_binding_by_name(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        await pilot.press("ctrl+p", *"max f1")
        assert isinstance(app.screen, CommandPalette)
        options = app.screen.query_one(OptionList)
        # The palette searches in a worker of its own: wait for its answer to the whole query.
        await wait_until(pilot, lambda: options.option_count > 0 and "Max F1" in str(options.get_option_at_index(0).prompt))
        await pilot.press("enter")
        await pilot.pause()
        assert app.threshold == app.query_one("EvaluationPanel").binary.best_f1()
