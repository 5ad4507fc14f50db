"""A comparison's setup, events and results: configurations that share data and seeds, per-seed runs, mean and std.

Torch-free, so that the app can check what a user typed and show results without loading torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .config import FIELD_NAMES, RunConfig
from clf_tui.errors import ConfigError

MAX_CONFIGS = 4
MAX_SEEDS = 100
DATA_FIELDS = ("dataset", "target", "n_samples", "noise", "n_classes", "data_seed", "val_fraction", "split_seed",
               "stratify", "scaler")
"""The fields that choose the data: every configuration of a comparison must agree on them."""
UNLABELLED_FIELDS = ("seed", "out_dir", "device", "threads", "checkpoint_every_s", "checkpoint_every_epochs",
                     "temperature_scaling", "cost_fp", "cost_fn", "prevalence")
"""Fields that never name a configuration: they do not change what is trained."""
BINARY_METRICS = ("val_accuracy", "val_auroc", "val_log_loss", "val_average_precision")
MULTICLASS_METRICS = ("val_accuracy", "val_auroc", "val_log_loss", "val_macro_f1")
"""The validation metrics every configuration reports alike, whatever its loss (``comparable.comparable_metrics``):
a multiclass task's AUROC is the macro one-vs-rest one."""
BOX_METRICS = ("val_accuracy", "val_auroc", "val_log_loss")


def check_same_data(configs: Sequence[RunConfig]) -> None:
    """Raise ConfigError naming the data fields on which ``configs`` disagree, if any."""
    first = configs[0]
    differing = [name for name in DATA_FIELDS if any(getattr(c, name) != getattr(first, name) for c in configs)]
    if differing:
        values = "; ".join(f"{name}: {', '.join(repr(getattr(c, name)) for c in configs)}" for name in differing)
        raise ConfigError(f"the configurations must share their data, but differ in {', '.join(differing)} "
                          f"({values}); set them alike")


def check_sizes(n_configs: int, n_seeds: int) -> None:
    """Raise ConfigError unless there are 1 to MAX_CONFIGS configurations and 1 to MAX_SEEDS seeds."""
    if not 1 <= n_configs <= MAX_CONFIGS:
        raise ConfigError(f"{n_configs} configurations given: compare 1 to {MAX_CONFIGS}")
    if not 1 <= n_seeds <= MAX_SEEDS:
        raise ConfigError(f"seeds = {n_seeds} is invalid: expected a whole number between 1 and {MAX_SEEDS}")


def comparison_seeds(first: RunConfig, n_seeds: int) -> tuple[int, ...]:
    """The seeds every configuration trains with: the first configuration's seed and the next ``n_seeds - 1``."""
    return tuple(first.seed + i for i in range(n_seeds))


def apply_overrides(base: RunConfig, text: str) -> RunConfig:
    """``base`` with the settings written in ``text`` as ``name=value`` pairs (``optimizer=sgd lr=0.1``).

    Raises ConfigError naming the pair that is not ``name=value``, the unknown setting or the bad value.
    """
    changes = {}
    for pair in text.split():
        name, equals, value = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not equals or not name:
            raise ConfigError(f"{pair!r} is not name=value, such as loss=mse or lr=0.1")
        changes[name] = RunConfig.parse_field(name, value)
    return base.replace(**changes)


def config_labels(configs: Sequence[RunConfig]) -> list[str]:
    """Short names for ``configs``: the settings in which each differs from the others, as ``name=value``.

    Configurations that differ in nothing that is trained are numbered instead.
    """
    names = [f for f in sorted(FIELD_NAMES) if f not in UNLABELLED_FIELDS
             and any(getattr(c, f) != getattr(configs[0], f) for c in configs)]
    labels = [" ".join(f"{name}={_value_text(getattr(c, name))}" for name in names) for c in configs]
    if len(set(labels)) < len(labels) or not all(labels):
        return [f"config {i + 1}" for i in range(len(configs))]
    return labels


def loss_label(cfg: RunConfig, task: str) -> str:
    """The loss ``cfg`` trains with on a ``task``, named as a comparison shows it: ``mse``, or
    ``bce_logits pos_weight=auto`` (weighted positives put that loss on another scale)."""
    name = cfg.resolved_loss(task)
    return name if cfg.pos_weight == "none" else f"{name} pos_weight={_value_text(cfg.pos_weight)}"


def loss_column(history: str, label: str) -> str:
    """The CSV column of a configuration's own loss: ``train_loss_mse``, ``val_loss_bce_logits_pos_weight_auto``."""
    return f"{history}_{label.replace(' ', '_').replace('=', '_')}"


