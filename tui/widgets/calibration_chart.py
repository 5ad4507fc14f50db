"""CalibrationChart: the reliability diagram, the observed frequency of each bin of predicted probabilities against
its mean, before and after temperature scaling."""

from __future__ import annotations

from rich.text import Text
from textual_plotext import PlotextPlot

from clf_tui.engine.calibration import Reliability

from .. import formatting
from .unit_axes import unit_axes


class CalibrationChart(PlotextPlot):
    """Predicted probability (x) against how often it came true (y), one point per non-empty bin; a calibrated
    model keeps to the diagonal. The title gives the Brier score and the expected calibration error; after
    temperature scaling the diagram before it is drawn too, in grey."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "calibration"
        self._after: Reliability | None = None
        self._before: Reliability | None = None

    @property
    def reliability(self) -> Reliability | None:
        return self._after

    def show(self, reliability: Reliability, before: Reliability | None = None, temperature: float = 1.0) -> None:
        """Draw ``reliability``; ``before``, the diagram of the same rows before temperature ``temperature``."""
        self._after, self._before = reliability, before
        scores = f"Brier {formatting.rate(reliability.brier)} · ECE {formatting.rate(reliability.ece)}"
        if before is not None:
            scores = (f"ECE {formatting.rate(before.ece)} → {formatting.rate(reliability.ece)} "
                      f"at T {temperature:.2f}")
        self.border_title = f"calibration · {scores}"
        self.border_subtitle = Text(reliability.subject)  # a class name from the data: never markup
        self._redraw()

    def clear(self) -> None:
        self._after = self._before = None
        self.border_title = "calibration"
        self.border_subtitle = ""
        self._redraw()

    def on_mount(self) -> None:  # PlotextPlot's own on_mount runs too
        self._redraw()

    def _redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        unit_axes(plt)
        plt.xlabel("predicted probability")
        plt.plot([0, 1], [0, 1], marker="braille", color="gray")
        for reliability, color, label in ((self._before, "gray", "before"), (self._after, "cyan", None)):
            if reliability is None:
                continue
            filled = reliability.counts > 0
            x = reliability.mean_predicted[filled].tolist()
            y = reliability.observed[filled].tolist()
            if x:
                plt.plot(x, y, marker="dot", color=color, label=label)
        self.refresh()

