"""Data files at the edges of the machine: a FIFO or a device named as a data file, a file too large for memory.

Every reader that could block or never end runs in a child process with a time limit (HANG_S) and, where it
could fill memory, a limit on its address space: a reader that regressed fails its test instead of hanging
the suite or the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.limits import HANG_S

READERS = """
import json, sys
from pathlib import Path
import numpy as np
from clf_tui import datasets
from clf_tui.datasets.csv_table import read_table
from clf_tui.engine.errors import DataError

path = sys.argv[1]
scaler = datasets.Scaler("none", np.zeros(1), np.ones(1), 1)
readers = {
    "load": lambda: datasets.load(path, target="y"),
    "inspect": lambda: datasets.inspect(path, "y"),  # clf-tui inspect
    "read_table": lambda: read_table(Path(path)),  # clf-tui predict and eval --data, for a .csv
    "load_eval": lambda: datasets.load_eval(path, target=None, feature_names=("x1",), class_names=("0", "1"),
                                            scaler=scaler),  # clf-tui eval --data, for an .npz
}
for name, read in readers.items():
    if name in sys.argv[2:]:
        try:
            read()
            message = None
        except DataError as exc:
            message = str(exc)
        print(json.dumps([name, message]), flush=True)
"""
READER_MEMORY_BYTES = 2 * 2**30
"""The readers' child may map this much: NumPy and pyarrow import in a few hundred MB of address space, and a
reader that opened /dev/zero would otherwise read it until the machine ran out of memory."""


def limited_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def read_in_child(path: Path, *readers: str) -> dict[str, str | None]:
    """Each named reader's DataError message for ``path`` (None if it read the file), from a fresh process."""
    result = subprocess.run([sys.executable, "-c", READERS, str(path), *readers], capture_output=True, text=True,
                            timeout=HANG_S, preexec_fn=lambda: limited_memory(READER_MEMORY_BYTES))
    assert result.returncode == 0, result.stderr
    return dict(json.loads(line) for line in result.stdout.splitlines())


def clf_tui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clf_tui", *args], capture_output=True, text=True, timeout=HANG_S)


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_a_fifo_is_refused_before_it_is_opened(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"x{suffix}"
    os.mkfifo(path)  # opened by nothing here: opening it would wait for a writer
    readers = ("load", "inspect", "read_table") if suffix == ".csv" else ("load", "load_eval")
    expected = f"{path} is a FIFO (named pipe), not a data file; give a regular file"
    assert read_in_child(path, *readers) == dict.fromkeys(readers, expected)
    train = clf_tui("train", "--dataset", str(path), "--target", "y", "--epochs", "1", "--out", str(tmp_path / "run"))
    assert (train.returncode, train.stderr) == (2, f"clf-tui: error: {expected}\n")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_a_link_to_a_device_is_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"zero{suffix}"
    path.symlink_to("/dev/zero")
    readers = ("load", "inspect", "read_table") if suffix == ".csv" else ("load", "load_eval")
    expected = f"{path} is a character device, not a data file; give a regular file"
    assert read_in_child(path, *readers) == dict.fromkeys(readers, expected)
