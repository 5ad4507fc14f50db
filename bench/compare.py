"""Compare runs: the time of 10 seeds trained as one batched model against one seed, side by side.

Workload: MLP 2-32-32-1 with ReLU, BCEWithLogits, Adam, moons with 1,000 rows (800
training), batch 64; each epoch is training plus validation and its metrics, for every
seed. Three ways run interleaved in this process, each for the same epochs per repeat
(setup and data loading included): one seed as the engine's single run (``Trainer.run``),
one seed and ten seeds through ``compare`` (each seed's run as in a single run, the ten
as one batched model). The table gives the median milliseconds per epoch over the
repeats, of wall-clock time and of this process's CPU time (which other processes on a
shared machine disturb less); the target is ten batched seeds in at most 3x the time of
one single run.

    python bench/compare.py [--seeds 10] [--epochs 20] [--repeats 5] [--rows 1000] [--batch 64] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from clf_tui.engine import RunConfig, Trainer
from clf_tui.engine.compare import compare

TARGET_RATIO = 3.0
SINGLE = "1 seed, single run (Trainer)"


def single_run(cfg: RunConfig) -> Callable[[], None]:
    def run() -> None:
        for _ in Trainer.from_config(cfg).run(cfg.epochs):
            pass

    return run


def batched_run(cfg: RunConfig, n_seeds: int) -> Callable[[], None]:
    def run() -> None:
        for _ in compare([cfg], n_seeds):
            pass

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    cfg = RunConfig(dataset="moons", n_samples=args.rows, batch_size=args.batch, epochs=args.epochs,
                    hidden=(32, 32), device=args.device)
    methods = {
        SINGLE: single_run(cfg),
        "1 seed, compare": batched_run(cfg, 1),
        f"{args.seeds} seeds, compare (batched)": batched_run(cfg, args.seeds),
    }
    for method in methods.values():  # warm up: the fused kernels and the data cache
        method()
    wall: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, method in methods.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            method()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            wall[name].append((time.perf_counter() - started) / args.epochs)
            cpu[name].append((time.process_time() - started_cpu) / args.epochs)
    print(f"moons, {args.rows} rows, MLP 2-32-32-1, Adam, batch {args.batch}, {args.epochs} epochs, "
          f"{args.repeats} repeats, torch {torch.__version__} on {args.device}, {torch.get_num_threads()} thread(s)")
    print(f"{'':<34}{'wall ms/epoch':>14}{'x single':>9}{'CPU ms/epoch':>14}{'x single':>9}")
    ratios = {}
    for label, times in (("wall", wall), ("CPU", cpu)):
        medians = {name: statistics.median(values) for name, values in times.items()}
        ratios[label] = {name: median / medians[SINGLE] for name, median in medians.items()}
        times.update({name: [median] for name, median in medians.items()})
    for name in methods:
        print(f"{name:<34}{1000 * wall[name][0]:>14.2f}{ratios['wall'][name]:>9.2f}"
              f"{1000 * cpu[name][0]:>14.2f}{ratios['CPU'][name]:>9.2f}")
    batched = f"{args.seeds} seeds, compare (batched)"
    for label in ("wall", "CPU"):
        ratio = ratios[label][batched]
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(f"{args.seeds} seeds batched / 1 seed, {label} time: {ratio:.2f}x "
              f"({verdict} the target of <= {TARGET_RATIO:g}x)")
    print(f"({args.seeds} single runs one after another: {args.seeds}x)")


if __name__ == "__main__":
    main()
