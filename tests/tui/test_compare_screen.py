"""The compare screen: a real comparison through the app, which leaves the app's run alone; cancelling; refusals."""

from __future__ import annotations

import dataclasses
import io

import torch
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Static

from clf_tui.engine import RunConfig, Trainer
from clf_tui.tui.app import ClfApp
from clf_tui.tui.screens.compare import CompareScreen
from clf_tui.tui.widgets.box_plot_view import BoxPlotView
from clf_tui.tui.widgets.compare_chart import CompareChart

from .conftest import COMPACT, notifications, train, trainer_of, wait_ready, wait_until

CUBIC = RunConfig(dataset="cubic", hidden=(8,), dropout=0.2, epochs=6, device="cpu")


def status(screen: CompareScreen) -> str:
    return str(screen.query_one("#compare-status", Static).content)


def table_text(screen: CompareScreen) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(screen.query_one("#compare-table", Static).content)
    return console.export_text()


async def open_compare(pilot: Pilot, *variants: str, seeds: str = "3") -> CompareScreen:
    await wait_ready(pilot)
    await pilot.press("c")
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen)
    for i, text in enumerate(variants, start=1):
        screen.query_one(f"#variant-{i}", Input).value = text
    screen.query_one("#compare-seeds", Input).value = seeds
    return screen


async def test_a_comparison_runs_in_its_worker_and_leaves_the_apps_run_alone() -> None:
    app = ClfApp(CUBIC)
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await train(pilot)
        trainer = trainer_of(app)
        weights = {name: value.clone() for name, value in trainer.model.state_dict().items()}
        losses = list(trainer.losses)
        screen = await open_compare(pilot, "loss=mse")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.query_one("#compare-results").has_class("-shown"))
        assert status(screen) == "compared 2 configurations over 3 seeds (42–44) on cubic"
        lines = table_text(screen).splitlines()
        assert lines[1].split() == ["metric", "base", "loss=mse"]
        assert next(line for line in lines if line.startswith("ended")).split() == ["ended", *["3", "completed"] * 2]
        chart = screen.query_one(CompareChart)
        assert chart.border_title == "validation log loss, mean over 3 seeds"
        boxes = screen.query_one(BoxPlotView)
        assert boxes.render().plain.splitlines()[0] == "validation accuracy across 3 seeds"
        # The app's own run is as it was: same trainer, history and weights...
        assert trainer_of(app) is trainer and trainer.losses == losses
        assert all(torch.equal(weights[name], value) for name, value in trainer.model.state_dict().items())
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)
        # ...and random state: continued, it trains on as if nothing had run in between (its dropout included).
        await train(pilot)
        uninterrupted = Trainer.from_config(trainer.config)
        uninterrupted.train(2 * CUBIC.epochs)
        assert trainer.losses == uninterrupted.losses


async def test_escape_cancels_a_running_comparison_and_then_closes() -> None:
    app = ClfApp(dataclasses.replace(CUBIC, epochs=100_000))
    async with app.run_test(size=COMPACT) as pilot:
        screen = await open_compare(pilot, "loss=mse")
        await pilot.press("enter")
        await wait_until(pilot, lambda: status(screen).startswith("training base"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running)
        assert status(screen).startswith("cancelled: stopped during epoch")
        assert app.screen is screen and not screen.query_one("#compare-results").has_class("-shown")
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)


async def test_the_app_refuses_to_compare_while_it_trains() -> None:
    app = ClfApp(dataclasses.replace(CUBIC, epochs=100_000))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state == "training")
        await pilot.press("c")
        await wait_until(pilot, lambda: any(n.title == "Cannot compare now" and "Stop training" in n.message
                                            for n in notifications(app)))
        assert not isinstance(app.screen, CompareScreen)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state == "stopped")


async def test_refused_variants_and_seeds_say_why_and_start_nothing() -> None:
    app = ClfApp(CUBIC)
    async with app.run_test(size=COMPACT) as pilot:
        screen = await open_compare(pilot)
        for variants, seeds, message in [
            (("loss=mse", "lr=fast"), "3", "variant 2: lr = 'fast' is not a number"),
            (("", "", "momentum"), "3", "variant 3: 'momentum' is not name=value"),
            (("dataset=moons",), "3", "must share their data, but differ in dataset"),
            ((), "0", "seeds = 0 is invalid"),
            ((), "", "seeds = 0 is invalid"),
        ]:
            for i in range(1, 4):
                screen.query_one(f"#variant-{i}", Input).value = variants[i - 1] if i <= len(variants) else ""
            screen.query_one("#compare-seeds", Input).value = seeds
            await pilot.press("enter")
            await pilot.pause()
            assert message in status(screen) and screen.query_one("#compare-status").has_class("-error")
            assert not screen.running


async def test_a_failure_in_the_worker_is_told_and_the_screen_stays() -> None:
    app = ClfApp(CUBIC)
    async with app.run_test(size=COMPACT) as pilot:
        screen = await open_compare(pilot, "device=cuda:7")
        await pilot.press("enter")
        await wait_until(pilot, lambda: status(screen).startswith("failed:"))
        # Said where it is needed, in the screen's status line: no notification to cover the dialog.
        assert "cuda" in status(screen) and not any(n.title.startswith("Comparison failed") for n in notifications(app))
        assert app.screen is screen and not screen.running
        assert not screen.query_one("#compare-results").has_class("-shown")
