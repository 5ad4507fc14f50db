"""Learning-rate range test: the sweep, its smoothing and early stop, the suggestion, and a trainer left as it was."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from clf_tui.engine import ConfigError, DataError, RunConfig, RunControl, Trainer, find_lr
from clf_tui.engine.lr_finder import steepest_descent

MOONS = RunConfig(dataset="moons", n_samples=400, hidden=(16, 16), dropout=0.1, device="cpu")
"""An MLP with dropout, so that the sweep draws from torch's generator as well as the batch order's."""


def moons_trainer(**changes: Any) -> Trainer:
    return Trainer.from_config(MOONS.replace(**changes))


def course_trainer(sampler_generator: bool) -> Trainer:
    """The course surface: a model, loss and optimiser of one's own, and DataLoaders."""
    data = Trainer.from_config(MOONS).data
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 1))
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    train = TensorDataset(torch.from_numpy(data.X_train), torch.from_numpy(data.y_train).float().unsqueeze(1))
    val = TensorDataset(torch.from_numpy(data.X_val), torch.from_numpy(data.y_val).float().unsqueeze(1))
    generator = torch.Generator() if sampler_generator else None
    trainer.set_loaders(DataLoader(train, batch_size=32, shuffle=True, generator=generator),
                        DataLoader(val, batch_size=64))
    return trainer


TRAINERS = {
    "engine batches": lambda: moons_trainer(),
    "DataLoader with its own generator": lambda: course_trainer(sampler_generator=True),
    "DataLoader on torch's generator": lambda: course_trainer(sampler_generator=False),
}


def everything(trainer: Trainer) -> dict[str, Any]:
    """A deep copy of all that a range test could change and must put back."""
    sampler = getattr(trainer.train_loader, "sampler", None)
    return copy.deepcopy({
        "model": trainer.model.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "generator": trainer.generator.get_state(),
        "sampler_rng": getattr(sampler, "generator", None) and sampler.generator.get_state(),
        "history": list(trainer.history),
        "epochs": trainer.total_epochs,
        "modes": [module.training for module in trainer.model.modules()],
        "grads": [p.grad for p in trainer.model.parameters()],
    })


