"""The data report of a CSV file for the command line: a row per column, the classes, every problem."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from clf_tui.datasets import DataReport

ROLE_STYLES = {"target": "bold magenta", "numeric": "cyan", "categorical": "green", "boolean": "yellow",
               "dropped": "dim"}


def data_report(report: DataReport, *, short: bool = False) -> Group:
    """The whole report (``clf-tui inspect``), or with ``short`` the one ``clf-tui train`` prints first:
    the features and the dropped columns in a line each, the classes, the problems."""
    parts: list[RenderableType] = [Text.assemble((report.name, "bold"), f": {report.n_rows:,} rows, "
                                                 f"{len(report.columns)} columns, target ", (report.target, "bold"))]
    parts.append(_short_columns(report) if short else _columns_table(report))
    parts.append(_classes(report))
    if report.problems:
        parts.append(Text("problems (training goes on past each):", style="bold yellow"))
        parts.extend(Text(f"  - {problem}") for problem in report.problems)
    return Group(*parts)


def _columns_table(report: DataReport) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 1), expand=True)
    ratios = {"values": 2, "why · what is done": 4}
    for heading in ("column", "role", "type", "missing", "values", "why · what is done"):
        table.add_column(heading, justify="right" if heading == "missing" else "left", overflow="fold",
                         ratio=ratios.get(heading), no_wrap=heading in ("role", "type", "missing"),
                         header_style="bold")
    for position, column in enumerate(report.columns, start=1):
        why = Text(column.reason)
        if column.is_feature:
            why.append(f" · {column.action}", style="dim")
        if column.problem:
            why.append(f"\n{column.problem}", style="yellow")
        table.add_row(Text(column.name or f"(column {position})", style="bold"),
                      Text(column.role, style=ROLE_STYLES[column.role]), Text(column.kind),
                      Text(f"{column.n_missing:,}" if column.n_missing else "·"), Text(column.values), why)
    return table


def _short_columns(report: DataReport) -> Text:
    text = Text("features: ", style="bold")
    text.append(", ".join(f"{c.name} ({c.role})" for c in report.features))
    dropped = [c for c in report.columns if c.role == "dropped"]
    if dropped:
        text.append("\nnot used: ", style="bold")
        text.append("; ".join(f"{c.name or '(column 1)'}: {c.reason}" for c in dropped))
    return text


def _classes(report: DataReport) -> Text:
    text = Text("classes: ", style="bold")
    total = sum(report.class_counts) or 1
    text.append(", ".join(f"{name} {count:,} ({100 * count / total:.0f}%)"
                          for name, count in zip(report.class_names, report.class_counts)))
    if report.positive is not None:
        text.append(" · positive class: ", style="bold")
        text.append(report.positive)
        text.append(" (--positive to choose)", style="dim")
    return text
