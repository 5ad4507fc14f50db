"""Rich renderings of evaluation results for the command line: metrics, confusion matrices, progress."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

import numpy as np
from rich import box
from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from clf_tui.engine.events import CheckpointSaved, EpochEnded, Event, RunEnded, RunStarted
from clf_tui.engine.costs import Costs
from clf_tui.engine.headline import binary_estimates, multiclass_estimates
from clf_tui.engine.metrics import BinaryEval, MulticlassEval
from clf_tui.evaluation_report import calibration_view, costs_view, metrics_table

if TYPE_CHECKING:
    from clf_tui.engine import Trainer
    from clf_tui.engine.parameters import LogisticWeights

LINES_PER_RUN = 20
"""Above a terminal's progress bar, a run keeps about this many epoch lines, evenly spaced, and the last epoch's."""
SLOW_EPOCH_S = 10.0
"""An epoch that took this long keeps its line whatever the spacing: each is a while of work."""


def cli_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """The command line's console (on ``file``, if given): text is printed as it is, never read as markup,
    so a class name, a column name or a path holding square brackets ("[/x]", "[red]neg") prints as written."""
    return Console(stderr=stderr, file=file, highlight=False, soft_wrap=True, markup=False)


def confusion_table(matrix: np.ndarray, class_names: Sequence[str], title: str) -> Table:
    """Counts, rows true classes and columns predicted; row percentages for up to 4 classes,
    beyond that a recall column, so that digits' 10 x 10 fits in 80 columns."""
    k = len(class_names)
    with_percent = k <= 4
    table = Table(title=title, title_justify="left", padding=(0, 1) if with_percent else (0, 0))
    table.add_column("true \\ predicted" if with_percent else "true\\pred", style="bold")
    for name in class_names:
        table.add_column(str(name) if with_percent else str(name)[:6], justify="right", min_width=4)
    if not with_percent:
        table.add_column("recall", justify="right", style="dim")
    for i, name in enumerate(class_names):
        row_total = int(matrix[i].sum())
        if with_percent:
            cells = [f"{int(c)} ({100 * c / row_total:.0f}%)" if row_total else str(int(c)) for c in matrix[i]]
        else:
            cells = [str(int(c)) for c in matrix[i]] + [f"{matrix[i, i] / row_total:.2f}" if row_total else "-"]
        table.add_row(str(name)[:12], *cells)
    return table


def binary_summary(y_true: np.ndarray, y_prob: np.ndarray, threshold: float, class_names: Sequence[str], *,
                   temperature: float = 1.0, costs: Costs | None = None) -> Group:
    """The metrics at ``threshold`` with their intervals, AUROC and AP, the 2 x 2 confusion matrix, the
    calibration (before and after ``temperature``, which the probabilities hold) and, given ``costs``, what
    errors cost."""
    evaluation = BinaryEval(y_true, y_prob)
    r = evaluation.at(threshold)
    title = Text(f"validation, {evaluation.n} rows, threshold {threshold:g}, positive class ")
    title.append(str(class_names[1]), style="bold")
    table = metrics_table(title, binary_estimates(evaluation, threshold),
                          [("FPR", r.fpr), ("specificity", r.specificity)])
    matrix = np.array([[r.tn, r.fp], [r.fn, r.tp]])
    parts = [table, confusion_table(matrix, class_names, f"confusion matrix at {threshold:g}"),
             calibration_view(y_true, y_prob, class_names, temperature)]
    if costs is not None:
        parts.append(costs_view(evaluation, costs, threshold))
    return Group(*parts)


def multiclass_summary(y_true: np.ndarray, y_prob: np.ndarray, class_names: Sequence[str], *,
                       temperature: float = 1.0) -> Group:
    """Accuracy, balanced accuracy, macro F1 and MCC with their intervals, per-class scores with macro and
    weighted averages, the k x k confusion matrix and each class's calibration against the rest."""
    evaluation = MulticlassEval.from_proba(y_true, y_prob)
    headline = metrics_table(f"validation, {len(y_true)} rows, predicted: the most probable class",
                             multiclass_estimates(evaluation))
    table = Table(title="per class", title_justify="left")
    for name in ("class", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="right" if name != "class" else "left")
    for i, name in enumerate(class_names):
        table.add_row(str(name), f"{evaluation.precision[i]:.4f}", f"{evaluation.recall[i]:.4f}",
                      f"{evaluation.f1[i]:.4f}", str(int(evaluation.support[i])))
    for label, avg in (("macro avg", evaluation.macro), ("weighted avg", evaluation.weighted)):
        table.add_row(label, f"{avg['precision']:.4f}", f"{avg['recall']:.4f}", f"{avg['f1']:.4f}",
                      str(len(y_true)), style="dim")
    return Group(headline, table, confusion_table(evaluation.confusion, class_names, "confusion matrix (argmax)"),
                 calibration_view(y_true, y_prob, class_names, temperature))


