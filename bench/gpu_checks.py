"""The GPU check's items: each runs a path of clf-tui on CUDA and holds it against the CPU (bench/gpu_check.sh).

    python bench/gpu_checks.py [ITEM ...] [--work DIR] [--cpu-dry-run]

Each item prints what it did and ends with one line, ``PASS name: detail`` or ``FAIL name: detail``. Without
items it runs them all, each in a process of its own with a time limit, prints the summary lines again at the
end and exits 1 if any failed. ``--cpu-dry-run`` runs the same items on the CPU, on less data, with the CPU as
its own reference: it proves the check's plumbing on a machine without a GPU, and nothing about CUDA.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import math
import os
import re
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 450.0
"""All items together, so that the whole check, set-up included, ends within 8 minutes."""

PROBABILITY_ATOL = 1e-5
"""The same float32 weights on two devices: the products round differently by a few units in the 7th digit,
so 1e-5 absorbs rounding and still catches a wrong weight, layer or scaler."""
FIRST_EPOCH_RTOL = 1e-3
FINAL_LOSS_RTOL = 2e-2
FINAL_ACCURACY_ATOL = 0.03
"""Training on two devices agrees to rounding at first, and the rounding grows with every Adam step (the GPU's
reductions run in another order): after one epoch the losses agree to about 1e-4, after twenty to about 1e-3.
These bounds catch another seed, batch order or model (losses 5% or more apart) without failing on rounding."""
RANGE_TEST_RTOL = 1e-3
RANGE_TEST_MAX_LR = 0.1
"""The range test's losses are compared while the rate is at most this: beyond it the loss explodes, and
rounding with it."""


@dataclass(frozen=True)
class Context:
    """Where and how large the items run."""

    device: str
    dry: bool
    work: Path

    def size(self, full: int, dry: int) -> int:
        return dry if self.dry else full


class CheckFailed(Exception):
    """An item found a difference; its message is the summary line's detail."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def clf_tui_command() -> list[str]:
    """The installed `clf-tui` script beside this Python, else the same entry point through ``-m``."""
    script = Path(sys.executable).with_name("clf-tui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "clf_tui"]


def run_command(args: Sequence[str], *, cwd: Path, timeout_s: float = 300) -> str:
    """Run ``args``, echo what it printed, and return its standard output; a non-zero exit fails the item."""
    print(f"$ {' '.join(args)}", flush=True)
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    print(done.stdout, end="", flush=True)
    print(done.stderr, end="", file=sys.stderr, flush=True)
    require(done.returncode == 0, f"{' '.join(args[-4:])} exited with {done.returncode}: "
                                  f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    return done.stdout


# -- (a) the suite's CUDA tests ------------------------------------------------------------------------------


def cuda_tests(ctx: Context) -> str:
    """``pytest -m cuda``: every test marked cuda passes, and on CUDA none is skipped."""
    report = ctx.work / "cuda-tests.xml"
    args = [sys.executable, "-m", "pytest", "-m", "cuda", "-p", "no:cacheprovider", "-q", f"--junitxml={report}"]
    print(f"$ {' '.join(args)}", flush=True)
    code = subprocess.run(args, cwd=ROOT, timeout=300).returncode
    require(report.exists(), f"pytest exited with {code} and wrote no report")
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    detail = (f"{passed} passed, {counts['failures']} failed, {counts['errors']} errors, "
              f"{counts['skipped']} skipped")
    require(counts["failures"] == counts["errors"] == 0 and code in (0, 5), detail)
    if ctx.dry:
        return f"{detail} (no CUDA here, so all skip)"
    require(counts["tests"] > 0 and counts["skipped"] == 0, detail + "; on CUDA none may skip")
    return detail


# -- (b) clf-tui train on CUDA, eval on the CPU and on CUDA -----------------------------------------------------


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def printed_numbers_agree(a: str, b: str) -> str | None:
    """Where two printouts of the same report differ by more than one unit of the last printed digit (a metric
    can round the other way); None if nowhere."""
    first, second = NUMBER.findall(a), NUMBER.findall(b)
    if len(first) != len(second):
        return f"{len(first)} numbers against {len(second)}"
    for x, y in zip(first, second):
        unit = 10.0 ** -len(x.partition(".")[2])
        if abs(float(x) - float(y)) > unit * 1.01:
            return f"{x} against {y}"
    return None


def train_and_evaluate(ctx: Context) -> str:
    """Train moons (100k rows) and digits with --device cuda, then evaluate each checkpoint on both devices."""
    import numpy as np

    from clf_tui.engine import Trainer
    from clf_tui.engine.metrics import summary

    details = []
    runs = {"moons": ["--n-samples", str(ctx.size(100_000, 4000)), "--epochs", str(ctx.size(10, 2))],
            "digits": ["--epochs", str(ctx.size(20, 2))]}
    for dataset, options in runs.items():
        out = ctx.work / dataset
        run_command([*clf_tui_command(), "train", "--dataset", dataset, *options, "--device", ctx.device,
                     "--out", str(out)], cwd=ctx.work, timeout_s=180)
        path = out / "checkpoint.pt"
        printed = {device: run_command([*clf_tui_command(), "eval", str(path), "--device", device], cwd=ctx.work,
                                       timeout_s=120) for device in ("cpu", ctx.device)}
        difference = printed_numbers_agree(printed["cpu"], printed[ctx.device])
        require(difference is None, f"{dataset}: clf-tui eval prints other numbers on {ctx.device}: {difference}")
        trainers = {device: Trainer.from_checkpoint(path, device=device) for device in ("cpu", ctx.device)}
        (y_cpu, p_cpu), (y_dev, p_dev) = (trainers[d].evaluate() for d in ("cpu", ctx.device))
        gap = float(np.max(np.abs(p_cpu - p_dev)))
        require(np.array_equal(y_cpu, y_dev) and gap <= PROBABILITY_ATOL,
                f"{dataset}: probabilities differ by {gap:.2e} between cpu and {ctx.device} (> {PROBABILITY_ATOL:g})")
        n_classes = trainers["cpu"].data.n_classes
        metrics_cpu, metrics_dev = summary(y_cpu, p_cpu, n_classes), summary(y_dev, p_dev, n_classes)
        worst = max(abs(metrics_cpu[name] - metrics_dev[name]) for name in metrics_cpu)
        require(worst <= max(1e-4, 2 / len(y_cpu)), f"{dataset}: metrics differ by {worst:.2e}")
        graph = trainers[ctx.device].graph_refusal()
        details.append(f"{dataset} {trainers['cpu'].total_epochs} epochs, probabilities within {gap:.1e}, "
                       f"steps {'replayed from a CUDA graph' if graph is None else 'eager (' + graph + ')'}")
    return "; ".join(details)


# -- (c) compare, the region grid and the range test, each against the CPU ---------------------------------------


def compare_seeds(ctx: Context) -> str:
    """`clf-tui compare --seeds 10` on CUDA (batched) against the engine's compare() on the CPU, seed by seed."""
    from clf_tui.engine import RunConfig, compare

    epochs = ctx.size(20, 2)
    out = ctx.work / "compare.csv"
    run_command([*clf_tui_command(), "compare", "--seeds", "10", "--device", ctx.device, "--epochs", str(epochs),
                 "--out", str(out)], cwd=ctx.work, timeout_s=180)
    with out.open() as f:
        on_device = {int(row["seed"]): row for row in csv.DictReader(f)}
    # compare names each configuration's own loss in its columns: the default config trains with bce_logits.
    with out.with_name("compare-epochs.csv").open() as f:
        first_on_device = {int(row["seed"]): float(row["train_loss_bce_logits"]) for row in csv.DictReader(f)
                           if row["epoch"] == "1"}
    *_, ended = compare([RunConfig(device="cpu", epochs=epochs)], 10)
    require(ended.comparison is not None, f"the comparison on the CPU ended {ended.reason}")
    runs = ended.comparison.configs[0].runs
    require(sorted(on_device) == [run.seed for run in runs], f"seeds {sorted(on_device)} against the CPU's")
    first_gap = final_gap = accuracy_gap = 0.0
    for run in runs:
        row = on_device[run.seed]
        require(row["end"] == run.end, f"seed {run.seed} ended {row['end']} on {ctx.device}, {run.end} on the CPU")
        first_gap = max(first_gap, abs(first_on_device[run.seed] / run.train_losses[0] - 1))
        final = run.final()
        final_gap = max(final_gap, abs(float(row["val_loss_bce_logits"]) / final["val_loss"] - 1))
        accuracy_gap = max(accuracy_gap, abs(float(row["val_accuracy"]) - final["val_accuracy"]))
    detail = (f"10 seeds x {epochs} epochs; first-epoch loss within {first_gap:.1e} (<= {FIRST_EPOCH_RTOL:g}), "
              f"final val loss within {final_gap:.1e} (<= {FINAL_LOSS_RTOL:g}), accuracy within {accuracy_gap:.3f}")
    require(first_gap <= FIRST_EPOCH_RTOL and final_gap <= FINAL_LOSS_RTOL and accuracy_gap <= FINAL_ACCURACY_ATOL,
            detail)
    return detail


def trained_on_device(ctx: Context, name: str, **settings: object):
    """A run trained a few epochs on the device and the same run read back on the CPU, from its checkpoint."""
    from clf_tui.engine import RunConfig, Trainer

    trainer = Trainer.from_config(RunConfig(device=ctx.device, epochs=3, **settings))
    trainer.train(3)
    path = trainer.save_checkpoint(ctx.work / f"{name}.pt")
    return trainer, Trainer.from_checkpoint(path, device="cpu")


def region_grid(ctx: Context) -> str:
    """The decision-region grid of the same weights on the device and on the CPU, binary and three classes."""
    import numpy as np

    from clf_tui.engine.regions import RegionGrid, grid_probabilities

    details = []
    side = ctx.size(200, 50)
    for dataset in ("moons", "blobs"):
        on_device, on_cpu = trained_on_device(ctx, f"regions-{dataset}", dataset=dataset)
        grid = RegionGrid.covering(on_cpu.data.X_train, side, side)
        p_dev, p_cpu = grid_probabilities(on_device, grid), grid_probabilities(on_cpu, grid)
        gap = float(np.max(np.abs(p_dev - p_cpu)))
        require(p_dev.shape == p_cpu.shape and gap <= PROBABILITY_ATOL,
                f"{dataset}: the grids differ by {gap:.2e} (> {PROBABILITY_ATOL:g})")
        details.append(f"{dataset} {'x'.join(map(str, p_dev.shape))} within {gap:.1e}")
    return "; ".join(details) + f" (<= {PROBABILITY_ATOL:g})"


def range_test(ctx: Context) -> str:
    """find_lr from the same state on the device and on the CPU: the same losses while the rate is sane."""
    import numpy as np

    from clf_tui.engine import find_lr

    on_device, on_cpu = trained_on_device(ctx, "range-test", batch_size=64)
    options = {"start_lr": 1e-5, "end_lr": 1.0, "n_steps": ctx.size(60, 20)}
    a, b = find_lr(on_device, **options), find_lr(on_cpu, **options)
    sane = [i for i, lr in enumerate(a.lrs[: min(len(a.lrs), len(b.lrs))]) if lr <= RANGE_TEST_MAX_LR]
    gap = float(np.max(np.abs(np.array(a.losses)[sane] / np.array(b.losses)[sane] - 1)))
    detail = (f"{len(sane)} steps up to lr {RANGE_TEST_MAX_LR:g} within {gap:.1e} (<= {RANGE_TEST_RTOL:g}); "
              f"suggests {a.suggestion or 0:.3g} on {ctx.device}, {b.suggestion or 0:.3g} on the CPU")
    require(gap <= RANGE_TEST_RTOL, detail)
    return detail


# -- (d) the app, headless, on the device --------------------------------------------------------------------------


ENDED = ("finished", "stopped", "diverged")


async def wait_for(pilot, condition: Callable[[], bool], what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        require(time.monotonic() < deadline, f"no {what} after {timeout_s:.0f} s")
        await pilot.pause(0.05)


def app_run(ctx: Context) -> str:
    """The app with device = the device: train with its key, sweep the threshold with the arrows, save with
    ctrl+s (its default path), and read the file back on the CPU. Keys and public state only."""
    from clf_tui.engine import RunConfig, Trainer
    from clf_tui.tui.app import ClfApp

    epochs = ctx.size(5, 2)
    folder = ctx.work / "app"
    folder.mkdir(exist_ok=True)
    os.chdir(folder)  # the save prompt offers runs/<name>.pt here
    app = ClfApp(RunConfig(dataset="moons", n_samples=ctx.size(4000, 500), epochs=epochs, device=ctx.device))
    sweep: list[float] = []

    async def drive() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("s")
            await wait_for(pilot, lambda: app.run_state in ENDED, "end of the run")
            require(app.run_state == "finished", f"the run ended {app.run_state}")
            start, deadline = app.threshold, time.monotonic() + 60
            while app.threshold == start:  # the keys move it once the evaluation has arrived
                require(time.monotonic() < deadline, "the threshold never moved")
                await pilot.press("right")
                await pilot.pause(0.1)
            sweep.append(app.threshold)
            for key in ("right",) * 4 + ("left",) * 2:
                await pilot.press(key)
                await pilot.pause()
                sweep.append(app.threshold)
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.press("enter")  # the prompt's own path
            await wait_for(pilot, lambda: any(Path("runs").glob("*.pt")), "saved checkpoint")

    asyncio.run(drive())
    steps = [round(b - a, 6) for a, b in zip(sweep, sweep[1:])]
    require(steps == [0.01] * 4 + [-0.01] * 2, f"the threshold moved by {steps}")
    saved = next(Path("runs").glob("*.pt"))
    trainer = Trainer.from_checkpoint(saved, device="cpu")
    require(trainer.total_epochs == epochs, f"{saved} holds {trainer.total_epochs} epochs, not {epochs}")
    require(trainer.config.device == ctx.device, f"{saved} was trained on {trainer.config.device}")
    require(math.isclose(trainer.threshold, app.threshold), f"{saved} holds threshold {trainer.threshold}, "
                                                           f"the app shows {app.threshold}")
    return (f"trained {epochs} epochs on {ctx.device}, threshold swept to {app.threshold:.2f}, saved "
            f"{saved.name} and read it back on the CPU")


# -- (e) the benchmark -----------------------------------------------------------------------------------------


def benchmark(ctx: Context) -> str:
    """bench/train.py --device cuda: its figures, the graph's losses equal to the eager run's."""
    args = [sys.executable, str(ROOT / "bench" / "train.py"), "--device", ctx.device]
    if ctx.dry:
        args += ["--table", "graphs", "--batches", "64", "--repeats", "1", "--rows", "4000",
                 "--flops-rows", "20000", "--flops-batch", "512", "--matmul-size", "256"]
    output = run_command(args, cwd=ROOT, timeout_s=300)
    require("DIFFER" not in output, "the graph's losses differ from the eager run's (see its table)")
    ratios = re.findall(r"target: graphs / eager\s+([\d.]+)x", output)
    share = re.findall(r"target: model / float32 matrix product\s+([\d.]+%)", output)
    missed = output.count("MISSED")
    return (f"graphs / eager {', '.join(r + 'x' for r in ratios)} (target 3x), {', '.join(share)} of float32 "
            f"torch.mm (target 50%); losses equal; {missed} target(s) missed")


ITEMS: dict[str, tuple[Callable[[Context], str], float]] = {
    "cuda-tests": (cuda_tests, 300),
    "train-eval": (train_and_evaluate, 240),
    "compare": (compare_seeds, 150),
    "regions": (region_grid, 90),
    "range-test": (range_test, 90),
    "app": (app_run, 180),
    "bench": (benchmark, 300),
}


def run_item(name: str, ctx: Context) -> str:
    """Run one item here and return its summary line."""
    check, _ = ITEMS[name]
    try:
        return f"PASS {name}: {check(ctx)}"
    except CheckFailed as failure:
        return f"FAIL {name}: {failure}"
    except Exception as exc:  # a crash is a finding too: its line, and the traceback in the log
        traceback.print_exc()
        return f"FAIL {name}: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def run_all(names: Sequence[str], ctx: Context, extra: Sequence[str]) -> list[str]:
    """Each item in a process of its own, within what is left of the budget; the summary lines."""
    lines = []
    deadline = time.monotonic() + BUDGET_S
    for name in names:
        left = deadline - time.monotonic()
        if left < 20:
            lines.append(f"FAIL {name}: not run; the check's {BUDGET_S:.0f} s were spent")
            print(lines[-1], flush=True)
            continue
        result = ctx.work / f"{name}.result"
        result.unlink(missing_ok=True)
        print(f"\n== {name} ==", flush=True)
        started = time.monotonic()
        try:
            code = subprocess.run([sys.executable, __file__, name, "--work", str(ctx.work), *extra], cwd=ROOT,
                                  timeout=min(ITEMS[name][1], left)).returncode
            line = result.read_text().strip() if result.exists() else f"FAIL {name}: exited with {code}, no result"
        except subprocess.TimeoutExpired:
            line = f"FAIL {name}: still running after {min(ITEMS[name][1], left):.0f} s"
        lines.append(f"{line} [{time.monotonic() - started:.0f} s]")
        print(lines[-1], flush=True)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("items", nargs="*", metavar="ITEM", help=f"any of {', '.join(ITEMS)} (default: all)")
    parser.add_argument("--work", type=Path, default=Path("gpu-check-work"), help="folder for the runs' files")
    parser.add_argument("--cpu-dry-run", action="store_true", help="the same items on the CPU, small")
    parser.add_argument("--setup", metavar="LINE", help="the set-up's summary line, to head the summary")
    args = parser.parse_args()
    unknown = [name for name in args.items if name not in ITEMS]
    if unknown:
        parser.error(f"no item {unknown[0]!r}; the items are {', '.join(ITEMS)}")
    args.work.mkdir(parents=True, exist_ok=True)
    ctx = Context("cpu" if args.cpu_dry_run else "cuda", args.cpu_dry_run, args.work.resolve())
    extra = ["--cpu-dry-run"] if args.cpu_dry_run else []
    if len(args.items) == 1:
        line = run_item(args.items[0], ctx)
        print(line, flush=True)
        (ctx.work / f"{args.items[0]}.result").write_text(line + "\n")
        return 0 if line.startswith("PASS") else 1
    lines = ([args.setup] if args.setup else []) + run_all(args.items or list(ITEMS), ctx, extra)
    print("\n== summary ==")
    print("\n".join(lines))
    return 0 if all(line.startswith("PASS") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
