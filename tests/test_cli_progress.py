"""`clf-tui train`'s progress and its end: epoch lines kept above a terminal's bar, how a run ended said once,
and a data file that is not there named as such."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from clf_tui.cli import main
from clf_tui.engine.events import EpochEnded, RunEnded, RunStarted
from clf_tui.report import LINES_PER_RUN, SLOW_EPOCH_S, ProgressPrinter, ended_text
from tests.limits import HANG_S
from tests.terminal import run_in_terminal

EPOCH_LINE = re.compile(r"epoch +(\d+)/(\d+)  loss")


def kept_epochs(start: int, n_epochs: int, duration_s: float = 0.01, slow: frozenset[int] = frozenset()) -> list[int]:
    """The epochs whose lines a terminal's progress printer keeps for a run of ``n_epochs`` after ``start``."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with ProgressPrinter(console) as printer:
        printer.handle(RunStarted("cpu", "cpu as asked", start, n_epochs, 80, 20, "binary", 2))
        for epoch in range(start + 1, start + n_epochs + 1):
            seconds = SLOW_EPOCH_S if epoch in slow else duration_s
            printer.handle(EpochEnded(epoch, 0.5, 0.4, {"accuracy": 0.8}, seconds, 80 / seconds))
        printer.handle(RunEnded("completed", start + n_epochs, f"trained {n_epochs} epochs"))
    text = out.getvalue()
    assert "completed: trained" in text
    return sorted({int(match[0]) for match in EPOCH_LINE.findall(text)})


def test_a_short_run_keeps_every_epoch_line_above_the_bar() -> None:
    assert kept_epochs(0, 7) == list(range(1, 8))
    assert kept_epochs(0, LINES_PER_RUN) == list(range(1, LINES_PER_RUN + 1))


def test_a_long_run_keeps_about_twenty_lines_evenly_spaced_and_the_last() -> None:
    assert kept_epochs(0, 100) == list(range(5, 101, 5))
    assert kept_epochs(0, 1000) == list(range(50, 1001, 50))
    assert kept_epochs(0, 45) == [*range(3, 46, 3)]  # every third: 15 lines, the last epoch among them
    assert kept_epochs(0, 50) == [*range(3, 49, 3), 50]  # every third, and the last
    assert kept_epochs(200, 40) == list(range(202, 241, 2))  # a resumed run counts from where it started


def test_a_slow_epoch_keeps_its_line() -> None:
    assert kept_epochs(0, 100, slow=frozenset({7, 8})) == sorted({7, 8, *range(5, 101, 5)})
    assert kept_epochs(0, 30, duration_s=SLOW_EPOCH_S) == list(range(1, 31))


def test_how_a_run_ended_is_said_once() -> None:
    diverged = RunEnded("diverged", 2, "diverged: the loss became inf at epoch 3 (from 0.7 at the start)")
    assert ended_text(diverged) == diverged.message
    assert ended_text(RunEnded("early_stopped", 9, "early stop: validation loss has not improved for 3 epochs")) == (
        "early stop: validation loss has not improved for 3 epochs")
    assert ended_text(RunEnded("stopped", 4, "stopped after epoch 4")) == "stopped after epoch 4"
    assert ended_text(RunEnded("completed", 5, "trained 5 epochs")) == "completed: trained 5 epochs"


def test_train_at_lr_1e6_says_diverged_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--n-samples", "200", "--lr", "1e6", "--epochs", "5", "--out", str(tmp_path / "run")]) == 1
    printed = capsys.readouterr().out
    assert "diverged: the loss became" in printed and "diverged: diverged" not in printed


@pytest.mark.parametrize("command", [[], ["train"]], ids=["app", "train"])
def test_a_data_file_that_is_not_there_is_named(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nonexistent.csv"
    result = subprocess.run([sys.executable, "-m", "clf_tui", *command, "--dataset", str(missing)],
                            capture_output=True, text=True, timeout=HANG_S)
    assert result.returncode == 2
    assert result.stderr == f"clf-tui: error: no such data file: {missing}\n"


def test_train_at_a_terminal_keeps_lines_above_its_bar(tmp_path: Path) -> None:
    outcome = run_in_terminal("train", "--n-samples", "200", "--epochs", "40", "--out", str(tmp_path / "run"),
                              "--device", "cpu")
    assert outcome.returncode == 0, outcome.stderr
    assert sorted({int(match[0]) for match in EPOCH_LINE.findall(outcome.terminal)}) == list(range(2, 41, 2))
    assert "completed: trained 40 epochs" in outcome.terminal and (tmp_path / "run" / "checkpoint.pt").exists()
