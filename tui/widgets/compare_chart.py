"""CompareChart: each configuration's validation log loss per epoch, the mean over its seeds, overlaid on one scale."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from clf_tui.engine.comparison import Comparison

from .loss_chart import epoch_ticks

COLORS = ("cyan", "orange", "green", "magenta")
"""One per configuration, in order (a comparison has at most four)."""
MAX_LABEL = 28


class CompareChart(PlotextPlot):
    """Draws a finished comparison; empty until ``show`` is called."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "validation log loss"

    def show(self, comparison: Comparison) -> None:
        """Plot the mean validation log loss over the seeds of each configuration, up to the epoch all its seeds
        reached. Log loss from the probabilities is one scale for all: each configuration's own loss may not be."""
        self.border_title = f"validation log loss, mean over {len(comparison.seeds)} seeds"
        plt = self.plt
        plt.clear_data()
        plt.xlabel("epoch")
        last = 1
        for runs, color in zip(comparison.configs, COLORS):
            curve = runs.mean_metric_curve("log_loss")
            if len(curve):
                epochs = list(range(1, len(curve) + 1))
                plt.plot(epochs, curve.tolist(), label=runs.label[:MAX_LABEL], marker="braille", color=color)
                last = max(last, len(curve))
        plt.xticks(epoch_ticks(1, last))
        self.refresh()
