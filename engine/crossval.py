"""Cross-validation: one model per stratified fold of all the rows, each trained as a single run is, so that every
row is predicted once by the model that never trained on it; each metric's mean and spread over the folds, and
the ranking of the pooled out-of-fold probabilities."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import metrics
from .build import load_folds
from .calibration import reliabilities
from .config import RunConfig
from .control import RunControl
from .costs import expected_cost
from .device import resolve_device
from .events import CheckpointSaved, EndReason, Event, RunEnded
from .headline import estimates
from .trainer import Trainer
from clf_tui.errors import ConfigError


@dataclass(frozen=True)
class FoldStarted:
    """Fold ``fold`` of ``n_folds`` (from 1) begins: a model trains on ``n_train`` rows, to predict ``n_val``."""

    fold: int
    n_folds: int
    n_train: int
    n_val: int


@dataclass(frozen=True, eq=False)
class FoldEnded:
    """Fold ``fold``'s run ended as ``reason`` after ``epoch`` epochs; ``metrics`` are its validation rows'
    (``fold_metrics``), ``history`` its rows of metrics.csv (``Trainer.history_rows``), ``checkpoint`` the
    file its model was saved to (None when not saved)."""

    fold: int
    n_folds: int
    reason: EndReason
    epoch: int
    metrics: dict[str, float]
    history: tuple[dict[str, float | int | None], ...]
    checkpoint: str | None


@dataclass(frozen=True, eq=False)
class CrossValResult:
    """Every fold's metrics, their mean and sample standard deviation (NaN for one value), and every row's
    out-of-fold prediction.

    ``y_true``, ``y_prob`` and ``fold_of_row`` run over the data set's rows (a CSV file's labelled rows) in their
    own order: ``y_prob[i]`` is what the model of fold ``fold_of_row[i]`` gave row i from its validation split.
    ``out_of_fold`` scores those pooled probabilities: AUROC and average precision (binary), accuracy and
    macro F1 (multiclass).
    """

    class_names: tuple[str, ...]
    fold_metrics: tuple[dict[str, float], ...]
    mean: dict[str, float]
    std: dict[str, float]
    y_true: np.ndarray
    y_prob: np.ndarray
    fold_of_row: np.ndarray
    out_of_fold: dict[str, float]

    @property
    def n_folds(self) -> int:
        return len(self.fold_metrics)


@dataclass(frozen=True, eq=False)
class CrossValEnded:
    """The cross-validation ended as ``reason``; ``result`` is None unless every fold completed its run (or
    stopped early by its rule), since a mean over some folds is not the cross-validated one."""

    reason: EndReason
    message: str
    result: CrossValResult | None


CrossValEvent = FoldStarted | FoldEnded | CrossValEnded | Event


def cross_validate(cfg: RunConfig, *, control: RunControl | None = None,
                   checkpoint_dir: str | os.PathLike[str] | None = None) -> Iterator[CrossValEvent]:
    """Train one model per fold of ``cfg.folds`` (``datasets.folds``: stratified, each fold's preprocessing and
    scaler fit on its training rows), one after another, yielding for each FoldStarted, the events of its run
    (``Trainer.run``, with the config's end of a run), and FoldEnded; then CrossValEnded with the result.

    With ``checkpoint_dir``, fold k's model is saved as ``fold-k.pt`` there, as a single run saves its own
    (during the run as the config says, and at its end). A stop request ends the fold's run as it ends a
    single run (its checkpoint written) and the cross-validation with it, without a result; a fold whose run
    diverges ends it too. The folds finished keep their checkpoints.

    Raises:
        ConfigError: ``cfg.folds`` is below 2, or a setting does not fit the data.
        DataError: the data cannot be loaded, or a class has fewer rows than folds.
    """
    if not cfg.cross_validates:
        raise ConfigError(f"folds = {cfg.folds}: cross-validation needs 2 folds or more", field="folds")
    control = control or RunControl()
    resolve_device(cfg.device)  # fail before loading anything
    n_rows, positions, pieces = 0, [], []
    fold_results: list[dict[str, float]] = []
    for fold in load_folds(cfg):
        if control.stop_requested:  # between two folds
            yield CrossValEnded("stopped", _stopped_message(fold.number - 1, fold.n_folds), None)
            return
        trainer = Trainer.from_config(cfg, fold.data)
        trainer.fold = fold.number
        yield FoldStarted(fold.number, fold.n_folds, len(fold.train_rows), len(fold.val_rows))
        path = Path(checkpoint_dir) / f"fold-{fold.number}.pt" if checkpoint_dir is not None else None
        saved, ended = None, None
        for event in trainer.run(cfg.epochs, control=control, checkpoint_path=path):
            yield event
            if isinstance(event, CheckpointSaved):
                saved = event.path
            elif isinstance(event, RunEnded):
                ended = event
        found = fold_metrics(trainer) if trainer.total_epochs > 0 else {}
        yield FoldEnded(fold.number, fold.n_folds, ended.reason, ended.epoch, found,
                        tuple(trainer.history_rows()), saved)
        if ended.reason == "diverged":
            yield CrossValEnded("diverged", f"fold {fold.number} of {fold.n_folds} {ended.message}; no "
                                "cross-validated result", None)
            return
        if ended.reason == "stopped":
            yield CrossValEnded("stopped", _stopped_message(fold.number - 1, fold.n_folds, during=fold.number),
                                None)
            return
        y_true, y_prob = trainer.evaluate()
        n_rows += len(fold.val_rows)
        positions.append(fold.val_rows)
        pieces.append((fold.number, y_true, y_prob))
        fold_results.append(found)
    result = _result(trainer.data.class_names, fold_results, n_rows, positions, pieces)
    yield CrossValEnded("completed", f"cross-validated over {result.n_folds} folds of {n_rows} rows", result)


def fold_metrics(trainer: Trainer) -> dict[str, float]:
    """The metrics of a fold's model on its validation rows, with the weights and temperature it ended with:
    the headline metrics at its threshold (``headline.estimates``), its validation loss, and for a binary task
    the Brier score and ECE, and with costs, the threshold and its expected cost per case."""
    val_loss, y_true, y_prob = trainer.validate()
    found = {name: estimate.value for name, estimate in estimates(y_true, y_prob, trainer.threshold).items()}
    found["val_loss"] = float(val_loss)
    if y_prob.ndim == 1:
        (diagram,) = reliabilities(y_true, y_prob, trainer.data.class_names)
        found.update(brier=diagram.brier, ece=diagram.ece)
        if trainer.costs is not None:
            evaluation = metrics.BinaryEval(y_true, y_prob)
            found.update(threshold=trainer.threshold,
                         expected_cost=expected_cost(evaluation, trainer.costs, trainer.threshold))
    return found


def _result(class_names: tuple[str, ...], fold_results: list[dict[str, float]], n_rows: int,
            positions: list[np.ndarray], pieces: list[tuple[int, np.ndarray, np.ndarray]]) -> CrossValResult:
    first_prob = pieces[0][2]
    y_true = np.empty(n_rows, dtype=pieces[0][1].dtype)
    y_prob = np.empty((n_rows, *first_prob.shape[1:]), dtype=first_prob.dtype)
    fold_of_row = np.zeros(n_rows, dtype=np.int64)
    for rows, (number, fold_true, fold_prob) in zip(positions, pieces):
        y_true[rows], y_prob[rows], fold_of_row[rows] = fold_true, fold_prob, number
    names = list(fold_results[0])
    values = {name: np.array([found[name] for found in fold_results]) for name in names}
    mean = {name: float(v.mean()) for name, v in values.items()}
    std = {name: float(v.std(ddof=1)) if len(v) > 1 else math.nan for name, v in values.items()}
    if y_prob.ndim == 1:
        pooled = metrics.BinaryEval(y_true, y_prob)
        out_of_fold = {"auroc": pooled.auroc, "average_precision": pooled.average_precision}
    else:
        pooled_classes = metrics.MulticlassEval.from_proba(y_true, y_prob)
        out_of_fold = {"accuracy": pooled_classes.accuracy, "macro_f1": pooled_classes.macro["f1"]}
    return CrossValResult(class_names, tuple(fold_results), mean, std, y_true, y_prob, fold_of_row, out_of_fold)


def _stopped_message(finished: int, n_folds: int, during: int | None = None) -> str:
    where = f"during fold {during} of {n_folds}" if during is not None else f"before fold {finished + 1} of {n_folds}"
    kept = f"folds 1 to {finished} finished" if finished > 1 else "fold 1 finished" if finished == 1 else \
        "no fold finished"
    return f"stopped {where}; {kept}: no cross-validated result"