def assert_equal(before: Any, after: Any, where: str = "state") -> None:
    """Equal in every tensor (torch.equal) and every other value, all the way down."""
    assert type(before) is type(after), where
    if isinstance(before, torch.Tensor):
        assert before.dtype == after.dtype and torch.equal(before, after), where
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), where
        for key in before:
            assert_equal(before[key], after[key], f"{where}[{key!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(before) == len(after), where
        for i, (b, a) in enumerate(zip(before, after)):
            assert_equal(b, a, f"{where}[{i}]")
    else:
        assert before == after, where


# -- the acceptance test: moons, an MLP --------------------------------------------------------


def test_on_moons_the_suggestion_lies_within_the_sweep_where_the_loss_falls() -> None:
    result = find_lr(moons_trainer())
    assert result.suggestion is not None
    assert result.start_lr <= result.suggestion <= result.end_lr
    i = result.suggestion_index
    assert result.lrs[i] == result.suggestion
    assert result.smoothed[i + 1] < result.smoothed[i - 1]  # a fall, not a climb
    assert min(result.smoothed) < 0.9 * result.smoothed[0]  # and the sweep found a real one


def test_the_suggested_rate_trains_where_the_start_of_the_sweep_does_not() -> None:
    result = find_lr(moons_trainer())
    losses = {}
    for name, lr in (("start", result.start_lr), ("suggestion", result.suggestion)):
        trainer = moons_trainer(lr=lr)
        trainer.train(5)
        losses[name] = trainer.losses[-1]
    assert losses["start"] > 0.65  # still at chance (ln 2 = 0.693)
    assert losses["suggestion"] < 0.5 * losses["start"]


@pytest.mark.parametrize("n_steps", [2, 37, 100])
def test_a_completed_sweep_has_the_sweeps_length_from_start_to_end(n_steps: int) -> None:
    result = find_lr(moons_trainer(optimizer="sgd"), start_lr=1e-5, end_lr=0.5, n_steps=n_steps)
    assert result.stop_reason == "completed"
    assert result.n_steps == len(result.lrs) == len(result.losses) == len(result.smoothed) == n_steps
    assert result.lrs[0] == pytest.approx(1e-5, rel=1e-12) and result.lrs[-1] == pytest.approx(0.5, rel=1e-12)
    ratios = np.diff(np.log(result.lrs))
    assert np.allclose(ratios, math.log(0.5 / 1e-5) / (n_steps - 1), rtol=1e-9)
    assert "in %d steps" % n_steps in result.message


def test_an_exploding_loss_ends_the_sweep_early_and_says_so() -> None:
    ratio = 4.0
    result = find_lr(moons_trainer(optimizer="sgd"), start_lr=1e-3, end_lr=1e6, n_steps=100, diverge_ratio=ratio)
    taken = len(result.lrs)
    assert result.stop_reason == "exploded"
    assert 1 < taken < result.n_steps == 100
    assert len(result.losses) == len(result.smoothed) == taken
    assert np.allclose(result.lrs, np.geomspace(1e-3, 1e6, 100)[:taken], rtol=1e-12)  # the sweep, cut short
    smoothed = np.asarray(result.smoothed)
    lowest = np.minimum.accumulate(smoothed)
    assert not math.isfinite(result.losses[-1]) or smoothed[-1] > ratio * lowest[-1]  # it stopped on an explosion
    assert np.isfinite(result.losses[:-1]).all() and (smoothed[:-1] <= ratio * lowest[:-1]).all()  # and not before
    assert f"exploded at step {taken} of 100" in result.message
    assert result.suggestion is not None and result.suggestion < result.lrs[-1]


@pytest.mark.parametrize("smoothing", [0.05, 0.3, 1.0])
def test_the_smoothed_loss_is_the_moving_average_of_the_losses(smoothing: float) -> None:
    result = find_lr(moons_trainer(), n_steps=40, end_lr=0.1, smoothing=smoothing)
    # The bias-corrected average is the mean of the losses so far, weighted (1 - smoothing) ** age.
    losses = np.asarray(result.losses)
    expected = [np.average(losses[: i + 1], weights=(1 - smoothing) ** np.arange(i, -1, -1))
                for i in range(len(losses))]
    assert np.allclose(result.smoothed, expected, rtol=1e-12, atol=0)


# -- the trainer comes back as it was ------------------------------------------------------------


@pytest.mark.parametrize("make", list(TRAINERS.values()), ids=list(TRAINERS))
def test_model_optimiser_random_state_history_and_modes_come_back(make: Any) -> None:
    trainer = make()
    trainer.train(2)  # so that the optimiser holds momentum (Adam: moments and step counts)
    assert trainer.optimizer.state_dict()["state"]
    before = everything(trainer)
    result = find_lr(trainer, n_steps=60)
    assert len(result.lrs) > 10
    assert_equal(before, everything(trainer))


@pytest.mark.parametrize("make", list(TRAINERS.values()), ids=list(TRAINERS))
def test_training_on_after_the_test_equals_training_on_without_it(make: Any) -> None:
    def two_and_two(range_test: bool) -> Trainer:
        # One after the other: dropout draws from torch's global generator, which the two runs share.
        trainer = make()
        trainer.train(2)
        if range_test:
            find_lr(trainer, n_steps=60)
        trainer.train(2)
        return trainer

    tested, untouched = two_and_two(True), two_and_two(False)
    assert tested.losses == untouched.losses and tested.val_losses == untouched.val_losses
    assert_equal(untouched.model.state_dict(), tested.model.state_dict())
    assert_equal(untouched.optimizer.state_dict(), tested.optimizer.state_dict())


def test_a_model_in_eval_mode_stays_in_it_and_mixed_modes_stay_mixed() -> None:
    trainer = moons_trainer()
    trainer.model.eval()
    find_lr(trainer, n_steps=20)
    assert not any(module.training for module in trainer.model.modules())
    trainer.model.train()
    trainer.model[2].eval()
    modes = [module.training for module in trainer.model.modules()]
    find_lr(trainer, n_steps=20)
    assert [module.training for module in trainer.model.modules()] == modes


def test_a_fresh_trainer_is_left_fresh() -> None:
    trainer = moons_trainer(optimizer="momentum")
    before = everything(trainer)
    assert not before["optimizer"]["state"]
    find_lr(trainer, n_steps=30)
    assert_equal(before, everything(trainer))


def test_a_stop_request_ends_the_sweep_and_still_puts_everything_back() -> None:
    trainer = moons_trainer()
    trainer.train(1)
    before = everything(trainer)
    control = RunControl()
    control.stop()
    result = find_lr(trainer, control=control)
    assert result.stop_reason == "stopped" and result.lrs == result.losses == () and result.suggestion is None
    assert "stopped at step 0 of 100" in result.message
    assert_equal(before, everything(trainer))


# -- the suggestion ----------------------------------------------------------------------------


def sigmoid_drop(lrs: np.ndarray, centre: float, width: float = 0.4) -> np.ndarray:
    """A loss that falls from 1 to 0.2 around log10(lr) = centre, steepest at the centre."""
    return 0.2 + 0.8 / (1 + np.exp((np.log10(lrs) - centre) / width))


@pytest.mark.parametrize("centre", [-5.0, -2.3, -1.0])
def test_the_suggestion_is_where_the_smoothed_loss_falls_fastest(centre: float) -> None:
    lrs = np.geomspace(1e-7, 10, 100)
    losses = sigmoid_drop(lrs, centre)
    losses[-8:] = np.geomspace(0.3, 50, 8)  # the explosion at the end is a climb, never a fall
    i = steepest_descent(lrs, losses)
    step = math.log10(lrs[1] / lrs[0])
    assert i is not None and abs(math.log10(lrs[i]) - centre) <= step


def test_a_fall_in_the_first_tenth_of_the_sweep_is_not_the_suggestion() -> None:
    lrs = np.geomspace(1e-7, 10, 100)
    losses = sigmoid_drop(lrs, -2.0)
    losses[:5] += np.array([3.0, 2.0, 1.0, 0.5, 0.0])  # a few unlucky first batches, steeper than anything after
    i = steepest_descent(lrs, losses)
    assert i is not None and i >= 10 and abs(math.log10(lrs[i]) + 2.0) <= 0.1


def test_a_one_step_drop_of_batch_noise_does_not_outweigh_the_broad_fall() -> None:
    lrs = np.geomspace(1e-7, 10, 100)
    losses = sigmoid_drop(lrs, -4.0)
    jump = int(np.searchsorted(lrs, 0.1))
    losses[jump:] -= 0.1  # between two neighbours, steeper than the fall at its steepest
    neighbour_slopes = np.gradient(losses, np.log10(lrs))
    assert abs(int(np.argmin(neighbour_slopes)) - jump) <= 1
    i = steepest_descent(lrs, losses)
    assert i is not None and abs(math.log10(lrs[i]) + 4.0) <= math.log10(lrs[1] / lrs[0])


@pytest.mark.parametrize("curve", ["flat", "rising", "too short", "exploded at once"])
def test_no_suggestion_where_the_loss_never_falls(curve: str) -> None:
    lrs = np.geomspace(1e-4, 1, 50)
    losses = {
        "flat": np.full(50, 0.7),
        "rising": np.linspace(0.7, 3.0, 50),
        "too short": np.array([0.7, 0.6]),
        "exploded at once": np.array([0.7, 0.69, math.inf]),
    }[curve]
    assert steepest_descent(lrs[: len(losses)], losses) is None


def test_a_sweep_that_never_falls_says_there_is_no_suggestion() -> None:
    result = find_lr(moons_trainer(optimizer="sgd"), start_lr=1e-9, end_lr=1e-8, n_steps=30)
    assert result.stop_reason == "completed"
    assert result.suggestion is None
    assert "no suggestion" in result.message


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (dict(start_lr=0.0), "start_lr"),
        (dict(start_lr=-1e-3), "start_lr"),
        (dict(end_lr=math.inf), "end_lr"),
        (dict(end_lr=math.nan), "end_lr"),
        (dict(start_lr=1.0, end_lr=1.0), "start_lr"),
        (dict(start_lr=2.0, end_lr=1.0), "start_lr"),
        (dict(n_steps=1), "n_steps"),
        (dict(n_steps=2.5), "n_steps"),
        (dict(smoothing=0.0), "smoothing"),
        (dict(smoothing=1.5), "smoothing"),
        (dict(diverge_ratio=1.0), "diverge_ratio"),
    ],
)
def test_bad_arguments_are_refused_in_one_line_before_anything_changes(arguments: dict[str, Any], field: str) -> None:
    trainer = moons_trainer()
    before = everything(trainer)
    with pytest.raises(ConfigError) as error:
        find_lr(trainer, **arguments)
    assert error.value.message.startswith(f"{field} = ") and "\n" not in error.value.message
    assert_equal(before, everything(trainer))


def test_a_loader_without_batches_is_refused() -> None:
    trainer = course_trainer(sampler_generator=True)
    empty = TensorDataset(torch.zeros(0, 2), torch.zeros(0, 1))
    trainer.set_loaders(DataLoader(empty, batch_size=8))
    before = everything(trainer)
    with pytest.raises(DataError, match="yields no batches"):
        find_lr(trainer)
    assert_equal(before, everything(trainer))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_the_state_comes_back_too() -> None:
    trainer = moons_trainer(device="cuda")
    trainer.train(1)
    before = everything(trainer), torch.cuda.get_rng_state(trainer.device)
    result = find_lr(trainer, n_steps=30)
    assert len(result.lrs) == 30 or result.stop_reason == "exploded"
    assert_equal(before, (everything(trainer), torch.cuda.get_rng_state(trainer.device)))
