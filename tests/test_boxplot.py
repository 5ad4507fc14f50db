"""Text box plots: the five numbers are NumPy's, each mark sits at its value's column, and lines fit the width."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clf_tui.render.boxplot import NO_VALUES, BoxStats, box_plot

values = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30)


@given(values)
def test_the_summary_is_numpys_with_whiskers_at_the_furthest_values_within_reach(data: list[float]) -> None:
    stats = BoxStats.of(data)
    q1, median, q3 = np.percentile(data, [25, 50, 75])
    assert (stats.q1, stats.median, stats.q3) == (q1, median, q3)
    reach = 1.5 * (q3 - q1)
    inside = [v for v in data if q1 - reach <= v <= q3 + reach]
    assert (stats.low, stats.high) == (min(inside), max(inside))
    assert sorted(stats.outliers) == sorted(v for v in data if v not in inside)
    assert stats.n == len(data)


def test_non_finite_values_are_left_out() -> None:
    assert BoxStats.of([math.nan, 1.0, math.inf, 3.0]) == BoxStats.of([1.0, 3.0])
    assert BoxStats.of([math.nan]) is None


def test_each_mark_sits_at_its_values_column() -> None:
    groups = [("wide", [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]), ("narrow", [4.0, 5.0, 6.0, 40.0])]
    lines = box_plot(groups, 60)
    label_width = len("narrow") + 1
    plot = [line[label_width:] for line in lines]
    column = lambda v: round(v / 40.0 * (60 - label_width - 1))  # the axis runs from 0 to 40 over the plot's width
    wide, narrow = BoxStats.of(groups[0][1]), BoxStats.of(groups[1][1])
    assert plot[0][column(wide.low)] == "├" and plot[0][column(wide.high)] == "┤"
    assert plot[0][column(wide.median)] == "┃"
    assert set(plot[0][column(wide.q1) : column(wide.q3) + 1]) == {"▒", "┃"}
    assert narrow.outliers == (40.0,) and plot[1][column(40.0)] == "○"
    assert plot[2][column(0.0)] == plot[2][column(40.0)] == "┬"
    assert plot[3].split()[0] == "0" and plot[3].split()[-1] == "40"


@settings(max_examples=50)
@given(st.lists(values, min_size=1, max_size=4), st.integers(20, 200))
def test_every_line_fits_the_width(groups: list[list[float]], width: int) -> None:
    lines = box_plot([(f"configuration {i}", data) for i, data in enumerate(groups)], width)
    assert len(lines) == len(groups) + 2
    assert all(len(line) <= width for line in lines)


def test_equal_values_and_groups_without_values() -> None:
    lines = box_plot([("all ones", [1.0, 1.0, 1.0]), ("none", [math.nan])], 40)
    middle = 9 + (40 - 9 - 1) // 2  # a small range is drawn around the one value
    assert lines[0].strip().endswith("┃") and lines[0].index("┃") in (middle, middle + 1)
    assert lines[-1].split() == ["0.99", "1.00", "1.01"]
    assert lines[1] == f"none     {NO_VALUES}"
    assert box_plot([("none", [])], 40) == [f"none {NO_VALUES}"]


@pytest.mark.parametrize("width", [40, 80])
def test_long_labels_are_cut_to_a_third_of_the_width(width: int) -> None:
    label = "optimizer=sgd lr=0.1 momentum=0.5"
    lines = box_plot([(label, [0.8, 0.9]), ("base", [0.85])], width)
    kept = min(24, width // 3)
    assert lines[0].startswith(label[: kept - 1] + "… ├")
    assert lines[1].startswith("base".ljust(kept) + " ")
