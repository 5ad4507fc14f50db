"""The command line: train / eval / datasets on real data and files, and one-line errors for bad input."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from clf_tui.cli import main
from clf_tui.engine import RunConfig, Trainer, read_checkpoint
from tests.limits import HANG_S


def write_csv(path: Path, n: int = 120, seed: int = 0) -> Path:
    """Two numeric features and a string label that depends on them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    labels = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "spam", "ham")
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["length", "links", "kind"])
        writer.writerows([f"{a:.4f}", f"{b:.4f}", label] for (a, b), label in zip(X, labels))
    return path


def clf_tui(*args: str, timeout: float = HANG_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clf_tui", *args], capture_output=True, text=True, timeout=timeout)


def test_train_on_a_csv_writes_checkpoint_config_and_metrics(tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "mail.csv")
    out = tmp_path / "run"
    code = main(["train", "--dataset", str(data), "--target", "kind", "--epochs", "7", "--hidden", "8",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.count("epoch ") >= 7  # not a terminal: one plain line per epoch
    assert "confusion matrix at 0.5" in printed and "AUROC" in printed and "ham" in printed and "spam" in printed
    assert str(out / "checkpoint.pt") in printed
    state = read_checkpoint(out / "checkpoint.pt")
    assert state["epoch"] == 7 and state["class_names"] == ["ham", "spam"]
    assert RunConfig.load(out / "config.toml").hidden == (8,)
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 8))
    assert float(rows[-1]["train_loss"]) == pytest.approx(state["history"]["loss"][-1])
    assert {"val_loss", "val_accuracy", "val_auroc", "duration_s"} <= set(rows[0])


def test_resume_continues_the_run(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "--n-samples", "200", "--epochs", "3", "--out", str(out)]) == 0
    assert main(["train", "--resume", str(out / "checkpoint.pt"), "--epochs", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    assert read_checkpoint(out / "checkpoint.pt")["epoch"] == 5
    reference = Trainer.from_config(RunConfig(n_samples=200))
    reference.train(5)
    assert read_checkpoint(out / "checkpoint.pt")["history"]["loss"] == reference.losses


def test_eval_prints_metrics_at_the_threshold(tmp_path: Path, capsys) -> None:
    data = write_csv(tmp_path / "mail.csv")
    out = tmp_path / "run"
    main(["train", "--dataset", str(data), "--target", "kind", "--epochs", "5", "--out", str(out)])
    capsys.readouterr()
    assert main(["eval", str(out / "checkpoint.pt"), "--threshold", "0.3"]) == 0
    printed = capsys.readouterr().out
    assert "threshold 0.3" in printed and "confusion matrix at 0.3" in printed
    trainer = Trainer.from_checkpoint(out / "checkpoint.pt")
    from clf_tui.engine.metrics import BinaryEval

    report = BinaryEval(*trainer.evaluate()).at(0.3)
    assert f"{report.accuracy:.3f}" in printed and f"{report.tp} (" in printed
    other = write_csv(tmp_path / "other.csv", n=50, seed=1)
    assert main(["eval", str(out / "checkpoint.pt"), "--data", str(other)]) == 0
    assert f"evaluated on {other}, 50 rows" in capsys.readouterr().out


def test_datasets_lists_every_built_in(capsys) -> None:
    assert main(["datasets"]) == 0
    printed = capsys.readouterr().out
    for name in RunConfig.__dataclass_fields__["dataset"].default, "breast_cancer", "digits", "spiral", "cubic":
        assert name in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--lr", "-1"], "lr = -1.0 is invalid"),
        (["train", "--optimizer", "adagrad"], "optimizer = 'adagrad' is invalid; choose one of"),
        (["train", "--speed", "3"], "unrecognized arguments: --speed"),
        (["train", "--dataset", "missing.csv", "--target", "y"], "no such data file"),
        (["train", "--config", "missing.toml"], "no such config file"),
        (["eval", "missing.pt"], "no such checkpoint"),
        (["eval"], "the following arguments are required: checkpoint"),
        (["train", "--device", "cuda:7"], "cuda:7"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str, capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("clf-tui: error: ") and message in err and err.count("\n") == 1


def test_bad_data_and_checkpoints_through_the_real_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,4,y,5\n")
    result = clf_tui("train", "--dataset", str(bad), "--target", "label")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "line 3 has 4 fields" in result.stderr and result.stderr.count("\n") == 1
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(os.urandom(1000))
    result = clf_tui("eval", str(corrupt))
    assert result.returncode == 2 and "corrupt or truncated" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_stops_after_the_batch_and_leaves_a_consistent_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "clf_tui", "train", "--n-samples", "20000", "--epochs", "500", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for line in process.stdout:  # not a terminal: one line per epoch
            if line.startswith("epoch ") and line.split()[1].startswith("2/"):
                break
        time.sleep(0.05)  # land the signal in the middle of an epoch
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=HANG_S)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    state = read_checkpoint(out / "checkpoint.pt")
    assert state["epoch"] >= 2 and len(state["history"]["loss"]) == state["epoch"]
    resumed = Trainer.from_checkpoint(out / "checkpoint.pt")
    reference = Trainer.from_config(RunConfig(n_samples=20000))
    reference.train(state["epoch"] + 1)
    resumed.train(1)
    assert resumed.losses == reference.losses


def test_help_and_module_entry_point() -> None:
    result = clf_tui("--help")
    assert result.returncode == 0 and "train" in result.stdout and "--dataset" in result.stdout
    result = clf_tui("train", "--help")
    assert result.returncode == 0 and "--resume" in result.stdout and "--batch-size" in result.stdout


def test_markup_in_class_names_columns_and_paths_prints_as_written(tmp_path: Path, capsys) -> None:
    """Square brackets that Rich would read as markup ("[/x]" raised, "[red]neg" printed as "neg")."""
    folder = tmp_path / "[red]runs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    rows = [f"{x:.3f},{(i * 7) % 11},{'[/x]' if x > 0 else '[red]neg'}" for i, x in enumerate(rng.normal(size=80))]
    data = folder / "m.csv"
    data.write_text("[bold]x1,x2,label\n" + "\n".join(rows) + "\n")
    out = folder / "run"
    commands = {
        "train": ["train", "--dataset", str(data), "--target", "label", "--epochs", "2", "--out", str(out)],
        "eval": ["eval", str(out / "checkpoint.pt")],
        "predict": ["predict", str(out / "checkpoint.pt"), "--data", str(data)],
        "inspect": ["inspect", str(data), "--target", "label"],
    }
    for name, argv in commands.items():
        assert main(argv) == 0, name
        printed = capsys.readouterr().out
        assert "[red]neg" in printed and "[/x]" in printed, name
        if name in ("train", "eval"):
            assert str(folder) in printed, name
    assert main(["inspect", str(data), "--target", "label"]) == 0
    assert "[bold]x1" in capsys.readouterr().out
