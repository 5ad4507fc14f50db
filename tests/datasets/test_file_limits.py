"""Data files at the edges of the machine: a FIFO or a device named as a data file, a file too large for memory.

Every reader that could block or never end runs in a child process with a time limit (HANG_S) and, where it
could fill memory, a limit on its address space: a reader that regressed fails its test instead of hanging
the suite or the machine.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from clf_tui import datasets
from clf_tui.datasets.tabular import enough_memory
from clf_tui.errors import DataError
from tests.limits import HANG_S

READERS = """
import json, sys
from pathlib import Path
import numpy as np
from clf_tui import datasets
from clf_tui.datasets.csv_table import read_table
from clf_tui.errors import DataError

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


MEMORY_CHILD = """
import resource, sys
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from clf_tui.cli import main
from clf_tui.datasets import csv_data

small, wide, out, margin = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with redirect_stdout(StringIO()), redirect_stderr(StringIO()):  # everything the command loads, loaded
    assert main(["train", "--dataset", small, "--target", "y", "--epochs", "1", "--out", out + "/small"]) == 0
plan_columns = csv_data.plan_columns

def plan_columns_in_what_is_left(*args, **kwargs):
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + margin, size + margin))
    return plan_columns(*args, **kwargs)

csv_data.plan_columns = plan_columns_in_what_is_left  # the real one, once the file is parsed
sys.exit(main(["train", "--dataset", wide, "--target", "y", "--epochs", "1", "--out", out + "/wide"]))
"""
MARGIN_BYTES = 64 * 2**20
"""What the child may map, once the file is parsed, beyond what it then holds.

A limit set as the interpreter starts (preexec_fn) could not be made to fail the same way twice. The command's
imports take 1.0 to 1.4 GB of address space here, more with more cores (a buffer and a stack per thread), and
a limit that cut into them made OpenBLAS spin for ever. And where memory ran out while pyarrow parsed the file,
the process was aborted in 2 runs of 5 (pyarrow's parser checks its buffer's growth with an abort, "Check
failed: parsed_buffer_->Resize"), which no Python code can turn into a line; whether its allocation or another
is the first to fail depends on the reader's threads and on what malloc and pyarrow's pool reserve ahead. So
the child runs the command once on a small file, and in the run on the large one limits itself, once that file
is parsed, to what it holds plus 64 MB. What comes next is NumPy's: the file's 40 columns of 50 words each
become 2,000 one-hot features, 80,000 training rows of float32, a 610 MB matrix, ten times the margin, while
the steps before it (labels, the split, the categories of each column) take a few MB."""


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


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_a_file_too_large_for_the_memory_left_is_one_line(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40)))
    wide = tmp_path / "wide.csv"
    words = [a + b for a in "abcdefghij" for b in "vwxyz"]
    rows = (",".join(words[(i * 7 + j * 13) % 50] for j in range(40)) + f",{i % 2}\n" for i in range(100_000))
    wide.write_text(",".join(f"c{j}" for j in range(40)) + ",y\n" + "".join(rows))
    size_mb = wide.stat().st_size / 2**20
    done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(small), str(wide), str(tmp_path / "runs"),
                           str(MARGIN_BYTES)], capture_output=True, text=True, timeout=HANG_S)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == [f"clf-tui: error: not enough memory to read {wide} ({size_mb:.3g} MB); "
                                        "free memory or use fewer rows"]
    assert done.returncode == 2


def test_an_npz_array_larger_than_any_memory_is_named_so(tmp_path: Path) -> None:
    # A real archive whose X says it holds 2**56 float64 values (512 PiB): np.load's allocation fails on any machine.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**30, 2**26)})
    y = io.BytesIO()
    np.lib.format.write_array(y, np.zeros(4, dtype=np.int64))
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", header.getvalue() + bytes(64))
        archive.writestr("y.npy", y.getvalue())
    size = f"{path.stat().st_size} bytes"
    with pytest.raises(DataError) as refused:
        datasets.load(str(path))
    assert str(refused.value) == f"not enough memory to read {path} ({size}); free memory or use fewer rows"


@pytest.mark.parametrize("allocate", [lambda: pa.allocate_buffer(2**60), lambda: np.empty(2**60, dtype=np.uint8)],
                         ids=["pyarrow", "numpy"])
def test_pyarrow_and_numpy_running_out_of_memory_is_one_data_error(tmp_path: Path, allocate: Any) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"x,y\n" + b"1,0\n" * 300_000)
    with pytest.raises(DataError) as refused, enough_memory(path):
        allocate()
    assert str(refused.value) == f"not enough memory to read {path} (1.14 MB); free memory or use fewer rows"
