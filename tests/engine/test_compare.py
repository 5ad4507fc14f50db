"""Compare runs: every seed of the batched training equals its own single run, and the comparison's rules.

Tolerance: each seed's per-epoch train and validation losses equal the single run's to a
relative 1e-5, and its final weights to an absolute 1e-5 (the batched matrix products sum
in another order; the differences seen here are below 1e-6). The validation metrics, which
rank and threshold the probabilities, come out equal; the log loss, which reads them, to a relative 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clf_tui.engine import ConfigError, RunConfig, RunControl, Trainer
from clf_tui.engine.batched import SeedBatch
from clf_tui.engine.compare import compare
from clf_tui.engine.comparison import (
    Comparison, ComparisonEnded, ComparisonStarted, ConfigRuns, SeedsEpochEnded, apply_overrides, config_labels,
)
from clf_tui.engine.events import RunEnded
from clf_tui.engine.build import load_data

LOSS_RTOL = 1e-5
WEIGHT_ATOL = 1e-5
CUBIC = RunConfig(dataset="cubic", hidden=(8,), epochs=12, device="cpu")
IRIS = RunConfig(dataset="iris", hidden=(8,), epochs=12, batch_size=16, device="cpu")

SETTINGS = {
    "bce_logits adam": (CUBIC, {}),
    "bce_logits pos_weight": (CUBIC, {"pos_weight": "auto"}),
    "mse": (CUBIC, {"loss": "mse"}),
    "cross_entropy": (CUBIC, {"loss": "cross_entropy"}),
    "bce sgd": (CUBIC, {"loss": "bce", "optimizer": "sgd", "lr": 0.5}),
    "nll weight decay": (CUBIC, {"loss": "nll", "weight_decay": 0.01}),
    "momentum nesterov": (CUBIC, {"optimizer": "momentum", "nesterov": True, "lr": 0.05}),
    "rmsprop": (CUBIC, {"optimizer": "rmsprop", "lr": 0.003, "weight_decay": 0.001}),
    "adamw two layers": (CUBIC, {"optimizer": "adamw", "weight_decay": 0.1, "hidden": (8, 4), "activation": "tanh"}),
    "logistic": (CUBIC, {"model": "logistic", "optimizer": "sgd", "lr": 0.1}),
    "multiclass cross_entropy": (IRIS, {}),
    "multiclass mse": (IRIS, {"loss": "mse", "optimizer": "momentum", "lr": 0.05}),
}


def comparison_of(configs: list[RunConfig], n_seeds: int) -> Comparison:
    last = list(compare(configs, n_seeds))[-1]
    assert isinstance(last, ComparisonEnded) and last.comparison is not None
    return last.comparison


def single_run(cfg: RunConfig) -> tuple[Trainer, str]:
    """The engine's own run of ``cfg``, and how it ended."""
    trainer = Trainer.from_config(cfg)
    ended = [event for event in trainer.run(cfg.epochs) if isinstance(event, RunEnded)]
    return trainer, ended[0].reason


def assert_equal_to_single_runs(runs: ConfigRuns) -> None:
    for run in runs.runs:
        trainer, reason = single_run(runs.config.replace(seed=run.seed))
        assert run.end == reason
        assert len(run.train_losses) == trainer.total_epochs
        restored_best = reason == "early_stopped" and runs.config.restore_best
        assert run.kept_epoch == (1 + int(np.argmin(trainer.val_losses)) if restored_best else trainer.total_epochs)
        np.testing.assert_allclose(run.train_losses, trainer.losses, rtol=LOSS_RTOL)
        np.testing.assert_allclose(run.val_losses, trainer.val_losses, rtol=LOSS_RTOL)
        # A comparison's metrics are the single run's and the ones on one scale (tests/engine/test_comparable.py).
        assert [{k: m[k] for k in single} for m, single in zip(run.val_metrics, trainer.val_metrics)] == pytest.approx(
            trainer.val_metrics, abs=1e-12)
        state = trainer.model.state_dict()
        assert run.weights.keys() == state.keys()
        for name, value in state.items():
            np.testing.assert_allclose(run.weights[name], value.numpy(), rtol=0, atol=WEIGHT_ATOL, err_msg=name)


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_each_seed_equals_its_single_run(setting: str) -> None:
    base, changes = SETTINGS[setting]
    runs = comparison_of([base.replace(**changes)], 3).configs[0]
    assert [run.seed for run in runs.runs] == [42, 43, 44]
    assert all(run.end == "completed" and len(run.train_losses) == base.epochs for run in runs.runs)
    assert_equal_to_single_runs(runs)


def test_seeds_that_diverge_end_as_their_single_runs_and_the_others_train_on() -> None:
    """At this rate two seeds diverge in their first two epochs, and the others swing near the edge: over
    more epochs such a run amplifies the products' last-bit differences past any fixed tolerance (seed 42
    reaches 2.5e-4 by epoch 15). Three epochs show both endings while the others' losses still compare
    as every other setting's do."""
    cfg = CUBIC.replace(loss="mse", optimizer="sgd", lr=0.7, epochs=3)
    runs = comparison_of([cfg], 6).configs[0]
    assert {run.end for run in runs.runs} == {"diverged", "completed"}
    assert {run.kept_epoch for run in runs.runs if run.end == "diverged"} == {0, 1}
    assert_equal_to_single_runs(runs)


@pytest.mark.parametrize("restore_best", [True, False])
def test_seeds_stop_early_at_their_own_epochs_as_their_single_runs(restore_best: bool) -> None:
    cfg = CUBIC.replace(early_stopping=True, patience=3, restore_best=restore_best, epochs=40)
    runs = comparison_of([cfg], 4).configs[0]
    assert {run.end for run in runs.runs} == {"early_stopped"}
    assert len({len(run.train_losses) for run in runs.runs}) > 1
    assert_equal_to_single_runs(runs)


