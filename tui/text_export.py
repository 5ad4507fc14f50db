"""The app's view as plain text: the run, the loss, ROC and PR charts, the confusion matrix with its rates,
and the decision regions of two-feature data.

The charts are the panes' own plotext figures, copied and drawn at a fixed size without colours,
so the file shows what the screen shows (the operating point on the curves included) and reads the
same in any editor, pager or e-mail.
"""

from __future__ import annotations

import copy
import shlex
from dataclasses import fields
from typing import Any

from textual.content import Content
from textual_plotext import PlotextPlot

from clf_tui.engine import RunConfig

from . import formatting
from .widgets.confusion_matrix_view import ConfusionMatrixView
from .widgets.curve_chart import CurveChart
from .widgets.evaluation_panel import EvaluationPanel
from .widgets.loss_chart import LossChart
from .widgets.plain_chart import figure_text
from .widgets.region_map import RegionMap

WIDTH = 80
"""Columns of the text: the loss chart spans them, the ROC and PR charts share them."""
CHART_HEIGHT = 20
CURVE_GAP = 2


def chart_text(chart: PlotextPlot, width: int, height: int) -> str:
    """``chart`` drawn at ``width`` x ``height`` as plain text; the chart on screen is left as it was. A chart
    whose series differ only in colour on screen draws them in other glyphs (``plain_text``)."""
    if isinstance(chart, (LossChart, CurveChart)):
        return chart.plain_text(width, height)
    return figure_text(copy.deepcopy(chart.plt), width, height)


def settings_line(config: RunConfig) -> str:
    """The settings that differ from the defaults, as the command-line options that give them."""
    default = RunConfig()
    options = [
        f"--{f.name.replace('_', '-')} {shlex.quote(_option_text(getattr(config, f.name)))}"
        for f in fields(RunConfig)
        if getattr(config, f.name) != getattr(default, f.name)
    ]
    return " ".join(options) if options else "all at their defaults"


def render_view(*, run: str, config: RunConfig | None, loss: LossChart, evaluation: EvaluationPanel,
                regions: RegionMap | None = None) -> str:
    """The text of the view: a header naming the run, its settings, epoch and threshold (and the class
    against the rest, for multiclass), then the loss chart, the ROC and PR charts side by side, the
    confusion matrix with its rates, and the decision regions when ``regions`` has a map.

    Raises ValueError when ``evaluation`` shows no evaluation yet.
    """
    shown = evaluation.evaluation
    if shown is None:
        raise ValueError("there is no evaluation to export yet")
    roc = evaluation.query_one("#roc", CurveChart)
    pr = evaluation.query_one("#pr", CurveChart)
    confusion = evaluation.query_one(ConfusionMatrixView)
    subject = "" if shown.is_binary else f" · {shown.class_names[evaluation.positive]} vs rest"
    header = [
        f"clf-tui · {run}",
        f"settings: {settings_line(config)}" if config is not None else "",
        f"epoch {shown.epoch} · threshold {formatting.threshold(evaluation.threshold)}{subject}",
    ]
    curve_width = (WIDTH - CURVE_GAP) // 2
    sections = [
        "\n".join(line for line in header if line),
        f"loss (train, val) per epoch\n{chart_text(loss, WIDTH, CHART_HEIGHT)}",
        _side_by_side(
            f"ROC: TPR by FPR · {_title(roc.border_title)}\n{chart_text(roc, curve_width, CHART_HEIGHT)}",
            f"PR: precision by recall · {_title(pr.border_title)}\n{chart_text(pr, curve_width, CHART_HEIGHT)}",
            curve_width,
        ),
        f"{_title(confusion.border_title)} · {_title(confusion.border_subtitle)}\n"
        + "\n".join(line.rstrip() for line in confusion.render().plain.splitlines()),
    ]
    region_text = None if regions is None else regions.plain_text(WIDTH, CHART_HEIGHT)
    if region_text is not None:
        sections.append(f"{_title(regions.border_title)} · {_title(regions.border_subtitle)}\n{region_text}")
    return "\n\n".join(sections) + "\n"


def _side_by_side(left: str, right: str, left_width: int) -> str:
    left_lines, right_lines = left.splitlines(), right.splitlines()
    left_lines += [""] * (len(right_lines) - len(left_lines))
    right_lines += [""] * (len(left_lines) - len(right_lines))
    return "\n".join(f"{a:<{left_width + CURVE_GAP}}{b}".rstrip() for a, b in zip(left_lines, right_lines))


def _title(markup: str | None) -> str:
    """A pane's border title or subtitle (which Textual gives back as markup) as plain text."""
    return Content.from_markup(markup or "").plain


def _option_text(value: Any) -> str:
    """A setting as its command-line option takes it (RunConfig.parse_field reads it back)."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
