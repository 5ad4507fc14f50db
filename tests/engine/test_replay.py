"""EpochRecords: what replay keeps of each epoch, within its budget, and how it steps between epochs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from clf_tui.engine.metrics import BinaryEval
from clf_tui.engine.regions import RegionGrid
from clf_tui.engine.replay import EpochRecords

N_ROWS = 200


@pytest.fixture
def y_true() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 2, N_ROWS)


def probabilities(epoch: int) -> np.ndarray:
    return np.random.default_rng(epoch).random(N_ROWS)


def test_every_epoch_is_kept_as_float16_within_its_precision(y_true: np.ndarray) -> None:
    records = EpochRecords(y_true)
    for epoch in range(1, 31):
        records.add(epoch, probabilities(epoch))
    assert records.epochs == list(range(1, 31))
    kept = records.get(17)
    assert kept is not None and kept.y_prob.dtype == np.float16
    assert np.abs(kept.y_prob.astype(np.float64) - probabilities(17)).max() <= 2**-12
    assert not kept.y_prob.flags.writeable
    # The counts at a threshold differ only by rows that lie within that precision of it.
    threshold = 0.5
    original = BinaryEval(y_true, probabilities(17)).at(threshold)
    replayed = BinaryEval(y_true, kept.y_prob.astype(np.float32)).at(threshold)
    near = int((np.abs(probabilities(17) - threshold) <= 2**-12).sum())
    assert abs(original.tp - replayed.tp) + abs(original.fp - replayed.fp) <= near


def test_past_the_budget_the_epochs_kept_thin_out_evenly(y_true: np.ndarray) -> None:
    per_epoch = N_ROWS * 2  # float16
    records = EpochRecords(y_true, budget_bytes=40 * per_epoch)
    for epoch in range(1, 1001):
        records.add(epoch, probabilities(epoch))
        assert records.nbytes <= 40 * per_epoch
        assert records.epochs[0] == 1 and records.epochs[-1] == epoch
    kept = records.epochs
    assert 20 <= len(kept) <= 40
    stride = records.stride
    assert stride > 1 and stride & (stride - 1) == 0  # doubled each time
    # Evenly spread: every kept epoch but the latest sits on the stride from the first.
    assert all((epoch - 1) % stride == 0 for epoch in kept[:-1])
    assert np.diff(kept[:-1]).tolist() == [stride] * (len(kept) - 2)
    assert records.nbytes == sum(records.get(e).nbytes for e in kept)


def test_region_grids_are_kept_with_their_epoch_and_count_in_the_budget(y_true: np.ndarray) -> None:
    grid = RegionGrid.covering(np.random.default_rng(1).normal(size=(50, 2)), 30, 10)
    records = EpochRecords(y_true)
    grid_prob = np.random.default_rng(2).random(grid.shape)
    record = records.add(1, probabilities(1), grid, grid_prob)
    assert record.grid is grid
    assert record.grid_prob.dtype == np.float16 and record.grid_prob.shape == (10, 30)
    assert records.nbytes == N_ROWS * 2 + 300 * 2


def test_a_run_continued_from_an_earlier_epoch_replaces_the_later_records(y_true: np.ndarray) -> None:
    records = EpochRecords(y_true)
    for epoch in range(1, 11):
        records.add(epoch, probabilities(epoch))
    records.add(6, probabilities(60))
    assert records.epochs == [1, 2, 3, 4, 5, 6]
    assert np.allclose(records.get(6).y_prob, probabilities(60), atol=5e-4)
    assert records.nbytes == 6 * N_ROWS * 2


def test_step_moves_between_kept_epochs_and_stops_at_the_ends(y_true: np.ndarray) -> None:
    records = EpochRecords(y_true)
    assert records.step(5, -1) is None and records.latest() is None
    for epoch in (3, 5, 9, 12):
        records.add(epoch, probabilities(epoch))
    assert records.step(9, -1).epoch == 5
    assert records.step(9, 1).epoch == 12
    assert records.step(12, 1).epoch == 12
    assert records.step(3, -1).epoch == 3
    assert records.step(7, -1).epoch == 5  # from an epoch not kept, to its neighbours
    assert records.step(7, 1).epoch == 9
    assert records.step(12, -10).epoch == 3
    assert records.get(4) is None and records.latest().epoch == 12


def test_a_length_that_is_not_the_validation_splits_is_refused(y_true: np.ndarray) -> None:
    with pytest.raises(ValueError, match="199 probabilities for 200 validation rows"):
        EpochRecords(y_true).add(1, np.zeros(N_ROWS - 1))


def test_reading_while_a_training_thread_adds(y_true: np.ndarray) -> None:
    records = EpochRecords(y_true, budget_bytes=50 * N_ROWS * 2)
    done = threading.Event()

    def train() -> None:
        for epoch in range(1, 3001):
            records.add(epoch, probabilities(epoch % 7))
        done.set()

    thread = threading.Thread(target=train)
    thread.start()
    seen = 0
    while not done.is_set():
        latest = records.latest()
        if latest is not None:
            assert records.step(latest.epoch, -1) is not None
            epochs = records.epochs
            assert epochs == sorted(set(epochs))
            seen += 1
    thread.join()
    assert seen > 0 and records.epochs[-1] == 3000
