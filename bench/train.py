"""Training throughput, side by side: the engine against a course-style loop, bare loops and scikit-learn.

Workload: MLP 2-50-100-50-1 with ReLU, BCEWithLogits, Adam (lr 1e-3), make_moons
with 100k rows, 80/20 split; one epoch = training plus validation. Every method
runs on the same data in this process, interleaved, and the table gives the
median samples/s over the repeats and each method's ratio to the engine.

    python bench/train.py [--batches 16,64,256,1024] [--repeats 3] [--rows 100000] [--device cpu]

With --device cuda (or --table graphs) it compares instead the engine replaying its
captured CUDA graph with the same engine stepping eagerly (cuda_graphs = False), at
batch 16, 64 and 256 by default: samples/s, their ratio and the largest relative
difference of the two runs' per-epoch losses; then the engine's training throughput
at batch 4096 on 1M rows in TFLOP/s of the model's arithmetic, against a large
matrix product timed on the same device.

    python bench/train.py --device cuda [--flops-rows 1000000] [--flops-batch 4096] [--compile]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from clf_tui.engine import RunConfig, Trainer, load_data
from clf_tui.engine.graphed import WARMUP_STEPS

HIDDEN = (50, 100, 50)


def mlp() -> nn.Sequential:
    layers: list[nn.Module] = []
    width = 2
    for size in HIDDEN:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 1))


def course_style(data, batch: int, device: torch.device) -> Callable[[], None]:
    """The course's loop: DataLoader(shuffle=True), loss.item() every step, a separate validation loop."""
    model = mlp().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    train = DataLoader(TensorDataset(torch.from_numpy(data.X_train), torch.from_numpy(data.y_train).float()[:, None]),
                       batch_size=batch, shuffle=True)
    val = DataLoader(TensorDataset(torch.from_numpy(data.X_val), torch.from_numpy(data.y_val).float()[:, None]),
                     batch_size=batch)

    def epoch() -> None:
        losses = []
        model.train()
        for x, y in train:
            x, y = x.to(device), y.to(device)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            val_losses = [loss_fn(model(x.to(device)), y.to(device)).item() for x, y in val]
        np.mean(losses), np.mean(val_losses)

    return epoch


def bare_loop(data, batch: int, device: torch.device, *, fused: bool) -> Callable[[], None]:
    """Pre-placed tensors, one permutation per epoch, one sync per epoch, inference_mode validation."""
    model = mlp().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **({"fused": True} if fused else {}))
    loss_fn = nn.BCEWithLogitsLoss()
    X = torch.from_numpy(data.X_train).to(device)
    y = torch.from_numpy(data.y_train).float()[:, None].to(device)
    X_val = torch.from_numpy(data.X_val).to(device)
    y_val = torch.from_numpy(data.y_val).float()[:, None].to(device)
    generator = torch.Generator().manual_seed(0)

    def epoch() -> None:
        model.train()
        total = torch.zeros((), device=device)
        order = torch.randperm(len(X), generator=generator).to(device)
        for start in range(0, len(X), batch):
            index = order[start:start + batch]
            xb, yb = X.index_select(0, index), y.index_select(0, index)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            total.add_(loss.detach(), alpha=len(xb))
        model.eval()
        with torch.inference_mode():
            val_loss = loss_fn(model(X_val), y_val)
        (total / len(X)).item(), val_loss.item()

    return epoch


def engine(data, batch: int, device: torch.device) -> Callable[[], None]:
    """Trainer.from_config with the engine's own batching, metrics and snapshots included."""
    cfg = RunConfig(dataset="moons", hidden=HIDDEN, lr=1e-3, batch_size=batch, device=str(device), threads=1)
    trainer = Trainer.from_config(cfg, data)
    return lambda: trainer.train(1)


def course_surface(data, batch: int, device: torch.device) -> Callable[[], None]:
    """The course surface: Trainer(model, loss, torch.optim.Adam(...)) given the user's DataLoaders over
    TensorDatasets, exactly as the course builds them."""
    model = mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), optimizer).to(device)
    trainer.set_loaders(
        DataLoader(TensorDataset(torch.from_numpy(data.X_train), torch.from_numpy(data.y_train).float()[:, None]),
                   batch_size=batch, shuffle=True),
        DataLoader(TensorDataset(torch.from_numpy(data.X_val), torch.from_numpy(data.y_val).float()[:, None]),
                   batch_size=batch),
    )
    return lambda: trainer.train(1)


