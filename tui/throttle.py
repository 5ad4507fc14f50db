"""Throttle: lets an action through at most once per interval."""

from __future__ import annotations

import time


class Throttle:
    """``ready()`` is True at most once every ``interval_s`` seconds (and the first time it is asked)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last = -float("inf")

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.interval_s:
            return False
        self._last = now
        return True
