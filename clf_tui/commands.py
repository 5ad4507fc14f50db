"""The headless commands: `clf-tui train`, `clf-tui eval` and `clf-tui datasets`."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import numpy as np
from rich.console import Console
from rich.table import Table

from clf_tui.arguments import EXIT_INTERRUPTED, EXIT_USAGE, UsageError, config_from_args
from clf_tui.data_report import data_report
from clf_tui.engine import ClfError, RunConfig, RunControl, Trainer
from clf_tui.engine.atomic import FolderInUse, claim_new_folder, folder_lock, write_atomic
from clf_tui.engine.config import FIELDS
from clf_tui.engine.distributed import Launch, torchrun_launch
from clf_tui.engine.events import CheckpointSaved, RunEnded
from clf_tui.report import cli_console, ProgressPrinter, evaluation_summary
from clf_tui.tensorboard_export import TensorBoardLog, require_tensorboard

RESUME_OVERRIDES = {"epochs", "device"}
EXIT_DIVERGED = 1


def train(args: argparse.Namespace) -> int:
    """Train, show progress, print the summary and write checkpoint, config and metrics.

    Under torchrun every process trains its share of the data; rank 0 alone prints and writes.
    """
    launch = torchrun_launch()
    try:
        if args.tensorboard:
            require_tensorboard()
        trainer, cfg = _build_trainer(args)
    except (UsageError, ClfError):
        if launch is None or launch.is_main:
            raise
        return EXIT_USAGE  # every rank meets the same error in the same options and data; rank 0 reports it
    if launch is None:
        return _train_and_report(args, trainer, cfg, launch)
    with trainer.distribute(launch):
        if launch.is_main:
            return _train_and_report(args, trainer, cfg, launch)
        return _train_quietly(trainer, cfg)


def _build_trainer(args: argparse.Namespace) -> tuple[Trainer, RunConfig]:
    """A new run from the options, or the run that --resume names, with its configuration."""
    if args.resume:
        changed = {name for name in FIELDS if getattr(args, f"cfg_{name}") is not None}
        if args.config or changed - RESUME_OVERRIDES:
            raise UsageError("--resume continues a saved run as it was: only --epochs and --device may be given")
        trainer = Trainer.from_checkpoint(args.resume, device=args.cfg_device)
        return trainer, config_from_args(args, base=trainer.config)
    cfg = config_from_args(args)
    return Trainer.from_config(cfg), cfg


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, kill and a closed terminal (or a scheduler's time limit): each stops the run after its batch."""


def _train_and_report(args: argparse.Namespace, trainer: Trainer, cfg: RunConfig, launch: Launch | None) -> int:
    """Train, show progress and write the files: the only process, or rank 0 of several.

    The first SIGINT (Ctrl-C), SIGTERM or SIGHUP stops the run after its batch; the run still writes
    its checkpoint and the command its files, and exits with 128 + the signal's number (130, 143,
    129). A second one aborts at once. A reader of standard output that goes away (``| head``)
    stops the run the same way, which exits with 141 as a process ended by SIGPIPE would. A run
    that diverged exits with 1, after writing what it has.
    """
    control = RunControl()
    stopped_by: list[int] = []

    def on_reader_gone() -> None:
        if not control.stop_requested:
            stopped_by.append(signal.SIGPIPE)
            control.stop()

    console = cli_console(file=_WatchedStdout(on_reader_gone))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if control.stop_requested:  # a second signal means now
            raise KeyboardInterrupt
        stopped_by.append(signum)
        control.stop()
        again = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        console.print(f"stopping after this batch ({again} again to abort)...")

    # Across processes a stop would land on a different batch in each rank, while DDP keeps
    # them in step; there the signal reaches every rank through torchrun and ends the run.
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    if launch is None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, on_signal)
    try:
        reason = _run_and_report(args, trainer, cfg, control, console)
    except KeyboardInterrupt:
        console.print("aborted: the last checkpoint written (if any) is intact")
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stopped_by:
        return 128 + stopped_by[0]
    return EXIT_DIVERGED if reason == "diverged" else 0


class _WatchedStdout(io.TextIOBase):
    """Standard output that notices its reader going away: the write that finds the pipe closed sends
    the rest to /dev/null (so that nothing later fails on it, the interpreter's last flush included)
    and calls ``on_gone`` once."""

    def __init__(self, on_gone: Callable[[], None]) -> None:
        super().__init__()
        self._on_gone = on_gone
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
            except BrokenPipeError:
                self._gone = True
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
                self._on_gone()
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return not self._gone and sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()


