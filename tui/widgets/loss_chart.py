"""LossChart: training and validation loss per epoch, drawn with plotext."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from textual_plotext import PlotextPlot

from clf_tui.engine.events import EpochEnded

from .plain_chart import figure_text

MAX_POINTS = 600
"""Points kept per series; beyond it every other point is dropped and only every 2nd, 4th, ... epoch is kept."""


class LossChart(PlotextPlot):
    """Keeps only the points it draws, and draws them again whenever they change (the runner sends a fast run's
    epochs a few times a second, together)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "loss"
        self._epochs: list[int] = []
        self._train: list[float] = []
        self._val: list[float | None] = []
        self._stride = 1
        self._marked: int | None = None

    @property
    def epochs(self) -> list[int]:
        """The epochs drawn (every ``stride``-th once the chart is full)."""
        return list(self._epochs)

    @property
    def train_losses(self) -> list[float]:
        return list(self._train)

    def add_epochs(self, events: Iterable[EpochEnded]) -> None:
        """Record the epochs' losses (every ``stride``-th epoch once the chart is full), and draw them."""
        for event in events:
            if self._epochs and event.epoch - self._epochs[-1] < self._stride:
                continue
            self._epochs.append(event.epoch)
            self._train.append(event.train_loss)
            self._val.append(event.val_loss)
            if len(self._epochs) > MAX_POINTS:
                del self._epochs[1::2], self._train[1::2], self._val[1::2]
                self._stride *= 2
        self._plot_points()

    def clear(self) -> None:
        self._epochs.clear()
        self._train.clear()
        self._val.clear()
        self._stride = 1
        self._marked = None
        self._plot_points()

    def mark_epoch(self, epoch: int | None) -> None:
        """Draw a vertical line at ``epoch`` (the one replayed), or none."""
        self._marked = epoch
        self._plot_points()

    def plain_text(self, width: int, height: int) -> str:
        """The chart at ``width`` x ``height`` without colours: validation loss drawn in x, apart from training's."""
        figure = copy.deepcopy(self.plt)
        self._draw(figure, plain=True)
        return figure_text(figure, width, height)

    def _plot_points(self) -> None:
        """Hand the points to plotext; it draws them on the next refresh, at most once a frame."""
        self._draw(self.plt, plain=False)
        self.refresh()

    def _draw(self, plt: Any, *, plain: bool) -> None:
        plt.clear_data()
        plt.xlabel("epoch")
        if self._epochs:
            plt.xticks(epoch_ticks(self._epochs[0], self._epochs[-1]))
            plt.plot(self._epochs, self._train, label="train", marker="braille", color="cyan")
            val = [(e, v) for e, v in zip(self._epochs, self._val) if v is not None]
            if val:
                plt.plot([e for e, _ in val], [v for _, v in val], label="val", marker="x" if plain else "braille",
                         color="orange")
            if self._marked is not None:
                plt.vline(self._marked, color="gray")

    def on_mount(self) -> None:  # PlotextPlot's own on_mount runs too (Textual calls each class's handler)
        self._plot_points()


def epoch_ticks(first: int, last: int, n_ticks: int = 5) -> list[int]:
    """Up to ``n_ticks`` whole epochs from ``first`` to ``last``, evenly spread."""
    if last - first < n_ticks:
        return list(range(first, last + 1))
    step = (last - first) / (n_ticks - 1)
    return sorted({round(first + i * step) for i in range(n_ticks)})
