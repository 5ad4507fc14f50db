"""Helpers for the app's tests: small real runs, and waiting on the app without sleeping blindly."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.notifications import Notification
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from clf_tui.engine import RunConfig, Trainer
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import Runner
from tests.limits import HANG_S

from .recorded import SeededRun, seeded_run

WIDE = (160, 48)
"""The size from which every pane shows at once (tui.app.WIDE_LAYOUT_MIN)."""
COMPACT = (80, 24)
ENDED = ("finished", "stopped", "diverged")


@pytest.fixture
def moons() -> RunConfig:
    """A binary run that trains in about a second."""
    return RunConfig(dataset="moons", n_samples=200, epochs=5, device="cpu")


@pytest.fixture
def unloadable(moons: RunConfig, tmp_path: Path) -> RunConfig:
    """The moons run's settings on a CSV without its target column: the app opens with no data and no run."""
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b\n1,x\n2,y\n")
    return moons.replace(dataset=str(csv), target="label")


async def wait_until(pilot: Pilot, condition: Callable[[], bool]) -> None:
    """Let the app run until ``condition()`` holds: however long a slow or busy machine takes, short of a hang."""
    deadline = time.monotonic() + HANG_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no end after {HANG_S:.0f} s of waiting for {condition.__doc__ or condition}")
        await pilot.pause(0.02)


def trainer_of(app: ClfApp) -> Trainer | None:
    """The engine's trainer behind the app's run: what the tests compare the screen with (the app never holds it)."""
    return app.query_one(Runner).session.trainer


async def wait_ready(pilot: Pilot) -> None:
    """Until the app shows a run (built, restored or trained) and no worker is at work on it."""
    app = pilot.app
    assert isinstance(app, ClfApp)
    runner = app.query_one(Runner)
    await wait_until(pilot, lambda: app.current_run is not None and not runner.busy and app.run_state != "loading")


async def train(pilot: Pilot) -> None:
    """Press the train key once the app is idle, and wait for the run to end and be drawn."""
    app = pilot.app
    assert isinstance(app, ClfApp)
    runner = app.query_one(Runner)
    await wait_until(pilot, lambda: not runner.busy and app.run_state != "loading")
    await pilot.press("s")
    await wait_until(pilot, lambda: app.run_state in ENDED)
    await pilot.pause()


def steady_cursors(screen: Screen) -> None:
    """The inputs on ``screen`` show their cursor without blinking: a focused input's cursor blinks every
    0.5 s, so a screenshot would otherwise depend on how long the machine took to get there."""
    for field in screen.query(Input):
        field.cursor_blink = False


def notifications(app: ClfApp) -> list[Notification]:
    """The notifications the app has raised and not yet dismissed."""
    # Not list(...): it would ask for the length after starting to iterate, and both drop expired
    # notifications, so one that expires in between changes the dict during the iteration.
    return [notification for notification in app._notifications]


def error_messages(app: ClfApp) -> list[str]:
    return [n.message for n in notifications(app) if n.severity == "error"]


async def type_path(pilot: Pilot, path: Path) -> None:
    """Replace the open path prompt's path with ``path`` and accept it."""
    pilot.app.screen.query_one("#path", Input).value = str(path)
    await pilot.press("enter")


async def open_checkpoint(pilot: Pilot, path: Path) -> None:
    """Open ``path`` through ctrl+o and its prompt."""
    await pilot.press("ctrl+o")
    await type_path(pilot, path)


# The recorded runs that the screenshots replay (``recorded.py``), loaded once per test module.

@pytest.fixture(scope="module")
def binary_run() -> SeededRun:
    return seeded_run("binary")


@pytest.fixture(scope="module")
def multiclass_run() -> SeededRun:
    return seeded_run("multiclass")


@pytest.fixture(scope="module")
def blobs_run() -> SeededRun:
    return seeded_run("blobs")
