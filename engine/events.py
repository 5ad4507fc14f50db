"""The events a training run yields: frozen facts with plain payloads, never tensors or models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .calibration import Reliability

EndReason = Literal["completed", "stopped", "early_stopped", "diverged"]


@dataclass(frozen=True)
class RunStarted:
    """Training began (or resumed) on ``device``; ``device_note`` says why that device."""

    device: str
    device_note: str
    start_epoch: int
    n_epochs: int
    n_train: int
    n_val: int
    task: str
    n_classes: int


@dataclass(frozen=True)
class EpochEnded:
    """One epoch of training and validation finished.

    ``epoch`` counts from 1 over the trainer's whole life; ``metrics`` holds validation
    accuracy and, for binary tasks, ``auroc`` and ``average_precision`` (or macro_f1 for
    multiclass). ``samples_per_s`` is training rows over the epoch's whole duration.
    """

    epoch: int
    train_loss: float
    val_loss: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    samples_per_s: float = 0.0


@dataclass(frozen=True, eq=False)
class EvalReady:
    """Validation labels and probabilities after ``epoch``: 1-D P(class 1) for binary, (n, k) otherwise."""

    epoch: int
    y_true: np.ndarray
    y_prob: np.ndarray


@dataclass(frozen=True, eq=False)
class TemperatureFitted:
    """Temperature scaling was fit on the validation split after ``epoch``: probabilities are now
    sigmoid(logit / T) (softmax for several classes), with the reliability diagrams before and after."""

    epoch: int
    temperature: float
    before: tuple[Reliability, ...]
    after: tuple[Reliability, ...]


@dataclass(frozen=True)
class CheckpointSaved:
    """A checkpoint of the state after ``epoch`` was written to ``path``."""

    path: str
    epoch: int


@dataclass(frozen=True)
class RunEnded:
    """Training ended; ``epoch`` is the last finished epoch, ``message`` says what happened in words, and
    ``threshold`` is the threshold of least expected cost that the end of the run chose for the config's costs
    (None when it chose none)."""

    reason: EndReason
    epoch: int
    message: str
    threshold: float | None = None


Event = RunStarted | EpochEnded | EvalReady | TemperatureFitted | CheckpointSaved | RunEnded
