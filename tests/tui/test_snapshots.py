"""Screenshots of the main screen after a seeded run, replayed with fixed timings through the app's message path.

A live run's timings (samples/s, elapsed) differ every time, and a model trained here would follow
this CPU's floating-point kernels, so each run is one recorded once (``tests/tui/recorded.py``):
its trainer and events are replayed through the Runner, exactly as a training worker forwards them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from textual.pilot import Pilot

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp

from .conftest import COMPACT, ENDED, WIDE, wait_ready, wait_until
from .recorded import BINARY, BLOBS, MULTICLASS, SeededRun, replay_through_the_app

DEEP = RunConfig(dataset="moons", n_samples=400, hidden=(64, 32, 16, 8, 8, 4), dropout=0.1, loss="nll", device="cpu")
"""An MLP too long for the summary screen at 80 x 24, so that it scrolls."""


async def open_model_summary(pilot: Pilot) -> None:
    await wait_ready(pilot)
    await pilot.press("m")
    await pilot.pause()


def replay(run: SeededRun, keys: Iterable[str] = ()) -> Callable[[Pilot], Awaitable[None]]:
    """Feed ``run``'s events to the app once it is ready, wait until they are drawn, then press ``keys``."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, ClfApp)
        await wait_ready(pilot)
        replay_through_the_app(app, run)
        await wait_until(pilot, lambda: app.run_state in ENDED)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_binary_run_wide(snap_compare, binary_run: SeededRun) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=WIDE, run_before=replay(binary_run))


def test_binary_run_compact_training_page(snap_compare, binary_run: SeededRun) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, ["2"]))


def test_binary_run_compact_evaluation_page_after_threshold_keys(snap_compare, binary_run: SeededRun) -> None:
    keys = ["3", "shift+right", "shift+right", "shift+right", "right", "right"]
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, keys))


def test_binary_run_compact_configuration_page(snap_compare, binary_run: SeededRun) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, ["1"]))


def test_multiclass_run_wide(snap_compare, multiclass_run: SeededRun) -> None:
    assert snap_compare(ClfApp(MULTICLASS), terminal_size=WIDE, run_before=replay(multiclass_run))


def test_multiclass_run_compact_evaluation_page(snap_compare, multiclass_run: SeededRun) -> None:
    keys = ["3", "right_square_bracket", "right_square_bracket"]
    assert snap_compare(ClfApp(MULTICLASS), terminal_size=COMPACT, run_before=replay(multiclass_run, keys))


def test_model_summary_compact(snap_compare) -> None:
    assert snap_compare(ClfApp(DEEP), terminal_size=COMPACT, run_before=open_model_summary)


def test_model_summary_wide(snap_compare) -> None:
    assert snap_compare(ClfApp(DEEP), terminal_size=WIDE, run_before=open_model_summary)


def test_binary_regions_compact(snap_compare, binary_run: SeededRun) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, ["4"]))


def test_binary_regions_compact_replayed_at_a_lower_threshold(snap_compare, binary_run: SeededRun) -> None:
    keys = ["4", "comma", "comma", "comma", "shift+left", "shift+left", "shift+left"]
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, keys))


def test_multiclass_regions_wide_with_training_points(snap_compare, blobs_run: SeededRun) -> None:
    keys = ["t", "right_square_bracket"]
    assert snap_compare(ClfApp(BLOBS), terminal_size=WIDE, run_before=replay(blobs_run, keys))


def test_regions_of_data_with_many_features_say_why_not_compact(snap_compare, multiclass_run: SeededRun) -> None:
    assert snap_compare(ClfApp(MULTICLASS), terminal_size=COMPACT, run_before=replay(multiclass_run, ["4"]))


def test_replayed_epoch_wide(snap_compare, binary_run: SeededRun) -> None:
    keys = ["less_than_sign", "full_stop", "full_stop"]
    assert snap_compare(ClfApp(BINARY), terminal_size=WIDE, run_before=replay(binary_run, keys))
