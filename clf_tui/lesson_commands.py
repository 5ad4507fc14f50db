"""`clf-tui lessons`: the course's experiments, each set up in one step with --lesson NAME."""

from __future__ import annotations

from rich.table import Table

from clf_tui.engine.lessons import LESSONS
from clf_tui.report import cli_console


def list_lessons() -> int:
    """Print each lesson's name, what it runs and its title, and how to open one."""
    table = Table(title="lessons", title_justify="left")
    for name in ("name", "runs", "title"):
        table.add_column(name)
    for lesson in LESSONS.values():
        runs = f"compare {len(lesson.configs())}" if lesson.is_comparison else "one run"
        table.add_row(lesson.name, runs, lesson.title)
    console = cli_console()
    console.print(table)
    console.print("clf-tui --lesson NAME opens the app on a lesson; clf-tui train --lesson NAME trains a run headless, "
                  "clf-tui compare --lesson NAME compares.")
    return 0
