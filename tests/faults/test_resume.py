"""Resume is exact, through the Python API and `clf-tui train --resume`, and refused on other data."""

from __future__ import annotations

import csv
import dataclasses
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from clf_tui.cli import main
from clf_tui.engine import CheckpointError, RunConfig, RunControl, Trainer, load_data, read_checkpoint
from tests.limits import HANG_S

CONFIGS = {
    "mlp, dropout, adam": RunConfig(n_samples=300, dropout=0.3),
    "momentum, nesterov, weight decay": RunConfig(n_samples=300, optimizer="momentum", nesterov=True, lr=0.05,
                                                  weight_decay=1e-3),
    "rmsprop, 3 blobs": RunConfig(dataset="blobs", n_samples=300, optimizer="rmsprop", lr=0.005, batch_size=20),
    "logistic, adamw, pos_weight auto": RunConfig(n_samples=300, model="logistic", optimizer="adamw",
                                                  pos_weight="auto"),
    "iris, nll, tanh": RunConfig(dataset="iris", loss="nll", activation="tanh", dropout=0.1),
}
EPOCHS_PER_LEG = (1, 3, 2)  # three runs, two resumes


def assert_same_training(resumed: dict[str, Any], uninterrupted: dict[str, Any]) -> None:
    """Two checkpoint dicts hold the same training, bit for bit: weights, optimiser, batch order, history.

    Epoch durations differ by nature. Only the trainer's own batch-order generator is compared
    between trainers of one process; torch's global generator is theirs to share.
    """
    assert resumed["epoch"] == uninterrupted["epoch"]
    for key in ("model_state", "optimizer_state"):
        torch.testing.assert_close(resumed[key]["state"] if key == "optimizer_state" else resumed[key],
                                   uninterrupted[key]["state"] if key == "optimizer_state" else uninterrupted[key],
                                   rtol=0, atol=0, msg=lambda m: f"{key}: {m}")
    assert torch.equal(resumed["rng"]["generator"], uninterrupted["rng"]["generator"])
    for key in ("loss", "val_loss", "val_metrics"):
        assert resumed["history"][key] == uninterrupted["history"][key], key


# -- the Python API --------------------------------------------------------------------------


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_resuming_through_the_api_twice_equals_the_uninterrupted_run(cfg: RunConfig, tmp_path: Path) -> None:
    uninterrupted = Trainer.from_config(cfg)
    uninterrupted.train(sum(EPOCHS_PER_LEG))

    first, second, third = EPOCHS_PER_LEG
    trainer = Trainer.from_config(cfg)
    trainer.train(first)
    trainer.save_checkpoint(tmp_path / "first.pt")
    trainer = Trainer.from_checkpoint(tmp_path / "first.pt")  # rebuilt from the file alone
    trainer.train(second)
    trainer.save_checkpoint(tmp_path / "second.pt")
    trainer = Trainer.from_config(cfg)  # the course's way: build, then load
    trainer.load_checkpoint(tmp_path / "second.pt")
    trainer.train(third)

    assert_same_training(trainer.state(), uninterrupted.state())
    np.testing.assert_array_equal(trainer.predict_proba(trainer.data.X_val),
                                  uninterrupted.predict_proba(uninterrupted.data.X_val))


def test_a_run_stopped_mid_epoch_resumes_exactly(tmp_path: Path) -> None:
    cfg = CONFIGS["mlp, dropout, adam"]
    trainer = Trainer.from_config(cfg)
    control = RunControl()
    steps = [0]

    def stop_in_epoch_3(*_: object) -> None:
        steps[0] += 1
        if steps[0] == 2 * 8 + 3:  # 240 training rows: 8 batches an epoch
            control.stop()

    trainer.optimizer.register_step_post_hook(stop_in_epoch_3)
    end = list(trainer.run(6, control=control, checkpoint_path=tmp_path / "stopped.pt"))[-1]
    assert end.reason == "stopped" and end.epoch == 2
    resumed = Trainer.from_checkpoint(tmp_path / "stopped.pt")
    resumed.train(4)
    uninterrupted = Trainer.from_config(cfg)
    uninterrupted.train(6)
    assert_same_training(resumed.state(), uninterrupted.state())



