"""Box plots drawn in text, one line per group on a shared axis: for the command line and the app alike.

    loss=mse            ├───▒▒▒▒┃▒▒▒────┤  ○
    loss=cross_entropy          ├─▒▒┃▒▒▒▒──────┤
                        ┬─────────┬─────────┬──
                        0.80      0.85      0.90
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WHISKER_IQR = 1.5
"""Whiskers reach the furthest value within this many interquartile ranges of the box, as matplotlib's do."""
MIN_PLOT_WIDTH = 10
MAX_LABEL_WIDTH = 24
NO_VALUES = "no value: no seed kept an epoch"


@dataclass(frozen=True)
class BoxStats:
    """A five-number summary with outliers: quartiles by linear interpolation (``np.percentile``'s default)."""

    low: float
    """The lower whisker's end: the smallest value within WHISKER_IQR * IQR below q1."""
    q1: float
    median: float
    q3: float
    high: float
    outliers: tuple[float, ...]
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> BoxStats | None:
        """The summary of the finite ``values``; None if there are none."""
        data = np.asarray(values, dtype=np.float64)
        data = np.sort(data[np.isfinite(data)])
        if data.size == 0:
            return None
        q1, median, q3 = (float(q) for q in np.percentile(data, [25, 50, 75]))
        reach = WHISKER_IQR * (q3 - q1)
        inside = data[(data >= q1 - reach) & (data <= q3 + reach)]
        outliers = data[(data < q1 - reach) | (data > q3 + reach)]
        return cls(float(inside[0]), q1, median, q3, float(inside[-1]), tuple(float(v) for v in outliers), int(data.size))


def box_plot(groups: Sequence[tuple[str, Sequence[float]]], width: int) -> list[str]:
    """Lines of at most ``width`` characters: one box per group, then the axis and its labels.

    Non-finite values (a seed that kept no epoch) are left out; a group without any says so.
    """
    stats = [(label, BoxStats.of(values)) for label, values in groups]
    label_width = min(max((len(label) for label, _ in stats), default=0), MAX_LABEL_WIDTH, width // 3)
    plot_width = max(width - label_width - 1, MIN_PLOT_WIDTH)
    found = [s for _, s in stats if s is not None]
    if not found:
        return [f"{_fit(label, label_width)} {NO_VALUES}" for label, _ in stats]
    lo = min(min((s.low, *s.outliers)) for s in found)
    hi = max(max((s.high, *s.outliers)) for s in found)
    if hi - lo < 1e-12:  # one value for every seed: a box of width 0 in the middle of a small range
        pad = max(abs(lo) * 0.01, 1e-3)
        lo, hi = lo - pad, hi + pad
    axis = _Axis(lo, hi, plot_width)
    lines = [f"{_fit(label, label_width)} {_box_line(s, axis) if s is not None else NO_VALUES}".rstrip()
             for label, s in stats]
    ticks, labels = axis.tick_lines()
    indent = " " * (label_width + 1)
    return [*lines, indent + ticks, (indent + labels).rstrip()]


@dataclass(frozen=True)
class _Axis:
    lo: float
    hi: float
    width: int

    def column(self, value: float) -> int:
        return round((value - self.lo) / (self.hi - self.lo) * (self.width - 1))

    def tick_lines(self) -> tuple[str, str]:
        """The axis line with a mark at each tick, and the tick values under their marks (none overlapping)."""
        step = _nice_step((self.hi - self.lo) / max(self.width // 10, 1))
        decimals = _decimals(step)
        axis = ["─"] * self.width
        labels = [" "] * (self.width + 8)
        free_from = 0
        value = math.ceil(self.lo / step - 1e-9) * step
        while value <= self.hi + 1e-9 * step:
            col = self.column(value)
            axis[col] = "┬"
            text = f"{value:.{decimals}f}"
            start = min(max(col - len(text) // 2, 0), self.width - len(text))
            if start >= free_from:
                labels[start : start + len(text)] = text
                free_from = start + len(text) + 1
            value += step
        return "".join(axis), "".join(labels[: self.width])


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least ``raw``."""
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))


def _decimals(step: float) -> int:
    """Decimals that write every multiple of ``step`` exactly: 0.25 needs two, 0.025 three, 5 none."""
    decimals = 0
    while abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6 and decimals < 12:
        decimals += 1
    return decimals


def _box_line(s: BoxStats, axis: _Axis) -> str:
    cells = [" "] * axis.width
    low, q1, median, q3, high = (axis.column(v) for v in (s.low, s.q1, s.median, s.q3, s.high))
    for col in range(low, high + 1):
        cells[col] = "─"
    cells[low], cells[high] = "├", "┤"
    for col in range(q1, q3 + 1):
        cells[col] = "▒"
    cells[median] = "┃"
    for value in s.outliers:
        cells[axis.column(value)] = "○"
    return "".join(cells)


def _fit(label: str, width: int) -> str:
    """``label`` padded or cut to ``width`` characters (cut ones end in an ellipsis)."""
    return label.ljust(width) if len(label) <= width else label[: width - 1] + "…"
