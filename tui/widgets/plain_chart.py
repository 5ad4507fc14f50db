"""A plotext figure as plain text, for the text export: no colours, so a chart's series differ in their glyphs."""

from __future__ import annotations

from typing import Any

from textual_plotext.plotext import uncolorize


def figure_text(figure: Any, width: int, height: int) -> str:
    """``figure`` (a copy of a chart's plotext figure, never the one on screen) drawn at ``width`` x ``height``."""
    figure.plotsize(width, height)
    return "\n".join(line.rstrip() for line in uncolorize(figure.build()).splitlines())
