"""ProbabilityView: how the validation probabilities of each true class spread over [0, 1], with the threshold."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.widget import Widget

from .. import formatting

BLOCKS = " ▁▂▃▄▅▆▇█"
BAR_CHARS = np.array(list(BLOCKS))
"""A bar's top cell by its height in eighths of a row, 0 to 8."""
RIGHT = "green"
WRONG = "red"
CURSOR = "bold yellow"


class ProbabilityView(Widget):
    """One histogram band per true class (negatives above, positives below), one column per bin.

    Bars on the correct side of the threshold are green, on the wrong side red; the threshold's
    column is the yellow cursor. Scores are sorted once in ``set_scores``; a redraw bins them
    with one binary search per column, so moving the threshold never passes over the samples.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._labels = ("", "")
        self.threshold = 0.5

    def set_scores(self, scores: np.ndarray, is_positive: np.ndarray, labels: tuple[str, str]) -> None:
        """Show ``scores`` split by ``is_positive``; ``labels`` name the negative and the positive class."""
        self._sorted = (np.sort(scores[~is_positive]), np.sort(scores[is_positive]))
        self._labels = labels
        self.refresh()

    def set_threshold(self, threshold: float) -> None:
        self.threshold = threshold
        self.refresh()

    def clear(self) -> None:
        self._sorted = None
        self.refresh()

    def render(self) -> Text:
        if self._sorted is None:
            return Text("Probabilities per true class appear after the first epoch.", style="dim")
        label_width = max(len(label) for label in self._labels) + 1
        n_bins = max(self.size.width - label_width, 2)
        rows = max(self.size.height - 1, 2)  # one row for the axis
        band_heights = (rows // 2, rows - rows // 2)
        cursor = min(int(self.threshold * n_bins), n_bins - 1)
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        edges[-1] = np.inf  # the last bin holds 1.0 itself
        lines: list[Text] = []
        for is_positive, (scores, label, band_rows) in enumerate(zip(self._sorted, self._labels, band_heights)):
            heights = _heights(scores, edges, band_rows)
            # Left of the cursor is predicted negative: right for the negatives' band, wrong for the positives'.
            left_style, right_style = (WRONG, RIGHT) if is_positive else (RIGHT, WRONG)
            for row in range(band_rows):
                floor = (band_rows - 1 - row) * 8
                bars = "".join(BAR_CHARS[np.clip(heights - floor, 0, 8)])
                # Three spans a row, not one per column: the terminal cells cost the same, the styling far less.
                lines.append(Text.assemble(
                    f"{label if row == band_rows - 1 else '':<{label_width}}",
                    (bars[:cursor], left_style),
                    (bars[cursor] if bars[cursor] != BLOCKS[0] else "│", CURSOR),
                    (bars[cursor + 1:], right_style),
                    style="bold",
                ))
        lines.append(self._axis(label_width, n_bins, cursor))
        return Text("\n").join(lines)

    def _axis(self, label_width: int, n_bins: int, cursor: int) -> Text:
        """'0' and '1' at the ends and the threshold's value beside the ▲ under the cursor."""
        start, marker, ends = axis_marker(n_bins, cursor, formatting.threshold(self.threshold))
        cells = [" "] * n_bins
        cells[0] = "0" if ends[0] else " "
        cells[-1] = "1" if ends[1] else " "
        cells[start: start + len(marker)] = marker
        axis = Text(" " * label_width + "".join(cells)[:n_bins], style="dim")
        axis.stylize(CURSOR, label_width + start, label_width + start + len(marker))
        return axis


def axis_marker(n_bins: int, cursor: int, value: str) -> tuple[int, str, tuple[bool, bool]]:
    """Where the threshold's label goes on an axis of ``n_bins`` cells: its first cell, its text (``▲value`` to
    the right of the cursor, ``value▲`` to its left), and whether the '0' and the '1' at the ends still show.

    The label takes the side that keeps both ends clear of it (at least one blank cell between), the right one
    when both do; where neither does (near an end), the side that hides fewer ends, and the end it would touch
    is left out rather than run into the value.
    """
    placements = []
    for start, marker in ((cursor, "▲" + value), (cursor - len(value), value + "▲")):
        end = start + len(marker)  # one past the last cell
        if start < 0 or end > n_bins:
            continue
        ends = (start > 1, end < n_bins - 1)
        placements.append((-sum(ends), len(placements), start, marker, ends))
    if not placements:  # narrower than the label: the ▲ alone
        return cursor, "▲", (cursor > 1, cursor < n_bins - 2)
    _, _, start, marker, ends = min(placements)
    return start, marker, ends


def _heights(scores: np.ndarray, edges: np.ndarray, band_rows: int) -> np.ndarray:
    """Each bin's bar height in eighths of a row, the fullest bin ``band_rows`` rows high.

    ``scores`` are sorted, so a bin's count is a difference of two binary searches. Any
    non-empty bin shows at least one eighth.
    """
    counts = np.diff(np.searchsorted(scores, edges, side="left"))
    peak = max(int(counts.max()), 1)
    return np.where(counts > 0, np.maximum(np.ceil(counts / peak * band_rows * 8), 1), 0).astype(int)
