"""Saving and opening checkpoints through the app's prompts: weights, history and threshold come back."""

from __future__ import annotations

from pathlib import Path

import torch

from clf_tui.engine import RunConfig, Trainer
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets.config_form import ConfigForm
from clf_tui.tui.widgets.epoch_log import EpochLog
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.loss_chart import LossChart
from textual.widgets import Input

from .conftest import WIDE, train, trainer_of, type_path, wait_ready, wait_until


async def test_save_then_open_brings_back_weights_history_and_threshold(moons: RunConfig, tmp_path: Path) -> None:
    path = tmp_path / "run.pt"
    app = ClfApp(moons.replace(lr=0.03))
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        saved = trainer_of(app)
        await pilot.press("f")
        threshold = app.threshold
        assert threshold != 0.5

        await pilot.press("ctrl+s")
        default = Path(app.screen.query_one("#path", Input).value)
        assert default.parent == Path("runs") and default.name.startswith("moons-") and default.suffix == ".pt"
        await type_path(pilot, path)
        await wait_until(pilot, lambda: path.exists() and "saved" in app.query_one(EpochLog).lines[-1].plain)

        await pilot.press("0")
        app.query_one("#field-lr", Input).value = "0.2"  # the form must come back from the checkpoint too
        await pilot.press("ctrl+o")
        await type_path(pilot, path)
        await wait_until(pilot, lambda: trainer_of(app) is not saved)
        await wait_ready(pilot)
        await wait_until(pilot, lambda: app.query_one(EvaluationPanel).report is not None)

        restored = trainer_of(app)
        for name, tensor in saved.model.state_dict().items():
            assert torch.equal(restored.model.state_dict()[name], tensor)
        assert restored.losses == saved.losses and restored.val_losses == saved.val_losses
        assert restored.total_epochs == 5
        assert app.threshold == threshold
        assert app.query_one(EvaluationPanel).report.threshold == threshold
        assert app.query_one(LossChart).train_losses == saved.losses
        assert app.query_one(ConfigForm).read_config() == saved.config
        assert app.query_one(EvaluationPanel).evaluation.epoch == 5


async def test_the_saved_threshold_is_in_the_file(moons: RunConfig, tmp_path: Path) -> None:
    path = tmp_path / "run.pt"
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        for _ in range(3):
            await pilot.press("right")
        await pilot.press("ctrl+s")
        await type_path(pilot, path)
        await wait_until(pilot, path.exists)
    assert Trainer.from_checkpoint(path).threshold == 0.53


async def test_the_app_opens_on_a_checkpoint_given_at_start(moons: RunConfig, tmp_path: Path) -> None:
    trainer = Trainer.from_config(moons)
    trainer.train(3)
    trainer.threshold = 0.42
    path = trainer.save_checkpoint(tmp_path / "given.pt")
    app = ClfApp(checkpoint=str(path))
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await wait_until(pilot, lambda: app.query_one(EvaluationPanel).report is not None)
        assert trainer_of(app).total_epochs == 3
        assert app.threshold == 0.42
        assert app.query_one(LossChart).epochs == [1, 2, 3]
        await train(pilot)  # and it continues the run
        assert trainer_of(app).total_epochs == 8


async def test_the_open_prompt_refuses_a_missing_file(moons: RunConfig, tmp_path: Path) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+o")
        await type_path(pilot, tmp_path / "nothing.pt")
        assert "no such file" in str(app.screen.query_one("#path-note").render())
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]
