"""Screenshots of every page at the sizes a terminal is likely to have: 80x24 and 120x36 one page at a time,
160x48 with every pane (``test_snapshots.py``), and below 60x18 the line that asks for more room; and of each
evaluation chart that ``v`` steps to, at 80x24 and 120x40. The runs are the recorded ones of ``recorded.py``."""

from __future__ import annotations

import pytest

from clf_tui.tui.app import ClfApp

from .recorded import BINARY, MULTICLASS, SeededRun
from .test_snapshots import replay

PAGE_KEYS = {"config": "1", "training": "2", "evaluation": "3", "regions": "4"}
V_PRESSES = {"pr": 1, "calibration": 2, "cost": 3}
"""From the ROC curve, how many presses of v reach each chart where one chart shows (80 x 24)."""
V_PRESSES_BESIDE_ROC = {"pr": 0, "calibration": 1, "cost": 2}
"""The same where the ROC curve stays and v chooses the chart beside it (from 110 x 32), PR at first."""


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pytest.mark.parametrize("page", list(PAGE_KEYS))
def test_each_page_of_a_binary_run(snap_compare, binary_run: SeededRun, page: str, size: tuple[int, int]) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=size, run_before=replay(binary_run, [PAGE_KEYS[page]]))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("chart", list(V_PRESSES))
def test_each_evaluation_chart_of_a_binary_run(snap_compare, binary_run: SeededRun, chart: str,
                                               size: tuple[int, int]) -> None:
    presses = (V_PRESSES if size == (80, 24) else V_PRESSES_BESIDE_ROC)[chart]
    keys = ["3", *["v"] * presses, "right", "right"]  # the threshold marked at 0.52 on each
    assert snap_compare(ClfApp(BINARY), terminal_size=size, run_before=replay(binary_run, keys))


def test_the_calibration_of_each_class_against_the_rest(snap_compare, multiclass_run: SeededRun) -> None:
    keys = ["3", "v", "v", "right_square_bracket"]
    assert snap_compare(ClfApp(MULTICLASS), terminal_size=(80, 24), run_before=replay(multiclass_run, keys))


def test_below_the_smallest_size_one_line_says_how_large(snap_compare, binary_run: SeededRun) -> None:
    assert snap_compare(ClfApp(BINARY), terminal_size=(50, 16), run_before=replay(binary_run))
