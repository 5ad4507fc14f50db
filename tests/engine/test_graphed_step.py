"""The training step as a CUDA graph: where it is refused and why, that every refusal trains exactly as before,
and, on a GPU, that replaying the graph trains as the eager step does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from clf_tui.engine import RunConfig, RunControl, TensorBatches, Trainer, find_lr
from clf_tui.engine.distributed import Launch
from clf_tui.engine.graphed import MIN_FULL_BATCHES, WARMUP_STEPS, StepGraph, epoch_order, refusal, step_refusal

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

N_SAMPLES = 3010
"""2408 training rows: full batches and a short last one at batch 16 (150 + 8), 64 (37 + 40) and 256 (9 + 104)."""


def config(**changes: object) -> RunConfig:
    """Moons on the CPU for 3 epochs, unless ``changes`` say otherwise."""
    return RunConfig(**{"dataset": "moons", "n_samples": N_SAMPLES, "epochs": 3, "device": "cpu", **changes})


def n_full(trainer: Trainer) -> int:
    return len(trainer.train_loader.X) // trainer.train_loader.batch_size


def assert_same_state(a: Trainer, b: Trainer) -> None:
    """Weights, optimiser state and the batch order's generator equal bit for bit."""
    for (name, mine), theirs in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(mine, theirs), name
    for mine, theirs in zip(a.optimizer.state.values(), b.optimizer.state.values()):
        assert mine.keys() == theirs.keys()
        for key in mine:
            assert torch.equal(mine[key], theirs[key]), key
    assert torch.equal(a.generator.get_state(), b.generator.get_state())


class Rerun:
    """A stand-in for CudaGraphs on the CPU: "capture" keeps the step, and each "replay" runs it again on the
    buffers from no gradients, which is what replaying a captured step computes. It proves the plumbing around
    the graph (the order, the buffers, the warm-up, the short batch, the sums, when to capture again)."""

    def __init__(self, optimizer: torch.optim.Optimizer, *, fail: bool = False) -> None:
        self.optimizer = optimizer
        self.fail = fail
        self.capturable_at_capture: list[bool] = []

    def warm(self, step: Callable[[], None]) -> None:
        step()

    def capture(self, step: Callable[[], None]) -> Callable[[], None]:
        self.capturable_at_capture = [group.get("capturable") for group in self.optimizer.param_groups]
        if self.fail:
            raise RuntimeError("operation not permitted when stream is capturing")

        def replay() -> None:
            step()
            self.optimizer.zero_grad(set_to_none=True)

        return replay


def plumbed_twins(cfg: RunConfig, *, fail: bool = False) -> tuple[Trainer, Trainer, StepGraph]:
    """Two trainers of ``cfg``, seeded alike: the first steps eagerly, the second through a StepGraph on Rerun."""
    eager, graphed = Trainer.from_config(cfg), Trainer.from_config(cfg)
    eager.set_seed(cfg.seed)
    graphed.set_seed(cfg.seed)
    return eager, graphed, StepGraph(Rerun(graphed.optimizer, fail=fail))


def epochs_alike(eager: Trainer, graphed: Trainer, step_graph: StepGraph, n_epochs: int) -> None:
    for _ in range(n_epochs):
        mine = eager.eager_epoch(RunControl())
        theirs = step_graph.train_epoch(graphed, RunControl())
        assert mine is not None and theirs is not None
        assert theirs.total_loss.item() == mine.total_loss.item()
        assert theirs.first_batch_loss.item() == mine.first_batch_loss.item()
        assert theirs.n_seen == mine.n_seen
    assert_same_state(eager, graphed)


# -- on the CPU, nothing changes --------------------------------------------------------------------------


def test_on_the_cpu_no_graph_is_taken_and_a_run_is_the_eager_run_bit_for_bit() -> None:
    default, eager = Trainer.from_config(config()), Trainer.from_config(config())
    eager.cuda_graphs = False
    default.train(3)
    eager.train(3)
    assert default.graph_refusal() == "the trainer is on cpu; CUDA graphs are for CUDA devices"
    assert default.step_graph is None
    assert default.losses == eager.losses and default.val_losses == eager.val_losses
    assert_same_state(default, eager)


