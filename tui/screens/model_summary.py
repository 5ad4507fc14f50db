"""ModelSummaryScreen: the model's layers with their output shapes and parameter counts, the totals and the size, and
what it learned: its weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from .. import formatting
from ..widgets.parameters_view import parameters_view
from .dialog import Dialog

if TYPE_CHECKING:
    from clf_tui.engine.parameters import LearnedParameters
    from clf_tui.engine.summary import ModelSummary  # imports torch, which the app loads only in its first worker


class ModelSummaryScreen(Dialog[None]):
    """Shows a ``ModelSummary`` of the run's model and its ``LearnedParameters`` (the boundary at ``threshold``)."""

    AUTO_FOCUS = "#summary-body"  # so the arrow keys scroll a long model
    BINDINGS = [
        Binding("escape,m,q", "dismiss", "Close", id="summary.close", tooltip="Close the model summary."),
    ]

    def __init__(self, summary: ModelSummary, parameters: LearnedParameters | None = None,
                 threshold: float = 0.5) -> None:
        super().__init__()
        self._summary = summary
        self._parameters = parameters
        self._threshold = threshold

    def compose(self) -> ComposeResult:
        summary = self._summary
        layers = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False, header_style="bold")
        layers.add_column("Layer", style="bold cyan", no_wrap=True)
        layers.add_column("Type", no_wrap=True)
        layers.add_column("Output shape", no_wrap=True)
        layers.add_column("Params", justify="right", no_wrap=True)
        for layer in summary.layers:
            shape = "—" if layer.output_shape is None else str(list(layer.output_shape))
            layers.add_row(layer.name, layer.type_name, shape, f"{layer.n_params:,}")
        with VerticalScroll(id="summary-body") as body:
            body.border_title = "Model summary (Escape closes)"
            # In the border, so that the totals stay in sight while a long model scrolls.
            body.border_subtitle = f"{summary.n_params:,} params · {formatting.byte_size(summary.total_bytes)}"
            yield Static(layers, id="summary-layers")
            if self._parameters is not None:
                yield Static(parameters_view(self._parameters, self._threshold), id="summary-parameters")
