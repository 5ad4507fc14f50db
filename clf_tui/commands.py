"""The headless commands: `clf-tui train`, `clf-tui eval` and `clf-tui datasets`."""

from __future__ import annotations

import argparse
import contextlib
import math
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from clf_tui.arguments import EXIT_INTERRUPTED, EXIT_USAGE, UsageError, config_from_args
from clf_tui.data_report import data_report
from clf_tui.engine import ClfError, RunConfig, RunControl, Trainer
from clf_tui.engine.config import FIELDS
from clf_tui.engine.distributed import Launch, torchrun_launch
from clf_tui.engine.costs import Costs, least_cost_threshold
from clf_tui.engine.events import CheckpointSaved, RunEnded
from clf_tui.engine.headline import estimates, interval_columns
from clf_tui.engine.metrics import BinaryEval
from clf_tui.report import cli_console, ProgressPrinter, evaluation_summary, print_logistic_weights
from clf_tui.run_command import hold_folder, run_stoppable, write_metrics_csv
from clf_tui.tensorboard_export import TensorBoardLog, require_tensorboard

RESUME_OVERRIDES = {"epochs", "device"}


def train(args: argparse.Namespace) -> int:
    """Train, show progress, print the summary and write checkpoint, config and metrics.

    Under torchrun every process trains its share of the data; rank 0 alone prints and writes.
    """
    launch = torchrun_launch()
    try:
        if args.tensorboard:
            require_tensorboard()
        folds = _cross_validation(args, launch)
        if folds is not None:
            from clf_tui.crossval_command import cross_validate_and_report

            return cross_validate_and_report(args, folds)
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


def _cross_validation(args: argparse.Namespace, launch: Launch | None) -> RunConfig | None:
    """The config of the cross-validation that the options ask for, or None for a single run.

    Raises:
        UsageError: --folds beside --resume, which continues one saved run; or a cross-validation under
            torchrun or with --tensorboard, which follow one run.
    """
    if args.resume:
        if args.cfg_folds is not None:
            raise UsageError("--folds trains a new cross-validation and --resume continues one saved run: give one "
                             "of them")
        return None
    cfg = config_from_args(args)
    if not cfg.cross_validates:
        return None
    if launch is not None:
        raise UsageError(f"folds = {cfg.folds} trains its folds one after another in one process: run it without "
                         "torchrun")
    if args.tensorboard:
        raise UsageError(f"--tensorboard logs one run, and folds = {cfg.folds} trains {cfg.folds}: leave it out "
                         "(metrics.csv holds every fold's epochs)")
    return cfg


def _build_trainer(args: argparse.Namespace) -> tuple[Trainer, RunConfig]:
    """A new run from the options, or the run that --resume names, with its configuration."""
    if args.resume:
        changed = {name for name in FIELDS if getattr(args, f"cfg_{name}") is not None}
        if args.config or changed - RESUME_OVERRIDES:
            raise UsageError("--resume continues a saved run as it was: only --epochs and --device may be given")
        trainer = Trainer.from_checkpoint(args.resume, device=args.cfg_device)
        if trainer.fold is not None:
            raise UsageError(f"{args.resume} is fold {trainer.fold} of a {trainer.config.folds}-fold "
                             "cross-validation, which --resume does not continue: train the cross-validation "
                             "again with the epochs it needs")
        return trainer, config_from_args(args, base=trainer.config)
    cfg = config_from_args(args)
    return Trainer.from_config(cfg), cfg


def _train_and_report(args: argparse.Namespace, trainer: Trainer, cfg: RunConfig, launch: Launch | None) -> int:
    """Train, show progress and write the files: the only process, or rank 0 of several (``run_stoppable``)."""
    return run_stoppable(lambda control, console: _run_and_report(args, trainer, cfg, control, console), launch)


