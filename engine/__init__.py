"""Headless training engine: config, trainer, metrics, checkpoints. Never imports a UI.

Names load on first use (PEP 562), so importing the package or its config does not
pay for torch. The errors are clf_tui.errors', shared by every layer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from clf_tui.errors import CheckpointError, ClfError, ConfigError, DataError, DeviceError

_EXPORTS = {
    "TensorBatches": "batching",
    "compare": "compare", "Comparison": "comparison", "cross_validate": "crossval",
    "read_checkpoint": "checkpoint",
    "RunConfig": "config",
    "RunControl": "control",
    "resolve_device": "device",
    "CellSamples": "drilldown", "ConfusedPair": "drilldown", "DrillDown": "drilldown",
    "CheckpointSaved": "events", "EpochEnded": "events", "EvalReady": "events", "Event": "events",
    "RunEnded": "events", "RunStarted": "events",
    "Lesson": "lessons", "LESSONS": "lessons", "lesson": "lessons",
    "LossSpec": "losses", "loss_spec": "losses",
    "LRFinderResult": "lr_finder", "find_lr": "lr_finder",
    "BinaryEval": "metrics", "BinaryReport": "metrics", "MulticlassEval": "metrics",
    "build_model": "models",
    "build_optimizer": "optimizers",
    "LearnedParameters": "parameters", "learned_parameters": "parameters",
    "LayerSummary": "summary", "ModelSummary": "summary", "summarize": "summary",
    "EarlyStopping": "stopping", "Trainer": "trainer", "load_data": "build",
}
__all__ = sorted([*_EXPORTS, "CheckpointError", "ClfError", "ConfigError", "DataError", "DeviceError"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from .batching import TensorBatches
    from .build import load_data
    from .checkpoint import read_checkpoint
    from .compare import compare
    from .comparison import Comparison
    from .crossval import cross_validate
    from .config import RunConfig
    from .control import RunControl
    from .device import resolve_device
    from .drilldown import CellSamples, ConfusedPair, DrillDown
    from .events import CheckpointSaved, EpochEnded, EvalReady, Event, RunEnded, RunStarted
    from .lessons import LESSONS, Lesson, lesson
    from .losses import LossSpec, loss_spec
    from .lr_finder import LRFinderResult, find_lr
    from .metrics import BinaryEval, BinaryReport, MulticlassEval
    from .models import build_model
    from .optimizers import build_optimizer
    from .parameters import LearnedParameters, learned_parameters
    from .stopping import EarlyStopping
    from .summary import LayerSummary, ModelSummary, summarize
    from .trainer import Trainer
