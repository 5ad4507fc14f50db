"""Rich renderings of evaluation results for the command line: metrics, confusion matrices, progress."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from clf_tui.engine.events import EpochEnded, Event, RunEnded, RunStarted
from clf_tui.engine.metrics import BinaryEval, MulticlassEval


def confusion_table(matrix: np.ndarray, class_names: Sequence[str], title: str) -> Table:
    """Counts with row percentages; rows are true classes, columns predicted."""
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("true \\ predicted", style="bold")
    for name in class_names:
        table.add_column(str(name), justify="right")
    for i, name in enumerate(class_names):
        row_total = int(matrix[i].sum())
        cells = [
            f"{int(count)} ({100 * count / row_total:.0f}%)" if row_total else str(int(count)) for count in matrix[i]
        ]
        table.add_row(str(name), *cells)
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
    table = Table(title=f"validation, {evaluation.n} rows, threshold {threshold:g}", title_justify="left",
                  show_header=False)
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


class ProgressPrinter:
    """Shows a run's events: a Rich progress bar on a terminal, one line per epoch otherwise."""

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
            self.console.print(
                f"training on {event.device} ({event.device_note}): {event.n_train} training rows, "
                f"{event.n_val} validation rows, {event.task}, epochs {event.start_epoch + 1}-{self.end_epoch}"
            )
            if self.live:
                self.progress = Progress(
                    TextColumn("epoch {task.completed:.0f}/{task.total:.0f}"), BarColumn(),
                    TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=self.console, transient=False,
                )
                self.progress.start()
                self.task_id = self.progress.add_task("train", total=self.end_epoch, completed=event.start_epoch,
                                                      stats="")
        elif isinstance(event, EpochEnded):
            if self.progress is not None:
                stats = epoch_line(event, self.end_epoch).split("  ", 1)[1]
                self.progress.update(self.task_id, completed=event.epoch, stats=stats)
            else:
                self.console.print(epoch_line(event, self.end_epoch), highlight=False)
        elif isinstance(event, RunEnded):
            if self.progress is not None:
                self.progress.stop()
                self.progress = None
            self.console.print(f"{event.reason}: {event.message} ({time.perf_counter() - self.started:.1f} s)")
