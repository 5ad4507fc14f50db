"""Drill-down: every cell lists exactly the rows the engine counts there, sorted by a log loss equal to scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix, log_loss
from torch.nn import functional as F

from clf_tui.engine import BinaryEval, DrillDown, MulticlassEval, RunConfig, Trainer
from clf_tui.engine.drilldown import predicted_classes, row_log_loss


def trained(config: RunConfig) -> tuple[Trainer, np.ndarray, np.ndarray]:
    trainer = Trainer.from_config(config)
    trainer.train(config.epochs)
    return (trainer, *trainer.evaluate())


@pytest.fixture(scope="module")
def binary_run() -> tuple[Trainer, np.ndarray, np.ndarray]:
    """A logistic regression on moons: a model that gets a fair share of rows wrong."""
    return trained(RunConfig(dataset="moons", n_samples=400, model="logistic", epochs=3, device="cpu"))


@pytest.fixture(scope="module")
def multiclass_run() -> tuple[Trainer, np.ndarray, np.ndarray]:
    return trained(RunConfig(dataset="iris", hidden=(8,), epochs=4, lr=0.02, device="cpu"))


def assert_sorted_by_loss(drill: DrillDown, true_class: int, predicted_class: int) -> None:
    cell = drill.cell(true_class, predicted_class)
    assert np.array_equal(cell.log_loss, drill.log_loss[cell.rows])
    falls = cell.log_loss[:-1] > cell.log_loss[1:]
    ties_by_row = (cell.log_loss[:-1] == cell.log_loss[1:]) & (cell.rows[:-1] < cell.rows[1:])
    assert (falls | ties_by_row).all()


def assert_cells_are_the_counted_rows(drill: DrillDown, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    """Each cell holds exactly the rows a plain mask picks, as many as the engine's matrix counts."""
    k = drill.n_classes
    reference = confusion_matrix(y_true, y_pred, labels=range(k))
    assert np.array_equal(drill.confusion, reference)
    for i in range(k):
        for j in range(k):
            cell = drill.cell(i, j)
            assert sorted(cell.rows) == np.flatnonzero((y_true == i) & (y_pred == j)).tolist()
            assert len(cell) == reference[i, j]
            assert_sorted_by_loss(drill, i, j)


