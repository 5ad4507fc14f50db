"""Screenshots of the main screen after a seeded run, replayed with fixed timings through the app's message path.

A live run's timings (samples/s, elapsed) differ every time, so each data set is trained once,
headless and seeded, and its events are replayed with a fixed duration per epoch through the
Runner, exactly as a training worker forwards them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable

import pytest
from textual.pilot import Pilot

from clf_tui.engine import RunConfig, Trainer
from clf_tui.engine.events import EpochEnded, Event
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import Runner

from .conftest import COMPACT, ENDED, WIDE, wait_ready, wait_until

EPOCH_S = 0.025
BINARY = RunConfig(dataset="moons", n_samples=400, epochs=40, device="cpu")
MULTICLASS = RunConfig(dataset="digits", epochs=15, device="cpu")
DEEP = RunConfig(dataset="moons", n_samples=400, hidden=(64, 32, 16, 8, 8, 4), dropout=0.1, loss="nll", device="cpu")
"""An MLP too long for the summary screen at 80 x 24, so that it scrolls."""


def seeded_run(config: RunConfig) -> list[Event]:
    """The events of a headless run of ``config``, every epoch taking EPOCH_S."""
    trainer = Trainer.from_config(config)
    n_train = len(trainer.data.y_train)
    return [
        dataclasses.replace(event, duration_s=EPOCH_S, samples_per_s=n_train / EPOCH_S)
        if isinstance(event, EpochEnded) else event
        for event in trainer.run(config.epochs)
    ]


@pytest.fixture(scope="module")
def binary_run() -> list[Event]:
    return seeded_run(BINARY)


@pytest.fixture(scope="module")
def multiclass_run() -> list[Event]:
    return seeded_run(MULTICLASS)


async def open_model_summary(pilot: Pilot) -> None:
    await wait_ready(pilot)
    await pilot.press("m")
    await pilot.pause()


def replay(events: list[Event], keys: Iterable[str] = ()) -> Callable[[Pilot], Awaitable[None]]:
    """Feed ``events`` to the app once it is ready, wait until they are drawn, then press ``keys``."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, ClfApp)
        await wait_ready(pilot)
        runner = app.query_one(Runner)
        for event in events:
            runner.forward(event)
        await wait_until(pilot, lambda: app.run_state in ENDED)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_binary_run_wide(snap_compare, binary_run: list[Event]) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=WIDE, run_before=replay(binary_run))


def test_binary_run_compact_training_page(snap_compare, binary_run: list[Event]) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, ["2"]))


def test_binary_run_compact_evaluation_page_after_threshold_keys(snap_compare, binary_run: list[Event]) -> None:
    keys = ["3", "shift+right", "shift+right", "shift+right", "right", "right"]
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, keys))


def test_binary_run_compact_configuration_page(snap_compare, binary_run: list[Event]) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, ["1"]))


def test_multiclass_run_wide(snap_compare, multiclass_run: list[Event]) -> None:
    assert snap_compare(ClfApp(MULTICLASS), terminal_size=WIDE, run_before=replay(multiclass_run))


def test_multiclass_run_compact_evaluation_page(snap_compare, multiclass_run: list[Event]) -> None:
    keys = ["3", "right_square_bracket", "right_square_bracket"]
    assert snap_compare(ClfApp(MULTICLASS), terminal_size=COMPACT, run_before=replay(multiclass_run, keys))


def test_model_summary_compact(snap_compare) -> None:
    assert snap_compare(ClfApp(DEEP), terminal_size=COMPACT, run_before=open_model_summary)


def test_model_summary_wide(snap_compare) -> None:
    assert snap_compare(ClfApp(DEEP), terminal_size=WIDE, run_before=open_model_summary)
