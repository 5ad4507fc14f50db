"""Generated argument lists for every clf-tui command: exit code 0, 1 (diverged) or 2, and a bad one is one line
on stderr."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from clf_tui.cli import main
from clf_tui.engine.config import FIELDS
from tests.limits import HANG_S


def fuzz(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


CLF_TUI = Path(sys.executable).with_name("clf-tui")

# Every value a generated list can give is small: a valid list trains one or two epochs of a tiny model.
# Decimal digits are left out of free text for the same reason (no "--n-samples 99999999").
FREE_TEXT = st.text(st.characters(exclude_categories=("Nd", "Cs"), exclude_characters="\x00"), max_size=6)
FILES = ["good.csv", "bad.csv", "absent.csv", "good.toml", "bad.toml", "notes.pt", "folder", "run/checkpoint.pt"]
FIELD_VALUES = {
    "dataset": ["moons", "iris", "good.csv", "bad.csv", "absent.csv", "folder", "notes.pt", "mnist"],
    "target": ["kind", "length", "nope", ""],
    "n_samples": ["40", "3", "-1", "default"], "noise": ["0.1", "-1", "nan"], "n_classes": ["2", "1", "101"],
    "val_fraction": ["0.25", "0", "1", "nan"], "epochs": ["1", "2", "0", "-3", "1.5", "1e3"],
    "hidden": ["4", "4,4", "0", "", "a,b", "70000"], "batch_size": ["16", "0", "1000"],
    "device": ["cpu", "auto", "cuda", "cuda:7", "tpu"], "threads": ["1", "0", "2000"],
    "lr": ["0.01", "0", "-1", "inf"], "out_dir": ["out", "", "good.csv"],
    "scaler": ["minmax", "none", "robust"], "model": ["logistic", "mlp", "svm"], "loss": ["mse", "nll", "hinge"],
    "optimizer": ["sgd", "lbfgs"], "pos_weight": ["auto", "2", "-1", "many"], "betas": ["0.9,0.99", "0.9", "1,1"],
}
OTHER_VALUES = ["0", "1", "-1", "0.5", "true", "no", "nan", "abc", ""]
TRAIN_OPTIONS = {
    **{f"--{name.replace('_', '-')}": FIELD_VALUES.get(name, OTHER_VALUES) for name in FIELDS},
    "--config": FILES, "--resume": FILES, "--out": ["out", "folder/run", "good.csv", ""],
    "--tensorboard": ["tb", "folder/tb", "good.csv", "good.csv/tb", ""],
}
COMPARE_OPTIONS = {
    **{f"--{name.replace('_', '-')}": FIELD_VALUES.get(name, OTHER_VALUES) for name in FIELDS},
    "--config": FILES, "--seeds": ["2", "0", "-1", "101", "x"], "--out": ["out.csv", "folder", "out/c.csv", ""],
}
EVAL_OPTIONS = {
    "--threshold": ["0.5", "0", "1", "2", "-0.1", "nan", "inf", "x", ""],
    "--data": ["good.csv", "bad.csv", "moons", "iris", "absent.csv", "folder"],
    "--target": ["kind", "length", "nope"], "--device": ["cpu", "auto", "cuda", "gpu"],
}
ODD_TOKENS = ["--", "-", "-h5", "--epo", "--dat", "--hidden=4", "--threshold=-1", "--config=", "-x", "--bogus"]
UNKNOWN_OPTIONS = ["--no-such-option", "--bogus=1", "-q", "--epochs-count"]


def pieces(options: dict[str, list[str]], positionals: list[str]) -> st.SearchStrategy[list[str]]:
    """Arguments built from whole pieces: an option with a fitting value, ``--option=value``, a bare option,
    a positional, or an odd token."""
    def with_value(flag: str) -> st.SearchStrategy[list[str]]:
        value = st.sampled_from(options[flag]) | FREE_TEXT
        return st.one_of(value.map(lambda v: [flag, v]), value.map(lambda v: [f"{flag}={v}"]))

    kinds = [st.sampled_from(positionals + ODD_TOKENS).map(lambda token: [token]), FREE_TEXT.map(lambda text: [text])]
    if options:
        flags = st.sampled_from(sorted(options))
        kinds += [flags.flatmap(with_value), flags.flatmap(with_value), flags.map(lambda flag: [flag])]
    return st.lists(st.one_of(kinds), max_size=4).map(lambda parts: [token for part in parts for token in part])


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in this process: its exit code, stdout and stderr. Any exception but SystemExit escapes."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's --help and --version
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def check_outcome(code: int, out: str, err: str, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    """Exit 0; 1 for a valid run that diverged (an extreme learning rate, say); or 2 and one line."""
    assert code in allowed, (code, err)
    event(f"exit {code}")
    assert "Traceback" not in out + err
    if code == 1:
        assert "diverged" in out, out
    if code == 2:
        assert err.startswith("clf-tui: error: ") and err.count("\n") == 1 and err.endswith("\n"), err
        assert "\r" not in err


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of the files the generated arguments name, with a checkpoint trained on good.csv."""
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    rows = "".join(f"{a:.3f},{b:.3f},{'spam' if a + b > 0 else 'ham'}\n" for a, b in X)
    (folder / "good.csv").write_text("length,links,kind\n" + rows)
    (folder / "bad.csv").write_text("a,b\n1,x\n")
    (folder / "good.toml").write_text("epochs = 1\nn_samples = 40\nhidden = [4]\n")
    (folder / "bad.toml").write_text("epochs = 'many'\n")
    (folder / "notes.pt").write_text("not a checkpoint\n")
    (folder / "folder").mkdir()
    code, _, err = run_main(["train", "--dataset", str(folder / "good.csv"), "--target", "kind", "--epochs", "1",
                             "--hidden", "4", "--out", str(folder / "run")])
    assert code == 0, err
    return folder


