"""Training under its own failures: a learning rate of 1e6, a stop mid-epoch, and Ctrl-C to `clf-tui train`."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from clf_tui.cli import main
from clf_tui.engine import CheckpointSaved, RunConfig, RunControl, Trainer, read_checkpoint
from tests.limits import HANG_S

SMALL = RunConfig(n_samples=200, hidden=(16,), epochs=5)
BATCHES_PER_EPOCH = 5  # 160 training rows in batches of 32


def assert_same_tensors(ours: dict[str, torch.Tensor], theirs: dict[str, torch.Tensor]) -> None:
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert torch.equal(ours[name], theirs[name]), name


def optimizer_tensors(trainer: Trainer) -> dict[str, torch.Tensor]:
    """The optimiser's per-parameter state (moments, step counts), flattened to names."""
    return {f"{index}.{key}": value.clone() for index, state in trainer.optimizer.state_dict()["state"].items()
            for key, value in state.items() if isinstance(value, torch.Tensor)}


def count_steps(trainer: Trainer, on_step: Callable[[int], None] = lambda n: None) -> list[int]:
    """A one-item list holding the optimiser steps taken so far; ``on_step(n)`` runs after step n."""
    steps = [0]

    def after_step(*_: object) -> None:
        steps[0] += 1
        on_step(steps[0])

    trainer.optimizer.register_step_post_hook(after_step)
    return steps


# -- a learning rate of 1e6 -----------------------------------------------------------------


@pytest.mark.parametrize("model", ["mlp", "logistic"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "momentum", "rmsprop"])
def test_lr_1e6_diverges_keeping_the_last_good_weights_and_the_saved_checkpoint(tmp_path: Path, optimizer: str,
                                                                                model: str) -> None:
    trainer = Trainer.from_config(SMALL.replace(optimizer=optimizer, model=model))
    trainer.train(3)
    path = trainer.save_checkpoint(tmp_path / "run.pt")
    saved = path.read_bytes()
    good_weights, good_moments, good_losses = trainer.model.state_dict(), optimizer_tensors(trainer), trainer.losses
    good_weights = {k: v.clone() for k, v in good_weights.items()}
    for group in trainer.optimizer.param_groups:
        group["lr"] = 1e6

    events = list(trainer.run(5, checkpoint_path=path))

    end = events[-1]
    assert end.reason == "diverged" and end.epoch == 3, end.message
    assert "at epoch 4" in end.message and "the weights of epoch 3 are kept" in end.message
    assert trainer.total_epochs == 3 and trainer.losses == good_losses
    assert_same_tensors(trainer.model.state_dict(), good_weights)
    assert_same_tensors(optimizer_tensors(trainer), good_moments)
    assert not [e for e in events if isinstance(e, CheckpointSaved)]
    assert path.read_bytes() == saved and list(tmp_path.iterdir()) == [path]


def test_a_fresh_run_at_lr_1e6_keeps_its_first_weights_and_writes_nothing(tmp_path: Path) -> None:
    trainer = Trainer.from_config(SMALL.replace(lr=1e6))
    first_weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    end = list(trainer.run(5, checkpoint_path=tmp_path / "run.pt"))[-1]
    assert end.reason == "diverged" and end.epoch == 0 and "lower learning rate (lr = 1e+06)" in end.message
    assert_same_tensors(trainer.model.state_dict(), first_weights)
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_diverges_after_good_epochs_saves_the_last_good_one(tmp_path: Path) -> None:
    trainer = Trainer.from_config(SMALL)

    def raise_lr_after_epoch_2(step: int) -> None:  # a schedule gone wrong
        if step == 2 * BATCHES_PER_EPOCH:
            trainer.optimizer.param_groups[0]["lr"] = 1e6

    count_steps(trainer, raise_lr_after_epoch_2)
    events = list(trainer.run(10, checkpoint_path=tmp_path / "run.pt"))
    end = events[-1]
    assert end.reason == "diverged" and end.epoch == 2
    state = read_checkpoint(tmp_path / "run.pt")
    assert state["epoch"] == end.epoch and state["history"]["loss"] == trainer.losses
    assert_same_tensors(state["model_state"], trainer.model.state_dict())
    assert all(torch.isfinite(value).all() for value in state["model_state"].values())


