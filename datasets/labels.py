"""Class labels from a target column: named as written, ordered, the positive class of a binary task chosen."""

from __future__ import annotations

import re

import numpy as np

from clf_tui.datasets.csv_table import NUMBER_PATTERN, Column, TextColumn, as_text
from clf_tui.datasets.labelled import listing
from clf_tui.errors import DataError

POSITIVE_NAMES = ("1", "yes", "true", "positive")
"""A binary task's positive class by default, in any case: the first class so named, else the rarer class."""
CODE = re.compile(r"^[+-]?0\d")
"""A number written with a leading zero is a code (a zip code), not a quantity."""
INTEGER = re.compile(r"^([+-]?\d+)(\.0*)?$")
"""A whole number, written as one (12) or with a zero fraction (12.0, as pandas writes integers beside a missing one)."""
MAX_INTEGER_DIGITS = 4000
"""Python reads integers of at most 4,300 digits from text; a longer one is a float (infinite) here."""


def encode_target(column: Column, source: str, positive: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(y, class_names)``: y in 0..k-1, -1 where the label is missing; class i is ``class_names[i]``.

    Where every label is a number, classes are numbers: 1, 1.0 and 1e0 are one class, named 1, and
    classes are in numeric order. Labels written with leading zeros (01, 007) are codes, as zip
    codes are, and like words stay as written (01 and 1 are two classes), in alphabetical order.
    A binary task's positive class is class 1: the class named ``positive``, else one named as in
    POSITIVE_NAMES, else the rarer one.

    Raises:
        DataError: ``positive`` is not a class, or is given for a task of more than two classes.
    """
    text = column if isinstance(column, TextColumn) else as_text(column)
    words = list(text.values)
    codes = text.codes
    keys: list = words
    if words and all(_is_number(word) for word in words) and not any(CODE.match(word) for word in words):
        # Numbers name classes by value, so 1, 1.0 and 1e0 are one class; whole numbers stay exact past 2**53.
        values = [_number(word) for word in words]
        distinct = sorted(set(values))
        at = {value: i for i, value in enumerate(distinct)}
        codes = np.append(np.array([at[value] for value in values], dtype=np.int64), -1)[codes]
        words, keys = [_number_name(value) for value in distinct], distinct
    names = words
    order = sorted(range(len(names)), key=lambda i: (keys[i], names[i]))
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    if len(order) == 2:
        order = _positive_last(order, [names[i] for i in order], counts[order], source, positive)
    elif positive is not None and len(order) > 2:
        raise DataError(f"{source}: positive = {positive!r} applies to two classes; this target has {len(order)}")
    remap = np.full(len(names) + 1, -1, dtype=np.int64)  # the last entry takes code -1, a missing label
    remap[order] = np.arange(len(order))
    return remap[codes], tuple(names[i] for i in order)


def label_name(word: str) -> str:
    """The class name a label written as ``word`` has when every label is a number: 1.0 and 1e0 are "1"."""
    if not _is_number(word) or CODE.match(word):
        return word
    return _number_name(_number(word))


def choose_positive(class_names: tuple[str, ...], counts: np.ndarray, source: str,
                    positive: str | None) -> tuple[int, int]:
    """The order (negative, positive) of a binary task's two class indices, by encode_target's rule."""
    return tuple(_positive_last([0, 1], list(class_names), counts, source, positive))  # type: ignore[return-value]


def _positive_last(order: list[int], names: list[str], counts: np.ndarray, source: str,
                   positive: str | None) -> list[int]:
    if positive is not None:
        if positive not in names:
            raise DataError(f"{source}: positive = {positive!r} is not a class; the classes are {listing(names)}")
        at = names.index(positive)
    else:
        named = [i for i, name in enumerate(names) if name.lower() in POSITIVE_NAMES]
        at = named[0] if named else (0 if counts[0] < counts[1] else 1)
    return [order[1 - at], order[at]]


def _number(word: str) -> int | float:
    """A label's value: whole numbers as exact integers, past 2**53 too (never through float64), others as floats."""
    whole = INTEGER.match(word)
    if whole and len(word) <= MAX_INTEGER_DIGITS:
        return int(whole.group(1))
    return float(word)


def _number_name(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_number(text: str) -> bool:
    return re.match(NUMBER_PATTERN, text) is not None
