"""Metrics against scikit-learn as the oracle, on random inputs with many ties, plus their invariants."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from clf_tui.engine.metrics import BinaryEval, MulticlassEval, summary

ATOL = 1e-12
REPORT_VS_SKLEARN = {
    "accuracy": lambda y, p: sk.accuracy_score(y, p),
    "precision": lambda y, p: sk.precision_score(y, p, zero_division=0),
    "recall": lambda y, p: sk.recall_score(y, p, zero_division=0),
    "tpr": lambda y, p: sk.recall_score(y, p, zero_division=0),
    "specificity": lambda y, p: sk.recall_score(y, p, pos_label=0, zero_division=0),
    "f1": lambda y, p: sk.f1_score(y, p, zero_division=0),
    "balanced_accuracy": lambda y, p: sk.balanced_accuracy_score(y, p),
    "mcc": lambda y, p: sk.matthews_corrcoef(y, p),
}


@contextmanager
def no_warnings() -> Iterator[None]:
    """Turns any warning, NumPy's RuntimeWarning included, into a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@contextmanager
def quiet() -> Iterator[None]:
    """Silences the reference, which warns on single-class input."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@st.composite
def binary_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Labels (sometimes of one class) and scores drawn from a few values, so that ties are common."""
    n = draw(st.integers(1, 60))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    labels = draw(st.sampled_from(["mixed", "negatives", "positives"]))
    if labels == "mixed":
        y_true = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int64)
    else:
        y_true = np.full(n, int(labels == "positives"), dtype=np.int64)
    width = 32 if dtype == np.float32 else 64
    values = st.floats(-100, 100, width=width) | st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0])
    pool = draw(st.lists(values, min_size=1, max_size=draw(st.sampled_from([3, 8, 60]))))
    y_prob = np.array(draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)), dtype=dtype)
    return y_true, y_prob


def thresholds_around(y_prob: np.ndarray, extra: list[float]) -> list[float]:
    """Every distinct score, the floats next to each, and some others, as Python floats."""
    scores = np.unique(y_prob).astype(np.float64)
    near = np.concatenate([np.nextafter(scores, -np.inf), np.nextafter(scores, np.inf)])
    return [float(t) for t in np.concatenate([scores, near, extra])]


def assert_arrays_equal(ours: tuple[np.ndarray, ...], reference: tuple[np.ndarray, ...]) -> None:
    assert len(ours) == len(reference)
    for got, expected in zip(ours, reference, strict=True):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


@settings(max_examples=150, deadline=None)
@given(binary_data(), st.lists(st.floats(-150, 150), max_size=5))
def test_report_at_any_threshold_equals_sklearn(data: tuple[np.ndarray, np.ndarray], extra: list[float]) -> None:
    y_true, y_prob = data
    with no_warnings():
        evaluation = BinaryEval(y_true, y_prob)
        reports = [evaluation.at(t) for t in thresholds_around(y_prob, extra)]
    assert (evaluation.n, evaluation.n_pos, evaluation.n_neg) == (len(y_true), y_true.sum(), (y_true == 0).sum())
    expected_for: dict[bytes, tuple[tuple[int, ...], dict[str, float]]] = {}  # ask sklearn once per prediction
    for report in reports:
        y_pred = (y_prob >= report.threshold).astype(np.int64)  # a Python float, compared in the scores' dtype
        key = y_pred.tobytes()
        if key not in expected_for:
            with quiet():
                expected = {name: reference(y_true, y_pred) for name, reference in REPORT_VS_SKLEARN.items()}
            expected["fpr"] = 1 - expected["specificity"] if evaluation.n_neg else 0.0
            counts = tuple(sk.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel())
            expected_for[key] = counts, expected
        counts, expected = expected_for[key]
        assert (report.tn, report.fp, report.fn, report.tp) == counts
        assert sum(counts) == evaluation.n
        for name, value in expected.items():
            assert getattr(report, name) == pytest.approx(value, abs=ATOL), name


@settings(max_examples=150, deadline=None)
@given(binary_data())
def test_curves_and_areas_equal_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_prob = data
    with no_warnings():
        evaluation = BinaryEval(y_true, y_prob)
        roc, pr = evaluation.roc_curve(), evaluation.pr_curve()
        auroc, average_precision = evaluation.auroc, evaluation.average_precision
    with quiet():
        assert_arrays_equal(roc, sk.roc_curve(y_true, y_prob))
        reference_pr = sk.precision_recall_curve(y_true, y_prob)
        assert_arrays_equal(pr, reference_pr)
        assert pr[2].dtype == reference_pr[2].dtype
        np.testing.assert_allclose(auroc, sk.roc_auc_score(y_true, y_prob), rtol=0, atol=ATOL)
        assert average_precision == pytest.approx(sk.average_precision_score(y_true, y_prob), abs=ATOL)


