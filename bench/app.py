"""Training throughput with the app open against the same run headless, side by side; threshold key latency.

The app is driven by Textual's Pilot (the headless driver still lays out and renders
every frame; only the terminal write is skipped) at a fixed terminal size; the train
key starts the run and the bench waits for it to end. The headless run is
``Trainer.from_config(cfg).run(epochs)`` with nothing consuming its events. Both sides
train the same configuration, alternately, and the table gives the median over the
repeats of each run's samples/s and the ratio app / headless, two ways: over the summed epoch
durations (training, validation and metrics), and over the wall-clock time from the start of
the run to its end, which also holds what the app's worker does between epochs (keeping each
epoch's evaluation and computing its decision regions) and what it waits for the UI thread.

Two workloads: long epochs (20k rows of moons, a few epochs per second) and short
ones (1k rows, about a hundred epochs per second, so every UI message counts).

Threshold latency: after one epoch of a binary run with 100,000 validation rows, the
bench presses the threshold keys (right five times, left five times, ...) and takes,
per press, the time from sending the key until the app has handed the first frame
that shows the new threshold to its driver (``App.post_display_hook``): the key's
handling, the recount, every redraw of the evaluation panes and the compositor's
update, in both layouts (the compact one on its evaluation page).

    python bench/app.py [--repeats 5] [--size 120x40] [--presses 40]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time

import torch
from textual.pilot import Pilot

from clf_tui.engine import RunConfig, Trainer
from clf_tui.tui.app import WIDE_LAYOUT_MIN, ClfApp
from clf_tui.tui.runner import Runner

WORKLOADS = {
    "long epochs: moons 20k rows, 12 epochs": RunConfig(n_samples=20_000, epochs=12, device="cpu"),
    "short epochs: moons 1k rows, 300 epochs": RunConfig(n_samples=1_000, epochs=300, device="cpu"),
}
THRESHOLD_RUN = RunConfig(n_samples=125_000, val_fraction=0.8, epochs=1, device="cpu")
"""25k training and 100k validation rows: one epoch, then the threshold keys."""
COMPACT = (80, 24)


def samples_per_s(trainer: Trainer) -> float:
    durations = [record.duration_s for record in trainer.history]
    return len(trainer.data.y_train) * len(durations) / sum(durations)


def wall_samples_per_s(trainer: Trainer, seconds: float) -> float:
    return len(trainer.data.y_train) * trainer.total_epochs / seconds


def headless(cfg: RunConfig) -> tuple[float, float]:
    """Samples/s over the epoch durations, and over the wall-clock time of the run."""
    trainer = Trainer.from_config(cfg)
    started = time.perf_counter()
    for _ in trainer.run(cfg.epochs):
        pass
    return samples_per_s(trainer), wall_samples_per_s(trainer, time.perf_counter() - started)


async def train_in_app(pilot: Pilot) -> float:
    """Press the train key once the data and model are built, and wait until the run ends; the seconds between."""
    app = pilot.app
    assert isinstance(app, ClfApp)
    runner = app.query_one(Runner)
    while app.current_run is None or runner.busy:  # the data and model are built in a worker first
        await pilot.pause(0.05)
    started = time.perf_counter()
    await pilot.press("s")
    while app.run_state not in ("finished", "stopped", "diverged"):
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def with_app(cfg: RunConfig, size: tuple[int, int]) -> tuple[float, float]:
    """Samples/s over the epoch durations, and over the wall-clock time from the train key to the run's end."""
    app = ClfApp(cfg)
    async with app.run_test(size=size) as pilot:
        seconds = await train_in_app(pilot)
        trainer = app.query_one(Runner).session.trainer  # the engine's, behind the app
        await pilot.press("q")
    assert trainer is not None and trainer.total_epochs == cfg.epochs
    return samples_per_s(trainer), wall_samples_per_s(trainer, seconds)


async def threshold_latencies_s(size: tuple[int, int], presses: int) -> list[float]:
    """Seconds from each threshold key press until the first frame that shows its threshold."""
    app = ClfApp(THRESHOLD_RUN)
    frames: list[tuple[float, float]] = []  # (time, threshold shown)
    app.post_display_hook = lambda: frames.append((time.perf_counter(), app.threshold))
    latencies = []
    async with app.run_test(size=size) as pilot:
        await train_in_app(pilot)
        if size[0] < WIDE_LAYOUT_MIN.width or size[1] < WIDE_LAYOUT_MIN.height:
            await pilot.press("3")  # the compact layout's evaluation page
        await pilot.pause(0.5)
        assert app.current_run is not None and len(app.current_run.data.y_val) == 100_000
        for i in range(presses):
            shown_before = app.threshold
            sent = time.perf_counter()
            await pilot.press("right" if i // 5 % 2 == 0 else "left")
            await pilot.pause()
            latencies.append(min(t for t, threshold in frames if t > sent and threshold != shown_before) - sent)
        await pilot.press("q")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", default="120x40", help="terminal size of the app, COLUMNSxROWS")
    parser.add_argument("--presses", type=int, default=40, help="threshold key presses per layout")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    # The app leaves the objects alive once the engine has loaded out of garbage collection (tui/runner.py);
    # do the same here first, so that the headless runs before and after the first app run see one collector.
    gc.collect()
    gc.freeze()
    print(f"torch {torch.__version__}, 1 training thread, app at {size[0]}x{size[1]}; "
          f"median of {args.repeats} runs each, alternating")
    print(f"\n  {'workload':<42}{'timed by':>10}{'headless':>12}{'app':>12}{'app/headless':>14}")
    for name, cfg in WORKLOADS.items():
        headless(cfg.replace(epochs=2))  # warm-up: first-call dispatch, allocator
        runs: dict[str, list[tuple[float, float]]] = {"headless": [], "app": []}
        for _ in range(args.repeats):
            runs["headless"].append(headless(cfg))
            runs["app"].append(asyncio.run(with_app(cfg, size)))
        for column, timed_by in enumerate(("epochs", "wall")):
            medians = {side: statistics.median(rates[column] for rates in values) for side, values in runs.items()}
            print(f"  {name if column == 0 else '':<42}{timed_by:>10}{medians['headless']:>12,.0f}"
                  f"{medians['app']:>12,.0f}{medians['app'] / medians['headless']:>13.2f}x")
    print(f"\n  threshold key to frame, 100,000 validation rows, {args.presses} presses"
          f"\n  {'layout':<42}{'median':>12}{'max':>12}")
    for layout, layout_size in (("wide", size), ("compact, evaluation page", COMPACT)):
        latencies = asyncio.run(threshold_latencies_s(layout_size, args.presses))
        print(f"  {f'{layout} {layout_size[0]}x{layout_size[1]}':<42}"
              f"{statistics.median(latencies) * 1e3:>10.1f}ms{max(latencies) * 1e3:>10.1f}ms")


if __name__ == "__main__":
    main()
