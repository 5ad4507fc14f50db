"""Checkpoints verified before they are trusted: a flipped bit in any member, a file edited and zipped again, a
file that inflates, tensors far larger than their model, a data description that does not hold together, a
FIFO; and a model too large for memory refused before it is built."""

from __future__ import annotations

import copy
import io
import os
import resource
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from clf_tui.cli import main
from clf_tui.engine import CheckpointError, RunConfig, Trainer, read_checkpoint
from clf_tui.engine.checkpoint import write_checkpoint
from clf_tui.engine.predict import predict_file
from tests.limits import HANG_S

SMALL = RunConfig(n_samples=120, hidden=(8,), epochs=2)
LOADERS: dict[str, Callable[[Path], object]] = {
    "read_checkpoint": read_checkpoint,
    "Trainer.load_checkpoint": lambda path: Trainer.from_config(SMALL).load_checkpoint(path),
    "Trainer.from_checkpoint": Trainer.from_checkpoint,
}


@pytest.fixture(scope="module")
def trained() -> Trainer:
    """A trainer two epochs in; tests read its state and never change it."""
    trainer = Trainer.from_config(SMALL)
    trainer.train(2)
    return trainer


@pytest.fixture
def checkpoint(trained: Trainer, tmp_path: Path) -> Path:
    return trained.save_checkpoint(tmp_path / "run.pt")


def refused_everywhere(path: Path, message: str) -> None:
    """Every loader refuses ``path`` with one line naming it and saying ``message``; so does `clf-tui eval`."""
    for name, load in LOADERS.items():
        with pytest.raises(CheckpointError, match=message) as info:
            load(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value), name


def member_data(raw: bytes) -> dict[str, tuple[int, int]]:
    """Each zip member's stored bytes: (offset in the file, length), from its local header."""
    spans = {}
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for member in archive.infolist():
            name_length, extra_length = struct.unpack("<HH", raw[member.header_offset + 26:member.header_offset + 30])
            spans[member.filename] = (member.header_offset + 30 + name_length + extra_length, member.compress_size)
    return spans


