"""EpochLog: one line per epoch plus the run's events, bounded, drawn as they arrive (a fast run's epochs in batches)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual import events
from textual.widget import Widget

from clf_tui.engine.events import EpochEnded

from .. import formatting

MAX_LINES = 1000
"""Lines kept; older ones are dropped, so a long run cannot grow memory without end."""


class EpochLog(Widget):
    """The run's log, showing its newest lines under the epoch columns' names; the mouse wheel scrolls back.

    Lines are added as events arrive (a fast run's epochs a few times a second, together).
    It draws only the lines that fit and never changes its own size, so new lines cost
    one repaint of this pane, not a new layout of the screen (as a scrolling log's
    growing virtual height would).
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: deque[Text] = deque(maxlen=MAX_LINES)
        self.header: Text | None = None
        self._scroll_back = 0

    def set_header(self, binary: bool) -> None:
        """Name the columns of the epoch lines; the names stay on the top row."""
        score = "auroc" if binary else "mF1"
        self.header = Text(f"epoch  train    val   acc {score:>5} samples/s", style="bold")
        self.refresh()

    def add_epochs(self, events: Iterable[EpochEnded]) -> None:
        self._add([_epoch_line(event) for event in events])

    def add_note(self, message: str, style: str = "italic") -> None:
        """A line about the run itself: started, saved, stopped, diverged."""
        self._add([Text(message, style=style)])

    def _add(self, lines: list[Text]) -> None:
        self.lines.extend(lines)
        if self._scroll_back:  # keep the lines the reader scrolled back to in view
            self._scroll_back = min(self._scroll_back + len(lines), len(self.lines) - 1)
        self.refresh()

    def render(self) -> Text:
        width, height = max(self.size.width, 1), self.size.height - (self.header is not None)
        end = len(self.lines) - self._scroll_back
        shown: list[Text] = []
        # From the newest line back until the pane is full; only lines wider than the pane need wrapping.
        for index in range(end - 1, -1, -1):
            line = self.lines[index]
            shown[:0] = [line] if line.cell_len <= width else line.wrap(self.app.console, width, overflow="fold")
            if len(shown) >= height:
                break
        rows = shown[-height:] if height > 0 else []
        return Text("\n").join([self.header, *rows] if self.header is not None else rows)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll(3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll(-3)

    def _scroll(self, lines: int) -> None:
        self._scroll_back = min(max(self._scroll_back + lines, 0), max(len(self.lines) - 1, 0))
        self.border_subtitle = f"{self._scroll_back} lines back (wheel down returns)" if self._scroll_back else ""
        self.refresh()


def _epoch_line(event: EpochEnded) -> Text:
    metrics = event.metrics
    score = metrics.get("auroc", metrics.get("macro_f1"))
    return Text(f"{event.epoch:>5} {formatting.loss(event.train_loss):>6} {formatting.loss(event.val_loss):>6} "
                f"{formatting.rate(metrics.get('accuracy')):>5} {formatting.rate(score):>5} "
                f"{formatting.si(event.samples_per_s):>9}")