@settings(max_examples=150, deadline=None)
@given(binary_data(), st.floats(-150, 150), st.floats(-150, 150))
def test_a_higher_threshold_never_adds_predicted_positives(
    data: tuple[np.ndarray, np.ndarray], low: float, high: float
) -> None:
    evaluation = BinaryEval(*data)
    low, high = sorted((low, high))
    below, above = evaluation.at(low), evaluation.at(high)
    assert above.tp <= below.tp and above.fp <= below.fp


@settings(max_examples=150, deadline=None)
@given(binary_data())
def test_roc_runs_up_from_origin_and_auc_flips_with_the_scores(data: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_prob = data
    evaluation = BinaryEval(y_true, y_prob)
    if not (evaluation.n_pos and evaluation.n_neg):
        assert math.isnan(evaluation.auroc)
        return
    fpr, tpr, thresholds = evaluation.roc_curve()
    assert (fpr[0], tpr[0], thresholds[0]) == (0.0, 0.0, np.inf)
    assert (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0) and np.all(np.diff(thresholds) < 0)
    assert 0.0 <= evaluation.auroc <= 1.0
    assert BinaryEval(y_true, -y_prob).auroc == pytest.approx(1 - evaluation.auroc, abs=ATOL)


@settings(max_examples=100, deadline=None)
@given(binary_data())
def test_best_f1_is_the_brute_force_maximum_over_sklearn_thresholds(data: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_prob = data
    with quiet():
        _, _, thresholds = sk.precision_recall_curve(y_true, y_prob)
        f1 = np.array([sk.f1_score(y_true, (y_prob >= t).astype(np.int64), zero_division=0) for t in thresholds])
    best = BinaryEval(y_true, y_prob).best_f1()
    assert best == thresholds[f1 >= f1.max() - ATOL].max()  # the highest of the tied maxima


@settings(max_examples=100, deadline=None)
@given(binary_data(), st.floats(0, 1))
def test_chosen_thresholds_agree_with_at(data: tuple[np.ndarray, np.ndarray], recall: float) -> None:
    y_true, y_prob = data
    with no_warnings():
        evaluation = BinaryEval(y_true, y_prob)
        falling = [float(t) for t in np.unique(y_prob)[::-1]]
        reports = [evaluation.at(t) for t in falling]
        best_f1, best_youden = evaluation.best_f1(), evaluation.best_youden()
        targets = [recall, *(r.recall for r in reports)]
        for_recall = [evaluation.threshold_for_recall(target) for target in targets]
    f1 = [r.f1 for r in reports]
    youden = [r.tpr - r.fpr for r in reports]
    assert best_f1 == falling[f1.index(max(f1))] and evaluation.at(best_f1).f1 == max(f1)
    assert best_youden == falling[youden.index(max(youden))]
    for target, threshold in zip(targets, for_recall, strict=True):
        reached = [t for t, r in zip(falling, reports, strict=True) if r.recall >= target]
        assert threshold == (reached[0] if reached else falling[-1])


def test_the_threshold_is_rounded_to_the_scores_dtype() -> None:
    y_prob = np.array([0.1], dtype=np.float32)
    threshold = 0.1000000016  # above float32(0.1) as a float64, equal to it as a float32
    assert (y_prob >= threshold).all()
    assert BinaryEval([1], y_prob).at(threshold).tp == 1


def test_thresholds_beyond_the_dtype_and_infinite_ones_do_not_warn() -> None:
    evaluation = BinaryEval([0, 1], np.array([0.2, 0.8], dtype=np.float32))
    with no_warnings():
        assert evaluation.at(1e300).tp + evaluation.at(1e300).fp == 0
        assert evaluation.at(math.inf).tp + evaluation.at(math.inf).fp == 0
        assert evaluation.at(-1e300).tp + evaluation.at(-1e300).fp == 2
        assert evaluation.at(-math.inf).tn == 0


def test_zero_over_zero_cases_are_defined() -> None:
    with no_warnings():
        nothing_predicted = BinaryEval([0, 1], [0.2, 0.4]).at(0.5)
        only_negatives = BinaryEval([0, 0], [0.2, 0.4]).at(0.3)
        only_positives = BinaryEval([1, 1], [0.2, 0.4]).at(0.3)
    assert (nothing_predicted.precision, nothing_predicted.f1, nothing_predicted.mcc) == (0.0, 0.0, 0.0)
    assert (only_negatives.recall, only_negatives.f1, only_negatives.balanced_accuracy) == (0.0, 0.0, 0.5)
    assert (only_positives.fpr, only_positives.specificity, only_positives.balanced_accuracy) == (0.0, 0.0, 0.5)
    assert BinaryEval([0, 0], [0.2, 0.4]).average_precision == 0.0
    assert BinaryEval([1, 1], [0.2, 0.4]).average_precision == 1.0


def test_a_threshold_for_an_unreachable_recall_is_the_lowest_score() -> None:
    assert BinaryEval([0, 1, 1], [0.3, 0.6, 0.9]).threshold_for_recall(1.5) == pytest.approx(0.3)
    assert BinaryEval([0, 0], [0.3, 0.6]).threshold_for_recall(0.5) == pytest.approx(0.3)


def test_curves_are_read_only_because_they_are_shared() -> None:
    evaluation = BinaryEval([0, 1, 1], [0.3, 0.6, 0.9])
    fpr, _, _ = evaluation.roc_curve()
    with pytest.raises(ValueError, match="read-only"):
        fpr[0] = 1.0
    assert evaluation.roc_curve() is evaluation.roc_curve()


@pytest.mark.parametrize(
    ("y_true", "y_prob", "message"),
    [
        ([], [], "empty"),
        ([0, 1], [0.5], "one length"),
        ([0, 2], [0.5, 0.5], "only 0 and 1"),
        ([0, 1], [0.5, np.nan], "NaN or infinite"),
    ],
)
def test_binary_input_errors(y_true: list[int], y_prob: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BinaryEval(y_true, y_prob)


@st.composite
def multiclass_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    k = draw(st.integers(1, 6))
    n = draw(st.integers(1, 60))
    labels = st.lists(st.integers(0, k - 1), min_size=n, max_size=n)
    return np.array(draw(labels)), np.array(draw(labels)), k


@settings(max_examples=150, deadline=None)
@given(multiclass_data())
def test_multiclass_scores_equal_sklearn(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    y_true, y_pred, k = data
    with no_warnings():
        evaluation = MulticlassEval(y_true, y_pred, k)
    labels = list(range(k))
    with quiet():
        confusion = sk.confusion_matrix(y_true, y_pred, labels=labels)
    np.testing.assert_array_equal(evaluation.confusion, confusion)
    assert evaluation.confusion.dtype == np.int64 and evaluation.confusion.sum() == len(y_true)
    per_class = sk.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    assert_arrays_equal((evaluation.precision, evaluation.recall, evaluation.f1), per_class[:3])
    np.testing.assert_array_equal(evaluation.support, per_class[3])
    assert evaluation.accuracy == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=ATOL)
    for average in ("macro", "weighted"):
        expected = sk.precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average, zero_division=0)
        ours = getattr(evaluation, average)
        assert [ours["precision"], ours["recall"], ours["f1"]] == pytest.approx(expected[:3], abs=ATOL)


@settings(max_examples=100, deadline=None)
@given(multiclass_data(), st.integers(0, 40))
def test_most_confused_are_the_largest_off_diagonal_cells(data: tuple[np.ndarray, np.ndarray, int], n: int) -> None:
    evaluation = MulticlassEval(*data)
    pairs = evaluation.most_confused(n)
    cells = sorted(
        ((int(count), i, j) for (i, j), count in np.ndenumerate(evaluation.confusion) if i != j and count),
        key=lambda cell: -cell[0],
    )
    assert pairs == [(i, j, count) for count, i, j in cells[:n]]


def test_most_confused_example() -> None:
    evaluation = MulticlassEval([0, 0, 0, 1, 2, 2], [1, 1, 2, 1, 0, 2], 3)
    assert evaluation.most_confused(2) == [(0, 1, 2), (0, 2, 1)]
    assert evaluation.most_confused(10) == [(0, 1, 2), (0, 2, 1), (2, 0, 1)]


def test_from_proba_takes_the_argmax() -> None:
    y_prob = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    evaluation = MulticlassEval.from_proba([0, 2, 2, 2], y_prob)
    np.testing.assert_array_equal(evaluation.confusion, [[1, 0, 0], [0, 0, 0], [0, 1, 2]])
    assert evaluation.accuracy == 0.75


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([], [], "empty"),
        ([0, 1], [0], "one length"),
        ([0, 3], [0, 1], "y_true must hold integer labels 0 .. 2"),
        ([0, 1], [-1, 1], "y_pred must hold integer labels"),
        ([0.0, 1.0], [0, 1], "integer labels"),
    ],
)
def test_multiclass_input_errors(y_true: list[float], y_pred: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MulticlassEval(y_true, y_pred, 3)


def test_summary_binary_and_multiclass() -> None:
    y_true = np.array([0, 0, 1, 1, 1])
    y_prob = np.array([0.1, 0.6, 0.4, 0.7, 0.9], dtype=np.float32)
    with no_warnings():
        binary = summary(y_true, y_prob, 2)
    assert binary == {
        "accuracy": pytest.approx(0.6),
        "auroc": pytest.approx(sk.roc_auc_score(y_true, y_prob)),
        "average_precision": pytest.approx(sk.average_precision_score(y_true, y_prob)),
    }
    y_prob_3 = np.eye(3)[[0, 1, 2, 2]]
    multiclass = summary(np.array([0, 1, 1, 2]), y_prob_3, 3)
    macro_f1 = sk.f1_score([0, 1, 1, 2], [0, 1, 2, 2], average="macro")
    assert multiclass == {"accuracy": 0.75, "macro_f1": pytest.approx(macro_f1)}
