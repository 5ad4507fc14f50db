"""The seeded runs, comparison and range test that the screenshots draw, recorded once and read back exactly.

A screenshot of a model trained inside the test would follow the CPU's floating-point kernels
(a probability of 0.7528 on one machine is 0.7529 on another), so each is trained here once,
headless and seeded, and kept in ``recordings/`` as plain data: the run's events with a fixed
duration per epoch, the evaluations a training worker keeps for replay, the data and the
trained weights. After a change to the engine that moves these numbers on purpose, record
them again and review the screenshots' diffs:

    python -m tests.tui.recorded
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from clf_tui.datasets.record import DataSplit
from clf_tui.engine import RunConfig, Trainer
from clf_tui.engine.compare import compare
from clf_tui.engine.comparison import CompareEvent, apply_overrides
from clf_tui.engine.events import EpochEnded, EvalReady, Event
from clf_tui.engine.lr_finder import LRFinderResult, find_lr
from clf_tui.engine.replay import EpochRecord, EpochRecords
from clf_tui.engine.session import RunSession
from clf_tui.tui import messages
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import Runner
from tests.recordings import load_recording, save_recording

RECORDINGS = Path(__file__).parent / "recordings"
EPOCH_S = 0.025
BINARY = RunConfig(dataset="moons", n_samples=400, epochs=40, device="cpu")
MULTICLASS = RunConfig(dataset="digits", epochs=15, device="cpu")
BLOBS = RunConfig(dataset="blobs", n_samples=300, n_classes=3, epochs=12, device="cpu")
RUNS = {"binary": BINARY, "multiclass": MULTICLASS, "blobs": BLOBS}
REGION_SIZE = (76, 17)
"""The region grid of the recorded runs: the regions page's at 80 x 24; other panes draw it resampled."""
COMPARE_BASE = RunConfig(dataset="cubic", hidden=(16,), epochs=40, device="cpu")
COMPARE_VARIANTS = ("loss=mse", "optimizer=sgd lr=0.1", "hidden=32,32")
COMPARE_SEEDS = 5
RANGE_TEST = RunConfig(dataset="moons", n_samples=400, device="cpu")


@dataclasses.dataclass(frozen=True)
class SeededRun:
    """A headless run: its trainer, its events, and the evaluations a training worker would have kept of it."""

    trainer: Trainer
    events: list[Event]
    records: EpochRecords


def seeded_run(name: str) -> SeededRun:
    """The recorded run ``name`` (a key of RUNS): its trained weights on its recorded data, its events, its records."""
    saved = load_recording(RECORDINGS / f"{name}_run.npz")
    trainer = Trainer.from_checkpoint(RECORDINGS / f"{name}_run.pt", data=saved["data"])
    records = EpochRecords(saved["y_val"])
    for record in saved["records"]:
        records.add(record.epoch, record.y_prob, record.grid, record.grid_prob)
    return SeededRun(trainer, saved["events"], records)


def replay_through_the_app(app: ClfApp, run: SeededRun) -> None:
    """Post ``run`` to ``app`` as a training worker would: the run opened first (its recorded trainer held by the
    runner's session, so the panes drawn from the model show the trained one), then its events, each evaluation
    evaluated as the worker's would be."""
    session = app.query_one(Runner).session
    app.post_message(messages.RunOpened(session.adopt(run.trainer, records=run.records)))
    for event in run.events:
        if isinstance(event, EpochEnded):
            app.post_message(messages.EpochsEnded((event,)))
        elif isinstance(event, EvalReady):
            app.post_message(messages.Evaluated(session.evaluated(event)))
        else:
            app.post_message(messages.wrap(event))


def comparison_events() -> list[CompareEvent]:
    """The events of the recorded comparison: COMPARE_BASE and COMPARE_VARIANTS over COMPARE_SEEDS seeds."""
    return load_recording(RECORDINGS / "comparison.npz")


def range_test() -> LRFinderResult:
    """The recorded learning-rate range test on RANGE_TEST's fresh weights."""
    return load_recording(RECORDINGS / "range_test.npz")


def record_run(name: str, config: RunConfig) -> None:
    """Train ``config`` headless, every epoch taking EPOCH_S, and keep it with the evaluations a worker records."""
    trainer = Trainer.from_config(config)
    n_train = len(trainer.data.y_train)
    recorder = RunSession()
    recorder.region_size = REGION_SIZE
    recorder.adopt(trainer)
    events = []
    for event in trainer.run(config.epochs):
        if isinstance(event, EpochEnded):
            event = dataclasses.replace(event, duration_s=EPOCH_S, samples_per_s=n_train / EPOCH_S)
        elif isinstance(event, EvalReady):
            recorder.record(event)
        events.append(event)
    assert recorder.records is not None
    records: list[EpochRecord] = [recorder.records.get(epoch) for epoch in recorder.records.epochs]
    data: DataSplit = trainer.data
    trainer.save_checkpoint(RECORDINGS / f"{name}_run.pt")
    save_recording(RECORDINGS / f"{name}_run.npz",
                   {"data": data, "events": events, "y_val": recorder.records.y_true, "records": records})


def record_all() -> None:
    RECORDINGS.mkdir(exist_ok=True)
    for name, config in RUNS.items():
        record_run(name, config)
    configs = [COMPARE_BASE, *(apply_overrides(COMPARE_BASE, text) for text in COMPARE_VARIANTS)]
    save_recording(RECORDINGS / "comparison.npz",
                   list(compare(configs, COMPARE_SEEDS, labels=["base", *COMPARE_VARIANTS])))
    save_recording(RECORDINGS / "range_test.npz", find_lr(Trainer.from_config(RANGE_TEST)))


if __name__ == "__main__":
    record_all()