def test_a_run_on_the_cpu_is_the_plain_loop_bit_for_bit() -> None:
    """The epoch as it always was: TensorBatches' order, one step per batch, the loss summed on the device."""
    trainer, plain = Trainer.from_config(config()), Trainer.from_config(config())
    trainer.train(3)
    plain.set_seed(plain.default_seed)
    losses = []
    for _ in range(3):
        total = torch.zeros(())
        for x, y in plain.train_loader:
            loss = plain.loss_fn(plain.model(x), y)
            loss.backward()
            plain.optimizer.step()
            plain.optimizer.zero_grad(set_to_none=True)
            total.add_(loss.detach(), alpha=len(x))
        losses.append(total.item() / len(plain.train_loader.X))
    assert trainer.losses == losses
    assert_same_state(trainer, plain)


# -- the plumbing around the graph, with a stand-in for it -------------------------------------------------


@pytest.mark.parametrize("batch_size", [16, 64, 256])
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "momentum"])
def test_replaying_the_captured_step_trains_as_the_eager_step_does(batch_size: int, optimizer: str) -> None:
    eager, graphed, step_graph = plumbed_twins(config(batch_size=batch_size, optimizer=optimizer))
    assert len(graphed.train_loader.X) % batch_size  # a short last batch, stepped eagerly
    epochs_alike(eager, graphed, step_graph, 3)
    assert step_graph.captures == 1
    assert step_graph.replays == 3 * n_full(graphed) - WARMUP_STEPS


def test_an_unshuffled_loader_is_taken_in_its_order() -> None:
    eager, graphed, step_graph = plumbed_twins(config(batch_size=64))
    for trainer in (eager, graphed):
        loader = trainer.train_loader
        trainer.set_loaders(TensorBatches(loader.X, loader.y, 64, shuffle=False), trainer.val_loader)
    epochs_alike(eager, graphed, step_graph, 2)
    assert step_graph.replays == 2 * n_full(graphed) - WARMUP_STEPS


def test_the_capture_sees_every_group_capturable_and_leaves_them_as_they_were() -> None:
    _, graphed, step_graph = plumbed_twins(config(batch_size=64))
    step_graph.train_epoch(graphed, RunControl())
    assert step_graph.backend.capturable_at_capture == [True]
    assert [group["capturable"] for group in graphed.optimizer.param_groups] == [False]
    assert graphed.state()["optimizer_state"]["param_groups"][0]["capturable"] is False
    assert all(p.grad is None for p in graphed.model.parameters())


def test_a_rollback_or_a_new_learning_rate_captures_again_and_training_stays_exact() -> None:
    eager, graphed, step_graph = plumbed_twins(config(batch_size=64))
    epochs_alike(eager, graphed, step_graph, 1)
    start = [eager.snapshot(), graphed.snapshot()]
    epochs_alike(eager, graphed, step_graph, 1)
    assert step_graph.captures == 1  # nothing changed between the epochs
    eager.rollback(start[0])
    graphed.rollback(start[1])  # new optimiser state, where the old graph would have written the old
    epochs_alike(eager, graphed, step_graph, 1)
    assert step_graph.captures == 2
    for trainer in (eager, graphed):
        trainer.optimizer.param_groups[0]["lr"] = 0.003  # baked into a captured step
    epochs_alike(eager, graphed, step_graph, 1)
    assert step_graph.captures == 3


def test_a_failed_capture_leaves_the_epoch_to_the_eager_step() -> None:
    eager, graphed, step_graph = plumbed_twins(config(batch_size=64), fail=True)
    epochs_alike(eager, graphed, step_graph, 2)
    assert step_graph.captures == 0 and step_graph.replays == 0
    assert step_graph.failure.startswith("capturing the training step failed, so it steps eagerly: operation not")
    assert [group["capturable"] for group in graphed.optimizer.param_groups] == [False]


def test_a_stop_ends_a_graphed_epoch_between_batches() -> None:
    _, graphed, step_graph = plumbed_twins(config(batch_size=64))
    control = RunControl()
    control.stop()
    before = graphed.snapshot()
    assert step_graph.train_epoch(graphed, control) is None
    for name, weights in before.model.items():
        assert torch.equal(graphed.model.state_dict()[name], weights)


def test_the_epoch_order_is_the_one_tensor_batches_draws() -> None:
    X = torch.arange(50, dtype=torch.float32)[:, None]
    loader = TensorBatches(X, torch.arange(50), 8, generator=torch.Generator().manual_seed(3))
    twin = TensorBatches(X, torch.arange(50), 8, generator=torch.Generator().manual_seed(3))
    for _ in range(2):
        order = epoch_order(loader)
        assert torch.equal(order, torch.cat([y for _, y in twin]))
    assert torch.equal(loader.generator.get_state(), twin.generator.get_state())
    assert epoch_order(TensorBatches(X, torch.arange(50), 8, shuffle=False)) is None


