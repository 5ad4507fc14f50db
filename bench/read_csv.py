"""Reading a CSV file, side by side: the engine's whole load against a per-cell reader and pandas.read_csv.

1. A 200,000 x 20 numeric file with a label column, each reader in a fresh process, medians
   over the repeats: the engine's reading into typed columns (``read_table``) against
   ``pandas.read_csv``; and its whole ``datasets.load`` (read, column roles, split,
   preprocessing and scaling fit on the training rows) against the per-cell reader this
   project had before (``bench/per_cell_reader.py``, reading alone). Imports come before the
   clock, for every reader.
2. A 1,000,000 x 32 file with 4 text columns: the peak resident memory of ``datasets.load``
   beyond what the process held after its imports (VmHWM, which a fresh process starts anew),
   against the final float32 matrices it returns.

    python bench/read_csv.py [--repeats 5] [--rows 200000]

pandas is not one of the project's dependencies: without it, its column is left out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

TARGETS = {"per-cell reader / engine load": 5.0, "engine read / pandas.read_csv": 1.5, "peak / final matrix": 3.0}

PER_CELL = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import per_cell_reader
start = time.perf_counter()
per_cell_reader.read_csv(Path(sys.argv[1]), "label")
print(time.perf_counter() - start)
"""
ENGINE = """
import sys, time
from clf_tui import datasets
import pyarrow.csv, pyarrow.compute, sklearn.model_selection  # imported before the clock, as pandas is below
start = time.perf_counter()
datasets.load(sys.argv[1], target="label")
print(time.perf_counter() - start)
"""
ENGINE_READ = """
import sys, time
from pathlib import Path
from clf_tui.datasets.csv_table import read_table
import pyarrow.csv, pyarrow.compute
start = time.perf_counter()
read_table(Path(sys.argv[1]), text_columns=("label",))
print(time.perf_counter() - start)
"""
PANDAS = """
import sys, time
import pandas
start = time.perf_counter()
pandas.read_csv(sys.argv[1])
print(time.perf_counter() - start)
"""
MEMORY = """
import json, sys
from clf_tui import datasets
import pyarrow.csv, pyarrow.compute, sklearn.model_selection

def high_water() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))

before = high_water()
split = datasets.load(sys.argv[1], target="label")
print(json.dumps({"growth": high_water() - before, "final": split.X_train.nbytes + split.X_val.nbytes,
                  "features": len(split.feature_names)}))
"""


def write_numeric(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 20))
    labels = (X[:, 0] + X[:, 1] > 0).astype(int)
    header = ",".join(f"x{i}" for i in range(20)) + ",label"
    np.savetxt(path, np.column_stack([X, labels]), fmt=["%.7g"] * 20 + ["%d"], delimiter=",", header=header,
               comments="")


def write_mixed(path: Path, rows: int) -> None:
    """28 numeric columns and 4 text ones of 5, 8, 12 and 20 words, written a block of rows at a time."""
    rng = np.random.default_rng(1)
    words = [np.array([f"w{k}_{i}" for i in range(n)]) for k, n in enumerate((5, 8, 12, 20))]
    with path.open("w") as handle:
        handle.write(",".join([*(f"x{i}" for i in range(28)), *(f"c{k}" for k in range(4)), "label"]) + "\n")
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            numbers = rng.normal(size=(n, 28)).round(5).astype(str)
            texts = np.column_stack([choices[rng.integers(0, len(choices), n)] for choices in words])
            labels = np.where(rng.random(n) < 0.4, "yes", "no")[:, None]
            table = np.concatenate([numbers, texts, labels], axis=1)
            handle.write("\n".join(",".join(row) for row in table.tolist()) + "\n")


def timed(script: str, path: Path, repeats: int) -> float | None:
    times = []
    for _ in range(repeats):
        result = subprocess.run([sys.executable, "-c", script, str(path), str(Path(__file__).parent)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            if "No module named 'pandas'" in result.stderr:
                return None
            raise RuntimeError(result.stderr)
        times.append(float(result.stdout))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        numeric = Path(folder, "numeric.csv")
        write_numeric(numeric, args.rows)
        size_mb = numeric.stat().st_size / 2**20
        print(f"{args.rows:,} x 20 numeric, {size_mb:.0f} MB; median of {args.repeats} fresh processes")
        engine = timed(ENGINE, numeric, args.repeats)
        engine_read = timed(ENGINE_READ, numeric, args.repeats)
        per_cell = timed(PER_CELL, numeric, args.repeats)
        pandas = timed(PANDAS, numeric, args.repeats)
        print(f"  engine read_table          {engine_read:6.2f} s   (read into typed columns)")
        print(f"  pandas.read_csv            {pandas:6.2f} s   (read into a DataFrame)" if pandas
              else "  pandas.read_csv: pandas is not installed")
        print(f"  engine datasets.load       {engine:6.2f} s   (read, roles, split, fit, encode, scale)")
        print(f"  per-cell reader            {per_cell:6.2f} s   (read only)")
        ratios = {"per-cell reader / engine load": per_cell / engine}
        if pandas:
            ratios["engine read / pandas.read_csv"] = engine_read / pandas

        mixed = Path(folder, "mixed.csv")
        write_mixed(mixed, args.memory_rows)
        result = subprocess.run([sys.executable, "-c", MEMORY, str(mixed)], capture_output=True, text=True, check=True)
        memory = json.loads(result.stdout)
        print(f"{args.memory_rows:,} x 32 with 4 text columns, {mixed.stat().st_size / 2**20:.0f} MB: "
              f"{memory['features']} features, final float32 matrices {memory['final'] / 2**20:.0f} MB, "
              f"peak growth {memory['growth'] / 2**20:.0f} MB")
        ratios["peak / final matrix"] = memory["growth"] / memory["final"]
    for name, ratio in ratios.items():
        target = TARGETS[name]
        met = ratio >= target if name.startswith("per-cell") else ratio <= target
        bound = ">=" if name.startswith("per-cell") else "<="
        print(f"  {name:<30} {ratio:5.2f}x  (target {bound} {target}x: {'met' if met else 'missed'})")


if __name__ == "__main__":
    main()