def evaluation_summary(y_true: np.ndarray, y_prob: np.ndarray, threshold: float, class_names: Sequence[str], *,
                       temperature: float = 1.0, costs: Costs | None = None) -> Group:
    if y_prob.ndim == 1:
        return binary_summary(y_true, y_prob, threshold, class_names, temperature=temperature, costs=costs)
    return multiclass_summary(y_true, y_prob, class_names, temperature=temperature)


def epoch_line(event: EpochEnded, n_epochs_end: int) -> str:
    """One plain line per epoch, for logs and pipes."""
    parts = [f"epoch {event.epoch:>{len(str(n_epochs_end))}}/{n_epochs_end}", f"loss {event.train_loss:.5f}"]
    if event.val_loss is not None:
        parts.append(f"val_loss {event.val_loss:.5f}")
    for key, label in (("accuracy", "val_acc"), ("auroc", "auroc"), ("macro_f1", "macro_f1")):
        if key in event.metrics:
            parts.append(f"{label} {event.metrics[key]:.4f}")
    parts.append(f"{event.samples_per_s:,.0f} samples/s")
    return "  ".join(parts)


def progress_stats(event: EpochEnded) -> str:
    """The short form of an epoch line that fits beside a progress bar in 80 columns."""
    parts = [f"loss {event.train_loss:.4f}"]
    if event.val_loss is not None:
        parts.append(f"val {event.val_loss:.4f}")
    for key, label in (("accuracy", "acc"), ("auroc", "auc"), ("macro_f1", "f1")):
        if key in event.metrics:
            parts.append(f"{label} {event.metrics[key]:.3f}")
    rate = event.samples_per_s
    parts.append(f"{rate / 1000:.0f}k/s" if rate >= 10_000 else f"{rate:.0f}/s")
    return " ".join(parts)


class ProgressPrinter:
    """Shows a run's events: a Rich progress bar on a terminal; otherwise one line per epoch, and one for
    each checkpoint written (``checkpoint saved at epoch N``), so that a log says what a crash would keep.

    On a terminal the bar keeps epoch lines above it, as Keras does: every ``ceil(epochs / LINES_PER_RUN)``-th
    epoch of the run (every epoch of a run of up to 20), the last one, and any epoch that took SLOW_EPOCH_S
    or more.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.progress: Progress | None = None
        self.task_id = 0
        self.end_epoch = 0
        self.start_epoch = 0
        self.line_every = 1
        self.started = time.perf_counter()

    def __enter__(self) -> ProgressPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.start_epoch, self.end_epoch = event.start_epoch, event.start_epoch + event.n_epochs
            self.line_every = max(1, math.ceil(event.n_epochs / LINES_PER_RUN))
            self.console.print(f"device  {event.device} ({event.device_note})")
            self.console.print(f"data    {event.n_train} training rows, {event.n_val} validation rows, {event.task}")
            self.console.print(f"epochs  {event.start_epoch + 1} to {self.end_epoch}")
            if self.live:
                self.progress = Progress(
                    TextColumn("{task.completed:.0f}/{task.total:.0f}"), BarColumn(bar_width=10),
                    TextColumn("{task.fields[stats]}"), TimeRemainingColumn(),
                    console=self.console, transient=False, redirect_stdout=False, redirect_stderr=False,
                )
                self.progress.start()
                self.task_id = self.progress.add_task("train", total=self.end_epoch, completed=event.start_epoch,
                                                      stats="")
        elif isinstance(event, EpochEnded):
            if self.progress is not None:
                if self.keeps_line(event):
                    self.console.print(epoch_line(event, self.end_epoch), highlight=False)
                self.progress.update(self.task_id, completed=event.epoch, stats=progress_stats(event))
            else:
                self.console.print(epoch_line(event, self.end_epoch), highlight=False)
        elif isinstance(event, CheckpointSaved):
            if self.progress is None:
                self.console.print(f"checkpoint saved at epoch {event.epoch}")
        elif isinstance(event, RunEnded):
            if self.progress is not None:
                self.progress.stop()
                self.progress = None
            self.console.print(f"{ended_text(event)} ({time.perf_counter() - self.started:.1f} s)")

    def keeps_line(self, event: EpochEnded) -> bool:
        """Whether the epoch's line stays above the progress bar."""
        return ((event.epoch - self.start_epoch) % self.line_every == 0 or event.epoch == self.end_epoch
                or event.duration_s >= SLOW_EPOCH_S)


