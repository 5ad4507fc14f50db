"""Trainer: the course surface, RunConfig runs, events, stop / pause, divergence, early stopping."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from clf_tui.engine import (
    DeviceError,
    EpochEnded,
    EvalReady,
    RunConfig,
    RunControl,
    RunEnded,
    RunStarted,
    Trainer,
)
from clf_tui.engine.metrics import BinaryEval

COURSE = RunConfig(
    dataset="moons", n_samples=100, noise=0.3, data_seed=0, split_seed=13, stratify=False,
    model="logistic", loss="bce_logits", optimizer="sgd", lr=0.1, batch_size=16, epochs=100, seed=42,
)


def course_trainer() -> tuple[Trainer, np.ndarray, np.ndarray]:
    """The course's logistic regression on make_moons, built exactly as the course builds it."""
    X, y = make_moons(n_samples=100, noise=0.3, random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=13)
    scaler = StandardScaler().fit(X_train)
    X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
    torch.manual_seed(13)
    train_data = TensorDataset(torch.as_tensor(X_train).float(), torch.as_tensor(y_train.reshape(-1, 1)).float())
    val_data = TensorDataset(torch.as_tensor(X_val).float(), torch.as_tensor(y_val.reshape(-1, 1)).float())
    train_loader = DataLoader(train_data, batch_size=16, shuffle=True)
    val_loader = DataLoader(val_data, batch_size=16)
    torch.manual_seed(42)
    model = nn.Sequential()
    model.add_module("linear", nn.Linear(2, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), optimizer)
    trainer.set_loaders(train_loader, val_loader)
    return trainer, X_val, y_val


def test_course_surface_logistic_regression_learns_moons() -> None:
    trainer, X_val, y_val = course_trainer()
    trainer.train(100, seed=42)
    assert trainer.total_epochs == 100
    assert len(trainer.losses) == len(trainer.val_losses) == 100
    assert np.mean(trainer.losses[-10:]) < trainer.losses[0] - 0.1
    probabilities = 1 / (1 + np.exp(-trainer.predict(X_val)[:, 0]))
    assert ((probabilities >= 0.5) == y_val).mean() >= 0.8
    # The course's published result for this exact setup.
    np.testing.assert_allclose(trainer.model.linear.weight.detach().numpy(), [[1.1806, -1.8693]], atol=2e-4)
    np.testing.assert_allclose(trainer.model.linear.bias.detach().numpy(), [-0.0591], atol=2e-4)


def test_run_config_logistic_regression_matches_the_course_setup() -> None:
    trainer = Trainer.from_config(COURSE)
    course, _, _ = course_trainer()
    # Same data, same initial weights as the hand-built course model.
    np.testing.assert_array_equal(trainer.data.X_val, course.val_loader.dataset.tensors[0].numpy())
    np.testing.assert_array_equal(trainer.model[0].weight.detach().numpy(), course.model.linear.weight.detach().numpy())
    trainer.train(COURSE.epochs)
    assert np.mean(trainer.losses[-10:]) < trainer.losses[0] - 0.1
    assert trainer.val_metrics[-1]["accuracy"] >= 0.8
    y_true, y_prob = trainer.evaluate()
    assert BinaryEval(y_true, y_prob).at(0.5).accuracy == trainer.val_metrics[-1]["accuracy"]


@pytest.mark.parametrize(("dataset", "floor"), [("iris", 0.9), ("digits", 0.9), ("breast_cancer", 0.95)])
def test_default_mlp_and_adam_reach_the_accuracy_floor(dataset: str, floor: float) -> None:
    trainer = Trainer.from_config(RunConfig(dataset=dataset))
    trainer.train(trainer.config.epochs)
    assert trainer.val_metrics[-1]["accuracy"] >= floor


