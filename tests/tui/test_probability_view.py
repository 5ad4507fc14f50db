"""The probability view's axis: the threshold's value beside its marker, never run into the 0 and 1 at the ends."""

from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult

from clf_tui.tui import formatting
from clf_tui.tui.widgets.probability_view import ProbabilityView

THRESHOLDS = (0.0, 0.01, 0.5, 0.93, 0.931, 0.99, 1.0)
LABELS = ("0", "1")
"""The classes' names, which take the first columns: the axis starts after them."""


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ProbabilityView(id="probability")


@pytest.mark.parametrize("width", [16, 24, 41, 80, 161])
async def test_the_threshold_label_never_touches_the_axis_ends(width: int) -> None:
    app = ViewApp()
    async with app.run_test(size=(width, 8)) as pilot:
        view = app.query_one(ProbabilityView)
        scores = np.random.default_rng(0).random(500).astype(np.float32)
        view.set_scores(scores, scores > 0.4, LABELS)
        for threshold in THRESHOLDS:
            view.set_threshold(threshold)
            await pilot.pause()
            axis = str(view.render()).splitlines()[-1]
            label_width = max(map(len, LABELS)) + 1
            assert len(axis) == width and axis[:label_width].isspace()
            cells = axis[label_width:]
            n = len(cells)
            cursor = min(int(threshold * n), n - 1)
            assert cells[cursor] == "▲", (threshold, cells)
            # The label: the run of non-blank cells through the cursor.
            start = cursor
            while start > 0 and cells[start - 1] != " ":
                start -= 1
            end = cursor
            while end < n and cells[end] != " ":
                end += 1
            value = formatting.threshold(threshold)
            assert cells[start:end] in (f"▲{value}", f"{value}▲"), (threshold, cells)
            outside = cells[:start] + cells[end:]
            assert set(outside) <= {" ", "0", "1"}, (threshold, cells)
            if cells[0] == "0":
                assert start >= 2, (threshold, cells)  # a blank between the 0 and the label
            if cells[-1] == "1":
                assert end <= n - 2, (threshold, cells)
            if 0.2 <= threshold <= 0.8 or (threshold == 0.93 and width >= 41):
                assert cells[0] == "0" and cells[-1] == "1", (threshold, cells)  # room for both ends
