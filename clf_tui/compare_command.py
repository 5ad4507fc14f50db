"""`clf-tui compare`: configurations trained over the same seeds on the same data; the table, box plots and CSVs."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.progress import BarColumn, Progress, TaskID, TextColumn

from clf_tui.arguments import UsageError, config_from_args, lesson_from_args
from clf_tui.run_command import write_metrics_csv
from clf_tui.engine import RunConfig
from clf_tui.engine.atomic import claim_new_file
from clf_tui.engine.compare import compare as run_comparison
from clf_tui.engine.comparison import Comparison, ComparisonEnded, ComparisonStarted, SeedsEpochEnded, config_labels
from clf_tui.render.compare_report import box_plots, comparison_table
from clf_tui.report import cli_console

BOX_PLOT_WIDTH = 78


def compare(args: argparse.Namespace) -> int:
    """Train every --config (or the --lesson's configurations; the defaults without either) over --seeds seeds;
    print the results and write the CSVs.

    Ctrl-C ends the command at once (exit code 130) and writes nothing: there is nothing to resume.
    """
    lesson = lesson_from_args(args)
    bases = list(lesson.configs()) if lesson is not None else [RunConfig.load(path) for path in args.config or []]
    configs = [config_from_args(args, base=base) for base in bases or [RunConfig()]]
    labels = config_labels(configs)
    # The default name is claimed once there is something to write: a comparison cut short leaves no empty file.
    default_out = Path(configs[0].out_dir) / (
        f"compare-{Path(configs[0].dataset).stem}-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    out = Path(args.out) if args.out else None
    if out is not None and out.is_dir():  # refused before training rather than after
        raise UsageError(f"--out {out} is a folder: name the .csv file to write")
    console = cli_console()
    comparison: Comparison | None = None
    with Progress(TextColumn("{task.description}"), BarColumn(bar_width=20),
                  TextColumn("{task.completed:.0f}/{task.total:.0f} epochs"),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        tasks: list[TaskID] = []
        for event in run_comparison(configs, args.seeds, labels=labels):
            if isinstance(event, ComparisonStarted):
                console.print(f"data    {configs[0].dataset}: {event.n_train} training rows, {event.n_val} validation "
                              f"rows, {event.task}")
                console.print(f"device  {event.device} ({event.device_note})")
                console.print(f"seeds   {', '.join(str(s) for s in event.seeds)}, each configuration's as one batch")
                tasks = [progress.add_task(label[:30], total=n) for label, n in zip(event.labels, event.n_epochs)]
            elif isinstance(event, SeedsEpochEnded):
                progress.update(tasks[event.config_index], completed=event.epoch)
            elif isinstance(event, ComparisonEnded):
                comparison = event.comparison
    assert comparison is not None  # nothing stops this run but Ctrl-C, which raises
    for runs in comparison.configs:
        epochs = max(len(run.train_losses) for run in runs.runs)
        console.print(f"trained {runs.label}: {len(runs.runs)} seeds x {epochs} epochs in {runs.duration_s:.1f} s")
    console.print()
    console.print(comparison_table(comparison))
    console.print()
    console.print("\n".join(box_plots(comparison, min(console.width, BOX_PLOT_WIDTH))), markup=False)
    if out is None:  # compare-DATASET-TIMESTAMP-2.csv, -3, ... when another comparison took the name that second
        out = claim_new_file(default_out)
    seeds_path = write_metrics_csv(out, comparison.rows())
    epochs_path = write_metrics_csv(out.with_name(f"{out.stem}-epochs.csv"), comparison.epoch_rows())
    console.print(f"\nper seed    {seeds_path}\nper epoch   {epochs_path}")
    return 0
