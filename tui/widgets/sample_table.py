"""SampleTable: a DataTable of rows whose left and right keys scroll a whole column at a time."""

from __future__ import annotations

from textual.widgets import DataTable


class SampleTable(DataTable):
    """A row-cursor DataTable for wide data (64 features and more): left and right bring the previous or
    next column to the fixed columns' edge, where a plain DataTable scrolls a few characters.

    Fixed columns keep the rows' stripes rather than a colour of their own, which would mark half
    the table when several columns are fixed.
    """

    DEFAULT_CSS = """
    SampleTable > .datatable--fixed {
        background: transparent;
    }
    """

    def action_cursor_right(self) -> None:
        edges = self._scroll_edges()
        self.scroll_to(x=next((x for x in edges if x > self.scroll_x), self.max_scroll_x), animate=False)

    def action_cursor_left(self) -> None:
        edges = self._scroll_edges()
        self.scroll_to(x=next((x for x in reversed(edges) if x < self.scroll_x), 0), animate=False)

    def _scroll_edges(self) -> list[int]:
        """The scroll offsets at which each scrolling column starts just right of the fixed ones."""
        widths = [column.get_render_width(self) for column in self.ordered_columns]
        fixed = sum(widths[: self.fixed_columns])
        edges, x = [], fixed
        for width in widths[self.fixed_columns:]:
            edges.append(min(x - fixed, int(self.max_scroll_x)))
            x += width
        return edges