def ended_text(event: RunEnded) -> str:
    """How the run ended: its message, after its reason unless the message begins with it already
    ("diverged: the loss became ...", "stopped after epoch 3", but "completed: trained 40 epochs")."""
    if event.message.startswith(event.reason.split("_")[0]):
        return event.message
    return f"{event.reason}: {event.message}"


MAX_WEIGHT_ROWS = 20
"""The most features a logistic regression's weight table shows: those of the largest scaled weights."""
MAX_WEIGHT_OUTPUTS = 3
"""The most outputs (classes) it shows, two columns each."""
SCALED_UNITS = {"standard": "per training standard deviation", "minmax": "per training range (max - min)",
                "none": "per unit (no scaler: the same as raw)"}


def print_logistic_weights(console: Console, trainer: Trainer) -> None:
    """Print ``logistic_weights_summary`` of a trainer whose model is a logistic regression; nothing otherwise."""
    from clf_tui.engine.parameters import logistic_weights

    weights = logistic_weights(trainer)
    if weights is not None:
        console.print(logistic_weights_summary(weights, trainer.threshold))


def logistic_weights_summary(weights: LogisticWeights, threshold: float) -> Group:
    """A logistic regression's weight of each feature and bias, in the scaled units the model sees and in the
    data's own, what its scores are, and (two features, two classes) the decision boundary at ``threshold``."""
    outputs = weights.outputs[:MAX_WEIGHT_OUTPUTS]
    table = Table(title="learned weights", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False)
    table.add_column("feature")
    for output in outputs:
        several = len(weights.outputs) > 1
        table.add_column(f"{output.label}\nscaled" if several else "scaled", justify="right", no_wrap=True)
        table.add_column("\nraw" if several else "raw", justify="right", no_wrap=True)
    n_features = len(weights.feature_names)
    largest = np.max(np.abs([[w.scaled for w in output.weights] for output in weights.outputs]), axis=0)
    shown = sorted(np.argsort(-largest, kind="stable")[:MAX_WEIGHT_ROWS].tolist())
    for j in shown:
        first = outputs[0].weights[j]
        name = first.feature if first.kind == "number" else f"{first.feature} (0/1)"
        table.add_row(name, *(f"{text:.4g}" for output in outputs
                              for text in (output.weights[j].scaled, output.weights[j].raw)))
    table.add_row("bias", *(f"{text:.4g}" for output in outputs for text in (output.bias_scaled, output.bias_raw)),
                  style="dim")
    notes = [f"scaled: {SCALED_UNITS[weights.scaler]} of a feature, as the model sees it; raw: per unit of the data"]
    if len(shown) < n_features:
        notes.append(f"the {len(shown)} features of largest scaled weight, of {n_features}")
    if len(outputs) < len(weights.outputs):
        notes.append(f"the first {len(outputs)} classes' weights, of {len(weights.outputs)}")
    if weights.has_indicators:
        notes.append("(0/1): a one-hot, boolean or missing-value column, in its own 0/1 units: its raw weight is "
                     "what the score gains when the column is 1")
    notes.append(_scores_text(weights))
    boundary = weights.boundary(threshold) if 0.0 < threshold < 1.0 else None
    if boundary is not None:
        notes.append(f"decision boundary where P({weights.class_names[1]}) = {threshold:g}: {boundary.equation}")
    return Group(table, *notes)


def _scores_text(weights: LogisticWeights) -> str:
    """What the outputs' scores are, and how they become probabilities."""
    if weights.loss == "mse":
        return "the score is read as the probability itself, clipped to [0, 1] (mse)"
    if len(weights.outputs) == 1:
        return f"the score is the logit of P({weights.outputs[0].label}): P = sigmoid(score)"
    return "the scores are the classes' logits: P = softmax(scores)"