# -- the decision -----------------------------------------------------------------------------------------


def course_trainer(model: nn.Module | None = None, loss_fn: nn.Module | None = None,
                   optimizer: Callable[[list[nn.Parameter]], torch.optim.Optimizer] | None = None,
                   rows: int = 640, batch_size: int = 32) -> Trainer:
    """A trainer built by hand on the engine's TensorBatches: two features, one logit."""
    torch.manual_seed(0)
    model = model if model is not None else nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    optimizer = optimizer or (lambda params: torch.optim.Adam(params, lr=0.01))
    trainer = Trainer(model, loss_fn if loss_fn is not None else nn.BCEWithLogitsLoss(),
                      optimizer(list(model.parameters())))
    X = torch.randn(rows, 2)
    trainer.set_loaders(TensorBatches(X, (X[:, :1] > 0).float(), batch_size))
    return trainer


class Scaled(nn.Sequential):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * 2


def hooked() -> Trainer:
    trainer = course_trainer()
    trainer.model[0].register_forward_hook(lambda *_: None)
    return trainer


def with_leftover_gradients() -> Trainer:
    trainer = course_trainer()
    trainer.loss_fn(trainer.model(trainer.train_loader.X), trainer.train_loader.y).backward()
    return trainer


def with_optimizer_hook() -> Trainer:
    trainer = course_trainer()
    trainer.optimizer.register_step_pre_hook(lambda *_: None)
    return trainer


def sharded() -> Trainer:
    trainer = course_trainer()
    trainer.train_loader.shard = (0, 2)
    return trainer


def one_of_several_processes() -> Trainer:
    trainer = course_trainer()
    trainer.launch = Launch(rank=0, world_size=2, local_rank=0)
    return trainer


def users_dataloader() -> Trainer:
    trainer = course_trainer()
    loader = trainer.train_loader
    trainer.set_loaders(DataLoader(TensorDataset(loader.X, loader.y), batch_size=32, shuffle=True))
    return trainer


REFUSED: dict[str, tuple[Callable[[], Trainer], str]] = {
    "a DataLoader of the user's": (users_dataloader, "come from a DataLoader, not the engine's TensorBatches"),
    "one process's share": (sharded, "one process's share of the data"),
    "several processes": (one_of_several_processes, "one of several processes"),
    "too few full batches": (lambda: course_trainer(rows=MIN_FULL_BATCHES * 32 - 1),
                             f"{MIN_FULL_BATCHES - 1} full batches of 32 rows"),
    "dropout": (lambda: course_trainer(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))),
                "the model's Dropout layer '2' drops units with p = 0.3"),
    "a layer not known to capture": (lambda: course_trainer(nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8),
                                                                          nn.Linear(8, 1))),
                                     "BatchNorm1d layer '1' is not one known to capture"),
    "a model of the user's own": (lambda: course_trainer(Scaled(nn.Linear(2, 1))), "the model's Scaled layer"),
    "a hook": (hooked, "Linear layer '0' has hooks"),
    "float64 weights": (lambda: course_trainer(nn.Sequential(nn.Linear(2, 1)).double()), "torch.float64 parameters"),
    "gradients left over": (with_leftover_gradients, "holds gradients from an earlier backward pass"),
    "a loss not known to capture": (lambda: course_trainer(loss_fn=nn.HuberLoss()), "the loss HuberLoss"),
    "RMSprop": (lambda: course_trainer(optimizer=lambda p: torch.optim.RMSprop(p, lr=0.01)), "optimiser RMSprop"),
    "foreach Adam": (lambda: course_trainer(optimizer=lambda p: torch.optim.Adam(p, lr=0.01, foreach=True)),
                     "runs torch's foreach kernel"),
    "a tensor learning rate": (lambda: course_trainer(optimizer=lambda p: torch.optim.Adam(p, lr=torch.tensor(0.01))),
                               "holds its lr as a tensor"),
    "an optimiser hook": (with_optimizer_hook, "the optimiser Adam has step hooks"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_each_step_that_cannot_be_captured_is_refused_with_its_reason(case: str) -> None:
    build, reason = REFUSED[case]
    assert reason in (step_refusal(build()) or "")


@pytest.mark.parametrize("optimizer", [
    lambda p: torch.optim.Adam(p, lr=0.01),
    lambda p: torch.optim.AdamW(p, lr=0.01, amsgrad=True),
    lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
    lambda p: torch.optim.Adam(p, lr=0.01, foreach=True, capturable=True),
], ids=["adam", "adamw-amsgrad", "nesterov", "capturable-adam"])
def test_the_course_surface_on_tensor_batches_can_be_captured(optimizer: Callable) -> None:
    assert step_refusal(course_trainer(optimizer=optimizer)) is None


def test_the_engines_own_run_can_be_captured_and_only_cuda_and_the_switch_stand_in_its_way() -> None:
    trainer = Trainer.from_config(config(hidden=(16, 16), activation="tanh", loss="cross_entropy"))
    assert step_refusal(trainer) is None
    assert refusal(trainer) == "the trainer is on cpu; CUDA graphs are for CUDA devices"
    trainer.cuda_graphs = False
    assert refusal(trainer) == "CUDA graphs are turned off (cuda_graphs = False)"


# -- on a GPU -----------------------------------------------------------------------------------------------


def cuda_twins(cfg: RunConfig) -> tuple[Trainer, Trainer]:
    """Two trainers of ``cfg`` on CUDA: the first with graphs, the second without."""
    graphed, eager = Trainer.from_config(cfg), Trainer.from_config(cfg)
    eager.cuda_graphs = False
    return graphed, eager


def assert_close_runs(a: Trainer, b: Trainer) -> None:
    # Float tolerance: the same kernels run, but a graph's cuBLAS calls may take another algorithm than the
    # eager stream's; a few hundred Adam steps keep such rounding far below these bounds.
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(a.val_losses, b.val_losses, rtol=1e-4, atol=1e-6)
    for (name, mine), theirs in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-4, msg=name)


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("batch_size", [16, 64, 256])
@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_on_cuda_the_graph_trains_as_the_eager_step_does(batch_size: int, optimizer: str) -> None:
    graphed, eager = cuda_twins(config(device="cuda", batch_size=batch_size, optimizer=optimizer))
    assert graphed.graph_refusal() is None
    rng = torch.cuda.get_rng_state()
    graphed.train(3)
    assert torch.equal(torch.cuda.get_rng_state(), rng)  # capture and replay draw nothing
    eager.train(3)
    assert graphed.step_graph.captures == 1
    assert graphed.step_graph.replays == 3 * n_full(graphed) - WARMUP_STEPS
    assert eager.step_graph is None
    assert_close_runs(graphed, eager)
    assert graphed.optimizer.param_groups[0].get("capturable", False) is False