def test_events_follow_the_arithmetic_and_epochs_count_on() -> None:
    trainer = Trainer.from_config(RunConfig(n_samples=200, epochs=3))
    events = list(trainer.run(3))
    assert isinstance(events[0], RunStarted) and events[0].start_epoch == 0 and events[0].n_train == 160
    assert events[0].device_note.startswith("auto: ")  # says why this device was chosen
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert all(e.samples_per_s > 0 and e.duration_s > 0 for e in epochs)
    assert {"accuracy", "auroc", "average_precision"} <= set(epochs[0].metrics)
    evals = [e for e in events if isinstance(e, EvalReady)]
    assert len(evals) == 3 and evals[-1].y_prob.shape == (40,) and evals[-1].y_true.dtype == np.int64
    assert events[-1] == RunEnded("completed", 3, "trained 3 epochs")
    again = list(trainer.run(2))
    assert again[0].start_epoch == 3 and [e.epoch for e in again if isinstance(e, EpochEnded)] == [4, 5]
    assert trainer.total_epochs == 5 and len(trainer.losses) == 5


def test_train_twice_equals_train_once() -> None:
    cfg = RunConfig(n_samples=200, dropout=0.2)
    once = Trainer.from_config(cfg)
    once.train(6)
    twice = Trainer.from_config(cfg)
    twice.train(3)
    twice.train(3, seed=123)  # the seed only applies to a fresh trainer: the run continues
    assert twice.losses == once.losses


class _StopAfter:
    """A loader that requests a stop after ``n`` batches of its second pass."""

    def __init__(self, loader: DataLoader, control: RunControl, n: int) -> None:
        self.loader, self.control, self.n, self.passes = loader, control, n, 0
        self.dataset = loader.dataset

    def __iter__(self):
        self.passes += 1
        for i, batch in enumerate(self.loader):
            if self.passes == 2 and i == self.n:
                self.control.stop()
            yield batch


def test_stop_mid_epoch_steps_back_to_the_last_finished_epoch() -> None:
    reference, _, _ = course_trainer()
    reference.train(1, seed=42)
    trainer, _, _ = course_trainer()
    control = RunControl()
    trainer.set_loaders(_StopAfter(trainer.train_loader, control, n=2), trainer.val_loader)
    trainer.set_seed(42)
    events = list(trainer.run(5, control=control))
    assert events[-1].reason == "stopped" and events[-1].epoch == 1
    assert trainer.total_epochs == 1 and trainer.losses == reference.losses
    for ours, theirs in zip(trainer.model.parameters(), reference.model.parameters()):
        assert torch.equal(ours, theirs)
    # Continuing after the stop gives the uninterrupted run. The DataLoader draws its order
    # from torch's global generator, so the reference runs after, not interleaved.
    trainer.set_loaders(reference.train_loader, reference.val_loader)
    trainer.train(1)
    uninterrupted, _, _ = course_trainer()
    uninterrupted.train(2, seed=42)
    assert trainer.losses == uninterrupted.losses


def test_pause_holds_the_run_until_resumed() -> None:
    trainer = Trainer.from_config(RunConfig(n_samples=200))
    control = RunControl()
    control.pause()
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.extend(trainer.run(2, control=control)))
    worker.start()
    worker.join(0.5)
    assert worker.is_alive() and trainer.total_epochs == 0 and control.paused
    control.resume()
    worker.join(30)
    assert not worker.is_alive() and seen[-1].reason == "completed" and trainer.total_epochs == 2


def test_stop_while_paused_ends_the_run() -> None:
    trainer = Trainer.from_config(RunConfig(n_samples=200))
    control = RunControl()
    control.pause()
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.extend(trainer.run(2, control=control)))
    worker.start()
    control.stop()
    worker.join(30)
    assert seen[-1].reason == "stopped" and trainer.total_epochs == 0


