"""Compare runs: configurations trained on the same data over the same seeds, each one's seeds as one batched model."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .batched import SeedBatch, Weights
from .build import load_data
from .comparable import comparable_metrics
from .comparison import (
    CompareEvent, Comparison, ComparisonEnded, ComparisonStarted, ConfigRuns, SeedRun, SeedsEpochEnded, check_same_data,
    check_sizes, comparison_seeds, config_labels,
)
from .config import RunConfig
from .control import RunControl
from .device import resolve_device
from clf_tui.errors import ConfigError
from .stopping import DivergenceWatch, EarlyStopping, EarlyStoppingWatch


def compare(configs: Sequence[RunConfig], n_seeds: int, *, labels: Sequence[str] | None = None,
            control: RunControl | None = None) -> Iterator[CompareEvent]:
    """Train every configuration over ``n_seeds`` seeds on data loaded once, yielding progress and the results.

    The seeds are the first configuration's seed and the ones after it, for every
    configuration. Each configuration's seeds train together as one ``SeedBatch``; each
    seed's run ends as its single run would (completed, diverged, or early stopped), and
    the batch goes on until every seed has ended. A stop request ends the comparison
    after the current batch, without results.

    Raises ConfigError for more than four configurations, a bad seed count, configurations
    that differ in their data fields (naming them), or a setting that does not fit the data;
    DataError if the data cannot be loaded.
    """
    check_sizes(len(configs), n_seeds)
    check_same_data(configs)
    labels = tuple(labels) if labels is not None else tuple(config_labels(configs))
    if len(labels) != len(configs):
        raise ConfigError(f"{len(labels)} labels for {len(configs)} configurations")
    control = control or RunControl()
    for cfg in configs:
        resolve_device(cfg.device)  # fail before loading anything
    data = load_data(configs[0])
    seeds = comparison_seeds(configs[0], n_seeds)
    batches = [SeedBatch(cfg, data, seeds) for cfg in configs]  # every setting checked before training starts
    first = batches[0]
    yield ComparisonStarted(labels, seeds, tuple(cfg.epochs for cfg in configs), str(first.device),
                            first.device_note, len(data.y_train), len(data.y_val), data.task)
    results = []
    for index, (cfg, batch) in enumerate(zip(configs, batches)):
        started = time.perf_counter()
        watches = [_SeedWatch(i, seed, cfg) for i, seed in enumerate(seeds)]
        paused_s = 0.0
        for epoch in range(1, cfg.epochs + 1):
            last_good = batch.weights()
            epoch_pass = batch.train_epoch(control)
            if epoch_pass is None:
                yield ComparisonEnded("stopped", f"stopped during epoch {epoch} of {labels[index]}", None)
                return
            train_losses, first_losses, paused = epoch_pass
            paused_s += paused
            val_losses, y_probs = batch.validate()
            for i, watch in enumerate(watches):
                if watch.end is None:
                    watch.epoch_ended(epoch, (train_losses[i], first_losses[i], val_losses[i]),
                                      lambda i=i: comparable_metrics(batch.y_true, y_probs[i], data.n_classes),
                                      last_good, batch.state())
            yield SeedsEpochEnded(index, epoch, cfg.epochs, *_live_losses(watches, train_losses, val_losses, epoch))
            if all(watch.end is not None for watch in watches):
                break
        runs = tuple(watch.finish(batch.state()) for watch in watches)
        results.append(ConfigRuns(labels[index], cfg, runs, time.perf_counter() - started - paused_s))
        if control.stop_requested:
            yield ComparisonEnded("stopped", f"stopped after {labels[index]}", None)
            return
    comparison = Comparison(data.name, data.task, seeds, tuple(results))
    yield ComparisonEnded("completed", f"compared {len(configs)} configurations over {n_seeds} seeds", comparison)


def _live_losses(watches: list[_SeedWatch], train: np.ndarray, val: np.ndarray,
                 epoch: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """This epoch's losses of the seeds that recorded it; NaN for the others."""
    recorded = [len(watch.train_losses) == epoch for watch in watches]
    return (tuple(float(v) if ok else math.nan for v, ok in zip(train, recorded)),
            tuple(float(v) if ok else math.nan for v, ok in zip(val, recorded)))


class _SeedWatch:
    """One seed's history, and the rules that end its run as they end a single run (``stopping``).

    A loss that is not finite, or beyond the divergence ceiling of the seed's first batch
    loss, ends it as ``diverged`` with the weights of its last good epoch; with early
    stopping, a validation loss that has not improved for ``patience`` epochs ends it
    as ``early_stopped``, with its best epoch's weights if ``restore_best``.
    """

    def __init__(self, index: int, seed: int, cfg: RunConfig) -> None:
        self.index = index
        self.seed = seed
        self.rule = EarlyStopping(cfg.patience, cfg.min_delta, cfg.restore_best) if cfg.stops_early else None
        self.train_losses: list[float] = []
        self.val_losses: list[float] = []
        self.val_metrics: list[dict[str, float]] = []
        self.divergence = DivergenceWatch()
        self.early_stopping: EarlyStoppingWatch[dict[str, np.ndarray]] = EarlyStoppingWatch()
        self.end: str | None = None
        self.kept_epoch = 0
        self.kept: dict[str, np.ndarray] | None = None

    def epoch_ended(self, epoch: int, losses: tuple[float, float, float], evaluate: Callable[[], dict[str, float]],
                    last_good: Weights, current: Weights) -> None:
        """Judge and record the seed's ``epoch``: losses are (train, first batch, validation); ``evaluate``
        gives its validation metrics; ``last_good`` and ``current`` are the stacked weights before and after."""
        train_loss, first_batch_loss, val_loss = (float(loss) for loss in losses)
        if self.divergence.check(first_batch_loss, (train_loss, val_loss)) is not None:
            self._end("diverged", epoch - 1, self._weights(last_good))
            return
        self.train_losses.append(train_loss)
        self.val_losses.append(val_loss)
        self.val_metrics.append(evaluate())
        watch = self.early_stopping
        if self.rule is not None and watch.ran_out(self.rule, epoch, val_loss, lambda: self._weights(current)):
            if watch.best_weights is not None:
                self._end("early_stopped", watch.best_epoch, watch.best_weights)
            else:
                self._end("early_stopped", epoch, self._weights(current))

    def _end(self, reason: str, kept_epoch: int, weights: dict[str, np.ndarray]) -> None:
        self.end, self.kept_epoch, self.kept = reason, kept_epoch, weights

    def _weights(self, stacked: Weights) -> dict[str, np.ndarray]:
        return SeedBatch.seed_weights(stacked, self.index)

    def finish(self, final: Weights) -> SeedRun:
        """The seed's run; a seed still going has completed, with the batch's ``final`` weights."""
        if self.end is None:
            self._end("completed", len(self.train_losses), self._weights(final))
        return SeedRun(self.seed, tuple(self.train_losses), tuple(self.val_losses), tuple(self.val_metrics),
                       self.end, self.kept_epoch, self.kept)
