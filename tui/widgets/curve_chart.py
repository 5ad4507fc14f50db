"""CurveChart: a ROC or precision-recall curve with the current threshold's operating point."""

from __future__ import annotations

import copy
import math
from typing import Any, Literal

import numpy as np
from rich.text import Text
from textual_plotext import PlotextPlot

from clf_tui.engine.intervals import Interval
from clf_tui.engine.metrics import BinaryEval, BinaryReport

from .. import formatting
from .plain_chart import figure_text
from .unit_axes import unit_axes

CurveKind = Literal["roc", "pr"]
MAX_CURVE_POINTS = 400
"""Curve points drawn; more cannot show at terminal resolution and only slow the chart down."""


class CurveChart(PlotextPlot):
    """ROC (FPR, TPR) or PR (recall, precision) of one evaluation; the curve is set once per
    evaluation and the operating point moves with the threshold, one redraw per move.

    The title gives the area (AUROC or average precision); the x axis's label tells the curves apart.
    """

    def __init__(self, kind: CurveKind, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = kind
        self._x: list[float] = []
        self._y: list[float] = []
        self._point: tuple[float, float] | None = None
        self.border_title = _empty_title(kind)

    @property
    def point(self) -> tuple[float, float] | None:
        """The operating point marked: (FPR, TPR) on ROC, (recall, precision) on PR."""
        return self._point

    def set_curve(self, evaluation: BinaryEval, subject: str, interval: Interval | None = None) -> None:
        """Show ``evaluation``'s curve; ``subject`` names what is positive ("3 vs rest"), if not plain class 1;
        ``interval`` is the area's 95% interval, where it was computed."""
        bounds = f" {interval}" if interval is not None else ""
        if self.kind == "roc":
            x, y, _ = evaluation.roc_curve()
            self.border_title = f"AUROC {formatting.rate(evaluation.auroc)}{bounds}"
        else:
            y, x, _ = evaluation.pr_curve()
            self.border_title = f"AP {formatting.rate(evaluation.average_precision)}{bounds}"
        self.border_subtitle = Text(subject)  # holds a class name from the data: never markup
        # With one class in the validation split a rate is undefined (NaN): there is no curve to draw.
        defined = bool(np.isfinite(x).all() and np.isfinite(y).all())
        self._x, self._y = (_thin(x), _thin(y)) if defined else ([], [])
        self._redraw()

    def set_point(self, report: BinaryReport) -> None:
        """Mark the operating point of ``report``'s threshold."""
        self._point = (report.fpr, report.tpr) if self.kind == "roc" else (report.recall, report.precision)
        self._redraw()

    def clear(self) -> None:
        self._x, self._y, self._point = [], [], None
        self.border_title = _empty_title(self.kind)
        self.border_subtitle = ""
        self._redraw()

    def on_mount(self) -> None:  # PlotextPlot's own on_mount runs too
        self._redraw()

    def plain_text(self, width: int, height: int) -> str:
        """The chart at ``width`` x ``height`` without colours, the chance diagonal dotted apart from the curve."""
        figure = copy.deepcopy(self.plt)
        self._draw(figure, plain=True)
        return figure_text(figure, width, height)

    def _redraw(self) -> None:
        self._draw(self.plt, plain=False)
        self.refresh()

    def _draw(self, plt: Any, *, plain: bool) -> None:
        plt.clear_data()
        unit_axes(plt)
        plt.xlabel("FPR" if self.kind == "roc" else "recall")
        if self.kind == "roc":
            plt.plot([0, 1], [0, 1], marker="·" if plain else "braille", color="gray")
        if self._x:
            plt.plot(self._x, self._y, marker="braille", color="cyan")
        if self._point is not None and all(math.isfinite(v) for v in self._point):
            plt.scatter([self._point[0]], [self._point[1]], marker="●", color="red")


def _empty_title(kind: CurveKind) -> str:
    return "ROC" if kind == "roc" else "PR"


def _thin(values: np.ndarray) -> list[float]:
    """At most MAX_CURVE_POINTS evenly spaced points, the ends kept."""
    if len(values) > MAX_CURVE_POINTS:
        values = values[np.linspace(0, len(values) - 1, MAX_CURVE_POINTS).round().astype(int)]
    return values.tolist()
