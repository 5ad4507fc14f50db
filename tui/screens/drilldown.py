"""DrillDownScreen: the validation rows behind a confusion-matrix cell, highest log loss first, and the most confused pairs."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from clf_tui.datasets.record import DataSplit, Scaler
from clf_tui.engine.drilldown import CellSamples, ConfusedPair, DrillDown
from clf_tui.engine.evaluation import Evaluation

from .. import formatting
from ..widgets.cell_picker import CellPicker
from ..widgets.sample_table import SampleTable
from .dialog import Dialog

MAX_ROWS = 200
"""A cell lists at most this many rows, those of highest log loss; its count says how many it holds."""
MAX_DECIMALS = 6
"""A feature column shows at most this many decimals (its values to six significant digits, or 1e-6)."""


class DrillDownScreen(Dialog[None]):
    """Walks the cells of one Evaluation's confusion matrix and lists each cell's rows.

    Binary tasks are counted at ``threshold``, multiclass ones by argmax, exactly as the engine
    counts them (``DrillDown``). Everything is computed from the evaluation and the data handed
    in at opening, so the screen keeps showing that epoch while training goes on behind it.
    """

    DEFAULT_CSS = """
    DrillDownScreen #drill-body {
        width: 100%;
        max-width: 116;
        height: 100%;
        max-height: 38;
        padding: 0 1;
        border: round $accent;
        border-subtitle-color: $text-muted;
        background: $surface;
    }
    DrillDownScreen #drill-top {
        height: auto;
        max-height: 50vh;
    }
    DrillDownScreen CellPicker {
        max-width: 70%;
        max-height: 50vh;
    }
    DrillDownScreen #drill-side {
        width: 1fr;
        height: auto;
        margin-left: 2;
    }
    DrillDownScreen #drill-pairs {
        height: auto;
        max-height: 45vh;  /* under its heading, no taller than the matrix (at most 50vh) */
        border: none;
        padding: 0;
        scrollbar-size-vertical: 1;
    }
    DrillDownScreen #drill-caption {
        height: auto;
    }
    DrillDownScreen #drill-rows {
        height: 1fr;
        scrollbar-size: 1 1;
    }
    DrillDownScreen CellPicker:focus, DrillDownScreen #drill-pairs:focus, DrillDownScreen #drill-rows:focus {
        background-tint: $foreground 5%;
    }
    """
    AUTO_FOCUS = "CellPicker"
    BINDINGS = [
        Binding("escape,d,q", "dismiss", "Close", id="drilldown.close", tooltip="Close the drill-down."),
    ]

    def __init__(self, evaluation: Evaluation, threshold: float, data: DataSplit) -> None:
        super().__init__()
        self._evaluation = evaluation
        self._data = data
        self._drill = DrillDown(evaluation.y_true, evaluation.y_prob, threshold)
        self._pairs = self._drill.most_confused()

    def compose(self) -> ComposeResult:
        evaluation, drill = self._evaluation, self._drill
        names = evaluation.class_names
        first = self._pairs[0] if self._pairs else None
        cell = (0, 0) if first is None else (first.true_class, first.predicted_class)
        picker = CellPicker(drill.confusion, names, cell=cell)
        with Vertical(id="drill-body") as body:
            how = "argmax" if drill.threshold is None else f"threshold {formatting.threshold(drill.threshold)}"
            body.border_title = f"Drill-down · epoch {evaluation.epoch} · {how}"
            body.border_subtitle = "arrows: cell · tab: next pane · escape: close"
            with Horizontal(id="drill-top"):
                yield picker
                with Vertical(id="drill-side"):
                    if not drill.is_binary:
                        yield Static("[b]most confused[/b]")
                        yield OptionList(*(_pair_option(pair, picker) for pair in self._pairs), id="drill-pairs")
                    else:
                        yield Static(self._binary_note(), id="drill-note")
            yield Static(id="drill-caption")
            yield SampleTable(id="drill-rows", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(SampleTable)
        probability = "P(pred)" if self._drill.threshold is None else f"P({formatting.class_name(self._evaluation.class_names[1])})"
        for label, justify in (("row", "right"), ("true", "left"), ("pred", "left"), (probability, "right"),
                               ("log loss", "right")):
            table.add_column(Text(label, style="bold", justify=justify))
        table.fixed_columns = len(table.columns)  # the features scroll beside these
        for name in self._data.feature_names:
            table.add_column(Text(name, style="bold", justify="right"))
        # The first cell is drawn here rather than on a Changed message, so the screen is whole once mounted.
        self._show_cell(*self.query_one(CellPicker).cell)

    @property
    def evaluation(self) -> Evaluation:
        """The evaluation shown: the one the evaluation panel showed when the screen opened."""
        return self._evaluation

    @on(CellPicker.Changed)
    def _cell_changed(self, message: CellPicker.Changed) -> None:
        self._show_cell(message.true_class, message.predicted_class)

    @on(OptionList.OptionHighlighted, "#drill-pairs")
    def _pair_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        pair = self._pairs[message.option_index]
        self.query_one(CellPicker).select(pair.true_class, pair.predicted_class)

    def _show_cell(self, true_class: int, predicted_class: int) -> None:
        """List the cell's rows under its caption, and highlight its pair among the most confused."""
        if not self._drill.is_binary:
            self.query_one("#drill-pairs", OptionList).highlighted = next(
                (i for i, p in enumerate(self._pairs) if (p.true_class, p.predicted_class) == (true_class, predicted_class)),
                None,
            )
        cell = self._drill.cell(true_class, predicted_class)
        self.query_one("#drill-caption", Static).update(self._caption(cell))
        table = self.query_one(SampleTable)
        table.clear()
        shown = cell.rows[:MAX_ROWS]
        features = _in_data_units(self._data.X_val[shown], self._data.scaler)
        true_name = Text(formatting.class_name(self._evaluation.class_names[true_class]))
        predicted_name = Text(formatting.class_name(self._evaluation.class_names[predicted_class]))
        # Each numeric column right-aligned with one number of decimals, so that the decimal points line up.
        feature_rows = zip(*(aligned(column) for column in features.T))
        table.add_rows(
            [
                Text(str(row), justify="right"), true_name, predicted_name,
                Text(f"{probability:.4f}", justify="right"), Text(f"{loss:.4f}", justify="right"),
                *(Text(value, justify="right") for value in values),
            ]
            for row, probability, loss, values in zip(shown, cell.probability, cell.log_loss, feature_rows)
        )

    def _caption(self, cell: CellSamples) -> Text:
        names = self._evaluation.class_names
        n = len(cell)
        n_true = int(self._drill.scores.support[cell.true_class])
        share = f" ({100 * n / n_true:.1f}% of true {names[cell.true_class]})" if n_true else ""
        caption = Text.assemble(
            ("true ", "dim"), (names[cell.true_class], "bold"), (" → predicted ", "dim"),
            (names[cell.predicted_class], "bold"), f": {n:,} row{'s' if n != 1 else ''}{share}",
        )
        if n:
            order = f", the {MAX_ROWS} of highest log loss" if n > MAX_ROWS else ", highest log loss first"
            caption.append(order, style="dim")
        caption.append("\nrow: index in the validation split · features in the data's units", style="dim")
        return caption

    def _binary_note(self) -> Text:
        drill, names = self._drill, self._evaluation.class_names
        assert drill.threshold is not None
        positive = names[1]
        return Text.assemble(
            "A row is predicted ", (positive, "bold"), " when P(", (positive, "bold"),
            f") ≥ {formatting.threshold(drill.threshold)}.\nLog loss: −log P(true class), clipped as "
            "scikit-learn clips it.",
        )