def binary_thresholds(y_prob: np.ndarray) -> list[float]:
    """0.5, the ends, and thresholds equal to probabilities (ties) or just beside one: float64 values that
    round to a float32 probability count as that probability, as ``BinaryEval.at`` has it."""
    scores = np.unique(y_prob)
    middle = float(scores[len(scores) // 2])
    return [0.0, 0.5, 1.0, float(scores[0]), float(scores[-1]), middle,
            float(np.nextafter(middle, 1.0)), float(np.nextafter(middle, 0.0)),
            middle + 1e-12, np.float64(middle) + 1e-9, np.float64(middle) - 1e-9]


def test_binary_cells_are_the_rows_counted_at_each_threshold(binary_run) -> None:
    _, y_true, y_prob = binary_run
    assert y_prob.dtype == np.float32
    evaluation = BinaryEval(y_true, y_prob)
    for threshold in binary_thresholds(y_prob):
        drill = DrillDown(y_true, y_prob, threshold)
        report = evaluation.at(threshold)
        assert drill.confusion.tolist() == [[report.tn, report.fp], [report.fn, report.tp]]
        assert_cells_are_the_counted_rows(drill, y_true, (y_prob >= np.float32(threshold)).astype(int))
        for true_class, predicted_class in np.ndindex(2, 2):
            cell = drill.cell(true_class, predicted_class)
            assert np.array_equal(cell.probability, y_prob[cell.rows])


def test_a_threshold_equal_to_a_probability_predicts_that_row_positive(binary_run) -> None:
    _, y_true, y_prob = binary_run
    row = int(np.argsort(y_prob)[len(y_prob) // 2])
    drill = DrillDown(y_true, y_prob, float(y_prob[row]))
    assert drill.y_pred[row] == 1
    assert row in drill.cell(int(y_true[row]), 1).rows
    assert row not in drill.cell(int(y_true[row]), 0).rows


def test_multiclass_cells_are_the_argmax_counts(multiclass_run) -> None:
    _, y_true, y_prob = multiclass_run
    drill = DrillDown(y_true, y_prob)
    assert drill.threshold is None and drill.n_classes == 3
    assert np.array_equal(drill.confusion, MulticlassEval.from_proba(y_true, y_prob).confusion)
    assert_cells_are_the_counted_rows(drill, y_true, y_prob.argmax(axis=1))
    assert drill.most_confused(), "an iris model after four epochs still confuses some classes"
    for i, j in np.ndindex(3, 3):
        cell = drill.cell(i, j)
        assert np.array_equal(cell.probability, y_prob[cell.rows, j])


def test_argmax_ties_go_to_the_first_class_as_the_metrics_count_them() -> None:
    y_true = np.array([1, 2, 2, 0])
    y_prob = np.array([[0.4, 0.4, 0.2], [0.2, 0.4, 0.4], [1 / 3, 1 / 3, 1 / 3], [0.1, 0.1, 0.8]])
    drill = DrillDown(y_true, y_prob)
    assert drill.y_pred.tolist() == [0, 1, 0, 2]
    assert np.array_equal(drill.confusion, MulticlassEval.from_proba(y_true, y_prob).confusion)
    assert drill.cell(2, 0).rows.tolist() == [2]


def test_row_log_loss_is_scikit_learns_per_row(binary_run, multiclass_run) -> None:
    for _, y_true, y_prob in (binary_run, multiclass_run):
        labels = range(2 if y_prob.ndim == 1 else y_prob.shape[1])
        losses = row_log_loss(y_true, y_prob)
        assert losses.dtype == np.float64 and losses.shape == y_true.shape
        # scikit-learn averages float32 losses in float32
        assert np.isclose(losses.mean(), log_loss(y_true, y_prob, labels=labels), rtol=1e-6, atol=0)
        for row in range(0, len(y_true), 7):
            assert losses[row] == log_loss(y_true[row:row + 1], y_prob[row:row + 1], labels=labels)


def test_row_log_loss_clips_certain_mistakes_as_scikit_learn_does() -> None:
    y_true = np.array([1, 0, 1, 0])
    for dtype in (np.float32, np.float64):
        y_prob = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
        losses = row_log_loss(y_true, y_prob)
        assert np.isfinite(losses).all()
        assert losses[0] == losses[1] == -np.log(np.finfo(dtype).eps).astype(dtype)
        assert np.isclose(losses.mean(), log_loss(y_true, y_prob), rtol=np.finfo(dtype).eps, atol=0)
    y_prob = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert np.isclose(row_log_loss(np.array([0, 1]), y_prob).mean(), log_loss([0, 1], y_prob), rtol=1e-12, atol=0)


def test_row_log_loss_is_the_training_loss_per_row(binary_run, multiclass_run) -> None:
    """For BCE with logits and cross-entropy, the losses the models trained on, row by row."""
    for trainer, y_true, y_prob in (binary_run, multiclass_run):
        assert trainer.data is not None and trainer.config is not None
        assert trainer.config.loss == "auto" and trainer.config.pos_weight == "none"
        outputs = torch.from_numpy(trainer.predict(trainer.data.X_val))
        labels = torch.from_numpy(y_true)
        if y_prob.ndim == 1:
            expected = F.binary_cross_entropy_with_logits(outputs[:, 0], labels.float(), reduction="none")
        else:
            expected = F.cross_entropy(outputs, labels, reduction="none")
        losses = row_log_loss(y_true, y_prob)
        assert np.allclose(losses, expected.double().numpy(), rtol=1e-5, atol=1e-6)


def test_most_confused_pairs_by_count_then_pair(multiclass_run) -> None:
    _, y_true, y_prob = multiclass_run
    drill = DrillDown(y_true, y_prob)
    matrix = confusion_matrix(y_true, y_prob.argmax(axis=1))
    expected = sorted((-matrix[i, j], i, j) for i, j in np.ndindex(matrix.shape) if i != j and matrix[i, j])
    pairs = drill.most_confused()
    assert [(p.true_class, p.predicted_class, p.count) for p in pairs] == [(i, j, -c) for c, i, j in expected]
    for pair in pairs:
        assert pair.share == pair.count / (y_true == pair.true_class).sum()
        assert len(drill.cell(pair.true_class, pair.predicted_class)) == pair.count
    assert drill.most_confused(1) == pairs[:1]


def test_equal_counts_are_ordered_by_pair() -> None:
    y_true = np.array([2, 2, 0, 1, 0, 1])
    y_pred = np.array([1, 0, 2, 0, 1, 1])
    drill = DrillDown(y_true, np.eye(3)[y_pred])
    assert [(p.true_class, p.predicted_class, p.count) for p in drill.most_confused()] == [
        (0, 1, 1), (0, 2, 1), (1, 0, 1), (2, 0, 1), (2, 1, 1),
    ]
    assert [p.share for p in drill.most_confused(2)] == [0.5, 0.5]


def test_bad_input_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match="empty"):
        DrillDown(np.array([], dtype=int), np.array([]))
    with pytest.raises(ValueError, match="one label per row"):
        DrillDown(np.array([0, 1, 1]), np.array([0.2, 0.9]))
    with pytest.raises(ValueError, match="diverged"):
        DrillDown(np.array([0, 1]), np.array([0.2, np.nan]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DrillDown(np.array([0, 1]), np.array([0.2, 3.5]))
    with pytest.raises(ValueError, match="labels 0 .. 2"):
        DrillDown(np.array([0, 3]), np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="predicted_class = 2 is not a class"):
        DrillDown(np.array([0, 1]), np.array([0.2, 0.9])).cell(1, 2)


@st.composite
def evaluations(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float]:
    """Labels and probabilities drawn from a few values, so that ties (with each other and with the threshold)
    are common; binary 1-D or multiclass 2-D, float32 or float64."""
    n = draw(st.integers(1, 50))
    k = draw(st.sampled_from([1, 3, 4]))  # 1: binary, P(class 1) only
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    pool = draw(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 1.0]) | st.floats(0, 1), min_size=1, max_size=6))
    y_prob = np.array(draw(st.lists(st.sampled_from(pool), min_size=n * k, max_size=n * k)), dtype=dtype)
    y_prob = y_prob if k == 1 else y_prob.reshape(n, k)
    y_true = np.array(draw(st.lists(st.integers(0, max(k, 2) - 1), min_size=n, max_size=n)))
    threshold = draw(st.sampled_from(pool) | st.floats(0, 1))
    return y_true, y_prob, threshold


@settings(max_examples=200, deadline=None)
@given(evaluations())
def test_cells_partition_the_rows_by_the_engines_rule(evaluation: tuple[np.ndarray, np.ndarray, float]) -> None:
    y_true, y_prob, threshold = evaluation
    drill = DrillDown(y_true, y_prob, threshold)
    y_pred = (y_prob >= threshold).astype(int) if y_prob.ndim == 1 else y_prob.argmax(axis=1)
    assert np.array_equal(predicted_classes(y_prob, threshold), y_pred)
    assert_cells_are_the_counted_rows(drill, y_true, y_pred)
    cells = [drill.cell(i, j).rows for i, j in np.ndindex(drill.confusion.shape)]
    assert sorted(np.concatenate(cells).tolist()) == list(range(len(y_true)))
    if y_prob.ndim == 1:
        report = BinaryEval(y_true, y_prob).at(threshold)
        assert drill.confusion.tolist() == [[report.tn, report.fp], [report.fn, report.tp]]
    assert sum(p.count for p in drill.most_confused()) == len(y_true) - np.trace(drill.confusion)
