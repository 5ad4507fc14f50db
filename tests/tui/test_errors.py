"""Every failure a user can cause becomes a notification or an inline message; the app stays up."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from textual.widgets import Input, Static

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets.config_form import ConfigForm
from clf_tui.tui.widgets.status_bar import StatusBar

from .conftest import WIDE, error_messages, open_checkpoint, train, trainer_of, wait_ready, wait_until


class Hostile:
    def __reduce__(self):  # unpickling would call print: a stand-in for running any code
        return (print, ("this must never run",))


async def test_a_bad_csv_is_reported_and_the_app_stays_up(moons: RunConfig, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b\n1,x\n2,y\n")
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("e")
        app.query_one("#field-dataset", Input).value = str(csv)
        app.query_one("#field-target", Input).value = "label"
        await pilot.press("escape", "s")
        await wait_until(pilot, lambda: error_messages(app))
        assert "has no column 'label'" in error_messages(app)[0]
        assert app.is_running and app.run_state == "idle"
        app.query_one("#field-dataset", Input).value = "moons"
        app.query_one("#field-target", Input).value = ""
        await train(pilot)  # the app still works
        assert app.run_state == "finished"


async def test_a_bad_value_is_refused_at_its_field(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("e")
        lr = app.query_one("#field-lr", Input)
        lr.value = "-1"
        await pilot.pause()
        assert lr.has_class("-invalid")
        assert "learning rate: -1.0 is invalid" in str(app.query_one("#form-error", Static).render())
        await pilot.press("escape", "s")
        assert "learning rate: -1.0" in app.query_one(StatusBar).problem
        assert app.run_state == "idle"


async def test_a_csv_without_a_target_is_flagged_until_the_target_is_typed(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        dataset = app.query_one("#field-dataset", Input)
        dataset.value = "data.csv"
        await pilot.pause()
        assert dataset.has_class("-invalid")
        app.query_one("#field-target", Input).value = "label"
        await pilot.pause()
        assert not dataset.has_class("-invalid")
        assert app.query_one(ConfigForm).read_config().target == "label"


async def test_a_rule_across_fields_marks_the_field_the_error_names(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        form = app.query_one(ConfigForm)
        form.set_value("loss", "cross_entropy")
        pos_weight = app.query_one("#field-pos_weight", Input)
        pos_weight.value = "2"
        await pilot.pause()
        assert pos_weight.has_class("-invalid")
        assert form.error_for("pos_weight", "2") == (
            "pos weight: 2.0 applies only to loss = 'bce_logits', not 'cross_entropy'")
        assert form.error_for("lr", "0.1") is None  # the config is refused, but not for its lr
        assert not app.query_one("#field-lr", Input).has_class("-invalid")


@pytest.mark.parametrize("content", [b"garbage", b""])
async def test_a_corrupt_checkpoint_is_reported(moons: RunConfig, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "corrupt.pt"
    path.write_bytes(content)
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        trainer = trainer_of(app)
        await open_checkpoint(pilot, path)
        await wait_until(pilot, lambda: error_messages(app))
        assert str(path) in error_messages(app)[0]
        assert app.is_running and trainer_of(app) is trainer and app.run_state == "idle"


async def test_a_hostile_checkpoint_is_refused(moons: RunConfig, tmp_path: Path, capsys) -> None:
    path = tmp_path / "hostile.pt"
    torch.save({"model_state": Hostile()}, path)
    app = ClfApp(moons)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await open_checkpoint(pilot, path)
        await wait_until(pilot, lambda: error_messages(app))
        assert "unsafe" in error_messages(app)[0]
    assert "this must never run" not in capsys.readouterr().out


async def test_a_diverging_run_says_so(moons: RunConfig) -> None:
    app = ClfApp(moons.replace(optimizer="sgd", lr=1e6))
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        assert app.run_state == "diverged"
        assert "diverged" in error_messages(app)[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
async def test_cuda_asked_for_and_absent_is_reported(moons: RunConfig) -> None:
    app = ClfApp(moons.replace(device="cuda"))
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: error_messages(app))
        assert "no usable CUDA device" in error_messages(app)[0]
        assert app.is_running and app.run_state == "idle"


async def test_an_unreadable_checkpoint_at_start_opens_the_configured_data(moons: RunConfig, tmp_path: Path) -> None:
    path = tmp_path / "missing.pt"
    app = ClfApp(moons, checkpoint=str(path))
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: error_messages(app))
        assert str(path) in error_messages(app)[0]
        await wait_ready(pilot)
        assert trainer_of(app).config == moons and app.run_state == "idle"
        await train(pilot)
        assert app.run_state == "finished"
