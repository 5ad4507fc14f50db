"""EpochRecords: every epoch's validation probabilities (and decision regions), kept within a memory budget for replay."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

import numpy as np

from .regions import RegionGrid

REPLAY_BUDGET_BYTES = 64 * 2**20
"""Probabilities kept for replay, at most. A float16 copy of one epoch costs 2 bytes per validation row and
class column, and per region grid cell: with the 76 x 17 grid of an 80 x 24 terminal, a binary task keeps
22k epochs of 200 validation rows, or 331 epochs of 100k rows, before the records thin out."""


@dataclass(frozen=True, eq=False)
class EpochRecord:
    """One epoch's validation probabilities as float16 (1-D P(class 1), or (n, k)), with the model's
    probabilities over ``grid`` when the data has two features."""

    epoch: int
    y_prob: np.ndarray
    grid: RegionGrid | None = None
    grid_prob: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return self.y_prob.nbytes + (0 if self.grid_prob is None else self.grid_prob.nbytes)


class EpochRecords:
    """The evaluations of a run, epoch by epoch, for stepping back through them.

    Probabilities are stored as float16: each is within 2**-12 (0.00025) of the original, half
    of float16's spacing between 0.5 and 1, so a replayed epoch counts a row on the other side of
    the threshold only when its probability lies that close to it. Records are kept every ``stride`` epochs from the first,
    the latest always kept too; while they exceed ``budget_bytes`` the stride doubles and the
    records off it go. A long run so keeps an evenly spread sample of its epochs, with its first
    and its latest.

    ``add`` is called from a training thread while the UI thread reads: a lock keeps them apart.
    """

    def __init__(self, y_true: np.ndarray, budget_bytes: int = REPLAY_BUDGET_BYTES) -> None:
        self.y_true = np.asarray(y_true).copy()
        self.y_true.flags.writeable = False
        self.budget_bytes = budget_bytes
        self.stride = 1
        """Epochs between kept records (but the latest), from the first; doubles whenever the budget is exceeded."""
        self._records: list[EpochRecord] = []
        self._nbytes = 0
        self._lock = threading.Lock()

    def add(self, epoch: int, y_prob: np.ndarray, grid: RegionGrid | None = None,
            grid_prob: np.ndarray | None = None) -> EpochRecord:
        """Keep ``epoch``'s probabilities (a later record of the same epoch replaces it)."""
        if len(y_prob) != len(self.y_true):
            raise ValueError(f"epoch {epoch} has {len(y_prob)} probabilities for {len(self.y_true)} validation rows")
        record = EpochRecord(epoch, _half(y_prob), grid, None if grid_prob is None else _half(grid_prob))
        with self._lock:
            records = self._records
            while records and records[-1].epoch >= epoch:  # a run continued from an earlier epoch rewrites history
                self._nbytes -= records.pop().nbytes
            if not records:
                self.stride = 1
            elif len(records) > 1 and not self._on_stride(records[-1]):  # kept only while it was the latest
                self._nbytes -= records.pop().nbytes
            records.append(record)
            self._nbytes += record.nbytes
            while len(records) > 2 and self._nbytes > self.budget_bytes:
                self.stride *= 2
                records[1:-1] = [r for r in records[1:-1] if self._on_stride(r)]
                self._nbytes = sum(r.nbytes for r in records)
        return record

    def _on_stride(self, record: EpochRecord) -> bool:
        return (record.epoch - self._records[0].epoch) % self.stride == 0

    @property
    def epochs(self) -> list[int]:
        """The epochs kept, oldest first."""
        with self._lock:
            return [record.epoch for record in self._records]

    @property
    def nbytes(self) -> int:
        """Bytes of the probabilities kept."""
        return self._nbytes

    def get(self, epoch: int) -> EpochRecord | None:
        with self._lock:
            index = bisect.bisect_left(self._records, epoch, key=_epoch_of)
            if index < len(self._records) and self._records[index].epoch == epoch:
                return self._records[index]
            return None

    def latest(self) -> EpochRecord | None:
        with self._lock:
            return self._records[-1] if self._records else None

    def step(self, epoch: int, steps: int) -> EpochRecord | None:
        """The record ``steps`` kept epochs after (or, negative, before) ``epoch``, stopping at the ends;
        None when nothing is kept. ``epoch`` need not be kept itself."""
        with self._lock:
            records = self._records
            if not records:
                return None
            index = bisect.bisect_left(records, epoch, key=_epoch_of)
            if steps < 0 or (index < len(records) and records[index].epoch == epoch):
                index += steps
            else:  # between two kept epochs, one step forward lands on the next kept one
                index += steps - 1
            return records[min(max(index, 0), len(records) - 1)]


def _epoch_of(record: EpochRecord) -> int:
    return record.epoch


def _half(values: np.ndarray) -> np.ndarray:
    half = np.array(values, dtype=np.float16)
    half.flags.writeable = False
    return half