@pytest.fixture
def in_files(files: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Work in the files' folder, where any run writes its output, and never open the app."""
    def no_app(**kwargs: object) -> int:
        raise AssertionError(f"the interactive app would open with {kwargs}")

    monkeypatch.chdir(files)
    monkeypatch.setattr("clf_tui.tui.app.run_app", no_app)
    yield files


COMMANDS = st.sampled_from([
    ("train", pieces(TRAIN_OPTIONS, [])),
    ("eval", pieces(EVAL_OPTIONS, FILES)),
    ("compare", pieces(COMPARE_OPTIONS, [])),
    ("datasets", pieces({}, [])),
])


@fuzz(max_examples=200)
@given(COMMANDS.flatmap(lambda command: command[1].map(lambda args: [command[0], *args])))
@example(["train", "--n-samples", "40", "--hidden", "4", "--out", "out"])  # valid lists
@example(["eval", "run/checkpoint.pt", "--data", "good.csv", "--threshold", "0.3"])
@example(["train", "--dataset", "a\nb.csv", "--target", "y"])  # a line break in a value
@example(["datasets", "x\ry"])
@example(["compare", "--config", "good.toml", "--config", "good.toml", "--loss", "mse", "--out", "out.csv"])
@example(["train", "--out", "good.csv", "--n-samples", "40"])  # a file where the output folder belongs
def test_generated_arguments_exit_0_1_or_2(in_files: Path, argv: list[str]) -> None:
    if argv[0] in ("train", "compare"):
        argv[1:1] = ["--epochs", "1"]  # the default of 100 epochs would make a valid list slow; it may override
    if argv[0] == "compare":
        argv[1:1] = ["--seeds", "2"]
    check_outcome(*run_main(argv))


@fuzz(max_examples=200)
@given(st.sampled_from([[], ["train"], ["eval", "run/checkpoint.pt"], ["compare"], ["datasets"]]),
       pieces(TRAIN_OPTIONS, FILES), st.sampled_from(UNKNOWN_OPTIONS), st.integers(0, 8))
def test_arguments_with_an_unknown_option_exit_2(in_files: Path, command: list[str], args: list[str],
                                                  unknown: str, at: int) -> None:
    """With an option no parser knows, every command (the app's too) refuses the list before it does anything."""
    args.insert(min(at, len(args)), unknown)
    check_outcome(*run_main(command + args), allowed=(2,))


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["train", "--help"], ["eval", "-h"],
                                  ["datasets", "--help"], ["datasets"]])
def test_help_version_and_listing_exit_0(in_files: Path, argv: list[str]) -> None:
    code, out, err = run_main(argv)
    assert (code, err) == (0, "") and out


def test_a_leaked_exception_fails_the_property(in_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Were a command to let an IndexError through, the property would fail, not pass quietly."""
    def leaky_listing() -> int:
        raise IndexError("list index out of range")

    monkeypatch.setattr("clf_tui.commands.list_datasets", leaky_listing)
    with pytest.raises(IndexError):
        test_generated_arguments_exit_0_1_or_2(in_files=in_files)


@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "0"],
    ["train", "--dataset"],
    ["train", "--n-samples", "1000000000000"],
    ["train", "--dataset", "a\nb.csv", "--target", "y"],
    ["train", "--config", "bad.toml"],
    ["eval", "notes.pt"],
    ["eval", "run/checkpoint.pt", "--threshold", "nan"],
    ["datasets", "--bogus"],
    ["compare", "--seeds", "0"],
    ["--bogus"],
    ["train", b"--dataset=\xff.csv", "--target", "y"],
])
def test_a_real_terminal_gets_one_line_and_no_traceback(files: Path, argv: list[str | bytes]) -> None:
    """The installed `clf-tui` script, as a shell runs it (bytes: an argument that is not UTF-8)."""
    done = subprocess.run([CLF_TUI, *argv], cwd=files, capture_output=True, timeout=HANG_S)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, err
    assert done.stdout == b"" and err.startswith("clf-tui: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
