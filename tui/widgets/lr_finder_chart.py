"""LRFinderChart: a range test's loss against the learning rate on a log axis, the suggested rate marked."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textual_plotext import PlotextPlot

if TYPE_CHECKING:
    from clf_tui.engine.lr_finder import LRFinderResult  # imports torch, which the app loads only in its first worker

MAX_TICKS = 6
"""Decades labelled on the rate axis; a wider sweep labels every other one."""


class LRFinderChart(PlotextPlot):
    """The smoothed loss (cyan) and the suggestion (a red line and dot).

    The loss axis spans the fall, from the lowest smoothed loss to a little above where the
    fall began, so that the climb at the end, however high, does not flatten the part that matters.
    """

    def __init__(self, result: LRFinderResult, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._result = result

    def on_mount(self) -> None:  # PlotextPlot's own on_mount runs too
        result = self._result
        plt = self.plt
        plt.clear_data()
        plt.xscale("log")
        plt.xlabel("learning rate")
        plt.xlim(math.log10(result.start_lr), math.log10(result.end_lr))  # on a log axis plotext takes log10 limits
        plt.xticks(*decade_ticks(result.start_lr, result.end_lr))
        # Each batch's own loss swings too widely at high rates to read; the smoothed loss is the curve to judge.
        points = [(lr, loss) for lr, loss in zip(result.lrs, result.smoothed) if math.isfinite(loss)]
        if points:
            lrs, smoothed = (list(series) for series in zip(*points))
            plt.ylim(*loss_range(smoothed))
            plt.plot(lrs, smoothed, marker="braille", color="cyan")
        if result.suggestion_index is not None:
            plt.vline(result.suggestion, "red")
            plt.scatter([result.suggestion], [result.smoothed[result.suggestion_index]], marker="●", color="red")
        self.refresh()


def decade_ticks(start: float, end: float) -> tuple[list[float], list[str]]:
    """Powers of ten from ``start`` to ``end`` and their labels (1e-5, 0.001, 0.1, 10): every one, or
    every other (or third...) up to the last, to stay within MAX_TICKS; the two ends when none lies between."""
    first, last = math.ceil(math.log10(start) - 1e-9), math.floor(math.log10(end) + 1e-9)
    exponents = list(range(first, last + 1))
    if not exponents:
        return [start, end], [f"{start:.2g}", f"{end:.2g}"]
    stride = math.ceil(len(exponents) / MAX_TICKS)
    exponents = exponents[(len(exponents) - 1) % stride :: stride]
    return [10.0**k for k in exponents], [f"{10.0**k:g}" if -4 < k < 4 else f"1e{k}" for k in exponents]


def loss_range(smoothed: list[float]) -> tuple[float, float]:
    """The loss axis's limits: the lowest smoothed loss up to a quarter of the fall above where the fall began."""
    lowest = min(smoothed)
    top = max(smoothed[: smoothed.index(lowest) + 1])
    span = top - lowest or abs(lowest) * 0.1 or 1.0
    return lowest - 0.1 * span, top + 0.25 * span
