"""Rich renderings of evaluation results for the command line: metrics, confusion matrices, progress."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import IO

import numpy as np
from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from clf_tui.engine.events import CheckpointSaved, EpochEnded, Event, RunEnded, RunStarted
from clf_tui.engine.metrics import BinaryEval, MulticlassEval


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


def binary_summary(y_true: np.ndarray, y_prob: np.ndarray, threshold: float, class_names: Sequence[str]) -> Group:
    """Rates at ``threshold``, AUROC and AP, and the 2 x 2 confusion matrix."""
    evaluation = BinaryEval(y_true, y_prob)
    r = evaluation.at(threshold)
    pairs = [
        ("accuracy", r.accuracy), ("balanced accuracy", r.balanced_accuracy),
        ("precision", r.precision), ("recall (TPR)", r.recall),
        ("F1", r.f1), ("FPR", r.fpr),
        ("MCC", r.mcc), ("specificity", r.specificity),
        ("AUROC", evaluation.auroc), ("average precision", evaluation.average_precision),
    ]
    title = Text(f"validation, {evaluation.n} rows, threshold {threshold:g}, positive class ")
    title.append(str(class_names[1]), style="bold")
    table = Table(title=title, title_justify="left", show_header=False)
    for justify in ("left", "right", "left", "right"):
        table.add_column(justify=justify)
    for (name_a, a), (name_b, b) in zip(pairs[::2], pairs[1::2]):
        table.add_row(name_a, f"{a:.4f}", name_b, f"{b:.4f}")
    matrix = np.array([[r.tn, r.fp], [r.fn, r.tp]])
    return Group(table, confusion_table(matrix, class_names, f"confusion matrix at {threshold:g}"))


def multiclass_summary(y_true: np.ndarray, y_prob: np.ndarray, class_names: Sequence[str]) -> Group:
    """Accuracy, per-class scores with macro and weighted averages, and the k x k confusion matrix."""
    evaluation = MulticlassEval.from_proba(y_true, y_prob)
    table = Table(title=f"validation, {len(y_true)} rows, accuracy {evaluation.accuracy:.4f}", title_justify="left")
    for name in ("class", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="right" if name != "class" else "left")
    for i, name in enumerate(class_names):
        table.add_row(str(name), f"{evaluation.precision[i]:.4f}", f"{evaluation.recall[i]:.4f}",
                      f"{evaluation.f1[i]:.4f}", str(int(evaluation.support[i])))
    for label, avg in (("macro avg", evaluation.macro), ("weighted avg", evaluation.weighted)):
        table.add_row(label, f"{avg['precision']:.4f}", f"{avg['recall']:.4f}", f"{avg['f1']:.4f}",
                      str(len(y_true)), style="dim")
    return Group(table, confusion_table(evaluation.confusion, class_names, "confusion matrix (argmax)"))


def evaluation_summary(y_true: np.ndarray, y_prob: np.ndarray, threshold: float, class_names: Sequence[str]) -> Group:
    if y_prob.ndim == 1:
        return binary_summary(y_true, y_prob, threshold, class_names)
    return multiclass_summary(y_true, y_prob, class_names)


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
    each checkpoint written (``checkpoint saved at epoch N``), so that a log says what a crash would keep."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.progress: Progress | None = None
        self.task_id = 0
        self.end_epoch = 0
        self.started = time.perf_counter()

    def __enter__(self) -> ProgressPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.end_epoch = event.start_epoch + event.n_epochs
            self.console.print(f"device  {event.device} ({event.device_note})")
            self.console.print(f"data    {event.n_train} training rows, {event.n_val} validation rows, {event.task}")
            self.console.print(f"epochs  {event.start_epoch + 1} to {self.end_epoch}")
            if self.live:
                self.progress = Progress(
                    TextColumn("{task.completed:.0f}/{task.total:.0f}"), BarColumn(bar_width=10),
                    TextColumn("{task.fields[stats]}"), TimeRemainingColumn(),
                    console=self.console, transient=False,
                )
                self.progress.start()
                self.task_id = self.progress.add_task("train", total=self.end_epoch, completed=event.start_epoch,
                                                      stats="")
        elif isinstance(event, EpochEnded):
            if self.progress is not None:
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
            self.console.print(f"{event.reason}: {event.message} ({time.perf_counter() - self.started:.1f} s)")
