"""Lessons from the command line (`clf-tui lessons`, `--lesson NAME` for the app, train and compare) and the
learned weights that `clf-tui train` prints for a logistic regression."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest

from clf_tui.cli import main
from clf_tui.engine import RunConfig, Trainer
from clf_tui.engine.lessons import LESSONS, lesson
from clf_tui.engine.parameters import logistic_weights


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The arguments the app would have been opened with, as if at a terminal."""
    calls: list[dict[str, Any]] = []

    def run_app(**kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    monkeypatch.setattr("clf_tui.tui.app.run_app", run_app)
    monkeypatch.setattr("clf_tui.cli._not_a_terminal", lambda: None)
    return calls


def test_lessons_lists_each_with_its_title(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lessons"]) == 0
    printed = capsys.readouterr().out
    for found in LESSONS.values():
        assert found.name in printed
        assert " ".join(found.title.split()[:3]) in " ".join(printed.split())
    assert "compare 4" in printed and "one run" in printed


def test_the_app_opens_on_a_lesson_with_the_options_applied(opened: list[dict[str, Any]]) -> None:
    assert main(["--lesson", "logistic-moons", "--epochs", "7"]) == 0
    (call,) = opened
    assert call["lesson"] is lesson("logistic-moons")
    assert call["config"] == lesson("logistic-moons").config.replace(epochs=7)
    assert main(["--lesson", "optimizers"]) == 0  # the app runs a comparison lesson's comparison itself
    assert opened[1]["lesson"].variants == ("optimizer=momentum", "optimizer=rmsprop", "optimizer=adam")
    assert main([]) == 0 and "lesson" not in opened[2]


@pytest.mark.parametrize(("args", "message"), [
    (["--lesson", "moons"], "unknown lesson 'moons'; lessons are: " + ", ".join(LESSONS)),
    (["train", "--lesson", "moons"], "unknown lesson 'moons'; lessons are: "),
    (["--lesson", "logistic-moons", "run.pt"], "a checkpoint and --lesson both say what to open"),
    (["train", "--lesson", "optimizers"], "lesson 'optimizers' compares 4 configurations: run clf-tui compare "
                                          "--lesson optimizers"),
    (["train", "--lesson", "logistic-moons", "--config", "run.toml"], "--lesson and --config both give"),
    (["train", "--lesson", "logistic-moons", "--resume", "run.pt"], "--resume continues a saved run as it was"),
])
def test_a_lesson_that_cannot_be_is_one_line(args: list[str], message: str, opened: list[dict[str, Any]],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("clf-tui: error: ") and err.count("\n") == 1 and message in err
    assert opened == []


def test_train_a_lesson_headless_and_print_its_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["train", "--lesson", "logistic-moons", "--epochs", "20", "--out", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    saved = RunConfig.load(out / "config.toml")
    assert saved == lesson("logistic-moons").config.replace(epochs=20, device="cpu")
    weights = logistic_weights(Trainer.from_checkpoint(out / "checkpoint.pt"))
    assert "learned weights" in printed and "scaled: per training standard deviation of a feature" in printed
    rows = {line.split()[0]: line.split()[1:] for line in printed.splitlines() if re.match(r"\s*(x1|x2|bias) ", line)}
    output = weights.outputs[0]
    assert rows["x1"] == [f"{output.weights[0].scaled:.4g}", f"{output.weights[0].raw:.4g}"]
    assert rows["x2"] == [f"{output.weights[1].scaled:.4g}", f"{output.weights[1].raw:.4g}"]
    assert rows["bias"] == [f"{output.bias_scaled:.4g}", f"{output.bias_raw:.4g}"]
    assert f"decision boundary where P(1) = 0.5: {weights.boundary(0.5).equation}" in printed
    assert re.search(r"x2 = -?[0-9.]+ x1 [+-] [0-9.]+", printed)


def test_train_prints_weights_for_a_logistic_model_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--dataset", "iris", "--model", "logistic", "--epochs", "2", "--out",
                 str(tmp_path / "iris")]) == 0
    printed = capsys.readouterr().out
    assert "learned weights" in printed and "P = softmax(scores)" in printed and "decision boundary" not in printed
    assert all(name in printed for name in ("setosa", "versicolor", "virginica"))
    assert main(["train", "--n-samples", "100", "--epochs", "2", "--out", str(tmp_path / "mlp")]) == 0
    assert "learned weights" not in capsys.readouterr().out


def test_compare_a_lessons_configurations_in_one_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "optimizers.csv"
    assert main(["compare", "--lesson", "optimizers", "--epochs", "2", "--seeds", "2", "--out", str(out),
                 "--device", "cpu"]) == 0
    assert "data    moons:" in capsys.readouterr().out
    with out.open() as handle:
        configs = [row["config"] for row in csv.DictReader(handle)]
    labels = ["optimizer=sgd", "optimizer=momentum", "optimizer=rmsprop", "optimizer=adam"]
    assert configs == [label for label in labels for _ in range(2)]
    assert main(["compare", "--lesson", "optimizers", "--config", "run.toml"]) == 2
    assert "--lesson and --config both give the settings" in capsys.readouterr().err
