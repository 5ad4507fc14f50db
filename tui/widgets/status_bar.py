"""StatusBar: device, run state, fold, epoch, throughput and elapsed training time on one line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from clf_tui.engine.config import RunConfig
from clf_tui.engine.events import EpochEnded, RunStarted

from .. import formatting

RunState = Literal["idle", "loading", "training", "paused", "finished", "stopped", "diverged"]

STATE_STYLES: dict[RunState, str] = {
    "idle": "dim",
    "loading": "bold yellow",
    "training": "bold green",
    "paused": "bold yellow",
    "finished": "bold cyan",
    "stopped": "bold yellow",
    "diverged": "bold red",
}


class StatusBar(Widget):
    """One line about the run; the app refreshes it a few times a second.

    Elapsed time is training time: the sum of the epochs' durations, the part of an epoch
    cut short by a stop or a pause, and the time since the last epoch ended while training;
    so a replayed run reads the same, and the clock never runs backwards. A problem (a
    failure's reason) takes the place of the run's summary until it is cleared.
    """

    problem: reactive[str] = reactive("", init=False)
    """The reason the last action failed, shown until the next action clears it; "" for none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state: RunState = "idle"
        self.device = "—"
        self.summary = ""
        self._epoch = 0
        self._end_epoch = 0
        self._samples_per_s = 0.0
        self._trained_s = 0.0
        self._partial_s = 0.0
        """Time spent on an epoch that has not ended (cut short, or paused in)."""
        self._clock_started: float | None = None
        self._fold: tuple[int, int] | None = None
        """(fold, n_folds) of a cross-validation, from its first fold's start until the next run."""

    @property
    def epoch(self) -> int:
        """The last epoch trained."""
        return self._epoch

    @property
    def end_epoch(self) -> int:
        """The epoch the last run was to end at."""
        return self._end_epoch

    @property
    def elapsed_s(self) -> float:
        """Training time so far."""
        running = time.monotonic() - self._clock_started if self._clock_started is not None else 0.0
        return self._trained_s + self._partial_s + running

    def set_state(self, state: RunState) -> None:
        if self._clock_started is not None:  # the clock stops; what it counted stays
            self._partial_s += time.monotonic() - self._clock_started
        self.state = state
        self._clock_started = time.monotonic() if state == "training" else None
        self.refresh()

    def set_run(self, device: str, config: RunConfig | None, data_name: str, epoch: int) -> None:
        """Show a new or restored run: its device, its data, model and optimiser, its epoch."""
        self.device = device
        self.summary = _summary(config, data_name)
        self._epoch = self._end_epoch = epoch
        self._fold = None
        self._samples_per_s = 0.0
        self._trained_s = self._partial_s = 0.0
        self.refresh()

    def fold_started(self, fold: int, n_folds: int) -> None:
        """Show that fold ``fold`` of ``n_folds`` trains; each fold's epochs count from 1 again."""
        self._fold = (fold, n_folds)
        self._epoch = 0
        self.refresh()

    def run_started(self, event: RunStarted) -> None:
        self.device = event.device
        self._end_epoch = event.start_epoch + event.n_epochs
        self.set_state("training")

    def epoch_ended(self, event: EpochEnded) -> None:
        """Record an epoch (its duration holds whatever part of it was counted before a pause); the bar redraws on
        the app's clock."""
        self._epoch = event.epoch
        self._end_epoch = max(self._end_epoch, event.epoch)
        self._samples_per_s = event.samples_per_s
        self._trained_s += event.duration_s
        self._partial_s = 0.0
        if self._clock_started is not None:
            self._clock_started = time.monotonic()

    def watch_problem(self) -> None:
        self.refresh()

    def render(self) -> Text:
        style = STATE_STYLES[self.state]
        line = Text.assemble(
            ("● ", style), (f"{self.state:<9}", style), " ", self.device,
            *(("  fold ", (f"{self._fold[0]}/{self._fold[1]}", "bold")) if self._fold is not None else ()),
            "  epoch ", (f"{self._epoch}/{self._end_epoch}" if self._end_epoch else "0", "bold"),
            "  ", formatting.si(self._samples_per_s) if self._samples_per_s else "—", " samples/s",
            "  ", formatting.duration(self.elapsed_s),
        )
        room = self.size.width - line.cell_len - 2
        if self.problem:  # where the summary goes, and all the room it can get
            room = self.size.width - line.cell_len - 4
            text = self.problem if len(self.problem) <= room else self.problem[: max(room - 1, 0)] + "…"
            line.append("  ✗ ", style="bold red")
            line.append(text, style="red")
        elif room > 8:  # the run's summary, right-aligned, where it fits
            summary = self.summary if len(self.summary) <= room else self.summary[: room - 1] + "…"
            line.append(" " * (room - len(summary) + 2) + summary, style="dim")
        return line


def _summary(config: RunConfig | None, data_name: str) -> str:
    """One line naming the run's data, model and optimiser."""
    name = Path(data_name).name
    if config is None:
        return name
    model = "logistic" if config.model == "logistic" else f"mlp {'-'.join(map(str, config.hidden))}"
    folds = f" · {config.folds} folds" if config.cross_validates else ""
    return f"{name} · {model} · {config.optimizer} lr {config.lr:g} · batch {config.batch_size}{folds}"
