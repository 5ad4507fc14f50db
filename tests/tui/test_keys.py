"""The key map: every binding is described, has an id, is in the help and in the command palette."""

from __future__ import annotations

import io

from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import OptionList, Static

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.keys import BINDINGS
from clf_tui.tui.screens.help import COMMANDS, TOPICS, HelpScreen, topic

from .conftest import WIDE, train, wait_ready, wait_until


def test_every_binding_has_a_description_an_explanation_and_a_unique_id() -> None:
    assert all(b.description and b.tooltip and b.id for b in BINDINGS)
    assert len({b.id for b in BINDINGS}) == len(BINDINGS)


def help_rows(topic_text: Static, key_width: int) -> list[tuple[str, str]]:
    """(key, explanation) for each key a topic of the help lists, as it is drawn at the topic's width."""
    console = Console(width=topic_text.content_size.width, record=True, file=io.StringIO())
    console.print(topic_text.content)
    rows: list[tuple[str, str]] = []
    for line in console.export_text().splitlines()[1:]:  # under the topic's name
        key, text = line[:key_width].strip(), line[key_width + 1:].strip()
        if key:
            rows.append((key, text))
        elif text:
            rows[-1] = (rows[-1][0], f"{rows[-1][1]} {text}")
    return rows


async def test_the_help_lists_every_key_with_its_explanation_by_topic_in_columns(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        await pilot.pause()
        key_width = max(len(app.get_key_display(binding)) for binding in [*BINDINGS, COMMANDS])
        for binding in [*BINDINGS, COMMANDS]:
            rows = help_rows(screen.query_one(f"#help-{topic(binding)}", Static), key_width)
            assert (app.get_key_display(binding), f"{binding.description} · {binding.tooltip}") in rows, binding.id
        assert topic(next(b for b in BINDINGS if b.id == "threshold.up")) == "threshold"
        assert list(screen.groups) == [name for name in TOPICS if name in screen.groups]

        # 120 columns: the topics in columns side by side, each column starting at the top.
        topics = list(screen.query(".help-topic"))
        columns = {widget.region.x for widget in topics}
        assert len(columns) >= 2
        assert len({min(w.region.y for w in topics if w.region.x == x) for x in columns}) == 1
        assert screen.query_one("#help-notes").region.y >= max(widget.region.bottom for widget in topics)

        await pilot.resize_terminal(80, 24)  # one column
        await pilot.pause()
        topics = list(app.screen.query(".help-topic"))
        assert len({widget.region.x for widget in topics}) == 1
        assert [widget.id for widget in topics] == [f"help-{name}" for name in screen.groups]
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
        assert "[f]" in str(options.get_option_at_index(0).prompt)  # each command shows its key
        await pilot.press("enter")
        await pilot.pause()
        assert app.threshold == app.query_one("EvaluationPanel").binary.best_f1()


def footer_actions(app: ClfApp) -> set[str]:
    """The actions whose keys the footer shows now (each a FooterKey widget: queried by its type's name)."""
    return {key.action for key in app.query("FooterKey")}


async def test_the_footer_shows_the_keys_of_the_page_and_the_state() -> None:
    app = ClfApp(RunConfig(dataset="moons", n_samples=400, epochs=100_000, device="cpu"))  # ends by the stop
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        idle = footer_actions(app)
        assert "start_training" in idle and "stop_training" not in idle
        assert "nudge_threshold(-0.01)" not in idle  # the threshold acts on the evaluation page
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state == "training")
        await pilot.pause()
        training = footer_actions(app)
        assert {"stop_training", "pause"} <= training and "start_training" not in training
        await pilot.press("3")
        await pilot.pause()
        assert {"nudge_threshold(-0.01)", "snap_threshold('f1')", "cycle_chart"} <= footer_actions(app)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state == "stopped")
        await pilot.pause()
        assert "start_training" in footer_actions(app)
