"""Labelled: every source's rows before the split, and helpers that name columns and classes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Labelled:
    """Raw (unscaled) features of shape (n, n_features), float32 as a file gave them or else float64,
    and int64 labels in 0..k-1.

    ``name`` is the built-in's name or the file's name; label i is ``class_names[i]``.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]


def numbered(prefix: str, count: int, start: int = 1) -> tuple[str, ...]:
    """Default names: ``numbered("x", 2) == ("x1", "x2")``, ``numbered("", 2, start=0) == ("0", "1")``."""
    return tuple(f"{prefix}{i}" for i in range(start, start + count))


def listing(names: Iterable[str], limit: int = 12) -> str:
    """Quoted, comma-separated names for a message, cut after ``limit`` so that it stays one readable line."""
    names = list(names)
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"
