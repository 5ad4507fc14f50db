"""Training throughput with the app open against the same run headless, side by side.

The app is driven by Textual's Pilot (the headless driver still lays out and renders
every frame; only the terminal write is skipped) at a fixed terminal size; the train
key starts the run and the bench waits for it to end. The headless run is
``Trainer.from_config(cfg).run(epochs)`` with nothing consuming its events. Both sides
train the same configuration, alternately, and the table gives the median over the
repeats of each run's samples/s (training rows over the summed epoch durations, which
include validation and metrics) and the ratio app / headless.

    python bench/app.py [--repeats 5] [--size 120x40]

Two workloads: long epochs (20k rows of moons, a few epochs per second) and short
ones (1k rows, about a hundred epochs per second, so every UI message counts).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

import torch

from clf_tui.engine import RunConfig, Trainer
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import Runner

WORKLOADS = {
    "long epochs: moons 20k rows, 12 epochs": RunConfig(n_samples=20_000, epochs=12, device="cpu"),
    "short epochs: moons 1k rows, 300 epochs": RunConfig(n_samples=1_000, epochs=300, device="cpu"),
}


def samples_per_s(trainer: Trainer) -> float:
    return len(trainer.data.y_train) * len(trainer.epoch_durations_s) / sum(trainer.epoch_durations_s)


def headless(cfg: RunConfig) -> float:
    trainer = Trainer.from_config(cfg)
    for _ in trainer.run(cfg.epochs):
        pass
    return samples_per_s(trainer)


async def with_app(cfg: RunConfig, size: tuple[int, int]) -> float:
    app = ClfApp(cfg)
    async with app.run_test(size=size) as pilot:
        runner = app.query_one(Runner)
        while app.trainer is None or runner.busy:  # the data and model are built in a worker first
            await pilot.pause(0.05)
        await pilot.press("s")
        while app.run_state not in ("finished", "stopped", "diverged"):
            await asyncio.sleep(0.05)
        trainer = app.trainer
        await pilot.press("q")
    assert trainer is not None and trainer.total_epochs == cfg.epochs
    return samples_per_s(trainer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", default="120x40", help="terminal size of the app, COLUMNSxROWS")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    print(f"torch {torch.__version__}, 1 training thread, app at {size[0]}x{size[1]}; "
          f"median of {args.repeats} runs each, alternating")
    print(f"\n  {'workload':<42}{'headless':>12}{'app':>12}{'app/headless':>14}")
    for name, cfg in WORKLOADS.items():
        headless(cfg.replace(epochs=2))  # warm-up: first-call dispatch, allocator
        rates: dict[str, list[float]] = {"headless": [], "app": []}
        for _ in range(args.repeats):
            rates["headless"].append(headless(cfg))
            rates["app"].append(asyncio.run(with_app(cfg, size)))
        medians = {side: statistics.median(values) for side, values in rates.items()}
        print(f"  {name:<42}{medians['headless']:>12,.0f}{medians['app']:>12,.0f}"
              f"{medians['app'] / medians['headless']:>13.2f}x")


if __name__ == "__main__":
    main()
