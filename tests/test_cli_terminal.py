"""`clf-tui` opens the app only at a terminal: with standard input or output anything else it exits 2 at once
with one line that points to `clf-tui train`, and writes nothing to where the screen would have gone."""

from __future__ import annotations

import time

import pytest

from clf_tui.cli import main
from tests.terminal import run_in_terminal


def test_output_into_a_pipe_is_refused() -> None:
    started = time.monotonic()
    outcome = run_in_terminal("--n-samples", "200", stdout_terminal=False)
    assert outcome.returncode == 2 and outcome.stdout == ""
    assert outcome.stderr == ("clf-tui: error: the app needs a terminal, and standard output is not one; to train "
                              "without a terminal, run clf-tui train with the same options\n")
    assert time.monotonic() - started < 60  # not an app drawing into the pipe until it is killed


def test_input_from_dev_null_is_refused() -> None:
    outcome = run_in_terminal(stdin_terminal=False)
    assert outcome.returncode == 2 and outcome.terminal == ""
    assert outcome.stderr.count("\n") == 1 and "standard input is not one" in outcome.stderr
    assert "run clf-tui train" in outcome.stderr


def test_bad_options_are_told_before_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lr", "fast"]) == 2
    assert "lr = 'fast' is not a number" in capsys.readouterr().err