def _run_and_report(args: argparse.Namespace, trainer: Trainer, cfg: RunConfig, control: RunControl,
                    console: Console) -> str:
    """Train under ``control`` (logging to --tensorboard if given), then write the metrics and print the
    summary and the files written; returns why the run ended.

    The run holds its folder's lock while it writes there, so a second run given the same --out is refused
    before it writes anything. With no --out, the folder OUT_DIR/DATASET-TIMESTAMP is claimed for this run
    alone (DATASET-TIMESTAMP-2, -3, ... when another run took that name in the same second).
    """
    data = trainer.data
    out = Path(args.out) if args.out else claim_new_folder(
        Path(cfg.out_dir) / f"{Path(data.name).stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(folder_lock(out))
        except FolderInUse as exc:
            raise UsageError(f"{exc.message} or give another --out") from None
        if data.report is not None:
            console.print(data_report(data.report, short=True))
        config_path = cfg.save(out / "config.toml")
        checkpoint, reason = "none (the run diverged before it finished an epoch)", "completed"
        board = held.enter_context(TensorBoardLog(Path(args.tensorboard), cfg)) if args.tensorboard else None
        with ProgressPrinter(console) as printer:
            for event in trainer.run(cfg.epochs, control=control, checkpoint_path=out / "checkpoint.pt"):
                printer.handle(event)
                if board is not None:
                    board.handle(event)
                if isinstance(event, CheckpointSaved):
                    checkpoint = event.path
                elif isinstance(event, RunEnded):
                    reason = event.reason
        metrics_path = write_metrics_csv(out / "metrics.csv", trainer.history_rows())

        if trainer.total_epochs > 0:
            y_true, y_prob = trainer.evaluate()
            if board is not None:
                board.write_pr_curves(trainer.total_epochs, y_true, y_prob, data.class_names)
            console.print(evaluation_summary(y_true, y_prob, trainer.threshold, data.class_names))
    console.print(f"checkpoint  {checkpoint}\nconfig      {config_path}\nmetrics     {metrics_path}")
    if board is not None:
        console.print(f"tensorboard {board.log_dir}")
    return reason


def _train_quietly(trainer: Trainer, cfg: RunConfig) -> int:
    """A rank other than 0: train its share and take its part in validation, printing and writing nothing."""
    try:
        for _ in trainer.run(cfg.epochs):
            pass
        if trainer.total_epochs > 0:
            trainer.evaluate()  # rank 0 evaluates too, and the rows are gathered from every rank
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Print metrics and the confusion matrix of a saved model at a threshold."""
    from clf_tui import datasets
    from clf_tui.engine.checkpoint import read_checkpoint
    from clf_tui.engine.saved_data import data_description

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError(f"--threshold {args.threshold} is invalid: expected a number between 0 and 1")
    y_true = y_prob = None
    if args.data is None:
        trainer = Trainer.from_checkpoint(args.checkpoint, device=args.device)
        source = f"{trainer.data.name} validation split"
    elif Path(args.data).suffix.lower() == ".csv":
        trainer, y_true, y_prob, source = _csv_rows_evaluated(args)
    else:
        description = data_description(read_checkpoint(args.checkpoint), args.checkpoint)
        scaler, feature_names, class_names = description.scaler, description.feature_names, description.class_names
        X, y = datasets.load_eval(args.data, target=args.target or description.preprocessing.target or None,
                                  feature_names=feature_names, class_names=class_names, scaler=scaler)
        # Every row is for evaluation: an empty training split, the rows as the validation split.
        split = datasets.DataSplit(Path(args.data).name, X[:0], y[:0], X, y, feature_names, class_names, scaler)
        trainer = Trainer.from_checkpoint(args.checkpoint, data=split, device=args.device, check_data=False)
        source = f"{args.data}, all {len(split.y_val)} rows"
    threshold = trainer.threshold if args.threshold is None else args.threshold
    if y_true is None:
        y_true, y_prob = trainer.evaluate()
    console = cli_console()
    console.print(f"{args.checkpoint}: epoch {trainer.total_epochs}, evaluated on {source}")
    if y_prob.ndim == 2 and args.threshold is not None:
        console.print("note: --threshold applies to binary tasks; multiclass predictions take the most probable class")
    console.print(evaluation_summary(y_true, y_prob, threshold, trainer.data.class_names))
    return 0


def _csv_rows_evaluated(args: argparse.Namespace) -> tuple[Trainer, np.ndarray, np.ndarray, str]:
    """The saved model applied to a CSV file's labelled rows through its own preprocessing: the trainer,
    the labels, the probabilities (P(class 1) for a binary task) and where they came from."""
    from clf_tui.engine.predict import predict_file

    if args.target is not None:
        raise UsageError("--target does not apply to a CSV file: the model reads its own target column in it")
    predictions, trainer = predict_file(args.checkpoint, args.data, device=args.device)
    if predictions.y_true is None:
        target = trainer.data.preprocessing.target if trainer.data.preprocessing else "target"
        raise UsageError(f"{args.data} has no column {target!r} to evaluate against; "
                         "clf-tui predict applies the model to rows without labels")
    for note in predictions.notes:
        cli_console(stderr=True).print(f"note: {note}")
    labelled = predictions.y_true >= 0
    proba = predictions.proba[labelled]
    unlabelled = int((~labelled).sum())
    skipped = f" ({unlabelled} without a label left out)" if unlabelled else ""
    return (trainer, predictions.y_true[labelled], proba[:, 1] if proba.shape[1] == 2 else proba,
            f"{args.data}, {int(labelled.sum())} rows{skipped}")


def list_datasets() -> int:
    """Print the built-in data sets with their sizes, features and classes."""
    from clf_tui import datasets

    table = Table(title="built-in data sets", title_justify="left")
    for name in ("name", "rows", "features", "classes", "description"):
        table.add_column(name, justify="right" if name in ("rows", "features", "classes") else "left")
    for entry in datasets.describe():
        table.add_row(entry["name"], str(entry["n_samples"]), str(entry["n_features"]), str(entry["n_classes"]),
                      entry["description"])
    cli_console().print(table)
    return 0


def write_metrics_csv(path: Path, rows: list[dict[str, float | int | None]]) -> Path:
    """One row per epoch, atomically; columns are the union of the rows' keys in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns) or ["epoch"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_atomic(path, buffer.getvalue().encode("utf-8"))
