"""The learning-rate range test in the app: l runs it, a puts the rate in the form, the run stays as it was."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import torch
from textual.widgets import Input, Static

from clf_tui.engine import RunConfig, Trainer, find_lr
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import Runner
from clf_tui.tui.screens.lr_finder import LRFinderScreen
from clf_tui.tui.widgets.config_form import ConfigForm

from .conftest import COMPACT, WIDE, error_messages, notifications, train, trainer_of, wait_ready, wait_until


def weights_and_optimizer(trainer: Trainer) -> dict[str, Any]:
    return copy.deepcopy({"model": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict()})


def assert_same_state(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before["model"].keys() == after["model"].keys()
    assert all(torch.equal(before["model"][k], after["model"][k]) for k in before["model"])
    assert before["optimizer"]["param_groups"] == after["optimizer"]["param_groups"]
    states = before["optimizer"]["state"], after["optimizer"]["state"]
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][p][k], states[1][p][k]) for p in states[0] for k in states[0][p])


async def open_range_test(pilot: Any) -> LRFinderScreen:
    await pilot.press("l")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LRFinderScreen))
    return pilot.app.screen


def verdict(screen: LRFinderScreen) -> str:
    return str(screen.query_one("#lr-verdict", Static).render())


async def test_l_shows_the_engines_suggestion_and_a_puts_it_in_the_form(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        before = weights_and_optimizer(trainer_of(app))
        screen = await open_range_test(pilot)
        expected = find_lr(Trainer.from_config(moons))  # the same run, headless
        assert screen.result.lrs == expected.lrs and screen.result.losses == expected.losses
        assert screen.result.suggestion == expected.suggestion is not None
        assert screen.rate == float(f"{expected.suggestion:.2g}")
        assert f"Suggested rate {expected.suggestion:.2g}:" in verdict(screen)
        assert "Ran on fresh weights and put them back" in verdict(screen)
        assert_same_state(before, weights_and_optimizer(trainer_of(app)))
        assert app.query_one(ConfigForm).read_config().lr == moons.lr

        await pilot.press("a")
        assert not isinstance(app.screen, LRFinderScreen)
        assert app.query_one("#field-lr", Input).value == f"{expected.suggestion:.2g}"
        assert app.query_one(ConfigForm).read_config().lr == screen.rate
        assert any(f"learning rate is now {expected.suggestion:.2g}" in n.message for n in notifications(app))


async def test_escape_closes_and_leaves_the_form_alone(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await open_range_test(pilot)
        await pilot.press("escape")
        assert not isinstance(app.screen, LRFinderScreen)
        assert app.query_one("#field-lr", Input).value == f"{moons.lr:g}"


async def test_after_training_the_test_runs_on_fresh_weights_and_the_run_continues_as_without_it(
    moons: RunConfig,
) -> None:
    app = ClfApp(dataclasses.replace(moons, dropout=0.2))  # dropout draws from torch's generator
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        trainer = trainer_of(app)
        before = weights_and_optimizer(trainer)
        losses = list(trainer.losses)
        screen = await open_range_test(pilot)
        assert any("this run has trained" in n.message for n in notifications(app))
        assert "Ran on fresh weights" in verdict(screen)
        with torch.random.fork_rng():  # building a trainer here seeds torch's generator, which the app's run uses
            assert screen.result.losses == find_lr(Trainer.from_config(trainer.config)).losses
        assert trainer_of(app) is trainer and trainer.total_epochs == 5 and trainer.losses == losses
        assert_same_state(before, weights_and_optimizer(trainer))
        await pilot.press("escape")
        await train(pilot)  # the form is unchanged, so s continues the same run
        assert trainer_of(app) is trainer and trainer.total_epochs == 10
        uninterrupted = Trainer.from_config(trainer.config)
        uninterrupted.train(10)
        assert trainer.losses == uninterrupted.losses


async def test_with_other_settings_in_the_form_the_test_runs_on_fresh_weights_and_the_run_stays(
    moons: RunConfig,
) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        trainer = trainer_of(app)
        app.query_one("#field-hidden", Input).value = "8"
        await pilot.pause()
        screen = await open_range_test(pilot)
        assert any("the form's settings differ from this run's" in n.message for n in notifications(app))
        assert "Ran on fresh weights" in verdict(screen)
        expected = find_lr(Trainer.from_config(dataclasses.replace(moons, hidden=(8,))))
        assert screen.result.losses == expected.losses
        assert trainer_of(app) is trainer and trainer.config.hidden == moons.hidden and trainer.total_epochs == 5


async def test_while_a_run_holds_the_model_the_test_is_refused(moons: RunConfig) -> None:
    app = ClfApp(dataclasses.replace(moons, epochs=100_000))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state == "training")
        await pilot.press("p")  # paused, the run still holds the model; and the keys need not wait for its GIL
        await wait_until(pilot, lambda: app.run_state == "paused")
        await pilot.press("l")
        assert any("Stop training (s) first" in n.message for n in notifications(app))
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state == "stopped")
        assert not isinstance(app.screen, LRFinderScreen)


async def test_without_a_run_l_builds_the_forms_run_and_tests_it(unloadable: RunConfig) -> None:
    app = ClfApp(unloadable)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: bool(error_messages(app)) and app.run_state == "idle")
        assert trainer_of(app) is None
        app.query_one("#field-dataset", Input).value = "moons"
        app.query_one("#field-target", Input).value = ""
        await pilot.pause()
        screen = await open_range_test(pilot)
        assert trainer_of(app) is not None and trainer_of(app).data.name == "moons"
        assert screen.result.suggestion is not None
        await wait_until(pilot, lambda: not app.query_one(Runner).busy and app.run_state == "idle")
