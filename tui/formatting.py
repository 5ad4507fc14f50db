"""Number formats shared by the panes, so a value reads the same everywhere."""

from __future__ import annotations

import math


def rate(value: float | None) -> str:
    """A rate or score in [0, 1] (or a loss) with three decimals; a dash when unknown."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.3f}"


def loss(value: float | None) -> str:
    """A non-negative loss in at most six characters."""
    if value is None or not math.isfinite(value):
        return "—"
    for limit, decimals in ((10, 4), (100, 3), (10_000, 1)):
        if abs(value) < limit:
            return f"{value:.{decimals}f}"
    return f"{value:.0e}"


def si(value: float) -> str:
    """A throughput such as 15.2k or 1.3M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}"


def duration(seconds: float) -> str:
    """Elapsed time as m:ss, or h:mm:ss from an hour on."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def threshold(value: float) -> str:
    """A decision threshold: two decimals when that is exact, four otherwise, and where four would read 0 or 1,
    as many as give two significant digits of its distance from there (a threshold of least cost just above the
    lowest score: 0.000034)."""
    short = f"{value:.2f}"
    if abs(float(short) - value) < 5e-7:
        return short
    four = f"{value:.4f}"
    if float(four) not in (0.0, 1.0):
        return four
    distance = min(value, 1 - value)
    decimals = 1 - math.floor(math.log10(distance)) if distance > 0 else 4
    return f"{value:.{min(decimals, 12)}f}"


def byte_size(n_bytes: int) -> str:
    """A size in memory such as 512 B, 48.2 KiB or 1.3 MiB."""
    size = float(n_bytes)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{n_bytes} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def learning_rate(value: float) -> str:
    """A learning rate to two significant digits, such as 0.0032 or 3.2e-05: what a person would type."""
    return f"{value:.2g}"


MAX_CLASS_NAME = 10


def class_name(name: str) -> str:
    """A class name in at most MAX_CLASS_NAME characters, so a matrix of long names still fits its pane."""
    return name if len(name) <= MAX_CLASS_NAME else name[: MAX_CLASS_NAME - 1] + "…"