def sklearn_mlp(data, batch: int, device: torch.device) -> Callable[[], None]:
    """scikit-learn's MLPClassifier, one pass over the data per call (partial_fit), plus predict on validation.

    NumPy's BLAS is held to one thread, as torch is, so both run on the same single core.
    """
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    model = MLPClassifier(hidden_layer_sizes=HIDDEN, solver="adam", batch_size=batch, learning_rate_init=1e-3,
                          random_state=0)
    classes = np.array([0, 1])

    def epoch() -> None:
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            model.partial_fit(data.X_train, data.y_train, classes=classes)
            model.predict_proba(data.X_val)

    return epoch


ENGINE, COURSE, SURFACE = "engine (Trainer.from_config)", "course-style DataLoader loop", "course surface + DataLoader"
BARE, FUSED, SKLEARN = "bare loop, Adam", "bare loop, fused Adam", "scikit-learn MLPClassifier"
METHODS: dict[str, Callable] = {
    ENGINE: engine,
    COURSE: course_style,
    SURFACE: course_surface,
    BARE: lambda d, b, dev: bare_loop(d, b, dev, fused=False),
    FUSED: lambda d, b, dev: bare_loop(d, b, dev, fused=True),
    SKLEARN: sklearn_mlp,
}
ENGINE_OVER_COURSE = {16: 1.5, 256: 2.5, 1024: 4.0}
"""The engine's targets against the course-style loop, by batch size; at every size it must also reach
scikit-learn's samples/s, and 1 / 1.1 of the best hand-written loop's."""
SURFACE_OVER_COURSE = {256: 2.0}
DEFAULT_BATCHES = "16,64,256,1024"


def targets(rates: dict[str, float], batch: int) -> list[tuple[str, float, float]]:
    """(what, ratio, target) for each goal that applies at ``batch``."""
    ours = rates[ENGINE]
    goals = [
        ("engine / scikit-learn", ours / rates[SKLEARN], 1.0),
        ("engine / best hand-written loop", ours / max(rates[BARE], rates[FUSED]), 1 / 1.1),
    ]
    if batch in ENGINE_OVER_COURSE:
        goals.insert(0, ("engine / course-style loop", ours / rates[COURSE], ENGINE_OVER_COURSE[batch]))
    if batch in SURFACE_OVER_COURSE:
        goals.append(("course surface / course-style loop", rates[SURFACE] / rates[COURSE], SURFACE_OVER_COURSE[batch]))
    return goals


GRAPHS, EAGER = "engine, CUDA graphs", "engine, eager (cuda_graphs = False)"
COMPILED = "bare loop, torch.compile reduce-overhead"
GRAPHS_OVER_EAGER = 3.0
"""The graph's target against the eager step, at every batch of the comparison."""
EQUAL_LOSSES_RTOL = 1e-4
"""Largest relative difference of per-epoch losses that counts as equal: rounding, not a different run."""
FLOPS_SHARE = 0.5
"""The training's target share of the device's measured matrix-product throughput (float32)."""


def engine_trainer(data, batch: int, device: torch.device, *, graphs: bool) -> Trainer:
    cfg = RunConfig(dataset="moons", hidden=HIDDEN, lr=1e-3, batch_size=batch, device=str(device), threads=1)
    trainer = Trainer.from_config(cfg, data)
    trainer.cuda_graphs = graphs
    return trainer


def compiled_loop(data, batch: int, device: torch.device) -> Callable[[], None]:
    """The bare loop with the model compiled by torch.compile(mode="reduce-overhead") (CUDA graphs of its own)."""
    model = mlp().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    compiled = torch.compile(model, mode="reduce-overhead")
    loss_fn = nn.BCEWithLogitsLoss()
    X = torch.from_numpy(data.X_train).to(device)
    y = torch.from_numpy(data.y_train).float()[:, None].to(device)
    generator = torch.Generator().manual_seed(0)

    def epoch() -> None:
        total = torch.zeros((), device=device)
        order = torch.randperm(len(X), generator=generator).to(device)
        for start in range(0, len(X), batch):
            index = order[start:start + batch]
            loss = loss_fn(compiled(X.index_select(0, index)), y.index_select(0, index))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            total.add_(loss.detach(), alpha=len(index))
        total.item()

    return epoch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def max_relative_difference(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-12)))


