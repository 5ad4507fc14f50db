"""BoxPlotView: a comparison's box plots across seeds, drawn in text to the width the view has."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from clf_tui.engine.comparison import Comparison
from clf_tui.render.compare_report import box_plots


class BoxPlotView(Widget):
    """Validation accuracy (and AUROC for binary tasks) across seeds, one box per configuration.

    Redrawn at every width it is given, so the boxes use the whole pane.
    """

    DEFAULT_CSS = "BoxPlotView { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._comparison: Comparison | None = None

    def show(self, comparison: Comparison) -> None:
        self._comparison = comparison
        self.refresh(layout=True)

    def _lines(self, width: int) -> list[str]:
        return [] if self._comparison is None else box_plots(self._comparison, width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        return Text("\n".join(self._lines(self.content_region.width)), no_wrap=True)
