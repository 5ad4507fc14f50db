"""Chart axes over [0, 1], the range of probabilities, rates and thresholds, as every evaluation chart draws them."""

from __future__ import annotations

from typing import Any

TICKS = [0, 0.5, 1]
LABELS = ["0", ".5", "1"]


def unit_axes(plt: Any, *, y: bool = True) -> None:
    """Put the x axis of plotext figure ``plt`` (and its y axis, with ``y``) on [0, 1], ticked at 0, .5 and 1."""
    plt.xlim(0, 1)
    plt.xticks(TICKS, LABELS)
    if y:
        plt.ylim(0, 1)
        plt.yticks(TICKS, LABELS)