@pytest.mark.cuda
@needs_cuda
def test_on_cuda_a_run_resumed_from_its_checkpoint_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    cfg = config(device="cuda", batch_size=64, epochs=4)
    whole, half = Trainer.from_config(cfg), Trainer.from_config(cfg)
    whole.train(4)
    half.train(2)
    path = half.save_checkpoint(tmp_path / "half.pt")
    resumed = Trainer.from_checkpoint(path, device="cuda")
    resumed.train(2)
    assert resumed.step_graph.captures == 1 and whole.step_graph.captures == 1
    assert_close_runs(resumed, whole)
    on_cpu = Trainer.from_checkpoint(path, device="cpu")  # written with graphs, read without
    assert on_cpu.optimizer.param_groups[0]["capturable"] is False
    on_cpu.train(1)


@pytest.mark.cuda
@needs_cuda
def test_on_cuda_dropout_steps_eagerly_exactly_as_with_graphs_off() -> None:
    graphed, eager = cuda_twins(config(device="cuda", batch_size=64, dropout=0.2))
    assert "drops units with p = 0.2" in graphed.graph_refusal()
    graphed.train(2)
    eager.train(2)
    assert graphed.step_graph is None
    assert graphed.losses == eager.losses
    assert_same_state(graphed, eager)


@pytest.mark.cuda
@needs_cuda
def test_on_cuda_a_users_dataloader_steps_eagerly_exactly_as_with_graphs_off() -> None:
    runs = []
    for graphs in (True, False):
        trainer = users_dataloader().to("cuda")
        trainer.cuda_graphs = graphs
        trainer.train(2)
        assert trainer.step_graph is None
        runs.append(trainer)
    assert runs[0].losses == runs[1].losses
    assert_same_state(*runs)


@pytest.mark.cuda
@needs_cuda
def test_on_cuda_a_range_test_between_epochs_captures_again_and_training_stays_close() -> None:
    graphed, eager = cuda_twins(config(device="cuda", batch_size=64))
    for trainer in (graphed, eager):
        trainer.train(1)
        find_lr(trainer, n_steps=20)  # rolls the optimiser's state back: new tensors
        trainer.train(2)
    assert graphed.step_graph.captures == 2
    assert_close_runs(graphed, eager)