EARLY_STOPPING = RunConfig(n_samples=300, lr=0.05, early_stopping=True, patience=4)


@pytest.mark.parametrize("resume_before_stop", [1, 3])
def test_early_stopping_resumed_while_waiting_stops_where_the_uninterrupted_run_stops(
        tmp_path: Path, resume_before_stop: int) -> None:
    uninterrupted = Trainer.from_config(EARLY_STOPPING)
    end = list(uninterrupted.run(300))[-1]
    assert end.reason == "early_stopped"

    trainer = Trainer.from_config(EARLY_STOPPING)
    trainer.train(end.epoch - resume_before_stop)
    trainer.save_checkpoint(tmp_path / "waiting.pt")
    assert read_checkpoint(tmp_path / "waiting.pt")["early_stopping"]["waited"] > 0  # patience partly spent
    resumed = Trainer.from_checkpoint(tmp_path / "waiting.pt")
    resumed_end = list(resumed.run(300))[-1]
    assert (resumed_end.reason, resumed_end.epoch, resumed_end.message) == (end.reason, end.epoch, end.message)
    assert_same_training(resumed.state(), uninterrupted.state())

# -- the command line ------------------------------------------------------------------------

CLI_RUN = ["--n-samples", "300", "--dropout", "0.3", "--hidden", "16,16"]


def cli_train(out: Path, epochs: int, resume: Path | None = None) -> Path:
    """Run `clf-tui train` here, fresh or resumed, and return its checkpoint."""
    args = ["--resume", str(resume)] if resume else CLI_RUN
    assert main(["train", *args, "--epochs", str(epochs), "--out", str(out)]) == 0
    return out / "checkpoint.pt"


def metrics_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return [{k: v for k, v in row.items() if k != "duration_s"} for row in csv.DictReader(handle)]


def test_train_resume_twice_equals_the_uninterrupted_command(tmp_path: Path, capsys) -> None:
    uninterrupted = cli_train(tmp_path / "whole", sum(EPOCHS_PER_LEG))
    first, second, third = EPOCHS_PER_LEG
    checkpoint = cli_train(tmp_path / "leg1", first)
    checkpoint = cli_train(tmp_path / "leg2", second, resume=checkpoint)
    checkpoint = cli_train(tmp_path / "leg3", third, resume=checkpoint)
    capsys.readouterr()
    resumed_state, whole_state = read_checkpoint(checkpoint), read_checkpoint(uninterrupted)
    assert_same_training(resumed_state, whole_state)
    torch.testing.assert_close(resumed_state["rng"], whole_state["rng"], rtol=0, atol=0)  # one run per call here
    assert metrics_rows(tmp_path / "leg3" / "metrics.csv") == metrics_rows(tmp_path / "whole" / "metrics.csv")


