"""Screenshots of the drill-down over the recorded runs of test_snapshots, replayed with fixed timings."""

from __future__ import annotations

from clf_tui.tui.app import ClfApp

from .conftest import COMPACT, WIDE
from .recorded import BINARY, MULTICLASS, SeededRun
from .test_snapshots import replay


def test_binary_drilldown_compact(snap_compare, binary_run: SeededRun) -> None:
    """At threshold 0.6, moved from the larger error cell right, to the true positives."""
    keys = ["shift+right", "shift+right", "d", "right"]
    assert snap_compare(ClfApp(BINARY), terminal_size=COMPACT, run_before=replay(binary_run, keys))


def test_binary_drilldown_wide(snap_compare, binary_run: SeededRun) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=WIDE, run_before=replay(binary_run, ["d"]))


def test_multiclass_drilldown_compact(snap_compare, multiclass_run: SeededRun) -> None:
    """Ten classes and 64 features at 80 columns: the table scrolled right keeps the row column."""
    keys = ["d", "tab", "tab", "down", "right", "right", "right"]
    assert snap_compare(ClfApp(MULTICLASS), terminal_size=COMPACT, run_before=replay(multiclass_run, keys))


def test_multiclass_drilldown_wide(snap_compare, multiclass_run: SeededRun) -> None:
    assert snap_compare(ClfApp(MULTICLASS), terminal_size=WIDE, run_before=replay(multiclass_run, ["d"]))
