"""RunControl: thread-safe stop, pause and resume, checked by the training loop between batches."""

from __future__ import annotations

import threading
import time


class RunControl:
    """Flags another thread sets to steer a run; the loop polls them between batches.

    ``stop_event`` lets a caller share an existing event (a Textual worker's
    ``cancelled_event``, or one set by a SIGINT handler).
    """

    def __init__(self, stop_event: threading.Event | None = None) -> None:
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        """Ask the run to end after the current batch (a paused run ends too)."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> float:
        """Block while paused (until resumed or stopped); return the seconds spent waiting."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        # A stop may arrive through a shared event that does not wake _running, so poll it.
        while not self._running.wait(0.1) and not self._stop.is_set():
            pass
        return time.perf_counter() - start