def graphs_table(data, batches: list[int], repeats: int, device: torch.device, *, compile_too: bool) -> None:
    """The engine with and without its CUDA graph, per batch size: samples/s, ratio, and equal losses."""
    n_train = len(data.X_train)
    for batch in batches:
        trainers = {GRAPHS: engine_trainer(data, batch, device, graphs=True),
                    EAGER: engine_trainer(data, batch, device, graphs=False)}
        epochs: dict[str, Callable[[], None]] = {name: (lambda t=t: t.train(1)) for name, t in trainers.items()}
        epochs[FUSED] = bare_loop(data, batch, device, fused=True)
        if compile_too:
            epochs[COMPILED] = compiled_loop(data, batch, device)
        for epoch in epochs.values():  # warm-up: allocator, first-call dispatch, the graph's capture, compiling
            epoch()
        times: dict[str, list[float]] = {name: [] for name in epochs}
        for _ in range(repeats):
            for name, epoch in epochs.items():  # interleaved, so drift in machine load hits all alike
                synchronize(device)
                start = time.perf_counter()
                epoch()
                synchronize(device)
                times[name].append(time.perf_counter() - start)
        rates = {name: n_train / statistics.median(t) for name, t in times.items()}
        graphed, eager = trainers[GRAPHS], trainers[EAGER]
        step_graph = graphed.step_graph
        print(f"\nbatch {batch}")
        if step_graph is None:
            print(f"  no graph: {graphed.graph_refusal()}")
        else:
            steps = (1 + repeats) * -(-n_train // batch)
            print(f"  graph: {step_graph.replays} of {steps} steps replayed, captured {step_graph.captures}x "
                  f"(each capture steps {WARMUP_STEPS} batches eagerly first; the short last batch is always eager)")
        print(f"  {'method':<44}{'samples/s':>12}{'vs eager':>10}")
        for name, rate in rates.items():
            print(f"  {name:<44}{rate:>12,.0f}{rate / rates[EAGER]:>9.2f}x")
        difference = max_relative_difference(graphed.losses, eager.losses)
        ratio = rates[GRAPHS] / rates[EAGER]
        print(f"  losses of {len(graphed.losses)} epochs, graphs against eager: max relative difference "
              f"{difference:.2e} ({'equal' if difference <= EQUAL_LOSSES_RTOL else 'DIFFER'}, <= {EQUAL_LOSSES_RTOL:g})")
        print(f"  target: graphs / eager{'':<22}{ratio:>6.2f}x (>= {GRAPHS_OVER_EAGER:.2f}x) "
              f"{'met' if ratio >= GRAPHS_OVER_EAGER else 'MISSED'}")


def model_flops_per_sample() -> int:
    """Training FLOPs per row: forward 2 * sum(fan_in * fan_out) over the Linear layers, backward twice that."""
    widths = (2, *HIDDEN, 1)
    return 3 * 2 * sum(a * b for a, b in zip(widths, widths[1:]))


def matmul_tflops(device: torch.device, size: int, *, tf32: bool, repeats: int = 10) -> float:
    """TFLOP/s of ``size`` x ``size`` float32 matrix products on ``device`` (median of ``repeats``)."""
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, generator=generator)
    b = torch.randn(size, size, device=device, generator=generator)
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        for _ in range(3):
            torch.mm(a, b)
        seconds = []
        for _ in range(repeats):
            if device.type == "cuda":
                start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                torch.mm(a, b)
                stop.record()
                stop.synchronize()
                seconds.append(start.elapsed_time(stop) / 1000)
            else:
                began = time.perf_counter()
                torch.mm(a, b)
                seconds.append(time.perf_counter() - began)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before
    return 2 * size**3 / statistics.median(seconds) / 1e12


