"""A comparison's results as text: the table of mean ± std per metric, and box plots across seeds.

Every configuration is measured on one scale (accuracy, AUROC, log loss from its probabilities); each one's own
training loss has a row of its own, named after that loss, as another configuration's may be another loss.

Shared by `clf-tui compare` and the app's compare screen; imports neither torch nor Textual.
"""

from __future__ import annotations

import math
from collections import Counter

from rich import box
from rich.table import Table

from clf_tui.render.boxplot import box_plot
from clf_tui.engine.comparison import Comparison, ConfigRuns

METRIC_NAMES = {
    "val_accuracy": "accuracy", "val_auroc": "AUROC", "val_log_loss": "log loss", "val_average_precision": "AP",
    "val_macro_f1": "macro F1",
}
BOX_TITLES = {"val_accuracy": "validation accuracy", "val_auroc": "validation AUROC",
              "val_log_loss": "validation log loss"}


def metric_name(metric: str, task: str) -> str:
    """The table's name of ``metric``: a multiclass task's AUROC is the macro one-vs-rest one."""
    name = METRIC_NAMES[metric]
    return f"macro {name}" if metric == "val_auroc" and task != "binary" else name


def train_loss_name(label: str) -> str:
    """The row of the training loss ``label`` (``mse``, ``bce_logits pos_weight=auto``): ``train loss (mse)``."""
    return f"train loss ({label})"


def mean_std_text(mean: float, std: float) -> str:
    """``0.912 ± 0.013``; the mean alone when std is undefined (one seed); a dash when there is no value."""
    if not math.isfinite(mean):
        return "—"
    return f"{mean:.3f} ± {std:.3f}" if math.isfinite(std) else f"{mean:.3f}"


def ended_text(runs: ConfigRuns) -> str:
    """How the seeds' runs ended, such as ``5 completed`` or ``4 completed, 1 diverged``."""
    counts = Counter(run.end.replace("_", " ") for run in runs.runs)
    return ", ".join(f"{n} {end}" for end, n in counts.most_common())


def comparison_table(comparison: Comparison) -> Table:
    """One row per metric, one column per configuration: mean ± std over the seeds of each kept epoch.

    The validation metrics come first, on one scale for all; then a row per training loss (``train loss (mse)``),
    filled only in the columns of the configurations that train with it.
    """
    seeds = comparison.seeds
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}–{seeds[-1]}"
    table = Table(title=f"{comparison.data_name}: mean ± std over {seed_text}", title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("metric", style="bold")  # a long training loss name may wrap, so that the numbers do not
    for runs in comparison.configs:
        table.add_column(runs.label, justify="right", overflow="fold", min_width=len("0.000 ± 0.000"))
    for metric in comparison.metrics:
        table.add_row(metric_name(metric, comparison.task),
                      *(mean_std_text(*runs.mean_std(metric)) for runs in comparison.configs))
    labels = comparison.loss_labels
    for label in dict.fromkeys(labels):
        table.add_row(train_loss_name(label), *(mean_std_text(*runs.mean_std("train_loss")) if own == label else ""
                                                for runs, own in zip(comparison.configs, labels)))
    table.add_row("ended", *(ended_text(runs) for runs in comparison.configs), style="dim")
    return table


def box_plots(comparison: Comparison, width: int) -> list[str]:
    """A titled box plot across seeds per box metric: validation accuracy, AUROC and log loss, each on one scale
    for every configuration (a training loss never shares an axis with another)."""
    lines: list[str] = []
    for metric in comparison.box_metrics:
        if lines:
            lines.append("")
        title = BOX_TITLES[metric].replace("AUROC", metric_name(metric, comparison.task))
        lines.append(f"{title} across {len(comparison.seeds)} seeds")
        lines += box_plot([(runs.label, runs.values(metric).tolist()) for runs in comparison.configs], width)
    return lines