def test_dropout_draws_other_masks_for_each_seed() -> None:
    """With every seed given the same weights, training-mode outputs differ by seed and eval-mode ones do not."""
    cfg = CUBIC.replace(dropout=0.5, hidden=(64,))
    batch = SeedBatch(cfg, load_data(cfg), seeds=(1, 2, 3))
    with torch.no_grad():
        for value in batch.params.values():
            value[:] = value[0]
    x = batch.X_val.expand(3, *batch.X_val.shape)
    batch._layers.train()
    train_outputs = batch.forward(x)
    batch._layers.eval()
    eval_outputs = batch.forward(x)
    assert not torch.equal(train_outputs[0], train_outputs[1]) and not torch.equal(train_outputs[1], train_outputs[2])
    assert torch.equal(eval_outputs[0], eval_outputs[1]) and torch.equal(eval_outputs[1], eval_outputs[2])


def test_configurations_share_data_and_seeds_and_report_each_epoch() -> None:
    configs = [CUBIC.replace(loss="mse", seed=7), CUBIC.replace(loss="cross_entropy", epochs=5, seed=99)]
    events = list(compare(configs, 2))
    started, *epochs, ended = events
    assert isinstance(started, ComparisonStarted)
    assert started.labels == ("epochs=12 loss=mse", "epochs=5 loss=cross_entropy")
    assert started.seeds == (7, 8)  # the first configuration's seed and the next, for both
    assert started.n_epochs == (12, 5) and (started.n_train, started.n_val) == (129, 33)
    assert all(isinstance(event, SeedsEpochEnded) for event in epochs)
    assert [(e.config_index, e.epoch) for e in epochs] == [(0, i) for i in range(1, 13)] + [(1, i) for i in range(1, 6)]
    comparison = ended.comparison
    assert [run.seed for runs in comparison.configs for run in runs.runs] == [7, 8, 7, 8]
    assert epochs[11].train_losses == tuple(run.train_losses[-1] for run in comparison.configs[0].runs)


def test_the_summary_is_the_mean_and_sample_std_over_seeds() -> None:
    runs = comparison_of([CUBIC], 4).configs[0]
    for metric in ("train_loss", "val_loss", "val_accuracy", "val_auroc", "val_log_loss", "val_average_precision"):
        values = [run.final()[metric] for run in runs.runs]
        assert runs.mean_std(metric) == pytest.approx((np.mean(values), np.std(values, ddof=1)))
    assert np.array_equal(runs.mean_curve("val_losses"), np.mean([run.val_losses for run in runs.runs], axis=0))


def test_a_stop_ends_the_comparison_without_results() -> None:
    control = RunControl()
    events = []
    for event in compare([CUBIC, CUBIC.replace(loss="mse")], 3, control=control):
        events.append(event)
        if isinstance(event, SeedsEpochEnded) and event.epoch == 2:
            control.stop()
    assert isinstance(events[-1], ComparisonEnded)
    assert (events[-1].reason, events[-1].comparison) == ("stopped", None)
    assert sum(isinstance(event, SeedsEpochEnded) for event in events) == 2


def test_configurations_with_other_data_are_refused_naming_the_fields() -> None:
    with pytest.raises(ConfigError, match=r"differ in dataset, n_samples \(dataset: 'cubic', 'moons'; n_samples: None, 300\)"):
        list(compare([CUBIC, CUBIC.replace(dataset="moons", n_samples=300)], 2))
    with pytest.raises(ConfigError, match="differ in scaler"):
        list(compare([CUBIC, CUBIC.replace(scaler="minmax")], 2))


@pytest.mark.parametrize(("n_configs", "n_seeds", "message"), [
    (5, 2, "5 configurations given: compare 1 to 4"),
    (1, 0, "seeds = 0 is invalid"),
    (0, 3, "0 configurations given"),
])
def test_sizes_are_checked(n_configs: int, n_seeds: int, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        list(compare([CUBIC] * n_configs, n_seeds))


def test_a_setting_that_does_not_fit_the_data_fails_before_training() -> None:
    with pytest.raises(ConfigError, match="needs a binary task"):
        next(compare([IRIS, IRIS.replace(loss="bce_logits")], 2))


def test_overrides_change_the_named_settings() -> None:
    cfg = apply_overrides(CUBIC, "optimizer=sgd lr=0.1  hidden=16,8 early-stopping=yes")
    assert (cfg.optimizer, cfg.lr, cfg.hidden, cfg.early_stopping) == ("sgd", 0.1, (16, 8), True)
    assert apply_overrides(CUBIC, "  ") == CUBIC
    for text, message in [("lr", "'lr' is not name=value"), ("=3", "is not name=value"),
                          ("speed=3", "unknown setting 'speed'"), ("lr=fast", "lr = 'fast' is not a number"),
                          ("loss=hinge", "loss = 'hinge' is invalid")]:
        with pytest.raises(ConfigError, match=message):
            apply_overrides(CUBIC, text)


def test_labels_name_what_differs() -> None:
    a, b = CUBIC, CUBIC.replace(optimizer="sgd", lr=0.1, hidden=(16, 8), seed=3)
    assert config_labels([a, b]) == ["hidden=8 lr=0.01 optimizer=adam", "hidden=16,8 lr=0.1 optimizer=sgd"]
    assert config_labels([a]) == ["config 1"]
    assert config_labels([a, a.replace(device="auto")]) == ["config 1", "config 2"]
