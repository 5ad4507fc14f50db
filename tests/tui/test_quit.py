"""Quitting: at once when idle; while training, only after asking, and then the run stops cleanly."""

from __future__ import annotations

from textual.worker import WorkerState

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import LANE
from clf_tui.tui.screens.confirm_quit import ConfirmQuit
from clf_tui.tui.widgets.loss_chart import LossChart

from .conftest import WIDE, trainer_of, wait_ready, wait_until


async def test_quit_while_training_asks_then_stops_the_run_and_exits() -> None:
    app = ClfApp(RunConfig(n_samples=200, epochs=100_000, device="cpu"))
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.query_one(LossChart).epochs != [])
        # While a run trains the app is never idle, so Pilot's wait after a key ends on its time limit:
        # wait for what each key does instead.
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmQuit))
        assert app.run_state == "training"
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit))
        trainer = trainer_of(app)
        [training] = [worker for worker in app.workers if worker.group == LANE]
        await pilot.press("y")
    assert training.state == WorkerState.SUCCESS  # the run ended by itself, between two batches
    assert 0 < trainer.total_epochs < 100_000
    assert app.return_code == 0


async def test_quit_when_idle_exits_at_once(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("q")
    assert app.return_code == 0
