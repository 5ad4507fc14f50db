"""Training throughput, side by side: the engine against a course-style loop, bare loops and scikit-learn.

Workload: MLP 2-50-100-50-1 with ReLU, BCEWithLogits, Adam (lr 1e-3), make_moons
with 100k rows, 80/20 split; one epoch = training plus validation. Every method
runs on the same data in this process, interleaved, and the table gives the
median samples/s over the repeats and each method's ratio to the engine.

    python bench/train.py [--batches 16,64,256,1024] [--repeats 3] [--rows 100000] [--device cpu]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="16,64,256,1024")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = torch.device(args.device)
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
