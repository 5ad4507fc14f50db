"""ClfApp: the terminal trainer. Lays out the panes, turns keys and the runner's results into updates, drives the Runner."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import numpy as np
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from rich.text import Text
from textual.geometry import Size
from textual.markup import escape
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import WorkerFailed

from clf_tui.engine import ClfError, ConfigError, RunConfig
from clf_tui.engine.atomic import write_atomic
from clf_tui.engine.costs import Costs
from clf_tui.engine.headline import LABELS
from clf_tui.engine.lessons import Lesson
from clf_tui.engine.evaluation import Evaluation
from clf_tui.engine.metrics import BinaryEval, BinaryReport
from clf_tui.engine.regions import RegionGrid
from clf_tui.engine.replay import EpochRecords
from clf_tui.engine.session import CrossValReady, EvaluationReady, OpenedRun

from . import formatting, keys, messages
from .messages import Job
from .runner import FAILURE_TITLES, Runner, failure_text
from .screens.command_palette import CommandPalette
from .screens.compare import CompareScreen
from .screens.confirm_quit import ConfirmQuit
from .screens.drilldown import DrillDownScreen
from .screens.help import HelpScreen
from .screens.lesson_picker import LessonPicker
from .screens.lr_finder import LRFinderScreen
from .screens.model_summary import ModelSummaryScreen
from .screens.path_prompt import PathPrompt
from .screens.recall_prompt import RecallPrompt
from .text_export import render_view
from .widgets.column_roles import ColumnRoles, role_settings, roles_asked
from .widgets.config_form import ConfigForm
from .widgets.data_summary import DataSummary
from .widgets.epoch_log import EpochLog
from .widgets.evaluation_panel import EvaluationPanel
from .widgets.loss_chart import LossChart
from .widgets.page_tabs import PAGES, PageTabs
from .widgets.region_map import RegionMap
from .widgets.status_bar import RunState, StatusBar

WIDE_LAYOUT_MIN = Size(160, 48)
"""From this terminal size on every pane is shown with room for its chart; below it, one page at a time."""
ROOMY_PAGES_MIN = Size(110, 32)
"""From this size on, the compact evaluation page has room for the ROC and the PR curve one above the other."""
NARROW_BELOW = 80
"""Narrower than this, the evaluation page leaves the probabilities out: the curve beside the matrix needs the room."""
MIN_SIZE = Size(60, 18)
"""Below this a page has no room for a readable chart: the screen says how large the terminal must be."""
CLOCK_INTERVAL_S = 0.25
"""The status bar's clock (elapsed training time) ticks this often; every other pane draws what arrives, when it
arrives (the runner sends a fast run's epochs and evaluations a few times a second)."""
END_STATES: dict[str, RunState] = {
    "completed": "finished", "early_stopped": "finished", "stopped": "stopped", "diverged": "diverged",
}
END_STYLES = {"completed": "bold green", "early_stopped": "bold cyan", "stopped": "bold yellow", "diverged": "bold red"}
FOLD_METRIC_LABELS = {**LABELS, "val_loss": "val loss", "brier": "Brier", "ece": "ECE", "threshold": "threshold",
                      "expected_cost": "expected cost", "average_precision": "AP", "balanced_accuracy": "bal. accuracy"}
"""Short names of the metrics a cross-validation averages over its folds, for lines that fit the log."""
QUIET_JOBS = (Job.SAVE, Job.REGIONS, Job.SUMMARY, Job.COMPARE)
CHARTS = ("roc", "pr", "calibration", "cost")
"""The evaluation's charts, in the order v steps through them."""
PAGE_ACTIONS = {
    "nudge_threshold": ("evaluation", "regions"), "reset_threshold": ("evaluation", "regions"),
    "snap_threshold": ("evaluation", "regions"), "ask_recall": ("evaluation", "regions"),
    "cycle_class": ("evaluation", "regions"), "step_epoch": ("training", "evaluation", "regions"),
    "toggle_points": ("regions",), "drilldown": ("evaluation",), "snap_to_least_cost": ("evaluation", "regions"),
}
"""In the compact layout, the pages a key acts on: elsewhere it is left out of the footer and does nothing, as
the panes it changes are not on the screen."""
"""Jobs whose end changes nothing of the run's state (their results come as messages of their own)."""


class ClfApp(App[int]):
    """Configure, train and evaluate a classifier from the keyboard.

    The Runner's workers build, train and evaluate the run; their results arrive as messages
    of plain data and are drawn as they come. View state lives once, here, as reactives that
    the panes are bound to: the threshold (a key recounts the shown Evaluation in O(log n)),
    the class scored against the rest, the epoch replayed, and the run's state.
    """

    CSS_PATH = "app.tcss"
    TITLE = "clf-tui"
    BINDINGS = keys.BINDINGS
    AUTO_FOCUS = None

    run_state: reactive[RunState] = reactive("idle", init=False)
    threshold: reactive[float] = reactive(0.5, init=False)
    """The decision threshold: view state, applied to the stored probabilities; saved with a checkpoint."""
    positive_class: reactive[int] = reactive(1, init=False)
    """The class scored against the rest by the threshold views: always 1 for a binary task."""
    replay_epoch: reactive[int | None] = reactive(None, init=False)
    """The earlier epoch shown instead of the latest, or None."""
    live: reactive[EvaluationReady | None] = reactive(None, init=False)
    """The latest epoch's evaluation, shown unless an earlier epoch is replayed."""
    chart: reactive[str] = reactive("roc", init=False)
    """The evaluation chart chosen with v (one of CHARTS): the only one where a page has room for one; beside the
    ROC curve where there is room for two."""

    def __init__(self, config: RunConfig | None = None, checkpoint: str | None = None,
                 lesson: Lesson | None = None) -> None:
        super().__init__()
        self._initial_config = config or (lesson.config if lesson is not None else RunConfig())
        self._lesson = lesson
        self._initial_checkpoint = checkpoint
        self.current_run: OpenedRun | None = None
        """The run shown: built from a config or restored; None until one is open."""
        self.page = "config"
        self._last_checkpoint: Path | None = None
        self._saved_epoch = 0
        """The epoch of the run's last save (or of the checkpoint it was opened from)."""
        self._fold: messages.FoldStarted | None = None
        """The fold a cross-validation trains now: its run's events are a fold's, not the app's run's."""
        self._cross_validated: CrossValReady | None = None
        """The last cross-validation's end, shown until the next run: where its fold models are."""
        self._runner = Runner()
        self._page_tabs = PageTabs(id="pages")
        self._form = ConfigForm(self._initial_config, id="form")
        self._data_summary = DataSummary(id="data")
        self._roles = ColumnRoles(id="roles")
        self._loss_chart = LossChart(id="loss")
        self._regions = RegionMap(id="regions")
        self._log = EpochLog(id="log")
        self._evaluation_panel = EvaluationPanel(id="evaluation")
        self._status = StatusBar(id="status")
        self._main = Horizontal(id="main", classes=f"-page-{self.page}")
        self._footer = Footer()
        self._too_small = Static(id="too-small")
        self._lesson_text = Static(id="lesson")

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._runner
        yield self._page_tabs
        with self._main:
            with VerticalScroll(id="config") as config:
                config.border_title = "configuration"
                yield self._form
                with Vertical(id="data-pane"):
                    yield self._lesson_text
                    yield self._data_summary
                    yield self._roles
            with Vertical(id="training"):
                yield self._loss_chart
                yield self._regions.data_bind(ClfApp.threshold, positive=ClfApp.positive_class)
                yield self._log
            yield self._evaluation_panel.data_bind(ClfApp.threshold, positive=ClfApp.positive_class)
        yield self._status
        yield self._footer
        yield self._too_small

    def on_mount(self) -> None:
        self._log.border_title = "log"
        self.watch(self._runner, "busy", self._runner_busy)
        self._apply_layout(self.size)
        self.set_interval(CLOCK_INTERVAL_S, self._status.refresh)
        self.run_state = "loading"
        self._data_summary.show_note("loading torch and the data…")
        # The first worker imports torch and scikit-learn, holding the GIL for a second or two: start it once
        # the first frame is on the screen.
        self.call_after_refresh(self._open_initial_run)

    def _runner_busy(self, busy: bool) -> None:
        if busy:  # a new action: the last one's problem no longer stands
            self._status.problem = ""

    def _open_initial_run(self) -> None:
        if self._lesson is not None:
            self._show_lesson(self._lesson)
        if self._initial_checkpoint is not None:
            self._runner.restore(self._initial_checkpoint)
        else:
            self._runner.open(self._initial_config)

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size)
        self.call_after_refresh(self._fit_regions)

    def _apply_layout(self, size: Size) -> None:
        """The layout for the terminal's size: every pane from WIDE_LAYOUT_MIN on, else one page at a time (with
        both curves from ROOMY_PAGES_MIN on, and without the probabilities below NARROW_BELOW columns); below
        MIN_SIZE, one line saying how large the terminal must be."""
        if size.width < MIN_SIZE.width or size.height < MIN_SIZE.height:
            self._too_small.update(f"clf-tui needs a terminal of at least {MIN_SIZE.width} x {MIN_SIZE.height}; "
                                   f"this one is {size.width} x {size.height}")
        classes = {
            "-too-small": size.width < MIN_SIZE.width or size.height < MIN_SIZE.height,
            "-compact": size.width < WIDE_LAYOUT_MIN.width or size.height < WIDE_LAYOUT_MIN.height,
            "-roomy": size.width >= ROOMY_PAGES_MIN.width and size.height >= ROOMY_PAGES_MIN.height,
            "-narrow": size.width < NARROW_BELOW,
        }
        if all(self.has_class(name) == wanted for name, wanted in classes.items()):
            return
        for name, wanted in classes.items():
            self.set_class(wanted, name)
        # 80 columns hold the footer's keys only without the palette hint (ctrl+p still works).
        self._footer.show_command_palette = not classes["-compact"]
        self._arrange_charts()
        self.refresh_bindings()

    # -- what the keys may do now ------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that apply: one half of each toggle (train / stop, pause / resume), the pages
        in the compact layout, and Escape while a field has the focus."""
        running = self.run_state in ("training", "paused")
        if action == "start_training":
            return not running
        if action == "stop_training":
            return running
        if action == "pause":
            return self.run_state == "training"
        if action == "resume":
            return self.run_state == "paused"
        if action == "show_page":
            return self.has_class("-compact")
        if action == "cycle_chart":
            return not self.has_class("-compact") or self.page == "evaluation"
        if action in PAGE_ACTIONS and self.has_class("-compact"):  # keys that change nothing on this page
            return self.page in PAGE_ACTIONS[action]
        if action == "leave_form":
            return self.focused is not None and any(pane in self.focused.ancestors for pane in (self._form, self._roles))
        return True

    def watch_run_state(self, state: RunState) -> None:
        self._status.set_state(state)
        if self.is_running:  # a run can end while the app shuts down, after its screens are gone
            self.refresh_bindings()

    # -- training ------------------------------------------------------------------

    def action_start_training(self) -> None:
        """Train the form's epochs: continue the current run, or start a new one if the settings changed; with
        folds, cross-validate afresh."""
        if self._busy:  # loading torch, data or a checkpoint, or a run's last moments: start once done
            self._runner.after_current_job(self.action_start_training)
            if self.run_state == "loading":
                self.notify("Loading; training starts when it is ready.")
            return
        config = self._read_form()
        if config is None:
            return
        if config.cross_validates:  # one new model per fold, never the run held
            self._start_new_run(config)
            return
        run = self.current_run
        if run is not None and run.config is not None and run.config.replace(epochs=config.epochs) == config:
            remaining = self._status.end_epoch - self._status.epoch
            if self.run_state == "stopped" and remaining > 0:  # a stop cut the last run short: it goes on to its end
                self._log.add_note(f"continuing to epoch {self._status.end_epoch}: {remaining} more")
                config = config.replace(epochs=remaining)
            self._runner.train(config, new_run=False)
            self.run_state = "training"
            return
        if run is not None:
            self.notify("The settings changed, so this is a new run.", title="New run")
        self._start_new_run(config)

    def action_new_run(self) -> None:
        if self._busy:
            self.notify(self._busy_reason(), title="Cannot start over now", severity="warning")
            return
        config = self._read_form()
        if config is not None:
            self._ask_before_leaving("start over", partial(self._start_new_run, config))

    def _start_new_run(self, config: RunConfig) -> None:
        self.current_run = None
        self._cross_validated = None
        self._clear_evaluations()
        if config.cross_validates:
            self._start_cross_validation(config)
            return
        self._log.add_note("── new run ──", style="dim")
        self._data_summary.show_note("loading the data…")
        self._runner.train(config, new_run=True)
        self.run_state = "loading"

    def _start_cross_validation(self, config: RunConfig) -> None:
        """Train a model per fold; the evaluation then shows every row's prediction by the model that did not
        train on it. No run is held meanwhile or after: the fold models are files."""
        self._log.add_note(f"── cross-validation: {config.folds} stratified folds of {Path(config.dataset).name} ──",
                           style="dim")
        self._data_summary.show_note(f"cross-validating over {config.folds} folds: each fold fits its preprocessing "
                                     "on its own training rows")
        self._status.set_run(self._status.device, config, config.dataset, 0)
        self._runner.cross_validate(config)
        self.run_state = "loading"

    def action_stop_training(self) -> None:
        self._runner.stop()

    def action_pause(self) -> None:
        self._runner.pause()
        self._log.add_note("paused")
        self.run_state = "paused"

    def action_resume(self) -> None:
        self._runner.resume()
        self._log.add_note("resumed")
        self.run_state = "training"

    @property
    def _busy(self) -> bool:
        """Whether a worker is building, training or restoring a run, or is about to (the first starts after
        the first frame)."""
        return self._runner.busy or self.run_state == "loading"

    def _busy_reason(self) -> str:
        if self.run_state in ("training", "paused"):
            return "Stop training (s) first: a run changes the model until it ends."
        if self._runner.working_on(Job.FIND_LR):
            return "The learning-rate range test is running; it takes a moment."
        return "Still loading; try again in a moment."

    def _read_form(self) -> RunConfig | None:
        """The form's config, or None after saying (and showing) which field is wrong."""
        try:
            return self._form.read_config()
        except ClfError as error:  # the form marks the field and says why, under it; no toast to cover either
            self._status.problem = f"Fix the configuration: {error.message}"
            self.action_show_page("config")
            if isinstance(error, ConfigError) and self._form.query(f"#field-{error.field}"):
                self._form.focus_field(error.field)
            return None

    # -- the runner's results -------------------------------------------------------------

    @on(messages.RunOpened)
    def _run_opened(self, message: messages.RunOpened) -> None:
        run = message.run
        self.current_run = run
        data = run.data
        self._data_summary.show(data)
        self._roles.show(data.report, roles_asked(run.config) if run.config is not None else {})
        self._regions.set_data(data.X_train, data.y_train, data.X_val, data.y_val, data.class_names, data.feature_names)
        self._status.set_run(run.device, run.config, data.name, run.epoch)
        config = run.config
        self._evaluation_panel.set_costs(
            Costs(config.cost_fp, config.cost_fn, config.prevalence) if config is not None and config.has_costs else None)
        self._saved_epoch = run.epoch if run.checkpoint is not None else 0
        if run.checkpoint is not None:
            self._last_checkpoint = Path(run.checkpoint)
            self._clear_evaluations()
            self._form.set_config(run.config)
            self.threshold = run.threshold
            self._log.set_header(data.task == "binary")
        if run.history:
            self._epochs_ended(messages.EpochsEnded(run.history))

    @on(ColumnRoles.RoleChosen)
    def _role_chosen(self, message: ColumnRoles.RoleChosen) -> None:
        """Ask the form's next run for the roles chosen; the run holds the data it was built with until then."""
        try:
            self._form.change_base(**role_settings(self._roles.requested))
        except ClfError as error:
            self.notify(error.message, title="Cannot give that role", severity="error", markup=False)
            return
        role = message.role or "the role it was inferred to have"
        self.notify(f"{message.name or '(index)'}: {role} from the next run; press s to train it.",
                    title="Column role", markup=False)

    @on(messages.RunStarted)
    def _run_started(self, message: messages.RunStarted) -> None:
        event = message.event
        last = event.start_epoch + event.n_epochs
        rows = "" if self._fold is not None else f", {event.n_train} training / {event.n_val} validation rows"
        self._log.add_note(f"training on {event.device} ({event.device_note}): epochs {event.start_epoch + 1}–{last}"
                           f"{rows}", style="bold")
        self._log.set_header(event.task == "binary")
        self._status.run_started(event)
        self.run_state = "training"
        if self.page == "config" and self.has_class("-compact"):
            self.action_show_page("training")

    @on(messages.EpochsEnded)
    def _epochs_ended(self, message: messages.EpochsEnded) -> None:
        self._log.add_epochs(message.epochs)
        self._loss_chart.add_epochs(message.epochs)
        for event in message.epochs:
            self._status.epoch_ended(event)

    @on(messages.Evaluated)
    def _evaluated(self, message: messages.Evaluated) -> None:
        self.live = message.ready

    @on(messages.RegionsDrawn)
    def _regions_drawn(self, message: messages.RegionsDrawn) -> None:
        """The current model's regions: drawn unless an earlier epoch is replayed."""
        regions = message.regions
        if self.replay_epoch is None:
            self._regions.show(regions.grid, regions.probability, regions.epoch,
                               "" if regions.epoch else "untrained")

    @on(messages.TemperatureFitted)
    def _temperature_fitted(self, message: messages.TemperatureFitted) -> None:
        """The run's probabilities are calibrated from here on; the evaluation that follows shows before and after."""
        event = message.event
        self._evaluation_panel.calibrated = event
        before = ", ".join(formatting.rate(reliability.ece) for reliability in event.before)
        after = ", ".join(formatting.rate(reliability.ece) for reliability in event.after)
        self._log.add_note(f"temperature scaling: T = {event.temperature:.3f}, ECE {before} → {after}", style="bold")

    @on(messages.CheckpointSaved)
    def _checkpoint_saved(self, message: messages.CheckpointSaved) -> None:
        event = message.event
        self._last_checkpoint = Path(event.path)
        self._log.add_note(f"saved {event.path} (epoch {event.epoch})", style="bold")
        if self._fold is not None:  # a fold's model: the cross-validation's end says where they all are
            return
        self._saved_epoch = event.epoch
        self.notify(f"{event.path} (epoch {event.epoch})", title="Checkpoint saved", markup=False)

    @on(messages.RunEnded)
    def _run_ended(self, message: messages.RunEnded) -> None:
        event = message.event
        if self._fold is not None:  # a fold's end: FoldEnded tells it, with the fold's scores
            return
        self._log.add_note(event.message, style=END_STYLES[event.reason])
        if event.threshold is not None:  # the run's costs chose it: the threshold a save keeps
            self._set_threshold(event.threshold)
        if event.reason == "diverged":
            self.notify(event.message, title="Training diverged", severity="error", timeout=12, markup=False)
        self.run_state = END_STATES[event.reason]

    @on(messages.FoldStarted)
    def _fold_started(self, message: messages.FoldStarted) -> None:
        """A fold's run follows: its curves take the loss chart's place."""
        event = message.event
        self._fold = message
        self._loss_chart.clear()
        self._status.fold_started(event.fold, event.n_folds)
        self._log.add_note(f"fold {event.fold}/{event.n_folds}: {event.n_train} training rows, {event.n_val} "
                           "validation rows", style="bold")

    @on(messages.FoldEnded)
    def _fold_ended(self, message: messages.FoldEnded) -> None:
        event = message.event
        how = {"completed": "", "early_stopped": "stopped early after "}.get(event.reason, f"{event.reason} after ")
        # No scores when stopped before its first epoch.
        scores = [f"{FOLD_METRIC_LABELS[name]} {formatting.rate(event.metrics[name])}"
                  for name in ("accuracy", "auroc", "macro_f1") if name in event.metrics]
        self._log.add_note(f"fold {event.fold}/{event.n_folds}: " + ", ".join([f"{how}{event.epoch} epochs", *scores]),
                           style=END_STYLES[event.reason])

    @on(messages.CrossValEnded)
    def _cross_validation_ended(self, message: messages.CrossValEnded) -> None:
        """Each metric's mean ± std over the folds and the pooled scores in the log; the pooled out-of-fold
        predictions on the evaluation page, where the threshold keys sweep them as they do a run's."""
        ready = message.ready
        ended, result, evaluation = ready.ended, ready.ended.result, ready.evaluation
        self._fold = None
        self._cross_validated = ready
        if result is None or evaluation is None:
            self._log.add_note(ended.message, style=END_STYLES[ended.reason])
        else:
            self._log.add_note(f"{ended.message}; mean ± std:", style=END_STYLES[ended.reason])
            for line in _crossval_lines(result.mean, result.std, result.out_of_fold):
                self._log.add_note(line, style="bold" if line.startswith("out of fold") else "")
            self._show_evaluation(evaluation, None, None,
                                  f"out of fold, {result.n_folds} folds of {len(result.y_true)} rows")
        self._data_summary.show_note(f"{ended.message}\nfold models: {ready.folder}")
        self._regions.explain("A cross-validation's regions are each fold model's: open one (ctrl+o) to see its map.")
        if ended.reason == "diverged":
            self.notify(ended.message, title="Cross-validation diverged", severity="error", timeout=12, markup=False)
        self.run_state = END_STATES[ended.reason]

    @on(messages.JobEnded)
    def _job_ended(self, message: messages.JobEnded) -> None:
        """A job's end. A failure (the Runner has told of it) stays in the status line and the log until the next
        action; the compare screen says its own."""
        if not self.is_running:  # a worker can end while the app shuts down
            return
        failure = None
        if message.failed and message.job is not Job.COMPARE:
            failure = f"{FAILURE_TITLES[message.job]}: {failure_text(message.error)}"
            self._log.add_note(f"✗ {failure}", style="bold red")
        if message.job not in QUIET_JOBS:
            self._run_job_ended(message)
        if failure is not None:  # after any job started just above, whose start clears the last problem
            self._status.problem = failure

    def _run_job_ended(self, message: messages.JobEnded) -> None:
        """Leave the loading state and say what was opened. A failure leaves the run as it was; with no run, a
        checkpoint that could not be opened gives way to the configured data."""
        training = message.job in (Job.TRAIN, Job.CROSS_VALIDATE)
        if (not training or message.failed) and self.run_state in ("loading", "training", "paused"):
            self.run_state = "idle"
        if message.job is Job.CROSS_VALIDATE:
            self._fold = None
        if message.failed:
            if self.current_run is None and message.job is Job.RESTORE:
                self.run_state = "loading"
                self._runner.open(self._initial_config)
            elif self.current_run is None:
                self._data_summary.show_note("no data loaded: fix the settings and train (s)")
            return
        if message.job is Job.RESTORE and self.current_run is not None:
            self._log.add_note(f"opened {self._last_checkpoint}: {self.current_run.epoch} epochs trained, "
                               f"threshold {formatting.threshold(self.current_run.threshold)}", style="bold")

    # -- what the evaluation panes show ---------------------------------------------------------

    def watch_live(self, ready: EvaluationReady | None) -> None:
        if ready is not None and self.replay_epoch is None:
            self._show_evaluation(ready.evaluation, ready.grid, ready.grid_prob)

    def watch_replay_epoch(self, epoch: int | None) -> None:
        """Show the epoch replayed, or the latest again."""
        self._loss_chart.mark_epoch(epoch)
        records, live = self._records, self.live
        if epoch is None:
            if live is not None:
                self._show_evaluation(live.evaluation, live.grid, live.grid_prob)
            return
        record = records.get(epoch) if records is not None else None
        if record is None or self.current_run is None:
            return
        latest = records.latest()
        evaluation = Evaluation(record.epoch, records.y_true, record.y_prob.astype(np.float32),
                                self.current_run.data.class_names)
        self._show_evaluation(evaluation, record.grid, record.grid_prob,
                              f"replay, latest {latest.epoch if latest is not None else epoch}")

    def _show_evaluation(self, evaluation: Evaluation, grid: RegionGrid | None, grid_prob: np.ndarray | None,
                         note: str = "") -> None:
        """Show an epoch's evaluation and, when they were kept with it, its decision regions."""
        self._evaluation_panel.show(evaluation, note)
        self.positive_class = min(self.positive_class, evaluation.n_classes - 1)  # a run of fewer classes
        if grid is not None and grid_prob is not None:
            self._regions.show(grid, grid_prob, evaluation.epoch, note)

    def _clear_evaluations(self) -> None:
        """Forget the evaluations, curves and regions of the run that was shown."""
        self.live = None
        self.set_reactive(ClfApp.replay_epoch, None)
        self._loss_chart.clear()
        self._evaluation_panel.clear()
        self._regions.clear()

    @property
    def _records(self) -> EpochRecords | None:
        """The evaluations kept of the run's epochs, for replay."""
        return self.current_run.records if self.current_run is not None else None

    # -- decision regions and replay --------------------------------------------------------

    def _fit_regions(self) -> None:
        """Ask for region grids of the pane's size (estimated from the screen while another page hides it), and
        the current model's at that size when nothing trains it."""
        width, height = self._regions.content_size
        if width < 4 or height < 3:
            width, height = self.size.width - 4, self.size.height - 7
        size = (max(width, 4), max(height - 1, 2))  # the pane's last line is the legend
        if size != self._runner.session.region_size:
            self._runner.draw_regions(size, now=self.replay_epoch is None)

    def on_region_map_resized(self) -> None:
        self._fit_regions()

    def action_step_epoch(self, steps: int) -> None:
        """Show the evaluation (and regions) ``steps`` kept epochs away; past the latest, back to live."""
        records = self._records
        latest = None if records is None else records.latest()
        if records is None or latest is None or self.live is None:
            self.notify("No epochs to step through yet: train (s) first.", title="Replay", severity="warning")
            return
        current = latest.epoch if self.replay_epoch is None else self.replay_epoch
        record = records.step(current, steps)
        self.replay_epoch = None if record is None or record.epoch >= latest.epoch else record.epoch

    def action_cycle_chart(self) -> None:
        """The next evaluation chart; where the ROC curve always shows, the next one to show beside it."""
        at = CHARTS.index(self.chart)
        following = CHARTS[(at + 1) % len(CHARTS)]
        if self._two_charts and following == "pr":
            following = CHARTS[(at + 2) % len(CHARTS)]
        self.chart = following

    @property
    def _two_charts(self) -> bool:
        return not self.has_class("-compact") or self.has_class("-roomy")

    def watch_chart(self) -> None:
        self._arrange_charts()

    def _arrange_charts(self) -> None:
        if self._two_charts:
            self._evaluation_panel.show_charts({"roc", "pr" if self.chart in ("roc", "pr") else self.chart})
        else:
            self._evaluation_panel.show_charts({self.chart})

    def action_toggle_points(self) -> None:
        points = self._regions.toggle_points()
        if not self._regions.available:
            self.notify("The decision regions need data with two features.", severity="warning")
        else:
            self.notify(f"The decision regions show the {points} points.")

    # -- threshold ----------------------------------------------------------------------

    def validate_threshold(self, threshold: float) -> float:
        return min(max(threshold, 0.0), 1.0)

    def validate_positive_class(self, positive: int) -> int:
        evaluation = self._evaluation_panel.evaluation
        if evaluation is None or evaluation.is_binary:
            return 1
        return positive % evaluation.n_classes

    def action_nudge_threshold(self, step: float) -> None:
        self._set_threshold(round(self.threshold + step, 6))

    def action_reset_threshold(self) -> None:
        self._set_threshold(0.5)

    def action_snap_threshold(self, rule: str) -> None:
        binary = self._binary_eval()
        if binary is None:
            return
        report = self._set_threshold(binary.best_f1() if rule == "f1" else binary.best_youden())
        if report is not None:
            score = f"F1 {formatting.rate(report.f1)}" if rule == "f1" else f"J {formatting.rate(report.tpr - report.fpr)}"
            self.notify(f"{score} at threshold {formatting.threshold(report.threshold)}", title="Threshold")

    def action_snap_to_least_cost(self) -> None:
        if self._current_evaluation() is None:
            return
        least = self._evaluation_panel.least_cost
        if least is None:
            self.notify("Costs weigh a binary task's threshold; this one predicts the most probable class.",
                        severity="warning")
            return
        threshold, cost = least
        self._set_threshold(threshold)
        panel = self._evaluation_panel
        weights = f"{panel.costs.false_positive:g} : {panel.costs.false_negative:g}" if panel.costs_named else "1 : 1"
        self.notify(f"expected cost {cost:.3g} per case (false positive : false negative = {weights}) at threshold "
                    f"{formatting.threshold(threshold)}", title="Threshold")

    def action_ask_recall(self) -> None:
        if self._binary_eval() is not None:
            self.push_screen(RecallPrompt(default=0.9), self._snap_to_recall)

    def _snap_to_recall(self, recall: float | None) -> None:
        binary = self._binary_eval()
        if recall is None or binary is None:
            return
        report = self._set_threshold(binary.threshold_for_recall(recall))
        if report is not None:
            self.notify(f"recall {formatting.rate(report.recall)}, precision {formatting.rate(report.precision)} "
                        f"at threshold {formatting.threshold(report.threshold)}", title="Threshold")

    def action_cycle_class(self, step: int) -> None:
        evaluation = self._current_evaluation()
        if evaluation is not None and evaluation.is_binary:
            self.notify(f"This task is binary: the positive class is always {evaluation.class_names[1]!r}.",
                        markup=False)
        elif evaluation is not None:
            self.positive_class += step

    def _set_threshold(self, threshold: float) -> BinaryReport | None:
        """Move the threshold; the counts and rates at it, or None (said) before any evaluation."""
        self.threshold = threshold
        binary = self._evaluation_panel.binary
        if binary is None:
            self.notify(f"Threshold {formatting.threshold(self.threshold)}; it applies once a model is evaluated.")
            return None
        return binary.at(self.threshold)

    def _current_evaluation(self) -> Evaluation | None:
        evaluation = self._evaluation_panel.evaluation
        if evaluation is None:
            self.notify("Train (s) or open a checkpoint (ctrl+o) first.", title="No evaluation yet", severity="warning")
        return evaluation

    def _binary_eval(self) -> BinaryEval | None:
        return None if self._current_evaluation() is None else self._evaluation_panel.binary

    # -- checkpoints ------------------------------------------------------------------------

    def action_save_checkpoint(self) -> None:
        run = self.current_run
        if run is None and self._cross_validated is not None and not self._busy:
            self._tell_fold_models(self._cross_validated)
            return
        if run is None or self._busy:
            reason = self._busy_reason() if self._busy else "There is no run yet."
            self.notify(reason, title="Cannot save now", severity="warning")
            return
        self.push_screen(PathPrompt("Save checkpoint", str(self._default_checkpoint()), must_exist=False),
                         self._save_to)

    def _tell_fold_models(self, ready: CrossValReady) -> None:
        """A cross-validation leaves no one model to save: say where cross_validate saved each fold's."""
        saved = [Path(path).name for path in ready.checkpoints]
        if not saved:
            self.notify("The cross-validation ended before any fold's model was saved: there is nothing to save.",
                        title="Fold models", severity="warning")
            return
        files = f"{saved[0]} is" if len(saved) == 1 else f"{saved[0]} to {saved[-1]} are"
        self.notify(f"A cross-validation has no single model to save: {files} in {ready.folder}; ctrl+o opens one.",
                    title="Fold models", timeout=12, markup=False)

    def _default_checkpoint(self) -> Path:
        run = self.current_run
        config = (run.config if run is not None else None) or self._initial_config
        name = Path(run.data.name).stem if run is not None else "run"
        return Path(config.out_dir) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.pt"

    def _save_to(self, path: Path | None) -> None:
        if path is None or self.current_run is None or self._busy:
            return
        self._runner.save(path, self.threshold)

    def action_open_checkpoint(self) -> None:
        if self._busy:
            self.notify(self._busy_reason(), title="Cannot open now", severity="warning")
            return
        default = self._last_checkpoint or Path(self._initial_config.out_dir)
        self.push_screen(PathPrompt("Open checkpoint", str(default), must_exist=True), self._open)

    def _open(self, path: Path | None) -> None:
        if path is None or self._busy:
            return
        self.run_state = "loading"
        self._runner.restore(str(path))

    # -- export -----------------------------------------------------------------------------

    def action_export_view(self) -> None:
        """Save the charts, the confusion matrix and the decision regions, as they are now, to a text file the user
        names.

        It reads only what the panes hold, so it works while a run trains.
        """
        if self._current_evaluation() is None:  # says to train or open a checkpoint first
            return
        run = self.current_run
        config = run.config if run is not None else None
        text = render_view(run=self._status.summary, config=config, loss=self._loss_chart,
                           evaluation=self._evaluation_panel, regions=self._regions)
        name = Path(run.data.name).stem if run is not None else "view"
        default = Path((config or self._initial_config).out_dir) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        self.push_screen(PathPrompt("Save the view as text", str(default), must_exist=False, suffixes=(".txt",)),
                         partial(self._write_view, text))

    def _write_view(self, text: str, path: Path | None) -> None:
        if path is None:
            return
        try:
            write_atomic(path, text.encode("utf-8"))  # a few kilobytes: quick enough for the UI thread
        except OSError as error:
            self.notify(f"{path}: {error.strerror or error}", title="Could not save the view", severity="error",
                        markup=False)
            return
        self.notify(str(path), title="View saved", markup=False)

    # -- pages, form, help, quit ------------------------------------------------------------

    def action_show_page(self, page: str) -> None:
        """Show one page of the compact layout (the wide one shows them all); the footer shows its keys."""
        self.page = page
        self._page_tabs.show_page(page)
        for name in PAGES:
            self._main.set_class(name == page, f"-page-{name}")
        self.refresh_bindings()

    def action_edit_config(self) -> None:
        self.action_show_page("config")
        self._form.focus_field()

    def action_edit_roles(self) -> None:
        if not self._roles.columns:
            self.notify("Column roles belong to CSV files; this data set has none.", severity="warning")
            return
        self.action_show_page("config")
        self._roles.query_one("#roles-list").focus()

    def action_leave_form(self) -> None:
        self.set_focus(None)

    def action_model_summary(self) -> None:
        if self.current_run is None:
            self.notify("No model yet: train (s) or open a checkpoint (ctrl+o).", severity="warning")
            return
        if self._busy:  # the summary's forward pass switches the model to eval mode for a moment
            self.notify(self._busy_reason(), title="Cannot summarise now", severity="warning")
            return
        self._runner.summarize()

    @on(messages.ModelSummarized)
    def _model_summarized(self, message: messages.ModelSummarized) -> None:
        if self.is_running:
            self.push_screen(ModelSummaryScreen(message.summary, message.parameters, self.threshold))

    def action_find_lr(self) -> None:
        """Run the learning-rate range test on fresh weights: the untrained current run's, or new ones built from
        the form. A trained model's curve stays flat until the loss explodes, which says nothing of the rate to
        start with, so a run that has trained stays as it is."""
        if self._busy:
            self.notify(self._busy_reason(), title="Cannot test rates now", severity="warning")
            return
        config = self._read_form()
        if config is None:
            return
        run = self.current_run
        if run is None:  # the last data failed to load: build the form's run, as training would
            self.run_state = "loading"
            self._data_summary.show_note("loading the data…")
            self._runner.find_lr(config, on_held=False, adopt=True)
            return
        same = run.config is not None and run.config.replace(epochs=config.epochs, lr=config.lr) == config
        if same and self._status.epoch == 0:
            self._runner.find_lr(config, on_held=True, adopt=False)
            return
        reason = "this run has trained" if same else "the form's settings differ from this run's"
        self.notify(f"The test runs on fresh weights built from the form ({reason}); the run stays as it is.",
                    title="Learning-rate range test")
        self._runner.find_lr(config, on_held=False, adopt=False)

    @on(messages.RangeTestEnded)
    def _range_tested(self, message: messages.RangeTestEnded) -> None:
        if self.is_running:  # a test can end while the app shuts down
            self.push_screen(LRFinderScreen(message.tested.result, message.tested.epoch), self._apply_lr)

    def _apply_lr(self, lr: float | None) -> None:
        if lr is None:
            return
        self._form.set_value("lr", lr)
        self.notify(f"The form's learning rate is now {formatting.learning_rate(lr)}: train (s) to use it.",
                    title="Learning rate")

    def action_drilldown(self) -> None:
        """The rows behind each cell of the evaluation shown; it only reads, so it opens while training too."""
        evaluation = self._current_evaluation()
        if evaluation is not None and self.current_run is None and self._cross_validated is not None:
            self.notify("The drill-down lists a run's validation rows; these predictions come from one model per "
                        "fold: open a fold's model (ctrl+o) to drill into it.", severity="warning")
            return
        if evaluation is None or self.current_run is None:
            return
        self.push_screen(DrillDownScreen(evaluation, self.threshold, self.current_run.data))

    def action_compare(self) -> None:
        """Open the compare screen on the form's configuration; it trains models of its own, never the run's."""
        if self._busy:  # two trainings at once would share the CPU and muddle both
            self.notify(self._busy_reason(), title="Cannot compare now", severity="warning")
            return
        config = self._read_form()
        if config is not None:
            self.push_screen(CompareScreen(config, self._runner))

    def action_pick_lesson(self) -> None:
        self.push_screen(LessonPicker(), self._lesson_picked)

    def _lesson_picked(self, lesson: Lesson | None) -> None:
        if lesson is None:
            return
        self._form.set_config(lesson.config)
        self._show_lesson(lesson)
        if not lesson.is_comparison:
            self.notify("The form holds the lesson's run: press s to train it.", title=lesson.title, markup=False)

    def _show_lesson(self, lesson: Lesson) -> None:
        """The lesson's text in the data pane and the log; a comparison's variants in the compare screen."""
        self._lesson = lesson
        self._lesson_text.update(Text("\n".join((lesson.title, *lesson.text))))
        self._lesson_text.display = True
        self._log.add_note(f"lesson {lesson.name}: {lesson.title}", style="bold")
        if lesson.is_comparison:
            self.action_show_page("config")
            self.push_screen(CompareScreen(lesson.config, self._runner, variants=lesson.variants))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.BINDINGS, keys.HELP_NOTES))

    async def action_quit(self) -> None:
        """Quit; a run that trains or has epochs not saved asks first (save, leave or stay)."""
        self._ask_before_leaving("quit", partial(self.exit, 0))

    @property
    def _unsaved_epochs(self) -> int:
        """Epochs trained since the run was opened or last saved."""
        return self._status.epoch - self._saved_epoch if self.current_run is not None else 0

    def _ask_before_leaving(self, leaving: str, then: Callable[[], object]) -> None:
        """Call ``then`` at once if nothing would be lost; else ask: save first, leave without saving, or stay. A
        run that trains stops cleanly, after its batch, before ``then``."""
        training, unsaved = self.run_state in ("training", "paused"), self._unsaved_epochs
        if not training and unsaved <= 0:
            then()
            return
        said = ["Training is running: it stops after this batch." if training else ""]
        if unsaved > 0:
            said.append(f"The run has {unsaved} epoch{'s' if unsaved != 1 else ''} not saved.")
        self.push_screen(ConfirmQuit(" ".join(part for part in said if part), leaving=leaving, can_save=unsaved > 0),
                         partial(self._leave_answered, then))

    async def _leave_answered(self, then: Callable[[], object], answer: str | None) -> None:
        if answer is None:
            return
        if self.run_state in ("training", "paused"):
            await self._runner.stop_and_wait()
        if answer == "leave" or self.current_run is None:
            then()
            return
        self.push_screen(PathPrompt("Save checkpoint", str(self._default_checkpoint()), must_exist=False),
                         partial(self._save_then, then))

    async def _save_then(self, then: Callable[[], object], path: Path | None) -> None:
        if path is None:
            return
        try:
            await self._runner.save(path, self.threshold).wait()
        except WorkerFailed:  # said in the status line and the log; the run stays, unsaved
            return
        then()

    def action_command_palette(self) -> None:
        """Textual's own action, opening the palette that survives fast typing."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every key binding is also a command in the palette (ctrl+p)."""
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if self.check_action(binding.action.partition("(")[0], ()) is not False:
                yield SystemCommand(
                    binding.description, escape(f"{binding.tooltip} [{self.get_key_display(binding)}]"),
                    partial(self.run_action, binding.action),
                )


def _crossval_lines(mean: dict[str, float], std: dict[str, float], out_of_fold: dict[str, float]) -> list[str]:
    """A cross-validation's summary for the log: each metric's mean ± std over the folds, two to a line so that
    they fit the log pane beside the epochs, then the scores of the pooled out-of-fold predictions."""
    cells = [f"{FOLD_METRIC_LABELS.get(name, name):<13} {formatting.rate(value)} ± {formatting.rate(std[name])}"
             for name, value in mean.items()]
    pairs = ["   ".join(cells[at:at + 2]) for at in range(0, len(cells), 2)]
    pooled = ", ".join(f"{FOLD_METRIC_LABELS.get(name, name)} {formatting.rate(value)}"
                       for name, value in out_of_fold.items())
    return [*pairs, f"out of fold: {pooled}"]


def run_app(config: RunConfig | None = None, checkpoint: str | None = None, lesson: Lesson | None = None) -> int:
    """Run the app until the user quits (set up for ``lesson``, with ``config`` its run); returns the exit code."""
    app = ClfApp(config=config, checkpoint=checkpoint, lesson=lesson)
    app.run()
    return app.return_code or 0