def _value_text(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class SeedRun:
    """One seed of one configuration: its history and the weights it ended with.

    ``end`` is ``completed``, ``diverged`` or ``early_stopped`` as in a single run; ``kept_epoch``
    is the epoch whose weights were kept (the last good one after a divergence, the best one after
    an early stop that restores it; 0 when none finished).
    """

    seed: int
    train_losses: tuple[float, ...]
    val_losses: tuple[float, ...]
    val_metrics: tuple[dict[str, float], ...]
    end: str
    kept_epoch: int
    weights: dict[str, np.ndarray] = field(repr=False)

    def final(self) -> dict[str, float]:
        """Losses and validation metrics of the kept epoch, named as in metrics.csv; NaN when no epoch was kept."""
        if self.kept_epoch == 0:
            return {}
        i = self.kept_epoch - 1
        return {"train_loss": self.train_losses[i], "val_loss": self.val_losses[i],
                **{f"val_{name}": value for name, value in self.val_metrics[i].items()}}


@dataclass(frozen=True)
class ConfigRuns:
    """Every seed of one configuration, trained together."""

    label: str
    config: RunConfig
    runs: tuple[SeedRun, ...]
    duration_s: float

    def values(self, metric: str) -> np.ndarray:
        """``metric`` of each seed's kept epoch (NaN for a seed that kept none)."""
        return np.array([run.final().get(metric, math.nan) for run in self.runs], dtype=np.float64)

    def mean_std(self, metric: str) -> tuple[float, float]:
        """Mean and sample standard deviation (ddof = 1) of ``metric`` over the seeds that kept an epoch.

        The std is NaN with fewer than two such seeds; both are NaN with none.
        """
        values = self.values(metric)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return math.nan, math.nan
        return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else math.nan

    def mean_curve(self, history: str) -> np.ndarray:
        """The mean over seeds of ``train_losses`` or ``val_losses`` at each epoch that every seed reached.

        Each is the configuration's own loss: another configuration's may be another loss, on another scale.
        """
        curves = [getattr(run, history) for run in self.runs]
        length = min(len(curve) for curve in curves)
        return np.mean([curve[:length] for curve in curves], axis=0) if length else np.zeros(0)

    def mean_metric_curve(self, metric: str) -> np.ndarray:
        """The mean over seeds of the validation metric ``metric`` ("log_loss", "accuracy", "auroc") at each epoch
        that every seed reached: on one scale for every configuration of a comparison."""
        curves = [[values[metric] for values in run.val_metrics] for run in self.runs]
        length = min(len(curve) for curve in curves)
        return np.mean([curve[:length] for curve in curves], axis=0) if length else np.zeros(0)


@dataclass(frozen=True)
class Comparison:
    """The configurations of a comparison, trained on the same data with the same seeds."""

    data_name: str
    task: str
    seeds: tuple[int, ...]
    configs: tuple[ConfigRuns, ...]

    @property
    def metrics(self) -> tuple[str, ...]:
        """The validation metrics that every configuration reports on one scale: accuracy, AUROC (macro
        one-vs-rest for several classes), log loss, and AP (binary) or macro F1 (multiclass)."""
        return BINARY_METRICS if self.task == "binary" else MULTICLASS_METRICS

    @property
    def box_metrics(self) -> tuple[str, ...]:
        """The metrics shown as box plots across seeds: validation accuracy, AUROC and log loss."""
        return BOX_METRICS

    @property
    def loss_labels(self) -> tuple[str, ...]:
        """Each configuration's own loss (``loss_label``), in order: its train and validation losses are that loss."""
        return tuple(loss_label(runs.config, self.task) for runs in self.configs)

    def rows(self) -> list[dict[str, str | int | float]]:
        """One row per configuration per seed: label, seed, how it ended, kept epoch, its loss, the metrics on one
        scale, and its own train and validation losses in columns named after that loss (``loss_column``)."""
        rows = []
        for runs, label in zip(self.configs, self.loss_labels):
            for run in runs.runs:
                final = run.final()
                rows.append({"config": runs.label, "seed": run.seed, "end": run.end, "epochs": len(run.train_losses),
                             "kept_epoch": run.kept_epoch, "loss": label,
                             **{m: final.get(m, math.nan) for m in self.metrics},
                             loss_column("train_loss", label): final.get("train_loss", math.nan),
                             loss_column("val_loss", label): final.get("val_loss", math.nan)})
        return rows

    def epoch_rows(self) -> list[dict[str, str | int | float]]:
        """One row per configuration, seed and epoch: its own losses (in columns named after that loss) and the
        validation metrics of that epoch."""
        return [
            {"config": runs.label, "seed": run.seed, "epoch": i + 1, loss_column("train_loss", label): loss,
             loss_column("val_loss", label): run.val_losses[i],
             **{f"val_{k}": v for k, v in run.val_metrics[i].items()}}
            for runs, label in zip(self.configs, self.loss_labels) for run in runs.runs
            for i, loss in enumerate(run.train_losses)
        ]


@dataclass(frozen=True)
class ComparisonStarted:
    """The comparison is set up: what it trains, on which data and device."""

    labels: tuple[str, ...]
    seeds: tuple[int, ...]
    n_epochs: tuple[int, ...]
    """Epochs of each configuration."""
    device: str
    device_note: str
    n_train: int
    n_val: int
    task: str


@dataclass(frozen=True)
class SeedsEpochEnded:
    """An epoch of one configuration ended for all its seeds; NaN for seeds that had already ended."""

    config_index: int
    epoch: int
    n_epochs: int
    train_losses: tuple[float, ...]
    val_losses: tuple[float, ...]


@dataclass(frozen=True)
class ComparisonEnded:
    """The comparison completed (with its results) or was stopped (without)."""

    reason: str
    """``completed`` or ``stopped``."""
    message: str
    comparison: Comparison | None


CompareEvent = ComparisonStarted | SeedsEpochEnded | ComparisonEnded
