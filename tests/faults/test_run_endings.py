"""How a run ends without warning: kill -9 after a periodic checkpoint, two runs on one folder, saves killed
mid-write, arguments that are not UTF-8, and warnings raised on the way to an error."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clf_tui.cli import main
from clf_tui.engine import CheckpointSaved, ConfigError, EpochEnded, RunConfig, Trainer, read_checkpoint
from clf_tui.engine import atomic
from clf_tui.engine.config import FIELDS
from tests.faults.test_training_faults import (
    CTRL_C_CONFIG, SMALL, assert_resumes_exactly, assert_same_tensors, optimizer_tensors, read_until, start_train,
)
from tests.limits import HANG_S

RUN_FILES = ["checkpoint.pt", "config.toml", "metrics.csv"]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return process.communicate(timeout=HANG_S)
    finally:
        process.kill()


# -- 1. periodic checkpoints ------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_after_a_periodic_checkpoint_leaves_whole_epochs_that_resume_exactly(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    process = start_train(out, "--n-samples", "5000", "--epochs", "400", "--checkpoint-every-epochs", "3",
                          "--checkpoint-every-s", "0")
    saved = read_until(process, "checkpoint saved")
    process.send_signal(signal.SIGKILL)  # no handler runs: what is on disk is all there is
    finish(process)
    assert process.returncode == -signal.SIGKILL
    assert saved.split() == ["checkpoint", "saved", "at", "epoch", "3"]
    state = read_checkpoint(out / "checkpoint.pt")  # the last periodic one (a save the kill cut short left the one before)
    epoch = state["epoch"]
    assert epoch >= 3 and epoch % 3 == 0
    history = state["history"]
    assert len(history["loss"]) == len(history["val_loss"]) == len(history["val_metrics"]) == epoch
    assert assert_resumes_exactly(out / "checkpoint.pt", CTRL_C_CONFIG, more_epochs=2) == epoch
    # The killed run's lock died with it: the folder takes the next run at once, which leaves it tidy.
    assert main(["train", "--resume", str(out / "checkpoint.pt"), "--epochs", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert read_checkpoint(out / "checkpoint.pt")["epoch"] == epoch + 1
    assert listing(out) == RUN_FILES


def saves(events: list[object]) -> list[int]:
    return [e.epoch for e in events if isinstance(e, CheckpointSaved)]


def test_periodic_checkpoints_land_every_n_epochs_each_holding_the_state_of_that_moment(tmp_path: Path) -> None:
    cfg = SMALL.replace(checkpoint_every_epochs=3, checkpoint_every_s=0.0, early_stopping=True, patience=20)
    trainer = Trainer.from_config(cfg)
    path = tmp_path / "run.pt"
    copies: dict[int, Path] = {}
    events = []
    for event in trainer.run(10, checkpoint_path=path):
        events.append(event)
        if isinstance(event, CheckpointSaved):
            # Written after the epoch's history, early-stopping watch and random state were all updated.
            assert read_checkpoint(path)["epoch"] == trainer.total_epochs == event.epoch
            assert_same_tensors(read_checkpoint(path)["rng"], trainer.state()["rng"])
            if event.epoch < 10:  # the periodic ones
                copies[event.epoch] = shutil.copy(path, tmp_path / f"epoch{event.epoch}.pt")
    assert saves(events) == [3, 6, 9, 10]  # every third epoch, then the final one
    positions = {id(e): i for i, e in enumerate(events)}
    ends = {e.epoch: positions[id(e)] for e in events if isinstance(e, EpochEnded)}
    for e in events:
        if isinstance(e, CheckpointSaved) and e.epoch < 10:
            assert ends[e.epoch] < positions[id(e)] < ends[e.epoch + 1]
    uninterrupted = Trainer.from_config(cfg)
    uninterrupted.train(10)
    for epoch, copy in copies.items():
        resumed = Trainer.from_checkpoint(copy)
        resumed.train(10 - epoch)
        assert resumed.losses == uninterrupted.losses and resumed.val_losses == uninterrupted.val_losses, epoch
        assert resumed.state()["early_stopping"]["best_epoch"] == uninterrupted.state()["early_stopping"]["best_epoch"]
        assert_same_tensors(resumed.model.state_dict(), uninterrupted.model.state_dict())
        assert_same_tensors(optimizer_tensors(resumed), optimizer_tensors(uninterrupted))


def test_periodic_epochs_count_over_the_runs_whole_life(tmp_path: Path) -> None:
    trainer = Trainer.from_config(SMALL.replace(checkpoint_every_epochs=3, checkpoint_every_s=0.0))
    trainer.train(4)
    assert saves(list(trainer.run(6, checkpoint_path=tmp_path / "run.pt"))) == [6, 9, 10]


@pytest.mark.parametrize(("every_s", "every_epochs", "expected"), [
    (1e-9, 0, [1, 2, 3, 4, 5]),  # due after every epoch: the seconds since the last save always exceed it
    (1e9, 0, [5]),  # never due within the run: only the final checkpoint
    (0.0, 0, [5]),  # both off
    (1e9, 2, [2, 4, 5]),  # either rule makes a save due
])
def test_periodic_seconds_rule(tmp_path: Path, every_s: float, every_epochs: int, expected: list[int]) -> None:
    trainer = Trainer.from_config(SMALL.replace(checkpoint_every_s=every_s, checkpoint_every_epochs=every_epochs))
    assert saves(list(trainer.run(5, checkpoint_path=tmp_path / "run.pt"))) == expected


def test_a_trainer_built_by_hand_writes_only_the_final_checkpoint(tmp_path: Path) -> None:
    built = Trainer.from_config(SMALL)
    by_hand = Trainer(built.model, built.loss_fn, built.optimizer)
    by_hand.set_loaders(built.train_loader, built.val_loader)
    assert saves(list(by_hand.run(4, checkpoint_path=tmp_path / "run.pt"))) == [4]


def test_periodic_settings_are_validated_saved_and_given_as_options(tmp_path: Path, capsys) -> None:
    assert (RunConfig().checkpoint_every_s, RunConfig().checkpoint_every_epochs) == (60.0, 0)
    assert FIELDS["checkpoint_every_s"].metadata["help"] and FIELDS["checkpoint_every_epochs"].metadata["help"]
    for name, bad in [("checkpoint_every_s", -1.0), ("checkpoint_every_s", float("nan")),
                      ("checkpoint_every_s", float("inf")), ("checkpoint_every_epochs", -1)]:
        with pytest.raises(ConfigError, match=name):
            RunConfig(**{name: bad})
    cfg = RunConfig(checkpoint_every_s=2.5, checkpoint_every_epochs=7)
    assert RunConfig.load(cfg.save(tmp_path / "run.toml")) == cfg
    assert main(["train", "--checkpoint-every-epochs", "-2"]) == 2
    assert "checkpoint_every_epochs = -2 is invalid" in capsys.readouterr().err


# -- 2. a default --out that no other run shares ---------------------------------------------------

CLAIMER = """
import sys
from pathlib import Path
from clf_tui.engine import atomic
print("ready", flush=True)
sys.stdin.readline()
claimed = getattr(atomic, sys.argv[1])(Path(sys.argv[2]))
(claimed / "owner" if claimed.is_dir() else claimed).write_text(sys.argv[3])
print(claimed, flush=True)
"""


@pytest.mark.parametrize(("claim", "name", "taken"), [
    ("claim_new_folder", "moons-20261206-101500", "moons-20261206-101500-{}"),  # train's default --out
    ("claim_new_file", "compare-moons-20261206-101500.csv", "compare-moons-20261206-101500-{}.csv"),  # compare's
])
def test_processes_claiming_one_name_at_once_each_get_their_own(tmp_path: Path, claim: str, name: str,
                                                                taken: str) -> None:
    base = tmp_path / "runs" / name
    processes = [subprocess.Popen([sys.executable, "-c", CLAIMER, claim, str(base), str(n)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(6)]
    for process in processes:
        read_until(process, "ready")
    for process in processes:  # all at once, as far as the processes can tell
        process.stdin.write("go\n")
        process.stdin.flush()
    claimed = {}
    for n, process in enumerate(processes):
        printed, err = finish(process)
        assert process.returncode == 0, err
        claimed[n] = Path(printed.strip())
    assert sorted(p.name for p in claimed.values()) == sorted([name] + [taken.format(k) for k in range(2, 7)])
    for n, path in claimed.items():
        assert (path / "owner" if path.is_dir() else path).read_text() == str(n)


@pytest.mark.slow
def test_default_out_runs_started_together_each_write_their_own_folder(tmp_path: Path) -> None:
    seeds = [1, 2, 3]
    processes = [subprocess.Popen([sys.executable, "-m", "clf_tui", "train", "--out-dir", str(tmp_path / "runs"),
                                   "--n-samples", "200", "--epochs", "2", "--seed", str(seed)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in seeds]
    folders = []
    for process in processes:
        printed, err = finish(process)
        assert process.returncode == 0, err
        line = next(line for line in printed.splitlines() if line.startswith("checkpoint  "))
        folders.append(Path(line.split(maxsplit=1)[1]).parent)
    assert len(set(folders)) == len(seeds) and listing(tmp_path / "runs") == sorted(f.name for f in folders)
    for seed, folder in zip(seeds, folders):
        assert listing(folder) == RUN_FILES
        assert RunConfig.load(folder / "config.toml").seed == seed
        assert read_checkpoint(folder / "checkpoint.pt")["config"]["seed"] == seed


# -- 3. one run at a time on a folder -------------------------------------------------------------


@pytest.mark.slow
def test_a_second_run_on_a_folder_in_use_is_refused_naming_the_first(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = start_train(out, "--n-samples", "5000", "--epochs", "400")
    read_until(first, "epoch ")
    second = subprocess.run([sys.executable, "-m", "clf_tui", "train", "--out", str(out), "--seed", "7",
                             "--n-samples", "200", "--epochs", "1"], capture_output=True, text=True, timeout=HANG_S)
    assert second.returncode == 2 and second.stdout == ""
    assert second.stderr == (f"clf-tui: error: {out} is in use by another clf-tui run (pid {first.pid}); "
                             "wait for it to end or give another --out\n")
    first.send_signal(signal.SIGTERM)
    _, err = finish(first)
    assert first.returncode == 128 + signal.SIGTERM, err
    assert listing(out) == RUN_FILES  # the lock went with the run
    assert RunConfig.load(out / "config.toml") == RunConfig(n_samples=5000, epochs=400)
    assert read_checkpoint(out / "checkpoint.pt")["config"]["seed"] == 42


def test_a_folder_lock_is_held_once_and_released(tmp_path: Path) -> None:
    with atomic.folder_lock(tmp_path):
        lock = tmp_path / atomic.LOCK_NAME
        assert lock.read_text().strip() == str(os.getpid())
        holder = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                                 "from clf_tui.engine.atomic import folder_lock, FolderInUse\n"
                                 "try:\n    folder_lock(Path(sys.argv[1])).__enter__()\n"
                                 "except FolderInUse as exc:\n    print(exc.pid)", str(tmp_path)],
                                capture_output=True, text=True, timeout=HANG_S)
        assert holder.stdout.strip() == str(os.getpid()), holder.stderr
    assert list(tmp_path.iterdir()) == []
    with atomic.folder_lock(tmp_path):  # free again
        pass


# -- 4. temporaries of saves that never finished -----------------------------------------------------

HALF_SAVE = """
import sys
from pathlib import Path
from clf_tui.engine.atomic import atomic_writer
with atomic_writer(Path(sys.argv[1])) as handle:
    handle.write(b"half")
    handle.flush()
    print("writing", flush=True)
    sys.stdin.read()
