"""Resume is exact through the app's open key, and a checkpoint of other data than the current is refused.

Opening a checkpoint in the app rebuilds its run: its configuration, and the data that configuration
names as that data reads now. "The current data" is therefore the data set the checkpoint's
configuration names (a CSV file, say) as it is on disk when the checkpoint is opened: when it has
changed since the save, training on would continue on other data, and the app refuses.
"""

from __future__ import annotations

from pathlib import Path

import torch
from sklearn.datasets import make_moons
from textual.pilot import Pilot

from clf_tui.engine import RunConfig, Trainer
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets.epoch_log import EpochLog
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.loss_chart import LossChart
from tests.tui.conftest import WIDE, error_messages, open_checkpoint, train, trainer_of, type_path, wait_ready, wait_until

EPOCHS_BEFORE_SAVE = 4


async def save_as(pilot: Pilot, path: Path) -> None:
    """Save the run through ctrl+s and its prompt, and wait for the log to say so."""
    app = pilot.app
    await pilot.press("ctrl+s")
    await type_path(pilot, path)
    await wait_until(pilot, lambda: f"saved {path}" in app.query_one(EpochLog).lines[-1].plain)




def write_moons_csv(path: Path, n_rows: int) -> None:
    X, y = make_moons(n_samples=n_rows, noise=0.2, random_state=0)
    rows = [f"{a:.6f},{b:.6f},{label}" for (a, b), label in zip(X, y)]
    path.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")


async def test_a_run_saved_and_opened_in_a_fresh_app_trains_on_exactly_as_one_that_never_stopped(
    tmp_path: Path,
) -> None:
    # Dropout and shuffled mini-batches: the random state must come back too, not only the weights.
    config = RunConfig(dataset="moons", n_samples=300, hidden=(16,), dropout=0.2, batch_size=32,
                       epochs=EPOCHS_BEFORE_SAVE, device="cpu", out_dir=str(tmp_path))
    uninterrupted = Trainer.from_config(config)
    uninterrupted.train(2 * EPOCHS_BEFORE_SAVE)
    path = tmp_path / "half.pt"

    saving = ClfApp(config)
    async with saving.run_test(size=WIDE) as pilot:
        await train(pilot)
        await save_as(pilot, path)

    resuming = ClfApp(config.replace(seed=7))  # a fresh app, on a run of its own until it opens the file
    async with resuming.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await open_checkpoint(pilot, path)
        await wait_until(pilot, lambda: trainer_of(resuming).total_epochs == EPOCHS_BEFORE_SAVE)
        await wait_ready(pilot)
        await train(pilot)  # the form's epochs, from the checkpoint's configuration: as many again
        resumed = trainer_of(resuming)
        assert resumed.total_epochs == 2 * EPOCHS_BEFORE_SAVE
        assert resumed.losses == uninterrupted.losses
        assert resumed.val_losses == uninterrupted.val_losses
        assert resuming.query_one(LossChart).train_losses == uninterrupted.losses
        assert resuming.query_one(EvaluationPanel).evaluation.epoch == 2 * EPOCHS_BEFORE_SAVE
    for name, tensor in uninterrupted.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], tensor), name


async def test_a_checkpoint_whose_data_has_changed_since_it_was_saved_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "moons.csv"
    write_moons_csv(csv, 200)
    config = RunConfig(dataset=str(csv), target="label", epochs=2, device="cpu", out_dir=str(tmp_path))
    path = tmp_path / "run.pt"
    app = ClfApp(config)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        await save_as(pilot, path)

    write_moons_csv(csv, 240)  # the file the checkpoint's configuration names now holds other rows
    app = ClfApp(config)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        current = trainer_of(app)
        await open_checkpoint(pilot, path)
        await wait_until(pilot, lambda: error_messages(app))
        [message] = error_messages(app)
        assert str(path) in message and "trained on other data" in message and csv.name in message
        await wait_ready(pilot)
        assert trainer_of(app) is current and trainer_of(app).total_epochs == 0 and app.run_state == "idle"
        assert len(trainer_of(app).data.y_train) + len(trainer_of(app).data.y_val) == 240  # the data as it reads now
