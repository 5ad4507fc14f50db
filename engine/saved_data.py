"""The data a checkpoint's model was trained on, as the checkpoint describes it: a fingerprint of its training
split (to refuse resuming on other data) and the names, scaler and preprocessing that map new rows onto the
model's features."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from clf_tui.errors import CheckpointError

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit, Preprocessing, Scaler


def data_fingerprint(X_train: np.ndarray, y_train: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    """What identifies a training split: its shape, class names and a hash of its contents."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(X_train).tobytes())
    digest.update(np.ascontiguousarray(y_train).tobytes())
    return {
        "n_train": int(X_train.shape[0]),
        "n_features": int(X_train.shape[1]),
        "class_names": list(class_names),
        "sha256": digest.hexdigest(),
    }


def check_same_data(state: dict[str, Any], data: DataSplit, source: str) -> None:
    """Raise CheckpointError if the checkpoint's training split is not ``data``'s (shape, classes or contents)."""
    saved = state.get("data_fingerprint")
    if not isinstance(saved, dict):
        return
    current = data_fingerprint(data.X_train, data.y_train, data.class_names)
    differs = [key for key in current if saved.get(key) != current[key]]
    # The fingerprint hashes the scaled split; raw values shifted or stretched as a whole
    # scale to the same numbers, and only the fitted scaling tells them apart.
    if isinstance(state.get("scaler"), dict) and state["scaler"] != data.scaler.to_dict():
        differs.append("scaling")
    if differs:
        raise CheckpointError(f"{source} was trained on other data than {data.name} (differs in: {', '.join(differs)})")


@dataclass(frozen=True)
class DataDescription:
    """How a saved model reads new rows: its features and classes by name, its scaler and its preprocessing
    (for data saved without one, each feature is the numeric column of its name)."""

    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    scaler: Scaler
    preprocessing: Preprocessing


def data_description(state: dict[str, Any], source: str) -> DataDescription:
    """The checked description of the data a checkpoint's model was trained on.

    Raises:
        CheckpointError: it has none, or its names, scaler and preprocessing do not hold together.
    """
    from clf_tui.datasets import Preprocessing, Scaler

    entries = {key: state.get(key) for key in ("class_names", "feature_names", "scaler")}
    if all(value is None for value in entries.values()):
        raise CheckpointError(f"{source} holds no description of its data, so new rows cannot be mapped onto it")
    class_names, feature_names = entries["class_names"], entries["feature_names"]
    for key in ("class_names", "feature_names"):
        names = entries[key]
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names) \
                or len(set(names)) != len(names):
            raise CheckpointError(f"{source} is damaged: its {key} are not a list of distinct names")
    if len(class_names) < 2:
        raise CheckpointError(f"{source} is damaged: it names {len(class_names)} classes")
    try:
        scaler = Scaler.from_dict(entries["scaler"])
        if state.get("preprocessing") is not None:
            preprocessing = Preprocessing.from_dict(state["preprocessing"])
        else:  # saved from numeric columns alone: each feature is the column of its name
            config = state.get("config")
            target = config.get("target") if isinstance(config, dict) else None
            preprocessing = Preprocessing.numeric_columns(tuple(feature_names), target if isinstance(target, str) else "")
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{source} is damaged: its data description is not valid ({exc})") from None
    if preprocessing.feature_names != tuple(feature_names) or len(scaler.shift) != len(feature_names):
        raise CheckpointError(f"{source} is damaged: its preprocessing ({len(preprocessing.feature_names)} features), "
                              f"scaler ({len(scaler.shift)}) and feature names ({len(feature_names)}) disagree")
    return DataDescription(tuple(feature_names), tuple(class_names), scaler, preprocessing)
