"""`clf-tui compare`: MSE against cross-entropy on the cubic set over 5 seeds gives the table, the CSVs and the
box plots, with the numbers of the seeds' own runs, every configuration on one scale and each one's own loss
under its name; bad input exits 2 with one line."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clf_tui.cli import main
from clf_tui.render.compare_report import METRIC_NAMES
from clf_tui.engine import RunConfig, Trainer
from tests.limits import HANG_S

EPOCHS = 25
SEEDS = 5


def write_config(path: Path, **settings: object) -> Path:
    RunConfig(**{"dataset": "cubic", "hidden": (8,), "epochs": EPOCHS, **settings}).save(path)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_mse_against_cross_entropy_on_cubic_over_five_seeds(tmp_path: Path, capsys) -> None:
    mse = write_config(tmp_path / "mse.toml", loss="mse")
    ce = write_config(tmp_path / "ce.toml", loss="cross_entropy")
    out = tmp_path / "results" / "cubic.csv"
    code = main(["compare", "--config", str(mse), "--config", str(ce), "--seeds", str(SEEDS), "--out", str(out),
                 "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0

    rows = read_csv(out)
    labels = ["loss=mse", "loss=cross_entropy"]
    assert [(r["config"], int(r["seed"])) for r in rows] == [(label, 42 + i) for label in labels for i in range(SEEDS)]
    assert {(r["end"], r["epochs"], r["kept_epoch"]) for r in rows} == {("completed", str(EPOCHS), str(EPOCHS))}
    epoch_rows = read_csv(out.with_name("cubic-epochs.csv"))
    assert len(epoch_rows) == 2 * SEEDS * EPOCHS
    last_epochs = [r for r in epoch_rows if int(r["epoch"]) == EPOCHS]
    assert [r["val_accuracy"] for r in last_epochs] == [r["val_accuracy"] for r in rows]

    # A seed's row holds what its own single run gives.
    single = Trainer.from_config(RunConfig.load(ce).replace(seed=44, device="cpu"))
    single.train(EPOCHS)
    row = rows[SEEDS + 2]
    assert float(row["val_loss_cross_entropy"]) == pytest.approx(single.val_losses[-1], rel=1e-5)
    assert float(row["val_accuracy"]) == single.val_metrics[-1]["accuracy"]
    # Each configuration's own losses in columns named after its loss, empty in the other's rows.
    assert [(r["loss"], bool(r["train_loss_mse"]), bool(r["train_loss_cross_entropy"])) for r in rows] == (
        [("mse", True, False)] * SEEDS + [("cross_entropy", False, True)] * SEEDS)
    assert "train_loss" not in rows[0] and "val_loss" not in epoch_rows[0]

    # The table: mean ± std over the seeds of every metric on one scale, for both losses.
    table = printed[printed.index("mean ± std") : printed.index("validation accuracy across")]
    assert all(label in table for label in labels)
    for metric in ("val_accuracy", "val_auroc", "val_log_loss", "val_average_precision"):
        cells = [f"{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f}"
                 for v in ([float(r[metric]) for r in rows if r["config"] == label] for label in labels)]
        line = next(line for line in table.splitlines() if line.startswith(METRIC_NAMES[metric] + " "))
        assert line.split() == f"{METRIC_NAMES[metric]} {cells[0]} {cells[1]}".split()
    # Each training loss on a row of its own, named, with the one configuration's value that is that loss.
    for loss in ("mse", "cross_entropy"):
        v = [float(r[f"train_loss_{loss}"]) for r in rows if r["loss"] == loss]
        line = next(line for line in table.splitlines() if line.startswith(f"train loss ({loss}) "))
        assert line.split()[3:] == f"{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f}".split()
    assert "val loss" not in table and "5 completed" in table

    # Box plots of validation accuracy, AUROC and log loss across the seeds, one box per loss, within 80 columns.
    for title in ("validation accuracy across 5 seeds", "validation AUROC across 5 seeds",
                  "validation log loss across 5 seeds"):
        plot = printed[printed.index(title):].splitlines()[1:5]
        assert plot[0].startswith("loss=mse ") and plot[1].startswith("loss=cross_entropy ")
        assert all("┃" in line for line in plot[:2]) and "┬" in plot[2]
        assert all(len(line) <= 80 for line in plot)
    assert str(out) in printed


def test_one_configuration_compares_its_seeds_with_options_applied_to_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "iris.csv"
    assert main(["compare", "--dataset", "iris", "--epochs", "4", "--seeds", "3", "--seed", "7", "--out", str(out),
                 "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert [(r["config"], r["seed"]) for r in read_csv(out)] == [("config 1", "7"), ("config 1", "8"), ("config 1", "9")]
    assert "macro F1" in printed and "macro AUROC" in printed and "validation accuracy across 3 seeds" in printed
    assert "validation macro AUROC across 3 seeds" in printed and "train loss (cross_entropy)" in printed


def test_options_apply_to_every_configuration(tmp_path: Path, capsys) -> None:
    """Both files name the cubic set; moved to moons by one option, they still share their data."""
    a = write_config(tmp_path / "a.toml", loss="mse", epochs=2)
    b = write_config(tmp_path / "b.toml", epochs=2)
    assert main(["compare", "--config", str(a), "--config", str(b), "--dataset", "moons", "--n-samples", "200",
                 "--seeds", "2", "--out", str(tmp_path / "o.csv"), "--device", "cpu"]) == 0
    assert "data    moons: 160 training rows, 40 validation rows, binary" in capsys.readouterr().out


def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    a = write_config(tmp_path / "a.toml")
    other = tmp_path / "other.toml"
    RunConfig(dataset="moons", epochs=2).save(other)
    cases = {
        ("--config", str(a), "--config", str(other)): "must share their data, but differ in dataset",
        ("--config", str(tmp_path / "missing.toml")): "no such config file",
        tuple(arg for _ in range(5) for arg in ("--config", str(a))): "5 configurations given: compare 1 to 4",
        ("--config", str(a), "--loss", "hinge"): "loss = 'hinge' is invalid",
        ("--config", str(a), "--seeds", "0"): "seeds = 0 is invalid",
        ("--seeds", "many"): "argument --seeds: invalid int value: 'many'",
    }
    for args, message in cases.items():
        assert main(["compare", *args, "--out", str(tmp_path / "x.csv")]) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "x.csv").exists()
    result = subprocess.run([sys.executable, "-m", "clf_tui", "compare", "--config", str(a), "--config", str(other)],
                            capture_output=True, text=True, timeout=HANG_S)
    assert result.returncode == 2 and result.stderr.startswith("clf-tui: error: the configurations must share")
    assert result.stderr.count("\n") == 1 and result.stdout == ""
