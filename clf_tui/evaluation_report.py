"""The numbers of an evaluation's summary beside its confusion matrix, for the command line: the headline metrics
with their intervals, the calibration with a reliability table, and the costs of errors with the cost curve."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from clf_tui.engine.calibration import Reliability, apply_temperature, reliabilities
from clf_tui.engine.comparable import log_loss
from clf_tui.engine.costs import Costs, cost_curve, expected_cost, least_cost_threshold
from clf_tui.engine.headline import INTERVAL_NOTE, LABELS, Estimate
from clf_tui.engine.metrics import BinaryEval

CURVE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""Where the summary shows the expected cost per case, beside the threshold of least cost."""


def metrics_table(title: str | Text, found: dict[str, Estimate], plain: Sequence[tuple[str, float]] = ()) -> Table:
    """One row per headline metric, ``0.915 [0.876, 0.950]``, then the ``plain`` (name, value) rows."""
    table = Table(title=title, title_justify="left", show_header=False, caption=INTERVAL_NOTE,
                  caption_justify="left")
    table.add_column()
    table.add_column(justify="right")
    table.add_column()
    for name, estimate in found.items():
        table.add_row(LABELS[name], f"{estimate.value:.3f}", str(estimate.interval))
    for name, value in plain:
        table.add_row(name, f"{value:.3f}", "")
    return table


def calibration_view(y_true: np.ndarray, y_prob: np.ndarray, class_names: Sequence[str],
                     temperature: float = 1.0) -> Group:
    """The Brier score and ECE of probabilities calibrated by ``temperature`` (1: none), with (binary) the
    reliability table of the bins that hold rows; with a temperature, the same before it, and the log loss
    that the temperature was fit to lower."""
    after = reliabilities(y_true, y_prob, tuple(class_names))
    before = None
    if temperature != 1.0:  # dividing the logits by 1 / T gives back the model's own probabilities
        raw = apply_temperature(y_prob, 1 / temperature)
        before = reliabilities(y_true, raw, tuple(class_names))
        fit = (f"temperature {temperature:.3f}, fit on the validation rows: log loss from "
               f"{log_loss(y_true, raw):.4f} to {log_loss(y_true, y_prob):.4f}")
    if len(after) == 1:
        (diagram,) = after
        lines = [f"calibration of P({diagram.subject}): Brier {diagram.brier:.4f}, ECE {diagram.ece:.4f}"]
        if before is not None:
            lines += [fit, f"before it: Brier {before[0].brier:.4f}, ECE {before[0].ece:.4f}"]
        return Group(*(Text(line) for line in lines),
                     reliability_table(diagram, before[0] if before is not None else None))
    table = Table(title="calibration, each class against the rest", title_justify="left")
    table.add_column("class vs rest")
    for name in ("Brier", "ECE") + (("Brier before", "ECE before") if before is not None else ()):
        table.add_column(name, justify="right")
    for i, diagram in enumerate(after):
        cells = [f"{diagram.brier:.4f}", f"{diagram.ece:.4f}"]
        if before is not None:
            cells += [f"{before[i].brier:.4f}", f"{before[i].ece:.4f}"]
        table.add_row(diagram.subject.removesuffix(" vs rest")[:16], *cells)
    return Group(table, *([Text(fit)] if before is not None else []))


def reliability_table(after: Reliability, before: Reliability | None = None) -> Table:
    """Bin, mean predicted probability, observed share of positives and rows, for each bin that holds rows
    (before the temperature too, when given)."""
    diagrams = [(before, "before P"), (after, "after P")] if before is not None else [(after, "mean P")]
    title = ("reliability per bin of predicted P, before the temperature and after" if before is not None
             else "reliability per bin of predicted P: its mean, the share positive")
    table = Table(title=title, title_justify="left")
    table.add_column("bin")
    for _, name in diagrams:
        table.add_column(name, justify="right")
        table.add_column("observed", justify="right")
        table.add_column("rows", justify="right")
    edges = after.edges
    for b in range(len(edges) - 1):
        if not any(diagram.counts[b] for diagram, _ in diagrams):
            continue
        cells = []
        for diagram, _ in diagrams:
            count = int(diagram.counts[b])
            cells += [f"{diagram.mean_predicted[b]:.3f}", f"{diagram.observed[b]:.3f}", str(count)] if count else \
                ["", "", "0"]
        table.add_row(f"{edges[b]:.1f}-{edges[b + 1]:.1f}", *cells)
    return table


def costs_view(evaluation: BinaryEval, costs: Costs, threshold: float) -> Group:
    """What each error costs, the prevalence weighed, the threshold of least expected cost and its cost per
    case, the cost at ``threshold`` when that is another, and the expected cost across thresholds."""
    best_threshold, best_cost = least_cost_threshold(evaluation, costs)
    curve = cost_curve(evaluation, costs)
    whose = "given" if costs.prevalence is not None else "the validation rows'"
    lines = [f"costs of errors: a false positive {costs.false_positive:g}, a false negative {costs.false_negative:g}",
             f"prevalence of positives: {curve.prevalence:.3f} ({whose})",
             f"least expected cost: {best_cost:.4f} per case, at threshold {best_threshold:.4g}"]
    if threshold != best_threshold:
        lines.append(f"at threshold {threshold:.4g}, the one used: {expected_cost(evaluation, costs, threshold):.4f} "
                     "per case")
    table = Table(title="expected cost per case by threshold", title_justify="left", box=None, padding=(0, 1))
    table.add_column("threshold", style="bold")
    for t in CURVE_THRESHOLDS:
        table.add_column(f"{t:g}", justify="right")
    table.add_row("cost", *(f"{expected_cost(evaluation, costs, t):.3f}" for t in CURVE_THRESHOLDS))
    return Group(*(Text(line) for line in lines), table)

