"""Checkpoints under faults: SIGKILL mid-save, a full disk, and files crafted to run code or broken on purpose."""

from __future__ import annotations

import builtins
import copy
import errno
import io
import json
import os
import pickle
import random
import shlex
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import torch

from clf_tui.cli import main
from clf_tui.engine import CheckpointError, RunConfig, Trainer, read_checkpoint
from clf_tui.engine import atomic
from clf_tui.engine.checkpoint import FORMAT_VERSION, write_checkpoint
from tests.faults.archives import zipped
from tests.limits import HANG_S

SMALL = RunConfig(n_samples=120, hidden=(8,), epochs=2)


@pytest.fixture(scope="module")
def trained() -> Trainer:
    """A trainer two epochs in; tests read its state and never change it."""
    trainer = Trainer.from_config(SMALL)
    trainer.train(2)
    return trainer


@pytest.fixture
def checkpoint(trained: Trainer, tmp_path: Path) -> Path:
    return trained.save_checkpoint(tmp_path / "run.pt")


def differences(a: Any, b: Any, where: str = "state") -> list[str]:
    """Where two checkpoint trees differ, tensors compared bit for bit; empty if they are equal."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return [d for k in a for d in differences(a[k], b[k], f"{where}[{k!r}]")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        same = a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    else:
        same = type(a) is type(b) and a == b
    return [] if same else [where]


# -- 1. a checkpoint on disk is always whole ------------------------------------------------

def test_a_state_taken_is_not_changed_by_training_on() -> None:
    trainer = Trainer.from_config(SMALL)
    trainer.train(1)
    taken = trainer.state()
    kept = copy.deepcopy(taken)
    trainer.train(1)
    assert not differences(taken, kept)


KILL_ROUNDS = 25
KILLER_SCRIPT = """
import os, signal, sys, time, json
from pathlib import Path
import torch
from clf_tui.engine import RunConfig, Trainer

root, delays = Path(sys.argv[1]), json.loads(sys.argv[2])
trainer = Trainer.from_config(RunConfig.from_dict(json.loads(sys.argv[3])))