@pytest.mark.slow
def test_ctrl_c_then_train_resume_in_new_processes_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    total_epochs = 8
    out = tmp_path / "interrupted"
    process = subprocess.Popen([sys.executable, "-m", "clf_tui", "train", *CLI_RUN, "--n-samples", "5000",
                                "--epochs", str(total_epochs), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("epoch ") and line.split()[1].startswith("3/"):
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=HANG_S)
    assert process.returncode == 130, err
    stopped_at = read_checkpoint(out / "checkpoint.pt")["epoch"]
    assert 3 <= stopped_at < total_epochs

    resumed = subprocess.run([sys.executable, "-m", "clf_tui", "train", "--resume", str(out / "checkpoint.pt"),
                              "--epochs", str(total_epochs - stopped_at), "--out", str(tmp_path / "resumed")],
                             capture_output=True, text=True, timeout=HANG_S)
    assert resumed.returncode == 0, resumed.stderr
    uninterrupted = Trainer.from_config(RunConfig(n_samples=5000, dropout=0.3, hidden=(16, 16)))
    uninterrupted.train(total_epochs)
    assert_same_training(read_checkpoint(tmp_path / "resumed" / "checkpoint.pt"), uninterrupted.state())


# -- other data is refused -------------------------------------------------------------------

BASE = RunConfig(n_samples=200, hidden=(8,))


@pytest.fixture(scope="module")
def base_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    trainer = Trainer.from_config(BASE)
    trainer.train(2)
    return trainer.save_checkpoint(tmp_path_factory.mktemp("base") / "run.pt")


OTHER_DATA = {
    "other rows": (BASE.replace(data_seed=1), "sha256, scaling"),
    "more rows": (BASE.replace(n_samples=260), "n_train, sha256, scaling"),
    "another split": (BASE.replace(split_seed=1), "sha256, scaling"),
    "a larger validation share": (BASE.replace(val_fraction=0.3), "n_train, sha256, scaling"),
    "another scaler": (BASE.replace(scaler="minmax"), "sha256, scaling"),
}


@pytest.mark.parametrize(("cfg", "differs"), OTHER_DATA.values(), ids=OTHER_DATA.keys())
def test_resuming_on_other_data_is_refused_by_every_api_path(base_checkpoint: Path, cfg: RunConfig,
                                                             differs: str) -> None:
    message = rf"{base_checkpoint} was trained on other data than moons \(differs in: {differs}\)$"
    with pytest.raises(CheckpointError, match=message):
        Trainer.from_checkpoint(base_checkpoint, data=load_data(cfg))
    with pytest.raises(CheckpointError, match=message):
        Trainer.from_config(cfg).load_checkpoint(base_checkpoint)


def test_other_validation_rows_alone_do_not_block_a_resume(base_checkpoint: Path) -> None:
    data = load_data(BASE)
    other_validation = dataclasses.replace(data, X_val=data.X_val + 1.0)
    assert Trainer.from_checkpoint(base_checkpoint, data=other_validation).total_epochs == 2


def write_mail_csv(path: Path, rows: int = 120, label: str = "ham", extra_column: bool = False,
                   shift: float = 0.0) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 3 if extra_column else 2))
    labels = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "spam", label)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["length", "links", *(["caps"] if extra_column else []), "kind"])
        writer.writerows([*(f"{v + shift:.4f}" for v in x), y] for x, y in zip(X, labels))
    return path


CSV_CHANGES = {
    "values shifted": ({"shift": 0.5}, "scaling"),  # the same numbers once standardised
    "rows added": ({"rows": 150}, "n_train, sha256, scaling"),
    "a class renamed": ({"label": "junk"}, "class_names"),
    "a column added": ({"extra_column": True}, "n_features, sha256, scaling"),
}


@pytest.mark.parametrize(("change", "differs"), CSV_CHANGES.values(), ids=CSV_CHANGES.keys())
def test_train_resume_after_the_csv_changed_exits_2_saying_so(tmp_path: Path, change: dict[str, Any], differs: str,
                                                              capsys) -> None:
    data = write_mail_csv(tmp_path / "mail.csv")
    out = tmp_path / "run"
    assert main(["train", "--dataset", str(data), "--target", "kind", "--epochs", "2", "--out", str(out)]) == 0
    saved = (out / "checkpoint.pt").read_bytes()
    write_mail_csv(data, **change)
    capsys.readouterr()

    code = main(["train", "--resume", str(out / "checkpoint.pt"), "--epochs", "1", "--out", str(tmp_path / "more")])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"was trained on other data than mail.csv (differs in: {differs})" in err
    assert (out / "checkpoint.pt").read_bytes() == saved and not (tmp_path / "more").exists()