def flops_table(rows: int, batch: int, repeats: int, device: torch.device, matmul_size: int) -> None:
    """The engine's training epoch at a large batch, in TFLOP/s of the model's arithmetic, against torch.mm."""
    data = load_data(RunConfig(dataset="moons", n_samples=rows, stratify=False))
    n_train = len(data.X_train)
    trainer = engine_trainer(data, batch, device, graphs=True)
    trainer.set_seed(0)
    trainer.train_epoch()  # warm-up and capture
    seconds = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        trainer.train_epoch()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    epoch_s = statistics.median(seconds)
    achieved = model_flops_per_sample() * n_train / epoch_s / 1e12
    how = "graphs" if trainer.graph_refusal() is None else f"eager: {trainer.graph_refusal()}"
    print(f"\nbatch {batch} on {rows:,} rows ({n_train:,} training; {how}), training only, median of {repeats}")
    print(f"  {model_flops_per_sample():,} FLOP per row (3 x forward), {n_train / epoch_s:,.0f} samples/s, "
          f"{achieved:.3f} TFLOP/s")
    fp32 = matmul_tflops(device, matmul_size, tf32=False)
    print(f"  torch.mm {matmul_size} x {matmul_size}, float32:{'':<6}{fp32:>8.1f} TFLOP/s; "
          f"the model reaches {achieved / fp32:.1%}")
    if device.type == "cuda":
        tf32 = matmul_tflops(device, matmul_size, tf32=True)
        print(f"  torch.mm {matmul_size} x {matmul_size}, TF32:{'':<9}{tf32:>8.1f} TFLOP/s; "
              f"the model reaches {achieved / tf32:.1%}")
    share = achieved / fp32
    print(f"  target: model / float32 matrix product{'':<7}{share:>6.1%} (>= {FLOPS_SHARE:.0%}) "
          f"{'met' if share >= FLOPS_SHARE else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default=DEFAULT_BATCHES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--table", choices=("methods", "graphs"),
                        help="methods: the engine against other loops (default on the CPU); graphs: the engine with "
                             "and without its CUDA graph, then the large-batch TFLOP/s (default on CUDA)")
    parser.add_argument("--flops-rows", type=int, default=1_000_000, help="rows for the TFLOP/s figure (0: skip it)")
    parser.add_argument("--flops-batch", type=int, default=4096)
    parser.add_argument("--matmul-size", type=int, default=8192)
    parser.add_argument("--compile", action="store_true",
                        help="with --table graphs, also time a loop compiled with torch.compile(mode='reduce-overhead')")
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = torch.device(args.device)
    table = args.table or ("graphs" if device.type == "cuda" else "methods")
    if table == "graphs":
        batches = [int(b) for b in (args.batches if args.batches != DEFAULT_BATCHES else "16,64,256").split(",")]
        data = load_data(RunConfig(dataset="moons", n_samples=args.rows, stratify=False))
        where = f"{device} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)
        print(f"{args.rows} rows of moons ({len(data.X_train)} training), MLP 2-{'-'.join(map(str, HIDDEN))}-1, "
              f"Adam, {where}, torch {torch.__version__}; median of {args.repeats} epochs")
        graphs_table(data, batches, args.repeats, device, compile_too=args.compile)
        if args.flops_rows:
            flops_table(args.flops_rows, args.flops_batch, args.repeats, device, args.matmul_size)
        return
    data = load_data(RunConfig(dataset="moons", n_samples=args.rows, stratify=False))
    n_train = len(data.X_train)
    print(f"{args.rows} rows of moons ({n_train} training), MLP 2-{'-'.join(map(str, HIDDEN))}-1, Adam, "
          f"{device}, torch {torch.__version__}, 1 thread; median of {args.repeats} epochs")
    for batch in (int(b) for b in args.batches.split(",")):
        epochs = {name: build(data, batch, device) for name, build in METHODS.items()}
        for epoch in epochs.values():  # warm-up: allocator, first-call dispatch
            epoch()
        times: dict[str, list[float]] = {name: [] for name in epochs}
        for _ in range(args.repeats):
            for name, epoch in epochs.items():  # interleaved, so drift in machine load hits all alike
                if device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                epoch()
                if device.type == "cuda":
                    torch.cuda.synchronize()
                times[name].append(time.perf_counter() - start)
        rates = {name: n_train / statistics.median(t) for name, t in times.items()}
        ours = rates[ENGINE]
        print(f"\nbatch {batch}")
        print(f"  {'method':<36}{'samples/s':>12}{'engine is':>12}")
        for name, rate in rates.items():
            print(f"  {name:<36}{rate:>12,.0f}{ours / rate:>11.2f}x")
        for what, ratio, target in targets(rates, batch):
            print(f"  target: {what:<36}{ratio:>6.2f}x (>= {target:.2f}x) {'met' if ratio >= target else 'MISSED'}")


if __name__ == "__main__":
    main()