def save_forever(folder):
    log = os.open(folder / "finished", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    while True:
        trainer.train(1)
        trainer.save_checkpoint(folder / "run.pt")
        os.write(log, b"%d\\n" % trainer.total_epochs)

# Forked from one process that has imported torch already, so 25 savers start in no time.
for number, delay in enumerate(delays):
    folder = root / f"round{number:02d}"
    folder.mkdir()
    pid = os.fork()
    if pid == 0:
        try:
            save_forever(folder)
        finally:
            os._exit(1)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
"""
SAVER_CONFIG = SMALL.replace(n_samples=80, hidden=(256, 256))  # about 0.8 MB a checkpoint: kills land mid-write


def reference_states(n_epochs: int) -> list[dict[str, Any]]:
    """The state after 0, 1, ... ``n_epochs`` epochs of the saver's run, without timings."""
    trainer = Trainer.from_config(SAVER_CONFIG)
    states = [comparable(trainer.state())]
    for _ in range(n_epochs):
        trainer.train(1)
        states.append(comparable(trainer.state()))
    return states


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint without its epoch durations, which differ from run to run."""
    return {**state, "history": {k: v for k, v in state["history"].items() if k != "duration_s"}}


def check_round(folder: Path, references: list[dict[str, Any]]) -> bool:
    """Assert the folder a killed saver left is sound; return whether a temporary file was left behind."""
    finished = [int(line) for line in (folder / "finished").read_text().split()]
    final = folder / "run.pt"
    if final.exists():
        state = read_checkpoint(final)
        # The save that was running when the kill came counts if its rename happened.
        last = finished[-1] if finished else 0
        assert state["epoch"] in (last, last + 1), (folder, state["epoch"], finished)
        assert not differences(comparable(state), references[state["epoch"]]), folder
    else:
        assert not finished, folder
    leftovers = [p for p in folder.iterdir() if p.name not in ("finished", "run.pt")]
    assert list(folder.glob("*.pt")) == ([final] if final.exists() else [])
    for temporary in leftovers:
        assert atomic.is_temporary(temporary) and temporary.name.startswith(".run.pt."), temporary
        with pytest.raises(CheckpointError, match="temporary file of a save that never finished"):
            read_checkpoint(temporary)
    return bool(leftovers)


@pytest.mark.slow
def test_a_saver_killed_at_random_moments_leaves_only_whole_checkpoints(tmp_path: Path) -> None:
    rng = random.Random(25)
    delays = [rng.uniform(0.0, 0.4) for _ in range(KILL_ROUNDS)]
    subprocess.run([sys.executable, "-c", KILLER_SCRIPT, str(tmp_path), json.dumps(delays),
                    json.dumps(SAVER_CONFIG.to_dict())], check=True, timeout=HANG_S, capture_output=True)
    rounds = sorted(tmp_path.iterdir())
    assert len(rounds) == KILL_ROUNDS
    most_epochs = max(int(line) for r in rounds for line in (r / "finished").read_text().split() or ["0"])
    references = reference_states(most_epochs + 1)
    killed_mid_write = sum(check_round(folder, references) for folder in rounds)
    assert killed_mid_write >= 1, "no kill landed inside a save: the test proved nothing"


class FullDisk:
    """Free space shared by every file opened for writing: a write that does not fit lands
    in part, then raises ENOSPC, as a full disk does."""

    def __init__(self, free_bytes: int) -> None:
        self.free_bytes = free_bytes
        self.real_fdopen = os.fdopen

    def fdopen(self, fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = self.real_fdopen(fd, mode, *args, **kwargs)
        return _FillingFile(handle, self) if "w" in mode else handle


class _FillingFile:
    def __init__(self, handle: BinaryIO, disk: FullDisk) -> None:
        self._handle, self._disk = handle, disk

    def write(self, data: bytes) -> int:
        data = bytes(data)
        if len(data) > self._disk.free_bytes:
            self._handle.write(data[: self._disk.free_bytes])
            self._handle.flush()
            self._disk.free_bytes = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._disk.free_bytes -= len(data)
        return self._handle.write(data)

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Call with the free bytes left; from then on, writing more raises ENOSPC part-way."""

    def fill(free_bytes: int) -> None:
        monkeypatch.setattr(atomic.os, "fdopen", FullDisk(free_bytes).fdopen)

    return fill


@pytest.mark.parametrize("fraction_written", [0.0, 0.001, 0.5, 0.999])
def test_a_save_that_fills_the_disk_leaves_the_old_checkpoint(trained: Trainer, checkpoint: Path, full_disk,
                                                             fraction_written: float) -> None:
    before = checkpoint.read_bytes()
    newer = trained.state()
    newer["epoch"] = 99
    full_disk(int(fraction_written * len(before)))
    with pytest.raises(CheckpointError, match="could not write checkpoint .*No space left on device") as info:
        write_checkpoint(checkpoint, newer)
    assert "\n" not in str(info.value)
    assert checkpoint.read_bytes() == before
    assert [p.name for p in checkpoint.parent.iterdir()] == ["run.pt"]


def test_a_run_whose_final_save_fills_the_disk_keeps_the_old_checkpoint(checkpoint: Path, full_disk) -> None:
    before = checkpoint.read_bytes()
    trainer = Trainer.from_checkpoint(checkpoint)
    full_disk(len(before) // 2)
    with pytest.raises(CheckpointError, match="No space left on device"):
        list(trainer.run(1, checkpoint_path=checkpoint))
    assert checkpoint.read_bytes() == before and read_checkpoint(checkpoint)["epoch"] == 2
    assert [p.name for p in checkpoint.parent.iterdir()] == ["run.pt"]


def test_train_resume_on_a_full_disk_exits_2_and_keeps_the_checkpoint(checkpoint: Path, full_disk, capsys) -> None:
    before = checkpoint.read_bytes()
    full_disk(len(before) // 2)  # room for config.toml, not for the checkpoint
    code = main(["train", "--resume", str(checkpoint), "--epochs", "1", "--out", str(checkpoint.parent)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("clf-tui: error: ") and err.count("\n") == 1, err
    assert "No space left on device" in err
    assert checkpoint.read_bytes() == before
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == ["config.toml", "run.pt"]


# -- 2. loading never runs code -----------------------------------------------------------


class Payload:
    """An object whose unpickling calls ``function(*args)``: each variant creates ``marker``."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return self.function, self.args


PAYLOADS: dict[str, Callable[[Path], Payload]] = {
    "open": lambda marker: Payload(builtins.open, str(marker), "w"),
    "os.system": lambda marker: Payload(os.system, f"touch {shlex.quote(str(marker))}"),
    "exec": lambda marker: Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
    "subprocess": lambda marker: Payload(subprocess.call, ["touch", str(marker)]),
}


def _raw_pickle(payload: Payload, state: dict[str, Any], path: Path) -> None:
    path.write_bytes(pickle.dumps(payload, protocol=2))


def _raw_pickle_protocol_5(payload: Payload, state: dict[str, Any], path: Path) -> None:
    path.write_bytes(pickle.dumps(payload, protocol=5))


def _inside_a_checkpoint(payload: Payload, state: dict[str, Any], path: Path) -> None:
    state = {**state, "history": {**state["history"], "notes": payload}}
    torch.save(state, path)


def _as_a_weight(payload: Payload, state: dict[str, Any], path: Path) -> None:
    state = {**state, "model_state": {**state["model_state"], "0.weight": payload}}
    torch.save(state, path)


def _as_data_pkl(payload: Payload, state: dict[str, Any], path: Path) -> None:
    """A real checkpoint zip whose data.pkl is swapped for the payload."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, pickle.dumps(payload, protocol=2) if item.filename.endswith("/data.pkl") else data)


def _legacy_format(payload: Payload, state: dict[str, Any], path: Path) -> None:
    torch.save({**state, "config": payload}, path, _use_new_zipfile_serialization=False)


CARRIERS = {
    "raw pickle": _raw_pickle,
    "raw pickle, protocol 5": _raw_pickle_protocol_5,
    "entry of a checkpoint": _inside_a_checkpoint,
    "model weight": _as_a_weight,
    "crafted data.pkl": _as_data_pkl,
    "legacy torch file": _legacy_format,
}


def hostile_file(trained: Trainer, folder: Path, payload: str, carrier: str) -> tuple[Path, Path]:
    """(a .pt file carrying the payload, the marker file its unpickling would create)."""
    marker = folder / "marker"
    path = folder / "hostile.pt"
    CARRIERS[carrier](PAYLOADS[payload](marker), trained.state(), path)
    return path, marker


def prove_payload_is_live(path: Path, marker: Path) -> None:
    """Unpickle the file the unsafe way: the marker must appear, or the test could not fail."""
    try:
        torch.load(path, weights_only=False)
    except Exception:  # the raw pickle is not a torch file, but its payload has run by then
        pass
    assert marker.exists(), "the payload did not run even when loaded unsafely"


LIBRARY_LOADERS: dict[str, Callable[[Path], object]] = {
    "read_checkpoint": read_checkpoint,
    "Trainer.load_checkpoint": lambda path: Trainer.from_config(SMALL).load_checkpoint(path),
    "Trainer.from_checkpoint": Trainer.from_checkpoint,
}


@pytest.mark.parametrize("carrier", CARRIERS)
@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("loader", LIBRARY_LOADERS)
def test_loading_a_file_that_carries_code_refuses_it_and_runs_nothing(trained: Trainer, tmp_path: Path, loader: str,
                                                                     payload: str, carrier: str) -> None:
    path, marker = hostile_file(trained, tmp_path, payload, carrier)
    with pytest.raises(CheckpointError) as info:
        LIBRARY_LOADERS[loader](path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()
    prove_payload_is_live(path, marker)


def cli_eval(path: Path) -> int:
    return main(["eval", str(path)])


def cli_resume(path: Path) -> int:
    return main(["train", "--resume", str(path), "--epochs", "1", "--out", str(path.parent / "out")])


@pytest.mark.parametrize("carrier", CARRIERS)
@pytest.mark.parametrize("command", [cli_eval, cli_resume], ids=["eval", "train --resume"])
def test_the_command_line_refuses_a_file_that_carries_code(trained: Trainer, tmp_path: Path, command, carrier: str,
                                                           capsys) -> None:
    path, marker = hostile_file(trained, tmp_path, "os.system", carrier)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        assert command(path) == 2
    assert not warned, "a warning would add lines to stderr"
    err = capsys.readouterr().err
    assert err.startswith("clf-tui: error: ") and err.count("\n") == 1 and str(path) in err
    assert not marker.exists() and not (tmp_path / "out").exists()


def _newer_version(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "format_version": FORMAT_VERSION + 1}


def _far_future(state: dict[str, Any]) -> dict[str, Any]:
    """A later format that renamed everything but the header."""
    return {"format": state["format"], "format_version": FORMAT_VERSION + 40, "weights": state["model_state"]}


@pytest.mark.parametrize("make", [_newer_version, _far_future])
def test_a_checkpoint_of_a_newer_format_is_refused(trained: Trainer, tmp_path: Path, make) -> None:
    path = tmp_path / "newer.pt"
    torch.save(make(trained.state()), path)
    for load in LIBRARY_LOADERS.values():
        with pytest.raises(CheckpointError, match="newer than this clf-tui reads .*upgrade clf-tui"):
            load(path)


TEXTS = {
    "notes": b"just some notes\n",
    "csv": b"x1,x2,label\n0.1,0.2,a\n0.3,0.4,b\n",
    "toml": b'dataset = "moons"\nlr = 0.01\n',
    "json": b'{"format": "clf-tui checkpoint", "format_version": 1}',
    "utf-16": "caf\u00e9 \u2603".encode("utf-16"),
    "pickle protocol 0 text": b"(dp0\nS'format'\np1\nS'clf-tui checkpoint'\np2\ns.",
}


def broken_files(source: Path, folder: Path) -> dict[str, Path]:
    """Every kind of not-a-checkpoint: empty, truncated anywhere, random bytes, text, foreign zips."""
    rng = random.Random(2)
    raw = source.read_bytes()
    contents = {"empty": b"", "one byte": raw[:1], "all but the last byte": raw[:-1]}
    contents |= {f"truncated at {n}": raw[:n] for n in sorted(rng.sample(range(2, len(raw) - 1), 40))}
    contents |= {f"{n} random bytes": rng.randbytes(n) for n in (1, 7, 512, 65_536)}
    contents["zip magic then noise"] = b"PK\x03\x04" + rng.randbytes(2048)
    contents |= {f"text ({name})": text for name, text in TEXTS.items()}
    contents["a zip of other things"] = zipped({"readme.txt": b"hello", "data.bin": rng.randbytes(256)})
    contents["a checkpoint zip without data.pkl"] = _rezip(raw, drop="data.pkl")
    contents["a checkpoint zip with noise for data.pkl"] = _rezip(raw, replace={"data.pkl": rng.randbytes(300)})
    paths = {}
    for number, (name, data) in enumerate(contents.items()):
        paths[name] = folder / f"broken{number:03d}.pt"
        paths[name].write_bytes(data)
    return paths


def _rezip(raw: bytes, drop: str = "", replace: dict[str, bytes] | None = None) -> bytes:
    replace = replace or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            leaf = item.filename.rsplit("/", 1)[-1]
            if leaf != drop:
                target.writestr(item, replace.get(leaf, source.read(item.filename)))
    return buffer.getvalue()


def test_every_broken_file_is_refused_with_one_line(checkpoint: Path, tmp_path: Path) -> None:
    for name, path in broken_files(checkpoint, tmp_path).items():
        for loader, load in LIBRARY_LOADERS.items():
            try:
                load(path)
            except CheckpointError as exc:
                assert str(path) in str(exc) and "\n" not in str(exc), (name, loader, exc)
            else:
                pytest.fail(f"{loader} accepted {name}")


def test_a_left_over_temporary_file_is_never_taken_for_a_checkpoint(checkpoint: Path) -> None:
    # Killed after its fsync but before its rename: whole, yet never meant to be read.
    leftover = checkpoint.with_name(f".{checkpoint.name}.k2j4f9.partial")
    leftover.write_bytes(checkpoint.read_bytes())
    with pytest.raises(CheckpointError, match="temporary file of a save that never finished"):
        read_checkpoint(leftover)


BAD_VALUES = [None, "x", -1, 1e308, [], {}, [["x"]], {"x": "y"}]
NESTED = ("history", "rng", "data_fingerprint")  # the config's own checks are RunConfig's tests


def damaged_states(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The checkpoint with one entry (top-level, or in a nested dict) swapped for a value of the wrong kind."""
    damaged = []
    for key in state:
        damaged += [(f"{key} = {bad!r}", {**state, key: bad}) for bad in BAD_VALUES]
    for outer in NESTED:
        for key in state[outer]:
            damaged += [(f"{outer}.{key} = {bad!r}", {**state, outer: {**state[outer], key: bad}})
                        for bad in BAD_VALUES]
    return damaged


def test_a_plain_checkpoint_with_a_damaged_entry_loads_or_is_refused(trained: Trainer, tmp_path: Path) -> None:
    """Plain values of the wrong kind anywhere: a CheckpointError or a working trainer, nothing else."""
    path = tmp_path / "damaged.pt"
    escaped = []
    for name, state in damaged_states(trained.state()):
        write_checkpoint(path, state)  # with its digest, so that the values themselves are judged
        try:
            Trainer.from_checkpoint(path, data=trained.data).train(1)
        except CheckpointError:
            pass
        except Exception as exc:  # noqa: BLE001 - the point is to catch what escapes
            escaped.append(f"{name}: {type(exc).__name__}: {exc}")
    assert not escaped, "\n".join(escaped)


# -- 4. values that pass the structure check but cannot be trusted -----------------------------

def _wrong_moment(state: dict[str, Any]) -> None:
    state["optimizer_state"]["state"][0]["exp_avg"] = torch.zeros(3)


def _moment_of_another_dtype(state: dict[str, Any]) -> None:
    moments = state["optimizer_state"]["state"][1]
    moments["exp_avg_sq"] = moments["exp_avg_sq"].double()


def _a_parameter_the_groups_lack(state: dict[str, Any]) -> None:
    state["optimizer_state"]["state"][99] = dict(state["optimizer_state"]["state"][0])


def _a_group_short_of_a_parameter(state: dict[str, Any]) -> None:
    state["optimizer_state"]["param_groups"][0]["params"].pop()


def _weights_not_finite(state: dict[str, Any]) -> None:
    name = next(iter(state["model_state"]))
    state["model_state"][name] = state["model_state"][name].clone().fill_(float("nan"))


def _weights_of_another_dtype(state: dict[str, Any]) -> None:
    name = next(iter(state["model_state"]))
    state["model_state"][name] = state["model_state"][name].double()


def _threshold(value: float) -> Callable[[dict[str, Any]], None]:
    def damage(state: dict[str, Any]) -> None:
        state["threshold"] = value

    damage.__name__ = f"_threshold_{value}"
    return damage


UNTRUSTED = {
    "an Adam moment of 3 elements for a 8x2 weight": (_wrong_moment, "'exp_avg' of parameter 0 is (3,)"),
    "a moment in float64": (_moment_of_another_dtype, "'exp_avg_sq' of parameter 1 is (8,) torch.float64"),
    "state for a parameter no group holds": (_a_parameter_the_groups_lack, "names a parameter 99"),
    "a group short of a parameter": (_a_group_short_of_a_parameter, "other numbers of parameters"),
    "NaN weights": (_weights_not_finite, "its weights are not all finite numbers"),
    "float64 weights": (_weights_of_another_dtype, "has another dtype than this model's"),
    "threshold NaN": (_threshold(float("nan")), "its threshold nan is not a number between 0 and 1"),
    "threshold 5": (_threshold(5.0), "its threshold 5.0 is not"),
    "threshold -1": (_threshold(-1.0), "its threshold -1.0 is not"),
}


@pytest.mark.parametrize(("damage", "message"), UNTRUSTED.values(), ids=UNTRUSTED)
def test_a_checkpoint_whose_values_cannot_be_trusted_is_refused_before_use(
        trained: Trainer, tmp_path: Path, damage: Callable[[dict[str, Any]], None], message: str) -> None:
    """Run as the command a user runs, in a process of its own: a state that corrupted memory would end it with
    a signal (it did, with exit 139 or 134, before these checks) instead of failing the suite."""
    state = copy.deepcopy(trained.state())
    damage(state)
    path = write_checkpoint(tmp_path / "untrusted.pt", state)
    for command in (["train", "--resume", str(path), "--epochs", "2", "--out", str(tmp_path / "out")],
                    ["eval", str(path)]):
        result = subprocess.run([sys.executable, "-m", "clf_tui", *command], capture_output=True, text=True,
                                timeout=HANG_S)
        assert result.returncode == 2, (command, result.returncode, result.stderr[-500:])
        assert result.stderr.count("\n") == 1 and "is damaged" in result.stderr and message in result.stderr
    assert not (tmp_path / "out" / "checkpoint.pt").exists()