def test_divergence_ends_the_run_and_keeps_the_last_good_weights() -> None:
    cfg = RunConfig(n_samples=200, loss="mse", optimizer="sgd", lr=1e6)
    trainer = Trainer.from_config(cfg)
    events = list(trainer.run(50))
    end = events[-1]
    assert end.reason == "diverged"
    assert f"epoch {end.epoch + 1}" in end.message and "lower learning rate" in end.message
    assert trainer.total_epochs == end.epoch == len(trainer.losses)
    assert all(np.isfinite(trainer.losses))
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_early_stopping_restores_the_best_epoch() -> None:
    cfg = RunConfig(n_samples=200, early_stopping=True, patience=3, min_delta=10.0)
    trainer = Trainer.from_config(cfg)
    end = list(trainer.run(20))[-1]
    assert end.reason == "early_stopped" and end.epoch == 4 and "epoch 1" in end.message
    first = Trainer.from_config(cfg)
    first.train(1)
    for ours, theirs in zip(trainer.model.parameters(), first.model.parameters()):
        assert torch.equal(ours, theirs)


def test_predict_takes_numpy_or_tensors_and_keeps_the_mode() -> None:
    trainer = Trainer.from_config(RunConfig(n_samples=200, dropout=0.5))
    x = trainer.data.X_val
    out = trainer.predict(x)
    assert isinstance(out, np.ndarray) and out.shape == (len(x), 1)
    np.testing.assert_array_equal(out, trainer.predict(torch.from_numpy(x)))  # eval mode: no dropout
    assert trainer.model.training
    proba = trainer.predict_proba(x)
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-out[:, 0].astype(np.float64))), rtol=1e-6)


@pytest.mark.parametrize("loss", ["bce_logits", "bce", "cross_entropy", "nll", "mse"])
def test_every_loss_learns_a_binary_task_and_gives_probabilities(loss: str) -> None:
    trainer = Trainer.from_config(RunConfig(n_samples=300, loss=loss, epochs=30))
    trainer.train(30)
    y_true, y_prob = trainer.evaluate()
    assert y_prob.shape == y_true.shape and ((y_prob >= 0) & (y_prob <= 1)).all()
    assert trainer.val_metrics[-1]["accuracy"] >= 0.8


@pytest.mark.parametrize("loss", ["cross_entropy", "nll", "mse"])
def test_every_multiclass_loss_gives_rows_of_probabilities(loss: str) -> None:
    trainer = Trainer.from_config(RunConfig(dataset="iris", loss=loss, epochs=40))
    trainer.train(40)
    _, y_prob = trainer.evaluate()
    assert y_prob.shape == (len(trainer.data.y_val), 3)
    np.testing.assert_allclose(y_prob.sum(axis=1), 1.0, rtol=1e-5)
    assert trainer.val_metrics[-1]["accuracy"] >= 0.8


def test_binary_losses_refuse_multiclass_data() -> None:
    from clf_tui.engine import ConfigError

    with pytest.raises(ConfigError, match="needs a binary task, but this data set has 3 classes"):
        Trainer.from_config(RunConfig(dataset="iris", loss="bce_logits"))


def test_pos_weight_auto_is_negatives_over_positives() -> None:
    trainer = Trainer.from_config(RunConfig(dataset="breast_cancer", pos_weight="auto"))
    n_neg, n_pos = trainer.data.class_counts["train"]
    assert trainer.loss_fn.pos_weight.item() == pytest.approx(n_neg / n_pos)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(DeviceError, match="no usable CUDA device; use device = cpu or auto"):
        Trainer.from_config(RunConfig(device="cuda"))
    trainer, _, _ = course_trainer()
    with pytest.raises(DeviceError, match="cuda:1"):
        trainer.to("cuda:1")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_matches_the_cpu_closely() -> None:
    cpu = Trainer.from_config(RunConfig(n_samples=200, device="cpu"))
    gpu = Trainer.from_config(RunConfig(n_samples=200, device="cuda"))
    cpu.train(5)
    gpu.train(5)
    assert gpu.device.type == "cuda"
    np.testing.assert_allclose(gpu.losses, cpu.losses, rtol=1e-3)