"""


def start_half_save(target: Path) -> subprocess.Popen[str]:
    """A process inside a save of ``target``, waiting on its standard input before it finishes."""
    process = subprocess.Popen([sys.executable, "-c", HALF_SAVE, str(target)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    read_until(process, "writing")
    return process


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if atomic.is_temporary(p))


def test_a_save_removes_temporaries_that_dead_writers_left_and_keeps_live_ones(tmp_path: Path) -> None:
    target, other = tmp_path / "run.pt", tmp_path / "other.pt"
    dead = start_half_save(target)
    dead.send_signal(signal.SIGKILL)
    finish(dead)
    dead_other = start_half_save(other)
    dead_other.send_signal(signal.SIGKILL)
    finish(dead_other)
    (dead_left,) = [name for name in temporaries(tmp_path) if name.startswith(".run.pt.")]
    assert str(dead.pid) in dead_left
    old, fresh = tmp_path / ".run.pt.k2j4f9ab.partial", tmp_path / ".run.pt.x7m2q0zz.partial"  # before pids
    old.write_bytes(b"old")
    fresh.write_bytes(b"fresh")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    live = start_half_save(target)
    try:
        (live_left,) = [name for name in temporaries(tmp_path) if str(live.pid) in name]

        atomic.write_atomic(target, b"whole")

        assert target.read_bytes() == b"whole"
        other_left = [name for name in temporaries(tmp_path) if name.startswith(".other.pt.")]
        assert temporaries(tmp_path) == sorted([live_left, fresh.name, *other_left]) and len(other_left) == 1
    finally:
        finish(live)  # its standard input closed: the save finishes
    assert live.returncode == 0 and target.read_bytes() == b"half"
    assert temporaries(tmp_path) == sorted([fresh.name, *other_left])


# -- 5. arguments that are not UTF-8 --------------------------------------------------------------


def clf_tui_bytes(cwd: Path, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clf_tui", *args], cwd=cwd, capture_output=True, text=True,
                          errors="backslashreplace", timeout=HANG_S)


@pytest.mark.parametrize(("args", "shown", "byte"), [
    (["train", "--out-dir", b"runs/\xff", "--epochs", "1"], "runs/\\xff", "0xff"),
    (["train", b"--out=caf\xe9", "--epochs", "1"], "--out=caf\\xe9", "0xe9"),
    (["eval", b"\xc3(.pt"], "\\xc3(.pt", "0xc3"),
])
def test_an_argument_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path, args: list[str | bytes], shown: str,
                                                              byte: str) -> None:
    done = clf_tui_bytes(tmp_path, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"clf-tui: error: argument '{shown}' holds a byte that is not UTF-8 ({byte}); rename it\n"
    assert list(tmp_path.iterdir()) == []


def test_an_argument_in_utf8_beyond_ascii_is_taken(tmp_path: Path) -> None:
    done = clf_tui_bytes(tmp_path, "train", "--out-dir", "runs/é".encode(), "--lr", "-1")
    assert done.returncode == 2 and done.stderr == "clf-tui: error: lr = -1.0 is invalid: expected a number > 0\n"


# -- 6. warnings never ahead of the one error line ------------------------------------------------


@pytest.mark.parametrize("args", [["--noise", "1e308"], ["--dataset", "xor", "--noise", "1e300"]])
def test_a_command_that_warns_then_fails_prints_only_its_error_line(tmp_path: Path, args: list[str]) -> None:
    """NumPy warns of an overflow while the scaler is fit, then the data is refused: the warning is dropped."""
    done = clf_tui_bytes(tmp_path, "train", *args, "--epochs", "1")
    assert done.returncode == 2 and done.stderr.startswith("clf-tui: error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
