"""TensorBoard logs of a headless run: per-epoch scalars, the final PR curves and the hyperparameters.

TensorBoard is an optional extra (``pip install 'clf-tui[tensorboard]'``); this module imports it
only when a log is opened, and ``require_tensorboard`` says how to install it before a run starts.
The engine knows nothing of it: the log consumes the run's events and its final evaluation.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clf_tui.arguments import UsageError
from clf_tui.engine import RunConfig
from clf_tui.engine.events import EpochEnded, Event

INSTALL_HINT = "pip install 'clf-tui[tensorboard]'"
PR_THRESHOLDS = 101
"""Thresholds of each PR curve: 0, 0.01, ..., 1, the steps of the app's threshold keys."""


def require_tensorboard() -> None:
    """Raise UsageError, saying how to install it, unless TensorBoard can be imported."""
    try:
        importlib.import_module("torch.utils.tensorboard")  # raises ImportError without the tensorboard package
    except ImportError:
        raise UsageError(f"--tensorboard needs the tensorboard package: {INSTALL_HINT}") from None


def scalar_tag(column: str) -> str:
    """The TensorBoard tag of a metrics.csv column: train_loss and val_loss side by side as loss/train and
    loss/val, val_accuracy as val/accuracy, duration_s as time/duration_s."""
    if column in ("train_loss", "val_loss"):
        return f"loss/{column.removesuffix('_loss')}"
    if column.startswith("val_"):
        return f"val/{column.removeprefix('val_')}"
    return f"time/{column}"


class TensorBoardLog:
    """One run's TensorBoard log in ``log_dir``: written by ``handle`` (each epoch's losses, validation
    metrics and duration, at step = epoch), ``write_pr_curves`` (the final evaluation) and ``close``
    (the hyperparameters, with the scalars as their metrics). A resumed run appends a new event file."""

    def __init__(self, log_dir: Path, config: RunConfig) -> None:
        """Raises UsageError when TensorBoard is missing or ``log_dir`` cannot be made a folder."""
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        try:
            self._writer = SummaryWriter(log_dir=str(log_dir))
        except OSError as exc:
            reason = "a file of that name is in the way" if isinstance(exc, FileExistsError) else exc.strerror or exc
            raise UsageError(f"--tensorboard {log_dir}: cannot write there ({reason})") from None
        self.log_dir = log_dir
        self._config = config
        self._tags: dict[str, None] = {}

    def __enter__(self) -> TensorBoardLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handle(self, event: Event) -> None:
        """Write an EpochEnded's scalars; other events carry nothing to log."""
        if not isinstance(event, EpochEnded):
            return
        columns: dict[str, float | None] = {"train_loss": event.train_loss, "val_loss": event.val_loss}
        columns.update({f"val_{name}": value for name, value in event.metrics.items()})
        columns["duration_s"] = event.duration_s
        for column, value in columns.items():
            if value is not None:
                tag = scalar_tag(column)
                self._writer.add_scalar(tag, value, global_step=event.epoch)
                self._tags[tag] = None

    def write_pr_curves(self, epoch: int, y_true: np.ndarray, y_prob: np.ndarray,
                        class_names: Sequence[str]) -> None:
        """The validation PR curve at ``epoch``, tagged pr/CLASS: binary, of the positive class (1);
        multiclass, of each class against the rest."""
        if y_prob.ndim == 1:
            curves = [(class_names[1], y_true == 1, y_prob)]
        else:
            curves = [(name, y_true == c, y_prob[:, c]) for c, name in enumerate(class_names)]
        for name, is_positive, scores in curves:
            self._writer.add_pr_curve(f"pr/{name}", is_positive, scores, global_step=epoch,
                                      num_thresholds=PR_THRESHOLDS)

    def close(self) -> None:
        """Write the hyperparameters, with every scalar written as a metric, and flush everything to disk."""
        from torch.utils.tensorboard.summary import hparams

        settings = {name: _hparam_value(value) for name, value in self._config.to_dict().items()}
        # Into this run's own file, not add_hparams' extra run in a subfolder, so that the metrics are these
        # scalars (hparams reads only the metrics' names).
        for summary in hparams(settings, self._tags):
            self._writer.file_writer.add_summary(summary)
        self._writer.close()


def _hparam_value(value: Any) -> str | int | float:
    """A setting as TensorBoard's hparams take it: numbers as numbers, lists and booleans as text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(map(str, value))
    return value
