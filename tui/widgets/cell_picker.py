"""CellPicker: a confusion matrix of counts whose cells the arrow keys walk through."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget

from .. import formatting
from .confusion_matrix_view import RIGHT, WRONG

CORNER = "true \\ pred"


class CellPicker(Widget, can_focus=True):
    """Rows are the true classes, columns the predicted ones; the current cell is shown reversed.

    Rows and columns are headed as in ConfusionMatrixView: by the class names, or, for more than
    two classes of which one has a name longer than three characters, columns by class number
    and rows by number and name. A matrix larger than the widget shows the window of rows and
    columns around the current cell, its headings always in sight. Moving posts
    ``CellPicker.Changed``.
    """

    DEFAULT_CSS = """
    CellPicker {
        width: auto;
        height: auto;
    }
    """
    BINDINGS = [
        Binding("up", "move(-1, 0)", "Cell up", show=False, id="cells.up"),
        Binding("down", "move(1, 0)", "Cell down", show=False, id="cells.down"),
        Binding("left", "move(0, -1)", "Cell left", show=False, id="cells.left"),
        Binding("right", "move(0, 1)", "Cell right", show=False, id="cells.right"),
    ]

    @dataclass
    class Changed(Message):
        """The current cell is now (``true_class``, ``predicted_class``)."""

        picker: CellPicker
        true_class: int
        predicted_class: int

    def __init__(self, confusion: np.ndarray, class_names: tuple[str, ...], *, cell: tuple[int, int] = (0, 0),
                 id: str | None = None) -> None:
        """``cell``: the current cell to start from (said by no Changed message)."""
        super().__init__(id=id)
        self._confusion = confusion
        names = [formatting.class_name(name) for name in class_names]
        if len(names) == 2 or all(len(name) <= 3 for name in names):
            self._columns, self._rows = names, names
        else:
            self._columns = [str(i) for i in range(len(names))]
            self._rows = [f"{i} {name}" for i, name in enumerate(names)]
        self._cell_width = max(len(str(int(confusion.max()))), *(len(c) for c in self._columns)) + 2
        self._label_width = max(len(CORNER), *(len(r) for r in self._rows)) + 1
        self.cell = cell
        self._first = (0, 0)
        """The first row and column in the window shown."""

    def heading(self, class_index: int) -> str:
        """The heading of the class's column: its name, or its number where the names are long."""
        return self._columns[class_index]

    def select(self, true_class: int, predicted_class: int) -> None:
        """Make (``true_class``, ``predicted_class``) the current cell; says so only when it changes."""
        if (true_class, predicted_class) == self.cell:
            return
        self.cell = (true_class, predicted_class)
        self.refresh()
        self.post_message(self.Changed(self, true_class, predicted_class))

    def action_move(self, rows: int, columns: int) -> None:
        k = len(self._rows)
        true_class, predicted_class = self.cell
        self.select(min(max(true_class + rows, 0), k - 1), min(max(predicted_class + columns, 0), k - 1))

    def render(self) -> Text:
        width = self._cell_width
        n_rows = max(1, min(len(self._rows), self.size.height - 1))
        n_columns = max(1, min(len(self._columns), (self.size.width - self._label_width) // width))
        rows, columns = self._window(n_rows, n_columns)
        lines = [Text(f"{CORNER:<{self._label_width}}", style="dim")]
        for j in columns:
            lines[0].append(f" {self._columns[j]:>{width - 2}} ", style="bold")
        for i in rows:
            line = Text(f"{self._rows[i]:<{self._label_width}}", style="bold")
            for j in columns:
                count = int(self._confusion[i, j])
                style = "dim" if count == 0 else RIGHT if i == j else WRONG
                if (i, j) == self.cell:
                    style = f"{style} reverse bold"
                line.append(f" {count if count else '·':>{width - 2}} ", style=style)
            lines.append(line)
        return Text("\n").join(lines)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self._label_width + self._cell_width * len(self._columns)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + len(self._rows)

    def _window(self, n_rows: int, n_columns: int) -> tuple[range, range]:
        """The rows and columns to show, moved as little as keeps the current cell in them."""
        first = tuple(
            min(max(start, at - fit + 1, 0), at, len(self._rows) - fit)  # the matrix is square
            for start, at, fit in zip(self._first, self.cell, (n_rows, n_columns))
        )
        self._first = (first[0], first[1])
        return range(first[0], first[0] + n_rows), range(first[1], first[1] + n_columns)
