"""`clf-tui train --folds K`: a cross-validation trained headless, its folds' progress, its summary and its files."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
from pathlib import Path

from rich.console import Console, Group
from rich.table import Table

from clf_tui.run_command import hold_folder, run_stoppable, write_metrics_csv
from clf_tui.engine import RunConfig, RunControl
from clf_tui.engine.atomic import write_atomic
from clf_tui.engine.crossval import CrossValEnded, CrossValResult, FoldEnded, FoldStarted, cross_validate
from clf_tui.engine.headline import LABELS
from clf_tui.report import ProgressPrinter

METRIC_LABELS = {**LABELS, "val_loss": "validation loss", "brier": "Brier", "ece": "ECE", "threshold": "threshold",
                 "expected_cost": "expected cost"}


def cross_validate_and_report(args: argparse.Namespace, cfg: RunConfig) -> int:
    """Train ``cfg.folds`` folds, showing each one's progress as a run's; print the mean ± std of every metric,
    the out-of-fold AUROC and AP (or accuracy and macro F1), and each fold's end; write config.toml,
    metrics.csv (one row per fold and epoch) and fold-K.pt per fold. Stops, and exits, as a single run does."""
    return run_stoppable(lambda control, console: _folds_and_report(args, cfg, control, console))


def _folds_and_report(args: argparse.Namespace, cfg: RunConfig, control: RunControl, console: Console) -> str:
    with contextlib.ExitStack() as held:
        out = hold_folder(held, args, cfg, f"{Path(cfg.dataset).stem}-{cfg.folds}-folds")
        config_path = cfg.save(out / "config.toml")
        rows: list[dict[str, float | int | None]] = []
        folds: list[FoldEnded] = []
        printer: ProgressPrinter | None = None
        ended = CrossValEnded("stopped", "stopped before the first fold", None)
        try:
            for event in cross_validate(cfg, control=control, checkpoint_dir=out):
                if isinstance(event, FoldStarted):
                    if event.fold == 1:
                        console.print(f"cross-validation: {event.n_folds} stratified folds of {cfg.dataset}, "
                                      "each fold's preprocessing fit on its training rows")
                    console.print(f"fold {event.fold}/{event.n_folds}: {event.n_train} training rows, "
                                  f"{event.n_val} validation rows")
                    printer = ProgressPrinter(console).__enter__()  # one bar per fold, as a run has
                elif isinstance(event, FoldEnded):
                    rows += [{"fold": event.fold, **row} for row in event.history]
                    folds.append(event)
                    if printer is not None:
                        printer.__exit__(None, None, None)
                        printer = None
                elif isinstance(event, CrossValEnded):
                    ended = event
                elif printer is not None:
                    printer.handle(event)
        finally:  # what the folds finished, whatever ends the cross-validation
            if printer is not None:
                printer.__exit__(None, None, None)
            metrics_path = write_metrics_csv(out / "metrics.csv", rows)
        console.print(f"{ended.reason}: {ended.message}")
        predictions_path = None
        if ended.result is not None:
            console.print(crossval_summary(ended.result, folds))
            predictions_path = write_out_of_fold_csv(out / "out-of-fold.csv", ended.result)
    saved = [fold.checkpoint for fold in folds if fold.checkpoint is not None]
    shown = "none" if not saved else saved[0] if len(saved) == 1 else f"{saved[0]} to {Path(saved[-1]).name}"
    console.print(f"checkpoints {shown}\nconfig      {config_path}\nmetrics     {metrics_path}")
    if predictions_path is not None:
        console.print(f"out of fold {predictions_path}")
    return ended.reason


def write_out_of_fold_csv(path: Path, result: CrossValResult) -> Path:
    """One row per labelled row, in the data's order: its fold, its class and the probabilities that the
    model which never trained on it gave (binary: of the positive class; multiclass: of each class), for
    drawing the out-of-fold ROC and PR curves anywhere."""
    names = result.class_names
    probabilities = result.y_prob[:, None] if result.y_prob.ndim == 1 else result.y_prob
    columns = ["row", "fold", "label"] + [f"p_{name}" for name in (names[1:] if result.y_prob.ndim == 1 else names)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for i, (fold, label, row) in enumerate(zip(result.fold_of_row.tolist(), result.y_true.tolist(),
                                               probabilities.tolist())):
        writer.writerow([i, fold, names[label], *(f"{p:.6g}" for p in row)])
    return write_atomic(path, buffer.getvalue().encode("utf-8"))


def crossval_summary(result: CrossValResult, folds: list[FoldEnded]) -> Group:
    """Each metric's mean ± sample std over the folds with its range, the out-of-fold scores of the pooled
    probabilities, and how each fold ended."""
    n_rows = len(result.y_true)
    table = Table(title=f"{result.n_folds} folds of {n_rows} rows: mean ± std (sample) of each fold's validation rows",
                  title_justify="left")
    for name in ("metric", "mean ± std", "min", "max"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for name, mean in result.mean.items():
        values = [found[name] for found in result.fold_metrics]
        table.add_row(METRIC_LABELS.get(name, name), f"{mean:.3f} ± {result.std[name]:.3f}", f"{min(values):.3f}",
                      f"{max(values):.3f}")
    pooled = ", ".join(f"{METRIC_LABELS[name]} {value:.3f}" for name, value in result.out_of_fold.items())
    binary = result.y_prob.ndim == 1
    per_fold = Table(title="each fold", title_justify="left")
    columns = ["fold", "val rows", "epochs", "ended", "accuracy", "AUROC" if binary else "macro F1"]
    for name in columns:
        per_fold.add_column(name, justify="left" if name == "ended" else "right")
    for fold in folds:
        found = fold.metrics
        per_fold.add_row(str(fold.fold), str(int((result.fold_of_row == fold.fold).sum())), str(fold.epoch),
                         fold.reason, f"{found['accuracy']:.3f}",
                         f"{found['auroc' if binary else 'macro_f1']:.3f}")
    return Group(table, f"out of fold ({n_rows} rows, each predicted by the model that did not train on it):",
                 f"  {pooled}", per_fold)
