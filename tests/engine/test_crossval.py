"""Cross-validation in the engine: every row predicted out of fold exactly once by the model that did not train
on it, stratified folds, mean and std of the folds' own numbers, and stopping as a single run stops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score, average_precision_score, balanced_accuracy_score, brier_score_loss, f1_score, matthews_corrcoef,
    roc_auc_score,
)

from clf_tui import datasets
from clf_tui.datasets.builtin import make_builtin
from clf_tui.engine import ConfigError, RunConfig, RunControl, Trainer, read_checkpoint
from clf_tui.engine.crossval import CrossValEnded, FoldEnded, FoldStarted, cross_validate
from clf_tui.engine.events import CheckpointSaved, EpochEnded, EvalReady, RunEnded, RunStarted

CV = RunConfig(dataset="breast_cancer", hidden=(8,), epochs=4, folds=4, split_seed=7, checkpoint_every_s=0.0)


def test_every_row_is_predicted_once_by_the_model_that_did_not_train_on_it(tmp_path: Path) -> None:
    events = list(cross_validate(CV, checkpoint_dir=tmp_path))
    kinds = [type(event) for event in events]
    per_fold = [FoldStarted, RunStarted, *[EpochEnded, EvalReady] * 4, CheckpointSaved, RunEnded, FoldEnded]
    assert kinds == per_fold * 4 + [CrossValEnded]
    end = events[-1]
    result = end.result
    assert end.reason == "completed" and result.n_folds == 4 and "4 folds of 569 rows" in end.message
    labels = make_builtin("breast_cancer").y
    np.testing.assert_array_equal(result.y_true, labels)  # the data set's rows, in its order
    assert sorted(np.bincount(result.fold_of_row)[1:]) == [142, 142, 142, 143]  # each row in one fold
    folds = list(datasets.folds("breast_cancer", 4, split_seed=7))
    for fold in folds:
        np.testing.assert_array_equal(np.flatnonzero(result.fold_of_row == fold.number), np.sort(fold.val_rows))
        # The fold's saved model, loaded on its own fold's rows, gives the out-of-fold probabilities.
        model = Trainer.from_checkpoint(tmp_path / f"fold-{fold.number}.pt")
        assert model.fold == fold.number and model.total_epochs == 4
        np.testing.assert_array_equal(model.data.y_val, labels[fold.val_rows])
        np.testing.assert_array_equal(model.predict_proba(model.data.X_val), result.y_prob[fold.val_rows])
        # Stratified: each fold holds a quarter of each class, to a row.
        for c in (0, 1):
            assert abs(np.sum(labels[fold.val_rows] == c) - np.sum(labels == c) / 4) < 1


def test_the_mean_and_std_are_the_folds_numbers_and_those_are_scikit_learns() -> None:
    cfg = CV.replace(temperature_scaling=True, cost_fp=1.0, cost_fn=4.0)
    events = list(cross_validate(cfg))
    result = events[-1].result
    ended = [event for event in events if isinstance(event, FoldEnded)]
    assert [fold.metrics for fold in ended] == list(result.fold_metrics)
    for number, found in enumerate(result.fold_metrics, start=1):
        rows = result.fold_of_row == number
        y, p = result.y_true[rows], result.y_prob[rows]
        predicted = p >= np.float32(found["threshold"])
        assert found["accuracy"] == pytest.approx(accuracy_score(y, predicted), abs=1e-12)
        assert found["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, predicted), abs=1e-12)
        assert found["f1"] == pytest.approx(f1_score(y, predicted), abs=1e-12)
        assert found["mcc"] == pytest.approx(matthews_corrcoef(y, predicted), abs=1e-12)
        assert found["auroc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
        assert found["average_precision"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
        assert found["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-9)
    for name in result.mean:
        values = [found[name] for found in result.fold_metrics]
        assert result.mean[name] == pytest.approx(np.mean(values), abs=1e-12)
        assert result.std[name] == pytest.approx(np.std(values, ddof=1), abs=1e-12)
    assert result.std["threshold"] > 0  # each fold chose its own threshold from the costs
    assert result.out_of_fold["auroc"] == pytest.approx(roc_auc_score(result.y_true, result.y_prob), abs=1e-12)
    assert result.out_of_fold["average_precision"] == pytest.approx(
        average_precision_score(result.y_true, result.y_prob), abs=1e-12)


def test_a_multiclass_cross_validation_pools_the_most_probable_classes() -> None:
    result = list(cross_validate(RunConfig(dataset="iris", epochs=3, folds=3)))[-1].result
    assert result.y_prob.shape == (150, 3) and set(result.mean) == {"accuracy", "balanced_accuracy", "macro_f1",
                                                                     "mcc", "val_loss"}
    predicted = result.y_prob.argmax(axis=1)
    assert result.out_of_fold["accuracy"] == pytest.approx(accuracy_score(result.y_true, predicted), abs=1e-12)
    assert result.out_of_fold["macro_f1"] == pytest.approx(f1_score(result.y_true, predicted, average="macro"),
                                                           abs=1e-12)


def test_a_stop_ends_the_fold_as_a_single_run_and_keeps_the_folds_finished(tmp_path: Path) -> None:
    control = RunControl()
    events = []
    for event in cross_validate(CV, control=control, checkpoint_dir=tmp_path):
        events.append(event)
        in_fold_2 = any(isinstance(e, FoldStarted) and e.fold == 2 for e in events)
        if isinstance(event, EpochEnded) and event.epoch == 2 and in_fold_2:
            control.stop()
    end = events[-1]
    assert end.reason == "stopped" and end.result is None
    assert end.message == "stopped during fold 2 of 4; fold 1 finished: no cross-validated result"
    ended = [event for event in events if isinstance(event, FoldEnded)]
    assert [(fold.fold, fold.reason, fold.epoch) for fold in ended] == [(1, "completed", 4), (2, "stopped", 2)]
    assert read_checkpoint(tmp_path / "fold-1.pt")["epoch"] == 4
    assert read_checkpoint(tmp_path / "fold-2.pt")["epoch"] == 2  # as a stopped single run saves its own
    assert not (tmp_path / "fold-3.pt").exists()
    assert [len(fold.history) for fold in ended] == [4, 2]


def test_a_fold_that_diverges_ends_the_cross_validation() -> None:
    cfg = RunConfig(n_samples=200, loss="mse", optimizer="sgd", lr=1e6, folds=2, epochs=3)
    end = list(cross_validate(cfg))[-1]
    assert end.reason == "diverged" and end.result is None and end.message.startswith("fold 1 of 2 diverged")


def test_fewer_than_two_folds_is_not_a_cross_validation() -> None:
    with pytest.raises(ConfigError, match="folds = 1: cross-validation needs 2 folds or more") as info:
        next(cross_validate(RunConfig(folds=1)))
    assert info.value.field == "folds"
