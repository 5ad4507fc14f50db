"""CompareScreen: the form's configuration against up to three variants over several seeds, trained in a worker."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, VerticalScroll
from textual.events import Resize
from textual.geometry import Size
from textual.widgets import Input, Label, ProgressBar, Static

from clf_tui.engine import ClfError, RunConfig
from clf_tui.engine.comparison import (
    MAX_CONFIGS, ComparisonEnded, ComparisonStarted, SeedsEpochEnded, apply_overrides, check_same_data, check_sizes,
)
from clf_tui.render.compare_report import comparison_table

from .. import messages
from ..messages import Job
from ..runner import Runner
from ..widgets.box_plot_view import BoxPlotView
from ..widgets.compare_chart import CompareChart
from .dialog import Dialog

WIDE = Size(120, 36)
"""From this terminal size the results sit side by side; below it they stack and the screen scrolls."""
DEFAULT_SEEDS = 5
PLACEHOLDERS = ("e.g. loss=mse", "e.g. optimizer=sgd lr=0.1", "e.g. hidden=64,64 dropout=0.2")
HINT = ("Enter compares the base configuration with each variant (settings written as name=value) over the seeds, "
        "on the same data and with the same seeds.")


def describe(cfg: RunConfig) -> str:
    """The settings of ``cfg`` that a comparison usually varies, in one line."""
    model = "logistic" if cfg.model == "logistic" else f"mlp {','.join(map(str, cfg.hidden))} {cfg.activation}"
    if cfg.dropout:
        model += f" dropout {cfg.dropout:g}"
    return (f"{cfg.dataset} · {model} · loss {cfg.loss} · {cfg.optimizer} lr {cfg.lr:g} · batch {cfg.batch_size} · "
            f"{cfg.epochs} epochs · seed {cfg.seed}")


class CompareScreen(Dialog[None]):
    """Compares runs without touching the app's run: the runner's compare job builds, trains and discards the models.

    Each configuration's seeds train as one batched model (``clf_tui.engine.compare``);
    the results are the loss curves overlaid, the table of mean ± std and the box plots.
    """

    AUTO_FOCUS = "#variant-1"
    BINDINGS = [
        Binding("enter", "run", "Compare", id="compare.run",
                tooltip="Train the base configuration and the variants over the seeds, and show the results."),
        Binding("escape", "cancel_or_close", "Cancel / close", id="compare.close",
                tooltip="Cancel a running comparison after its current batch; otherwise close this screen."),
    ]
    DEFAULT_CSS = """
    #compare-body {
        border: round $accent;
        border-title-color: $text-accent;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    #compare-form {
        grid-size: 2;
        grid-columns: 10 1fr;
        grid-rows: auto;
        height: auto;
    }
    #compare-form Label {
        color: $text-muted;
    }
    #compare-seeds {
        width: 8;
    }
    #compare-status {
        height: auto;
        margin-top: 1;
    }
    #compare-status.-error {
        color: $text-error;
    }
    #compare-progress {
        display: none;
        height: 1;
    }
    #compare-progress.-shown {
        display: block;
    }
    #compare-results {
        display: none;
        height: auto;
    }
    #compare-results.-shown {
        display: block;
    }
    #compare-chart {
        height: 14;
        border: round $primary-darken-2;
        border-title-color: $text-primary;
    }
    #compare-table {
        margin-top: 1;
    }
    #compare-chart, #compare-boxes {
        margin-top: 1;
    }
    CompareScreen.-wide #compare-results.-shown {
        layout: grid;
        grid-size: 2;
        grid-columns: 1fr 1fr;
        grid-rows: auto 1fr;
        grid-gutter: 0 2;
        height: 1fr;
        min-height: 20;
    }
    CompareScreen.-wide #compare-table {
        column-span: 2;
    }
    CompareScreen.-wide #compare-chart {
        height: 100%;
        min-height: 14;
    }
    """

    def __init__(self, base: RunConfig, runner: Runner, variants: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._base = base
        self._runner = runner
        self._variants = variants[: MAX_CONFIGS - 1]
        self._labels: tuple[str, ...] = ()
        self._offsets: list[int] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="compare-body") as body:
            body.border_title = "Compare runs"
            body.border_subtitle = "Enter compares · Escape cancels or closes"
            with Grid(id="compare-form"):
                yield Label("base")
                yield Static(describe(self._base), id="compare-base", markup=False)
                for i, placeholder in enumerate(PLACEHOLDERS, start=1):
                    yield Label(f"variant {i}")
                    yield Input(placeholder=placeholder, compact=True, id=f"variant-{i}")
                yield Label("seeds")
                yield Input(str(DEFAULT_SEEDS), type="integer", compact=True, id="compare-seeds")
            yield Static(HINT, id="compare-status", markup=False)
            yield ProgressBar(show_eta=False, id="compare-progress")
            with Container(id="compare-results"):
                yield Static(id="compare-table")
                yield CompareChart(id="compare-chart")
                yield BoxPlotView(id="compare-boxes")

    def on_mount(self) -> None:
        self._fit(self.app.size)
        for i, text in enumerate(self._variants, start=1):
            self.query_one(f"#variant-{i}", Input).value = text

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size)

    def _fit(self, size: Size) -> None:
        self.set_class(size.width >= WIDE.width and size.height >= WIDE.height, "-wide")

    @property
    def running(self) -> bool:
        """Whether the comparison is still at work (a cancelled one until its thread has ended)."""
        return self._runner.comparing

    # -- keys ------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        if self.running:
            self.notify("A comparison is running; Escape cancels it.", severity="warning")
            return
        try:
            configs, labels, n_seeds = self._read()
        except ClfError as error:  # said in the status line, just under the fields
            self._set_status(error.message, error=True)
            return
        self._labels = tuple(labels)
        self._set_status(f"preparing {len(configs)} configurations × {n_seeds} seeds…")
        self.query_one("#compare-results").remove_class("-shown")
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        bar.add_class("-shown")
        self._runner.compare(configs, n_seeds, labels, reply_to=self)

    def action_cancel_or_close(self) -> None:
        """Cancel a running comparison; close when none runs, or when Escape comes again while it cancels."""
        if not self._runner.cancel_comparison():
            self.dismiss()  # a thread still cancelling ends after its batch; what it posts then goes nowhere
            return
        self._set_status("cancelling after the current batch… (Escape again closes)")

    def _read(self) -> tuple[list[RunConfig], list[str], int]:
        """The base configuration and each typed variant, their labels, and the seed count.

        Raises ClfError naming the variant whose settings are refused, or the bad seed count.
        """
        configs, labels = [self._base], ["base"]
        for i in range(1, MAX_CONFIGS):
            text = " ".join(self.query_one(f"#variant-{i}", Input).value.split())
            if not text:
                continue
            try:
                configs.append(apply_overrides(self._base, text))
            except ClfError as error:
                raise ClfError(f"variant {i}: {error.message}") from None
            labels.append(text)
        try:
            n_seeds = int(self.query_one("#compare-seeds", Input).value)
        except ValueError:
            n_seeds = 0  # refused just below, with the valid range
        check_sizes(len(configs), n_seeds)
        check_same_data(configs)
        return configs, labels, n_seeds

    # -- what the comparison reports ------------------------------------------------

    @on(messages.CompareProgressed)
    def _progressed(self, message: messages.CompareProgressed) -> None:
        event = message.event
        bar = self.query_one(ProgressBar)
        if isinstance(event, ComparisonStarted):
            self._labels = event.labels
            self._offsets = [sum(event.n_epochs[:i]) for i in range(len(event.n_epochs))]
            bar.update(total=sum(event.n_epochs), progress=0)
            self._set_status(f"training {len(event.labels)} configurations × {len(event.seeds)} seeds "
                             f"({event.n_train} training rows, {event.device})…")
        elif isinstance(event, SeedsEpochEnded):
            bar.update(progress=self._offsets[event.config_index] + event.epoch)
            self._set_status(f"training {self._labels[event.config_index]} ({event.config_index + 1} of "
                             f"{len(self._labels)}): epoch {event.epoch} of {event.n_epochs}")
        elif event.comparison is None:
            self._set_status(f"cancelled: {event.message}")
        else:
            self._show(event)

    def _show(self, ended: ComparisonEnded) -> None:
        comparison = ended.comparison
        bar = self.query_one(ProgressBar)
        bar.update(progress=bar.total)
        seeds = comparison.seeds
        self._set_status(f"{ended.message} ({seeds[0]}–{seeds[-1]}) on {comparison.data_name}")
        self.query_one(CompareChart).show(comparison)
        self.query_one("#compare-table", Static).update(comparison_table(comparison))
        self.query_one(BoxPlotView).show(comparison)
        results = self.query_one("#compare-results")
        results.add_class("-shown")
        if not self.has_class("-wide"):
            self.call_after_refresh(results.scroll_visible, top=True, animate=False)

    @on(messages.JobEnded)
    def _job_ended(self, message: messages.JobEnded) -> None:
        """A failure of the comparison (the runner has notified it), told in the status line too."""
        error = message.error
        if message.job is not Job.COMPARE or error is None:
            return
        text = error.message if isinstance(error, ClfError) else f"{type(error).__name__}: {error}"
        self._set_status(f"failed: {text}", error=True)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#compare-status", Static)
        status.update(text)
        status.set_class(error, "-error")
