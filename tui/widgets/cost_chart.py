"""CostChart: the expected cost per case at every threshold, the threshold shown marked and the least cost's too."""

from __future__ import annotations

import numpy as np
from textual_plotext import PlotextPlot

from clf_tui.engine.costs import CostCurve

from .. import formatting
from .unit_axes import unit_axes

MAX_POINTS = 400
"""Thresholds drawn; a terminal shows no more."""


class CostChart(PlotextPlot):
    """Expected cost per case (y) against the threshold (x), for the costs of a false positive and of a false
    negative and the prevalence expected in deployment. The threshold shown is a red dot on the curve; the
    least cost, a mark on the axis and in the title."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "expected cost"
        self._curve: CostCurve | None = None
        self._note = ""
        self._best = (0.5, 0.0)
        self._point: tuple[float, float] | None = None

    @property
    def curve(self) -> CostCurve | None:
        return self._curve

    @property
    def point(self) -> tuple[float, float] | None:
        """The threshold shown and its expected cost per case."""
        return self._point

    @property
    def best(self) -> tuple[float, float]:
        """The threshold of least expected cost and that cost."""
        return self._best

    def show(self, curve: CostCurve, best: tuple[float, float], subject: str) -> None:
        """Draw ``curve``, with ``best`` (threshold, cost) of least cost; ``subject`` says whose costs they are."""
        self._curve, self._best, self._note = curve, best, ""
        best_threshold, best_cost = best
        self.border_title = (f"expected cost · least {best_cost:.3g} at threshold {formatting.threshold(best_threshold)}")
        self.border_subtitle = subject
        self._redraw()

    def explain(self, note: str) -> None:
        """Say why there is no curve (a multiclass task: its prediction is the most probable class)."""
        self._curve, self._note = None, note
        self.border_title = "expected cost"
        self.border_subtitle = ""
        self._redraw()

    def set_point(self, threshold: float, cost: float) -> None:
        """Mark the threshold shown and its expected cost."""
        self._point = (threshold, cost)
        self._redraw()

    def clear(self) -> None:
        self.explain("")

    def on_mount(self) -> None:  # PlotextPlot's own on_mount runs too
        self._redraw()

    def _redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        unit_axes(plt, y=False)
        plt.xlabel("threshold")
        curve = self._curve
        if curve is None:
            if self._note:
                plt.title(self._note)
            self.refresh()
            return
        thresholds = np.clip(curve.thresholds, 0.0, 1.0)
        keep = np.unique(np.linspace(0, len(thresholds) - 1, min(len(thresholds), MAX_POINTS)).round().astype(int))
        plt.plot(thresholds[keep].tolist(), curve.costs[keep].tolist(), marker="braille", color="cyan")
        best_threshold, best_cost = self._best
        plt.scatter([best_threshold], [best_cost], marker="▲", color="green")
        if self._point is not None:
            plt.scatter([self._point[0]], [self._point[1]], marker="●", color="red")
        self.refresh()
