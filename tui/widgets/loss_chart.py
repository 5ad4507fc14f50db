"""LossChart: training and validation loss per epoch, drawn with plotext."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from clf_tui.engine.events import EpochEnded

MAX_POINTS = 600
"""Points kept per series; beyond it every other point is dropped and only every 2nd, 4th, ... epoch is kept."""


class LossChart(PlotextPlot):
    """Keeps only the points it draws and redraws from them when ``flush`` finds new ones."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "loss"
        self._epochs: list[int] = []
        self._train: list[float] = []
        self._val: list[float | None] = []
        self._stride = 1
        self._marked: int | None = None
        self._dirty = True

    @property
    def epochs(self) -> list[int]:
        """The epochs drawn (every ``stride``-th once the chart is full)."""
        return list(self._epochs)

    @property
    def train_losses(self) -> list[float]:
        return list(self._train)

    def add_epoch(self, event: EpochEnded) -> None:
        """Record an epoch's losses (every ``stride``-th epoch once the chart is full)."""
        if self._epochs and event.epoch - self._epochs[-1] < self._stride:
            return
        self._epochs.append(event.epoch)
        self._train.append(event.train_loss)
        self._val.append(event.val_loss)
        if len(self._epochs) > MAX_POINTS:
            del self._epochs[1::2], self._train[1::2], self._val[1::2]
            self._stride *= 2
        self._dirty = True

    def clear(self) -> None:
        self._epochs.clear()
        self._train.clear()
        self._val.clear()
        self._stride = 1
        self._marked = None
        self._dirty = True

    def mark_epoch(self, epoch: int | None) -> None:
        """Draw a vertical line at ``epoch`` (the one replayed), or none; redraws at once."""
        self._marked = epoch
        self._dirty = True
        self.flush()

    def flush(self) -> None:
        """Redraw if points arrived since the last redraw."""
        if not self._dirty:
            return
        self._dirty = False
        plt = self.plt
        plt.clear_data()
        plt.xlabel("epoch")
        if self._epochs:
            plt.xticks(epoch_ticks(self._epochs[0], self._epochs[-1]))
            plt.plot(self._epochs, self._train, label="train", marker="braille", color="cyan")
            val = [(e, v) for e, v in zip(self._epochs, self._val) if v is not None]
            if val:
                plt.plot([e for e, _ in val], [v for _, v in val], label="val", marker="braille", color="orange")
            if self._marked is not None:
                plt.vline(self._marked, color="gray")
        self.refresh()

    def on_mount(self) -> None:  # PlotextPlot's own on_mount runs too (Textual calls each class's handler)
        self.flush()


def epoch_ticks(first: int, last: int, n_ticks: int = 5) -> list[int]:
    """Up to ``n_ticks`` whole epochs from ``first`` to ``last``, evenly spread."""
    if last - first < n_ticks:
        return list(range(first, last + 1))
    step = (last - first) / (n_ticks - 1)
    return sorted({round(first + i * step) for i in range(n_ticks)})
