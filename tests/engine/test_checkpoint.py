"""Checkpoints: round trips, exact resume in a new process, and every bad file refused clearly."""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from clf_tui.engine import CheckpointError, RunConfig, Trainer, read_checkpoint
from clf_tui.engine.checkpoint import FORMAT_VERSION
from tests.limits import HANG_S

SMALL = RunConfig(n_samples=200, dropout=0.2, epochs=10)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Trainer, Path]:
    trainer = Trainer.from_config(SMALL)
    trainer.train(3)
    trainer.threshold = 0.37
    return trainer, trainer.save_checkpoint(tmp_path / "run.pt")


def _plain(value: object) -> bool:
    """True if ``value`` holds only tensors, primitives, lists and dicts with string keys."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items()) or all(
            isinstance(k, int) and _plain(v) for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (torch.Tensor, str, int, float, bool))


def test_a_checkpoint_is_a_plain_dict(saved: tuple[Trainer, Path]) -> None:
    _, path = saved
    state = torch.load(path, weights_only=True)
    assert _plain(state)
    assert state["format_version"] == FORMAT_VERSION and state["epoch"] == 3
    assert state["class_names"] == ["0", "1"] and state["scaler"]["n_fit_rows"] == 160
    assert {"torch", "generator"} <= set(state["rng"])


def test_round_trip_restores_weights_history_and_threshold(saved: tuple[Trainer, Path]) -> None:
    trainer, path = saved
    restored = Trainer.from_checkpoint(path)
    assert restored.total_epochs == 3 and restored.threshold == 0.37
    assert restored.losses == trainer.losses and restored.val_losses == trainer.val_losses
    assert restored.val_metrics == trainer.val_metrics
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, restored.model.state_dict()[key])
    np.testing.assert_array_equal(restored.predict(trainer.data.X_val), trainer.predict(trainer.data.X_val))


RESUME_SCRIPT = """
import json, sys, torch
from clf_tui.engine import Trainer
torch.set_num_threads(1)
trainer = Trainer.from_checkpoint(sys.argv[1])
trainer.train(10)
print(json.dumps({"losses": trainer.losses, "val_losses": trainer.val_losses}))
"""


def test_resume_in_a_new_process_is_exact(tmp_path: Path) -> None:
    uninterrupted = Trainer.from_config(SMALL)
    uninterrupted.train(20)
    first_half = Trainer.from_config(SMALL)
    first_half.train(10)
    path = first_half.save_checkpoint(tmp_path / "half.pt")
    result = subprocess.run([sys.executable, "-c", RESUME_SCRIPT, str(path)], capture_output=True, text=True,
                            check=True, timeout=HANG_S)
    resumed = json.loads(result.stdout)
    assert resumed["losses"] == uninterrupted.losses  # exactly, not approximately
    assert resumed["val_losses"] == uninterrupted.val_losses


def test_another_architecture_names_the_shapes_that_differ(saved: tuple[Trainer, Path]) -> None:
    _, path = saved
    other = Trainer.from_config(SMALL.replace(hidden=(16, 32)))
    with pytest.raises(CheckpointError, match=r"different model: .*0\.weight is \(32, 2\) in the checkpoint but \(16, 2\) here"):
        other.load_checkpoint(path)


def test_other_data_is_refused_on_resume(saved: tuple[Trainer, Path]) -> None:
    from clf_tui.engine import load_data

    _, path = saved
    with pytest.raises(CheckpointError, match="trained on other data than moons .*sha256"):
        Trainer.from_checkpoint(path, data=load_data(SMALL.replace(data_seed=1)))


class _WritesMarker:
    """Unpickling this would create a file: the loader must never run it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_carrying_code_is_refused_and_never_run(tmp_path: Path, saved: tuple[Trainer, Path]) -> None:
    trainer, _ = saved
    marker = tmp_path / "pwned"
    state = trainer.state()
    state["config"] = _WritesMarker(marker)
    hostile = tmp_path / "hostile.pt"
    torch.save(state, hostile)
    with pytest.raises(CheckpointError, match="carries Python objects .*unsafe to load"):
        read_checkpoint(hostile)
    assert not marker.exists()
    plain_pickle = tmp_path / "plain.pt"
    plain_pickle.write_bytes(pickle.dumps(_WritesMarker(marker)))
    with pytest.raises(CheckpointError):
        read_checkpoint(plain_pickle)
    assert not marker.exists()


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(path: Path, out: Path) -> Path:
    out.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda src, d: d / "missing.pt", "no such checkpoint"),
        (lambda src, d: _written(d / "empty.pt", b""), "is empty"),
        (lambda src, d: _truncated(src, d / "half.pt"), "corrupt or truncated"),
        (lambda src, d: _written(d / "noise.pt", os.urandom(4096)), "corrupt or truncated"),
        (lambda src, d: _written(d / "notes.pt", b"just some notes\n"), "corrupt or truncated"),
        (lambda src, d: d, "is a folder"),
    ],
)
def test_unreadable_files_are_refused_with_one_line(saved, tmp_path: Path, make, message: str) -> None:
    _, path = saved
    target = make(path, tmp_path)
    with pytest.raises(CheckpointError, match=message) as info:
        read_checkpoint(target)
    assert "\n" not in str(info.value)


def test_a_newer_format_and_a_foreign_torch_file_are_refused(saved, tmp_path: Path) -> None:
    trainer, _ = saved
    state = trainer.state()
    state["format_version"] = FORMAT_VERSION + 1
    torch.save(state, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="newer than this clf-tui reads"):
        read_checkpoint(tmp_path / "newer.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a clf-tui checkpoint"):
        read_checkpoint(tmp_path / "foreign.pt")


def test_a_crafted_zip_is_refused(saved, tmp_path: Path) -> None:
    _, path = saved
    crafted = tmp_path / "crafted.pt"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith("data.pkl"):
                data = pickle.dumps(_WritesMarker(tmp_path / "marker"), protocol=2)
            target.writestr(item, data)
    with pytest.raises(CheckpointError):
        read_checkpoint(crafted)
    assert not (tmp_path / "marker").exists()


def test_a_failed_save_leaves_the_old_checkpoint_whole(saved, tmp_path: Path) -> None:
    trainer, path = saved
    before = path.read_bytes()
    state = trainer.state()
    state["history"]["unpicklable"] = lambda: None  # the save fails (a full disk part-way is test_checkpoint_faults)
    from clf_tui.engine.checkpoint import write_checkpoint

    with pytest.raises(Exception):
        write_checkpoint(path, state)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]


def test_a_checkpoint_gets_the_permissions_of_any_new_file(saved: tuple[Trainer, Path], tmp_path: Path) -> None:
    trainer, _ = saved
    checkpoint = trainer.save_checkpoint(tmp_path / "run.pt")
    plain = tmp_path / "plain.txt"
    plain.write_text("")
    assert stat.S_IMODE(checkpoint.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
