"""The end of a run: temperature scaling and the threshold of least expected cost, their events, their place in
the checkpoint, and resuming from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from clf_tui.engine import CheckpointError, ConfigError, RunConfig, Trainer, read_checkpoint
from clf_tui.engine.archive import write_archive
from clf_tui.engine.calibration import apply_temperature
from clf_tui.engine.costs import Costs, least_cost_threshold
from clf_tui.engine.events import CheckpointSaved, EpochEnded, EvalReady, RunEnded, RunStarted, TemperatureFitted
from clf_tui.engine.metrics import BinaryEval

HONEST = RunConfig(dataset="breast_cancer", hidden=(16,), epochs=8, temperature_scaling=True, cost_fp=1.0,
                   cost_fn=5.0, checkpoint_every_s=0.0)


def brute_force_threshold(y_true: np.ndarray, y_prob: np.ndarray, costs: Costs) -> tuple[float, float]:
    """The least expected cost over every score as a threshold (and one above them all), the highest on ties."""
    prevalence = costs.prevalence if costs.prevalence is not None else y_true.mean()
    candidates = np.append(np.unique(y_prob).astype(np.float64), np.inf)[::-1]
    best = (np.inf, np.inf)
    for threshold in candidates:
        predicted = y_prob >= threshold
        fpr = (predicted & (y_true == 0)).sum() / (y_true == 0).sum()
        fnr = (~predicted & (y_true == 1)).sum() / (y_true == 1).sum()
        cost = costs.false_positive * (1 - prevalence) * fpr + costs.false_negative * prevalence * fnr
        if cost < best[1] - 1e-15:
            best = (float(threshold), float(cost))
    return best


def test_the_end_of_a_run_calibrates_then_chooses_the_threshold_in_order(tmp_path: Path) -> None:
    trainer = Trainer.from_config(HONEST)
    events = list(trainer.run(HONEST.epochs, checkpoint_path=tmp_path / "run.pt"))
    kinds = [type(event) for event in events]
    assert kinds == [RunStarted, *[EpochEnded, EvalReady] * 8, TemperatureFitted, EvalReady, CheckpointSaved,
                     RunEnded]
    last, fitted, calibrated = events[-5], events[-4], events[-3]
    assert fitted.epoch == calibrated.epoch == last.epoch == 8
    assert fitted.temperature == trainer.temperature != 1.0
    # The epochs validate uncalibrated; the fresh evaluation is the same model's, calibrated.
    np.testing.assert_allclose(calibrated.y_prob, apply_temperature(last.y_prob, trainer.temperature), atol=1e-6)
    y_true, y_prob = trainer.evaluate()
    np.testing.assert_array_equal(calibrated.y_prob, y_prob)
    np.testing.assert_array_equal(calibrated.y_true, y_true)
    assert fitted.after[0].brier < fitted.before[0].brier
    # The threshold is the one of least expected cost on the calibrated probabilities, by brute force.
    threshold, cost = brute_force_threshold(y_true, y_prob, Costs(1.0, 5.0))
    assert trainer.threshold == pytest.approx(threshold, abs=0) and trainer.costs == Costs(1.0, 5.0)
    assert f"threshold {threshold:.4g}, least expected cost {cost:.4g} per case" in events[-1].message
    assert events[-1].threshold == trainer.threshold  # what an app takes up at the run's end
    assert f"; temperature {trainer.temperature:.3f};" in events[-1].message
    state = read_checkpoint(tmp_path / "run.pt")
    assert (state["temperature"], state["threshold"]) == (trainer.temperature, trainer.threshold)
    assert state["costs"] == {"false_positive": 1.0, "false_negative": 5.0, "prevalence": None}
    assert state["fold"] is None


def test_the_deployment_prevalence_moves_the_threshold() -> None:
    cfg = HONEST.replace(temperature_scaling=False, prevalence=0.02)
    trainer = Trainer.from_config(cfg)
    events = list(trainer.run(cfg.epochs))
    assert not any(isinstance(event, TemperatureFitted) for event in events)
    assert sum(isinstance(event, EvalReady) for event in events) == cfg.epochs  # no fresh one without calibration
    y_true, y_prob = trainer.evaluate()
    assert trainer.threshold == brute_force_threshold(y_true, y_prob, Costs(1.0, 5.0, 0.02))[0]
    assert trainer.costs == Costs(1.0, 5.0, 0.02)


def test_resuming_a_calibrated_run_with_costs_is_exact(tmp_path: Path) -> None:
    whole = Trainer.from_config(HONEST)
    whole_events = list(whole.run(10))
    first = Trainer.from_config(HONEST)
    list(first.run(6, checkpoint_path=tmp_path / "run.pt"))
    assert first.temperature != 1.0  # the checkpoint holds a temperature and a threshold fit after epoch 6
    resumed = Trainer.from_checkpoint(tmp_path / "run.pt")
    assert resumed.temperature == first.temperature and resumed.costs == first.costs
    resumed_events = list(resumed.run(4))
    assert resumed.losses == whole.losses and resumed.val_metrics == whole.val_metrics
    assert (resumed.temperature, resumed.threshold, resumed.costs) == (whole.temperature, whole.threshold, whole.costs)
    for ours, theirs in zip(resumed.model.parameters(), whole.model.parameters()):
        assert torch.equal(ours, theirs)
    # Every evaluation of the resumed epochs, and the calibrated one at the end, is the uninterrupted run's.
    ours = [e.y_prob for e in resumed_events if isinstance(e, EvalReady)]
    theirs = [e.y_prob for e in whole_events if isinstance(e, EvalReady)][-len(ours):]
    assert len(ours) == 5
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_a_run_that_diverges_before_an_epoch_fits_nothing_and_keeps_its_temperature() -> None:
    cfg = RunConfig(n_samples=200, loss="mse", optimizer="sgd", lr=1e6, temperature_scaling=True, cost_fp=1.0,
                    cost_fn=2.0)
    trainer = Trainer.from_config(cfg)
    trainer.temperature, trainer.threshold = 2.0, 0.3  # as a checkpoint fit on these weights left them
    events = list(trainer.run(5))
    assert [type(event) for event in events] == [RunStarted, RunEnded] and events[-1].reason == "diverged"
    assert (trainer.temperature, trainer.threshold, trainer.costs) == (2.0, 0.3, None)


def test_a_run_without_costs_ends_choosing_no_threshold() -> None:
    trainer = Trainer.from_config(HONEST.replace(cost_fp=None, cost_fn=None, epochs=2))
    ended = list(trainer.run(2))[-1]
    assert isinstance(ended, RunEnded) and ended.threshold is None and trainer.threshold == 0.5


def test_a_stopped_run_is_still_calibrated() -> None:
    from clf_tui.engine import RunControl

    control = RunControl()
    trainer = Trainer.from_config(HONEST)
    events = []
    for event in trainer.run(HONEST.epochs, control=control):
        events.append(event)
        if isinstance(event, EpochEnded) and event.epoch == 3:
            control.stop()
    assert events[-1].reason == "stopped" and trainer.total_epochs == 3
    assert isinstance(events[-3], TemperatureFitted) and trainer.costs is not None


def test_costs_are_refused_for_a_multiclass_task() -> None:
    with pytest.raises(ConfigError) as info:
        Trainer.from_config(RunConfig(dataset="iris", cost_fp=1.0, cost_fn=2.0))
    assert info.value.field == "cost_fp"
    assert "iris has 3" in info.value.message and "leave the costs unset" in info.value.message


def test_a_multiclass_run_is_calibrated_too() -> None:
    cfg = RunConfig(dataset="iris", epochs=5, temperature_scaling=True)
    trainer = Trainer.from_config(cfg)
    events = list(trainer.run(cfg.epochs))
    fitted, calibrated = events[-3], events[-2]
    assert isinstance(fitted, TemperatureFitted) and len(fitted.after) == 3
    assert calibrated.y_prob.shape == (30, 3) and trainer.costs is None and trainer.threshold == 0.5


def test_the_least_cost_threshold_stays_within_what_a_checkpoint_holds() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 0])
    y_prob = np.array([0.1, 0.2, 0.4, 0.6, 0.9, 1.0], dtype=np.float32)  # a score of exactly 1, a negative's
    threshold, cost = least_cost_threshold(BinaryEval(y_true, y_prob), Costs(10.0, 1.0))
    assert threshold <= 1.0
    # The brute force over thresholds of at most 1: every score but "above them all".
    prevalence = y_true.mean()
    costs = {t: 10.0 * (1 - prevalence) * ((y_prob >= t) & (y_true == 0)).sum() / 4
             + 1.0 * prevalence * ((y_prob < t) & (y_true == 1)).sum() / 2 for t in y_prob.astype(np.float64)}
    assert threshold == max(t for t, c in costs.items() if c == min(costs.values()))
    assert cost == pytest.approx(min(costs.values()))


def test_checkpoints_without_costs_load_and_damaged_costs_are_refused(tmp_path: Path) -> None:
    trainer = Trainer.from_config(HONEST.replace(epochs=2))
    list(trainer.run(2, checkpoint_path=tmp_path / "run.pt"))
    state = read_checkpoint(tmp_path / "run.pt")
    older = {key: value for key, value in state.items() if key not in ("costs", "fold")}
    write_archive(tmp_path / "older.pt", older)
    loaded = Trainer.from_checkpoint(tmp_path / "older.pt")
    assert loaded.costs is None and loaded.fold is None and loaded.threshold == trainer.threshold
    for costs, words in [
        ({"false_positive": -1.0, "false_negative": 5.0, "prevalence": None}, "cost of a false positive = -1.0"),
        ({"false_positive": 1.0, "false_negative": float("nan"), "prevalence": None}, "false negative = nan"),
        ({"false_positive": 1.0, "false_negative": 5.0, "prevalence": 1.5}, "prevalence = 1.5"),
        ({"false_positive": 1.0, "false_negative": 5.0}, "not a dict of"),
        ({"false_positive": "1", "false_negative": 5.0, "prevalence": None}, "not numbers"),
        ([1.0, 5.0], "not a dict of"),
    ]:
        write_archive(tmp_path / "bad.pt", {**state, "costs": costs})
        with pytest.raises(CheckpointError, match="its costs are not valid") as info:
            read_checkpoint(tmp_path / "bad.pt")
        assert words in str(info.value)
    for fold in (0, 2, True, "1"):
        write_archive(tmp_path / "bad.pt", {**state, "fold": fold})  # the config has no folds
        with pytest.raises(CheckpointError, match="its fold"):
            read_checkpoint(tmp_path / "bad.pt")
