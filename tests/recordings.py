"""Recorded results: the engine's events and results saved once as plain data, and read back exactly.

Tests that draw a trained model (screenshots, above all) must not train it themselves: the last
bits of a trained model's numbers follow the CPU's floating-point kernels, and a probability
printed to four decimals can differ between two machines. Such tests read a recording instead,
made once by ``python -m tests.record`` and kept in git beside them.

A recording is one ``.npz`` file: a JSON tree of the value (dataclasses by class, tuples, dicts,
numbers, strings) whose arrays and NumPy scalars sit beside it as entries of their own, so every
number comes back bit for bit. Only the project's own dataclasses are rebuilt, from the fields
saved, without running their ``__init__`` or ``__post_init__`` again.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np

OWN_MODULES = "clf_tui."
"""The prefix of every module whose dataclasses a recording may name."""


def save_recording(path: Path, value: Any) -> None:
    """Write ``value`` to ``path`` (an ``.npz``)."""
    arrays: dict[str, np.ndarray] = {}
    tree = json.dumps(_encode(value, arrays))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, __tree__=np.array(tree), **arrays)


def load_recording(path: Path) -> Any:
    """The value that ``save_recording`` wrote to ``path``."""
    with np.load(path, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    tree = json.loads(str(arrays.pop("__tree__")))
    return _decode(tree, arrays)


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"array": key, "scalar": isinstance(value, np.generic)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith(OWN_MODULES):
            raise TypeError(f"not one of the project's dataclasses: {cls.__module__}.{cls.__qualname__}")
        fields = {f.name: _encode(getattr(value, f.name), arrays) for f in dataclasses.fields(value)}
        return {"dataclass": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    if isinstance(value, tuple):
        return {"tuple": [_encode(item, arrays) for item in value]}
    if isinstance(value, list):
        return [_encode(item, arrays) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("only dicts with string keys can be recorded")
        return {"dict": {key: _encode(item, arrays) for key, item in value.items()}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value  # JSON writes floats by repr, which reads back to the same double; NaN and inf too
    raise TypeError(f"cannot record a {type(value).__name__}")


def _decode(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, list):
        return [_decode(item, arrays) for item in tree]
    if not isinstance(tree, dict):
        return tree
    if "array" in tree:
        array = arrays[tree["array"]]
        return array[()] if tree["scalar"] else array
    if "tuple" in tree:
        return tuple(_decode(item, arrays) for item in tree["tuple"])
    if "dict" in tree:
        return {key: _decode(item, arrays) for key, item in tree["dict"].items()}
    module, _, name = tree["dataclass"].partition(":")
    if not module.startswith(OWN_MODULES):
        raise TypeError(f"a recording may not name {module}")
    cls = getattr(importlib.import_module(module), name)
    value = object.__new__(cls)
    for field, item in tree["fields"].items():
        object.__setattr__(value, field, _decode(item, arrays))
    return value
