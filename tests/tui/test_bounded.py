"""A long run cannot grow the app's memory: the log and the loss chart keep a bounded number of points."""

from __future__ import annotations

from clf_tui.engine.events import EpochEnded
from clf_tui.tui.widgets import epoch_log, loss_chart
from clf_tui.tui.widgets.epoch_log import EpochLog
from clf_tui.tui.widgets.loss_chart import LossChart


def epochs(n: int) -> list[EpochEnded]:
    return [EpochEnded(e, 1 / e, 2 / e, {"accuracy": 0.5, "auroc": 0.5}, 0.01, 1000.0) for e in range(1, n + 1)]


def batches(events: list[EpochEnded], size: int = 50) -> list[list[EpochEnded]]:
    """The epochs in batches, as the runner posts a fast run's."""
    return [events[start:start + size] for start in range(0, len(events), size)]


def test_the_loss_chart_thins_its_points_evenly_and_keeps_the_start() -> None:
    chart = LossChart()
    for batch in batches(epochs(10_000)):
        chart.add_epochs(batch)
    kept = chart.epochs
    assert len(kept) <= loss_chart.MAX_POINTS
    assert kept[0] == 1 and kept[-1] > 9_900
    steps = {b - a for a, b in zip(kept, kept[1:])}
    assert len(steps) == 1  # evenly spaced
    assert chart.train_losses == [1 / e for e in kept]


def test_the_log_keeps_its_newest_lines() -> None:
    log = EpochLog()
    for batch in batches(epochs(5_000)):
        log.add_epochs(batch)
    assert len(log.lines) == epoch_log.MAX_LINES
    assert log.lines[-1].plain.split()[0] == "5000"
