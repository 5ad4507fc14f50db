"""LRFinderScreen: a learning-rate range test's curve and suggestion, and a key that puts the rate in the form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from .. import formatting
from ..widgets.lr_finder_chart import LRFinderChart
from .dialog import Dialog

if TYPE_CHECKING:
    from clf_tui.engine.lr_finder import LRFinderResult  # imports torch, which the app loads only in its first worker


class LRFinderScreen(Dialog[float | None]):
    """Shows an ``LRFinderResult``; dismissed with the suggested rate (two significant digits) to apply
    it, or with None to close."""

    DEFAULT_CSS = """
    #lr-body {
        width: 110;
        max-width: 100%;
        height: 34;
        max-height: 100%;
        padding: 0 1;
        border: round $accent;
        border-subtitle-color: $text;
        background: $surface;
    }
    #lr-chart {
        height: 1fr;
    }
    #lr-verdict {
        height: auto;
    }
    """
    BINDINGS = [
        Binding("a,enter", "apply", "Use the rate", id="lr.apply",
                tooltip="Put the suggested learning rate in the configuration form."),
        Binding("escape,q", "dismiss(None)", "Close", id="lr.close", tooltip="Close without changing the form."),
    ]

    def __init__(self, result: LRFinderResult, epoch: int) -> None:
        """``epoch``: the epoch of the weights the test ran on (0 for fresh ones)."""
        super().__init__()
        self._result = result
        self._epoch = epoch
        suggestion = result.suggestion
        self._rate = None if suggestion is None else float(formatting.learning_rate(suggestion))

    @property
    def result(self) -> LRFinderResult:
        return self._result

    @property
    def rate(self) -> float | None:
        """The rate that applying puts in the form: the suggestion to two significant digits."""
        return self._rate

    def compose(self) -> ComposeResult:
        result = self._result
        weights = f"the weights of epoch {self._epoch}" if self._epoch else "fresh weights"
        verdict = Text()
        if self._rate is None:
            verdict.append("No suggestion: ", style="bold")
            verdict.append("the smoothed loss (cyan) never fell.")
        else:
            verdict.append("Suggested rate ", style="bold")
            verdict.append(formatting.learning_rate(self._rate), style="bold red")
            verdict.append(": the smoothed loss (cyan) falls fastest there.")
        verdict.append(f"\nRan on {weights} and put them back; {result.outcome}.", style="dim")
        with Vertical(id="lr-body") as body:
            body.border_title = "Learning-rate range test"
            body.border_subtitle = "a apply · Escape close" if self._rate is not None else "Escape close"
            yield LRFinderChart(result, id="lr-chart")
            yield Static(verdict, id="lr-verdict")

    def action_apply(self) -> None:
        if self._rate is None:
            self.notify("There is no rate to apply: the smoothed loss never fell.", severity="warning")
            return
        self.dismiss(self._rate)