def _pair_option(pair: ConfusedPair, picker: CellPicker) -> Option:
    """"count share% true → predicted", the classes headed as in the picker's columns, so that it fits one line."""
    return Option(Text.assemble(
        (f"{pair.count:>4}", "bold"), f" {100 * pair.share:>5.1f}%  ",
        picker.heading(pair.true_class), (" → ", "dim"), picker.heading(pair.predicted_class),
    ))


def aligned(values: np.ndarray) -> list[str]:
    """``values`` written with one number of decimals: the fewest that show each to six significant digits, at
    most MAX_DECIMALS. A column of very large or very small magnitudes is written in scientific notation, whose
    mantissas then share their decimals."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    if largest >= 1e12 or 0 < largest < 1e-3:
        return [f"{value:.5e}" for value in values]
    decimals = max((_decimals(float(value)) for value in values), default=0)
    return [f"{value:.{decimals}f}" for value in values]


def _decimals(value: float) -> int:
    """The decimals ``value`` needs to six significant digits, from 0 to MAX_DECIMALS."""
    text = f"{value:.6g}"
    mantissa, _, exponent = text.partition("e")
    _, _, fraction = mantissa.partition(".")
    return min(max(len(fraction) - int(exponent or 0), 0), MAX_DECIMALS)


def _in_data_units(scaled: np.ndarray, scaler: Scaler) -> np.ndarray:
    """Rows of the scaled float32 table in the data's units, without the digits float32 does not hold.

    A float32 value is exact to about |value| * eps, which in the data's units is |scaled| *
    scale * eps: a 0 comes back as 1e-8 or so. Each value is rounded to the power of ten above
    that (or above its own seventh digit, which the table does not show either).
    """
    values = scaler.inverse_transform(scaled)
    noise = np.maximum(np.abs(scaled) * scaler.scale, np.abs(values)) * np.finfo(np.float32).eps
    step = 10.0 ** (np.floor(np.log10(np.maximum(noise, np.finfo(np.float64).tiny))) + 1)
    return np.round(values / step) * step + 0.0  # + 0.0: no "-0"