def _run_and_report(args: argparse.Namespace, trainer: Trainer, cfg: RunConfig, control: RunControl,
                    console: Console) -> str:
    """Train under ``control`` (logging to --tensorboard if given), then write the metrics and print the
    summary and the files written; returns why the run ended.

    The run holds its folder's lock while it writes there, so a second run given the same --out is refused
    before it writes anything. With no --out, the folder OUT_DIR/DATASET-TIMESTAMP is claimed for this run
    alone (DATASET-TIMESTAMP-2, -3, ... when another run took that name in the same second).
    """
    data = trainer.data
    with contextlib.ExitStack() as held:
        out = hold_folder(held, args, cfg, Path(data.name).stem)
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
        rows = trainer.history_rows()
        if trainer.total_epochs > 0:
            y_true, y_prob = trainer.evaluate()
            rows[-1].update(final_row_intervals(y_true, y_prob, trainer.threshold))
        metrics_path = write_metrics_csv(out / "metrics.csv", rows)

        if trainer.total_epochs > 0:
            if board is not None:
                board.write_pr_curves(trainer.total_epochs, y_true, y_prob, data.class_names)
            console.print(evaluation_summary(y_true, y_prob, trainer.threshold, data.class_names,
                                             temperature=trainer.temperature, costs=trainer.costs))
            print_logistic_weights(console, trainer)
    console.print(f"checkpoint  {checkpoint}\nconfig      {config_path}\nmetrics     {metrics_path}")
    if board is not None:
        console.print(f"tensorboard {board.log_dir}")
    return reason


def final_row_intervals(y_true: np.ndarray, y_prob: np.ndarray, threshold: float) -> dict[str, float]:
    """The columns metrics.csv's last row adds: the threshold of the final evaluation (the one the summary
    prints: the weights kept, calibrated) and each headline metric's interval there."""
    return {"threshold": threshold, **interval_columns(estimates(y_true, y_prob, threshold))}


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
    given_costs = _costs_from_args(args)
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
    costs = trainer.costs
    if given_costs is not None:
        if y_prob.ndim == 2:
            raise UsageError(f"--cost-fp and --cost-fn choose the threshold between two classes; this model has "
                             f"{y_prob.shape[1]}, predicted by the most probable")
        costs, threshold = given_costs, least_cost_threshold(BinaryEval(y_true, y_prob), given_costs)[0]
    console = cli_console()
    console.print(f"{args.checkpoint}: epoch {trainer.total_epochs}, evaluated on {source}")
    if y_prob.ndim == 2 and args.threshold is not None:
        console.print("note: --threshold applies to binary tasks; multiclass predictions take the most probable class")
    console.print(evaluation_summary(y_true, y_prob, threshold, trainer.data.class_names,
                                     temperature=trainer.temperature, costs=costs if y_prob.ndim == 1 else None))
    return 0


def _costs_from_args(args: argparse.Namespace) -> Costs | None:
    """The costs that --cost-fp, --cost-fn and --prevalence give, or None without them.

    Raises:
        UsageError: one cost without the other, a prevalence without costs, or costs beside --threshold.
    """
    if args.cost_fp is None and args.cost_fn is None:
        if args.prevalence is not None:
            raise UsageError(f"--prevalence {args.prevalence:g} weighs the costs of errors: give --cost-fp and "
                             "--cost-fn too")
        return None
    if args.cost_fp is None or args.cost_fn is None:
        given, missing = ("--cost-fp", "--cost-fn") if args.cost_fn is None else ("--cost-fn", "--cost-fp")
        raise UsageError(f"{given} is given without {missing}: give both costs")
    if args.threshold is not None:
        raise UsageError("--threshold and the costs both choose the threshold: give --threshold, or --cost-fp and "
                         "--cost-fn")
    for flag, value in (("--cost-fp", args.cost_fp), ("--cost-fn", args.cost_fn)):
        if not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{flag} {value:g} is invalid: expected a finite number >= 0")
    if args.prevalence is not None and not 0 < args.prevalence < 1:
        raise UsageError(f"--prevalence {args.prevalence:g} is invalid: expected a share of positives between 0 and "
                         "1, exclusive")
    return Costs(args.cost_fp, args.cost_fn, args.prevalence)


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