def test_train_at_lr_1e6_reports_the_divergence_and_claims_no_checkpoint(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["train", "--n-samples", "200", "--lr", "1e6", "--epochs", "5", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1 and "diverged: the loss became" in printed and "Traceback" not in printed
    assert not (out / "checkpoint.pt").exists()
    assert str(out / "checkpoint.pt") not in printed and "checkpoint  none" in printed


# -- a stop request mid-epoch --------------------------------------------------------------


@pytest.mark.parametrize("stop_during_step", [1, 3, BATCHES_PER_EPOCH, BATCHES_PER_EPOCH + 1, 13])
def test_a_stop_during_a_batch_ends_the_run_after_that_batch(stop_during_step: int) -> None:
    trainer = Trainer.from_config(SMALL)
    control = RunControl()
    steps = count_steps(trainer, lambda n: control.stop() if n == stop_during_step else None)

    end = list(trainer.run(10, control=control))[-1]

    assert steps[0] == stop_during_step, "a batch was trained after the stop request"
    finished = stop_during_step // BATCHES_PER_EPOCH
    assert end.reason == "stopped" and end.epoch == trainer.total_epochs == finished
    reference = Trainer.from_config(SMALL)
    if finished:
        reference.train(finished)
    assert trainer.losses == reference.losses
    assert_same_tensors(trainer.model.state_dict(), reference.model.state_dict())
    assert_same_tensors(optimizer_tensors(trainer), optimizer_tensors(reference))


def test_a_stop_from_another_thread_lands_within_one_batch() -> None:
    trainer = Trainer.from_config(SMALL.replace(n_samples=20_000))
    control = RunControl()
    midway = threading.Event()
    steps = count_steps(trainer, lambda n: midway.set() if n == 100 else None)
    steps_when_stopped = []

    def stop_midway() -> None:
        midway.wait(30)
        control.stop()
        steps_when_stopped.append(steps[0])

    stopper = threading.Thread(target=stop_midway)
    stopper.start()
    end = list(trainer.run(3, control=control))[-1]
    stopper.join(30)
    assert steps[0] - steps_when_stopped[0] <= 1
    assert end.reason == "stopped" and trainer.total_epochs == 0 and trainer.losses == []


def test_a_stop_while_paused_mid_epoch_trains_no_further_batch() -> None:
    trainer = Trainer.from_config(SMALL)
    control = RunControl()
    steps = count_steps(trainer, lambda n: control.pause() if n == 3 else None)
    events: list[object] = []
    worker = threading.Thread(target=lambda: events.extend(trainer.run(5, control=control)))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive() and control.paused and steps[0] == 3
    control.stop()
    worker.join(30)
    assert not worker.is_alive() and steps[0] == 3 and events[-1].reason == "stopped"


# -- Ctrl-C to `clf-tui train` ---------------------------------------------------------------

CTRL_C_CONFIG = RunConfig(n_samples=5000)  # 125 batches an epoch, some 50 ms on one core


def start_train(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "clf_tui", "train", "--out", str(out), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_until(process: subprocess.Popen[str], prefix: str, times: int = 1) -> str:
    """Read the command's output up to the ``times``-th line that starts with ``prefix``; return that line."""
    for line in process.stdout:
        times -= line.startswith(prefix)
        if times == 0:
            return line
    raise AssertionError(f"the command ended before printing {prefix!r}: {process.stderr.read()}")


def interrupt(process: subprocess.Popen[str], delays_s: list[float]) -> tuple[str, str]:
    """Send SIGINT after each delay; return the rest of stdout and stderr."""
    stop = threading.Event()
    for delay in delays_s:
        stop.wait(delay)
        process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=HANG_S)
    finally:
        process.kill()


def wait_until_mapped(process: subprocess.Popen[str], library: str) -> None:
    """Wait until ``process`` has mapped a shared library whose path holds ``library``: its import has begun. A
    fixed delay would be too short on a busy machine, where the interpreter may not have set up its own signal
    handling yet."""
    maps = Path(f"/proc/{process.pid}/maps")
    deadline = time.monotonic() + HANG_S
    while library not in maps.read_text():
        assert process.poll() is None and time.monotonic() < deadline, f"{library} was never loaded"
        time.sleep(0.002)


def assert_resumes_exactly(checkpoint: Path, cfg: RunConfig, more_epochs: int) -> int:
    """Resume ``checkpoint`` here for ``more_epochs`` and compare with an uninterrupted run; return its epoch."""
    resumed = Trainer.from_checkpoint(checkpoint)
    epoch = resumed.total_epochs
    resumed.train(more_epochs)
    uninterrupted = Trainer.from_config(cfg)
    uninterrupted.train(epoch + more_epochs)
    assert resumed.losses == uninterrupted.losses and resumed.val_losses == uninterrupted.val_losses
    assert_same_tensors(resumed.model.state_dict(), uninterrupted.model.state_dict())
    assert_same_tensors(optimizer_tensors(resumed), optimizer_tensors(uninterrupted))
    return epoch


_moments = random.Random(130)
CTRL_C_MOMENTS_S = [0.0] + [_moments.uniform(0.0, 0.3) for _ in range(2)]


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", CTRL_C_MOMENTS_S, ids=lambda d: f"{d * 1000:.0f}ms")
def test_ctrl_c_exits_130_and_leaves_a_checkpoint_that_resumes_exactly(tmp_path: Path, delay_s: float) -> None:
    out = tmp_path / "run"
    process = start_train(out, "--n-samples", "5000", "--epochs", "400")
    read_until(process, "epochs ")  # training has begun
    rest, err = interrupt(process, [delay_s])
    assert process.returncode == 130, err
    assert err == "" and "stopping after this batch" in rest
    printed_epochs = sum(line.startswith("epoch ") for line in rest.splitlines())
    state = read_checkpoint(out / "checkpoint.pt")
    assert state["epoch"] == printed_epochs == len(state["history"]["loss"])
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "config.toml", "metrics.csv"]
    assert assert_resumes_exactly(out / "checkpoint.pt", CTRL_C_CONFIG, more_epochs=2) == state["epoch"]


@pytest.mark.slow
def test_ctrl_c_twice_aborts_with_130_and_keeps_the_checkpoint_whole(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    wide = ["--n-samples", "2000", "--hidden", "1024,1024"]  # a 12 MB checkpoint: the second Ctrl-C lands mid-save
    assert main(["train", *wide, "--epochs", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    before = (out / "checkpoint.pt").read_bytes()
    process = start_train(out, "--resume", str(out / "checkpoint.pt"), "--epochs", "400")
    read_until(process, "epoch ")
    process.send_signal(signal.SIGINT)
    read_until(process, "stopping after this batch")
    rest, err = interrupt(process, [0.0])
    assert process.returncode == 130, err
    assert err == "" and "aborted: the last checkpoint written (if any) is intact" in rest
    state = read_checkpoint(out / "checkpoint.pt")
    assert (out / "checkpoint.pt").read_bytes() == before or state["epoch"] >= 2
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_terminal_closed_or_a_kill_stops_like_ctrl_c_and_leaves_a_checkpoint_that_resumes_exactly(
        tmp_path: Path, signum: int) -> None:
    out = tmp_path / "run"
    process = start_train(out, "--n-samples", "5000", "--epochs", "400")
    read_until(process, "epoch ")  # an epoch has ended
    process.send_signal(signum)
    try:
        rest, err = process.communicate(timeout=HANG_S)
    finally:
        process.kill()
    assert process.returncode == 128 + signum, err
    assert err == "" and f"stopping after this batch ({signal.Signals(signum).name} again to abort)" in rest
    state = read_checkpoint(out / "checkpoint.pt")
    assert state["epoch"] >= 1 and state["epoch"] == len(state["history"]["loss"])
    assert assert_resumes_exactly(out / "checkpoint.pt", CTRL_C_CONFIG, more_epochs=2) == state["epoch"]


@pytest.mark.slow
def test_a_reader_that_closes_the_pipe_stops_the_run_with_a_checkpoint_that_resumes_exactly(tmp_path: Path) -> None:
    """As ``clf-tui train ... | head -3`` or quitting ``less`` does: the rest of the output goes nowhere."""
    out = tmp_path / "run"
    process = start_train(out, "--n-samples", "5000", "--epochs", "400")
    read_until(process, "epoch ")
    process.stdout.close()
    try:
        _, err = process.communicate(timeout=HANG_S)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGPIPE and err == ""
    state = read_checkpoint(out / "checkpoint.pt")
    assert state["epoch"] >= 1
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "config.toml", "metrics.csv"]
    assert assert_resumes_exactly(out / "checkpoint.pt", CTRL_C_CONFIG, more_epochs=2) == state["epoch"]


@pytest.mark.slow
def test_ctrl_c_again_while_the_summary_is_written_aborts_with_130(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # 198,000 validation rows and 2,000 training rows: validating takes most of an epoch, and
    # the command validates once more for its summary after the run has ended.
    process = start_train(out, "--n-samples", "200000", "--val-fraction", "0.99", "--hidden", "256,256",
                          "--epochs", "400")
    epoch_line = read_until(process, "epoch ")
    process.send_signal(signal.SIGINT)
    read_until(process, "stopped")  # the run's last event: the command writes its files and summary next
    samples_per_s = float(epoch_line.split()[-2].replace(",", ""))
    rest, err = interrupt(process, [0.3 * 2000 / samples_per_s])  # a third into the summary's validation
    assert process.returncode == 130, err
    assert err == "" and "aborted: the last checkpoint written (if any) is intact" in rest
    read_checkpoint(out / "checkpoint.pt")


@pytest.mark.slow
@pytest.mark.parametrize("entry", [["-m", "clf_tui"], ["-c", "from clf_tui.cli import run; run()"]],
                         ids=["module", "script"])
def test_ctrl_c_while_torch_loads_exits_130_in_one_line(tmp_path: Path, entry: list[str]) -> None:
    process = subprocess.Popen([sys.executable, *entry, "train", "--out", str(tmp_path / "run")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until_mapped(process, "libtorch")  # the command has parsed its options and is importing torch
    _, err = interrupt(process, [0])
    assert process.returncode == 130
    assert err == "clf-tui: interrupted\n"
    assert not (tmp_path / "run").exists()
