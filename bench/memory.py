"""Peak memory of loading and training on a large table, against the size of its data.

    python bench/memory.py [--rows 1000000] [--features 32] [--epochs 2] [--batch 1024]

Writes a float32 table of ROWS x FEATURES to an .npz file, then, in a fresh process,
loads it as a user's file is loaded (split, scaler fit on the training rows) and trains
an MLP on it through Trainer.from_config. The process's peak resident memory (VmHWM,
reset between phases through /proc/self/clear_refs) is reported for each phase as the
growth over the resident memory before the data was read (after a warm-up run on a
tiny set has loaded the code), and as a multiple of the data's size. Linux only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

MiB = 2**20

CHILD = r"""
import json, sys, time
import torch
from clf_tui.engine import RunConfig, Trainer, load_data

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)

def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

path, epochs, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cfg = RunConfig(dataset=path, hidden=(64, 64), batch_size=batch, epochs=epochs, device="cpu", threads=1,
                val_fraction=0.2, stratify=False)
# Warm up on a tiny set first, so that the figures below count data, not the code that the first
# split, scaler and training step load (scikit-learn's modules, torch's kernels).
Trainer.from_config(cfg.replace(dataset="moons", n_samples=200, epochs=1)).train(1)
before = rss("VmRSS")
reset_peak()
data = load_data(cfg)
load_peak, loaded = rss("VmHWM"), rss("VmRSS")
trainer = Trainer.from_config(cfg, data)
reset_peak()
started = time.perf_counter()
trainer.train(epochs)
seconds = time.perf_counter() - started
model_bytes = sum(p.numel() * p.element_size() for p in trainer.model.parameters())
print(json.dumps(dict(before=before, load_peak=load_peak, loaded=loaded, train_peak=rss("VmHWM"),
                      model_bytes=model_bytes, seconds=seconds)))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1024)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, args.features), dtype=np.float32)
    y = (X[:, :4].sum(axis=1) + rng.standard_normal(args.rows, dtype=np.float32) > 0).astype(np.int64)
    data_bytes = X.nbytes
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.npz"
        np.savez(path, X=X, y=y)
        del X, y
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(args.epochs), str(args.batch)],
                             check=True, capture_output=True, text=True).stdout
    m = json.loads(out.splitlines()[-1])
    print(f"{args.rows:,} rows x {args.features} float32 features = {data_bytes / MiB:,.0f} MiB of data; "
          f"MLP {args.features}-64-64-1 ({m['model_bytes'] / MiB:.2f} MiB); {args.epochs} epochs at batch "
          f"{args.batch} in {m['seconds']:.1f} s")
    print(f"  {'phase':<40}{'peak growth':>14}{'x data':>9}")
    rows = [
        ("load: read, split, scale", m["load_peak"] - m["before"]),
        ("held after loading", m["loaded"] - m["before"]),
        ("train (peak, from before loading)", max(m["train_peak"], m["loaded"]) - m["before"]),
        ("train (growth over what loading holds)", m["train_peak"] - m["loaded"]),
    ]
    for name, grown in rows:
        print(f"  {name:<40}{grown / MiB:>10,.0f} MiB{grown / data_bytes:>8.2f}x")


if __name__ == "__main__":
    main()
