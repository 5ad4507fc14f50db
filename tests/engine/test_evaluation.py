"""Evaluation: the binary and one-vs-rest views the threshold keys work on, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

from clf_tui.engine import ClfError
from clf_tui.engine.evaluation import Evaluation


def test_binary_tasks_score_the_probability_of_class_one() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 300)
    y_prob = np.clip(0.3 * y_true + rng.random(300) * 0.7, 0, 1)
    evaluation = Evaluation(4, y_true, y_prob, ("no", "yes"))
    assert evaluation.is_binary and evaluation.multiclass is None
    assert evaluation.binary(1).auroc == roc_auc_score(y_true, y_prob)
    report = evaluation.binary(1).at(0.6)
    assert [[report.tn, report.fp], [report.fn, report.tp]] == confusion_matrix(y_true, y_prob >= 0.6).tolist()


def test_multiclass_tasks_score_one_class_against_the_rest_and_the_argmax() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, 500)
    logits = rng.normal(size=(500, 4)) + 2 * np.eye(4)[y_true]
    y_prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    evaluation = Evaluation(9, y_true, y_prob, ("a", "b", "c", "d"))
    assert not evaluation.is_binary and evaluation.n_classes == 4
    assert (evaluation.multiclass.confusion == confusion_matrix(y_true, y_prob.argmax(axis=1))).all()
    for positive in range(4):
        assert np.isclose(evaluation.binary(positive).auroc, roc_auc_score(y_true == positive, y_prob[:, positive]),
                          rtol=0, atol=1e-12)
    assert evaluation.binary(2) is evaluation.binary(2)  # sorted once, then reused by every key


def test_non_finite_probabilities_are_refused_up_front() -> None:
    with pytest.raises(ClfError, match="diverged"):
        Evaluation(3, np.array([0, 1]), np.array([0.2, np.nan]), ("0", "1"))