def rezipped(raw: bytes, change: Callable[[str, bytes], bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """The archive written again, each member through ``change(name, data)``, with checksums that match."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as source, zipfile.ZipFile(buffer, "w", compression) as target:
        for member in source.infolist():
            target.writestr(member.filename, change(member.filename, source.read(member)))
    return buffer.getvalue()


def saved_bytes(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def test_one_flipped_bit_in_any_member_is_refused(checkpoint: Path, tmp_path: Path, capsys) -> None:
    raw = checkpoint.read_bytes()
    accepted_by_torch = []
    for name, (start, length) in member_data(raw).items():
        for at in sorted({start, start + length // 2, start + length - 1}):
            flipped = bytearray(raw)
            flipped[at] ^= 0x10
            path = tmp_path / "flipped.pt"
            path.write_bytes(flipped)
            refused_everywhere(path, "do not match their checksums")
            assert main(["eval", str(path)]) == 2
            err = capsys.readouterr().err
            assert err.startswith("clf-tui: error: ") and err.count("\n") == 1
            try:
                torch.load(path, weights_only=True)
                accepted_by_torch.append(name)
            except Exception:  # noqa: BLE001 - torch refuses some flips by itself, never those inside a tensor
                pass
    # torch checks no checksum: a flip inside a tensor's bytes loads as a different number.
    assert any("/data/" in name for name in accepted_by_torch), accepted_by_torch


def test_a_checkpoint_edited_and_zipped_again_is_refused(checkpoint: Path, tmp_path: Path) -> None:
    """Checksums that match do not make a file the one that was saved: its digest tells."""
    raw = checkpoint.read_bytes()

    def nudge_first_tensor(name: str, data: bytes) -> bytes:
        return bytes([data[0] ^ 0x01]) + data[1:] if name.endswith("/data/0") else data

    path = tmp_path / "edited.pt"
    path.write_bytes(rezipped(raw, nudge_first_tensor))
    torch.load(path, weights_only=True)  # a valid torch file
    refused_everywhere(path, "differ from the digest saved with them")
    same = tmp_path / "same.pt"  # zipped again unchanged: still the file that was saved
    same.write_bytes(rezipped(raw, lambda name, data: data))
    assert read_checkpoint(same)["epoch"] == 2


def test_a_checkpoint_that_inflates_is_refused_before_it_is_read(trained: Trainer, tmp_path: Path) -> None:
    state = trained.state()
    state["history"]["padding"] = torch.zeros(2**24)  # 64 MiB of zeros deflate to some 64 KiB
    path = tmp_path / "bomb.pt"
    path.write_bytes(rezipped(saved_bytes(state), lambda name, data: data, zipfile.ZIP_DEFLATED))
    assert path.stat().st_size < 2**20
    assert torch.load(path, weights_only=True)["history"]["padding"].numel() == 2**24  # torch would inflate it
    refused_everywhere(path, "would inflate to 64 MB")


def test_tensors_far_larger_than_the_model_are_refused(trained: Trainer, tmp_path: Path) -> None:
    state = trained.state()
    state["history"]["padding"] = torch.zeros(2**20)  # 4 MiB, stored, beside a model of 0.2 KiB
    path = write_checkpoint(tmp_path / "padded.pt", state)
    refused_everywhere(path, r"holds 4\.0 MB of tensors for a model of 0\.0 MB")


def test_a_tensor_that_claims_more_elements_than_it_stores_is_refused(trained: Trainer, tmp_path: Path) -> None:
    """A view of one stored number as 10**9 of them: any copy of it (a move to the device) would take 4 GB."""
    state = trained.state()
    state["history"]["view"] = torch.zeros(1).expand(10**9)
    path = write_checkpoint(tmp_path / "view.pt", state)
    assert torch.load(path, weights_only=True)["history"]["view"].shape == (10**9,)
    refused_everywhere(path, r"a tensor of shape \(1000000000,\) claims more elements than it stores")


def _scaler(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def damage(state: dict[str, Any]) -> None:
        change(state["scaler"])

    return damage


DESCRIPTIONS = {
    "a scaler shift one short": (_scaler(lambda s: s["shift"].pop()), "two lists of numbers of one length"),
    "a scaler of one feature for two": (_scaler(lambda s: (s["shift"].pop(), s["scale"].pop())), "disagree"),
    "a scaler shift of NaN": (_scaler(lambda s: s["shift"].__setitem__(0, float("nan"))), "shift is not finite"),
    "a scale of 0": (_scaler(lambda s: s["scale"].__setitem__(1, 0.0)), "scale not finite and positive"),
    "a scaler of no known kind": (_scaler(lambda s: s.__setitem__("kind", "robust")), "not a dict of a known kind"),
    "no feature names": (lambda state: state.__setitem__("feature_names", None), "feature_names are not a list"),
    "a class named twice": (lambda state: state.__setitem__("class_names", ["a", "a"]), "class_names are not a list"),
}


@pytest.mark.parametrize(("damage", "message"), DESCRIPTIONS.values(), ids=DESCRIPTIONS)
def test_a_data_description_that_does_not_hold_together_is_refused(trained: Trainer, tmp_path: Path, capsys,
                                                                   damage, message: str) -> None:
    """Refused by every path that reads it: loading, eval on the saved data and on new rows, predict."""
    state = copy.deepcopy(trained.state())
    damage(state)
    path = write_checkpoint(tmp_path / "described.pt", state)
    refused_everywhere(path, message)
    rows = tmp_path / "rows.npz"
    np.savez(rows, X=trained.data.X_val, y=trained.data.y_val)
    csv = tmp_path / "rows.csv"
    csv.write_text("x1,x2\n0.5,0.25\n")
    with pytest.raises(CheckpointError, match=message):
        predict_file(path, csv)
    for argv in (["eval", str(path)], ["eval", str(path), "--data", str(rows)],
                 ["predict", str(path), "--data", str(csv)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("clf-tui: error: ") and err.count("\n") == 1 and message in err.replace("\\", ""), argv


def test_a_fifo_named_as_a_checkpoint_is_refused_at_once(tmp_path: Path) -> None:
    """Opening a FIFO waits for a writer for ever; it is refused by what it is, never opened."""
    fifo = tmp_path / "run.pt"
    os.mkfifo(fifo)
    refused_everywhere(fifo, "is a FIFO")


def test_a_model_far_too_large_for_any_machine_is_refused_before_it_is_built(tmp_path: Path, capsys) -> None:
    """The largest model the settings allow, 16 layers of 65,536: 6.4 * 10**10 weights, 2 TiB to train."""
    widest = ",".join(["65536"] * 16)
    code = main(["train", "--hidden", widest, "--epochs", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "parameters needs about 2,016.0 GiB to train" in err and "use smaller hidden layers" in err


def test_a_model_beyond_the_memory_limit_is_refused_in_one_line(tmp_path: Path) -> None:
    """Under `ulimit -v`, a model whose training takes more than the limit left: 268 M weights take 1 GiB a copy
    and some 8.6 GiB to train, while the process may map at most 6 GiB, a third of that taken by torch and
    Python. Without the estimate, torch's allocator refused a layer mid-build, in a traceback."""
    limit = 6 * 2**30
    result = subprocess.run(
        [sys.executable, "-m", "clf_tui", "train", "--hidden", "16384,16384", "--epochs", "1",
         "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=HANG_S,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "hidden = (16384, 16384): a model of 268," in result.stderr and "free on cpu" in result.stderr
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
