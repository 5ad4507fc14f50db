"""Decision regions and epoch replay in the app: what a real run keeps of each epoch, what the panes draw from it,
and stepping back and forth through the epochs."""

from __future__ import annotations

import numpy as np
import pytest

from clf_tui.engine import RunConfig, Trainer
from clf_tui.engine.metrics import BinaryEval
from clf_tui.engine.regions import contour_cells, grid_probabilities
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import Runner
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.loss_chart import LossChart
from clf_tui.tui.widgets.region_map import CONTOUR_MARK, RegionMap, _resample

from .conftest import COMPACT, WIDE, notifications, train, trainer_of, wait_ready, wait_until

MOONS = RunConfig(dataset="moons", n_samples=300, epochs=6, device="cpu")


def drawn_rows(region_map: RegionMap) -> list[str]:
    """The map's text, lowest row of the grid first (the legend line left out)."""
    width, height = region_map.size
    return [region_map.render_line(y).text for y in range(height - 1)][::-1]


async def test_every_epoch_is_kept_with_its_regions_and_the_map_draws_the_latest(moons: RunConfig) -> None:
    app = ClfApp(MOONS)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        runner = app.query_one(Runner)
        region_map = app.query_one(RegionMap)
        records = runner.session.records
        assert records.epochs == list(range(1, MOONS.epochs + 1))
        width, height = region_map.content_size
        assert runner.session.region_size == (width, height - 1)  # the grid fits the pane, its legend line aside
        latest = records.latest()
        assert latest.grid.shape == (height - 1, width)
        # The latest record holds the trained model's probabilities over its grid (to float16's precision).
        expected = grid_probabilities(trainer_of(app), latest.grid)
        assert np.abs(latest.grid_prob.astype(np.float64) - expected).max() <= 2**-12
        assert region_map.grid == latest.grid
        for key in ("shift+left", "shift+left", "left"):
            await pilot.press(key)
            assert region_map.threshold == app.threshold
            # The contour drawn is the engine's at the app's threshold, wherever no point hides it.
            contour = contour_cells(latest.grid_prob.astype(np.float32), app.threshold)
            for row, line in zip(contour, drawn_rows(region_map), strict=True):
                drawn = np.array([char == CONTOUR_MARK for char in line])
                points = np.array([char in "ox" for char in line])
                assert np.array_equal(drawn, row & ~points)


async def test_replay_shows_an_earlier_epoch_as_a_run_of_that_many_epochs_left_it() -> None:
    app = ClfApp(MOONS)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        panel = app.query_one(EvaluationPanel)
        live = panel.evaluation
        await pilot.press("comma", "comma")
        shown = panel.evaluation
        assert shown.epoch == MOONS.epochs - 2
        # A separate headless run stopped at that epoch: its probabilities, kept as float16, count the same.
        reference = Trainer.from_config(MOONS)
        reference.train(MOONS.epochs - 2)
        y_true, y_prob = reference.evaluate()
        half = y_prob.astype(np.float16).astype(np.float32)
        for threshold in (0.5, 0.3, 0.8):
            assert shown.binary(1).at(threshold) == BinaryEval(y_true, half).at(threshold)
        assert app.query_one(RegionMap).border_subtitle == f"epoch {MOONS.epochs - 2} · replay, latest 6"
        assert app.query_one(LossChart)._marked == MOONS.epochs - 2
        # The threshold keys act on the replayed epoch too.
        await pilot.press("shift+right")
        assert panel.report == BinaryEval(y_true, half).at(0.55)
        await pilot.press("full_stop", "full_stop")
        assert panel.evaluation is live  # back to the live, full-precision evaluation
        assert app.query_one(LossChart)._marked is None
        await pilot.press("less_than_sign")
        assert panel.evaluation.epoch == 1
        await pilot.press("greater_than_sign")
        assert panel.evaluation is live


async def test_a_run_continued_while_replaying_keeps_the_replayed_epoch_until_asked() -> None:
    app = ClfApp(MOONS)
    async with app.run_test(size=WIDE) as pilot:
        await train(pilot)
        await pilot.press("comma")
        await train(pilot)  # six more epochs
        panel = app.query_one(EvaluationPanel)
        runner = app.query_one(Runner)
        assert runner.session.records.epochs == list(range(1, 13))
        assert panel.evaluation.epoch == 5
        await pilot.press("greater_than_sign")
        assert panel.evaluation.epoch == 12
        y_true, y_prob = trainer_of(app).evaluate()
        assert panel.report == BinaryEval(y_true, y_prob).at(app.threshold)


async def test_replay_before_any_training_says_there_is_nothing_yet() -> None:
    app = ClfApp(MOONS)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("comma")
        assert any("No epochs to step through yet" in n.message for n in notifications(app))


async def test_the_regions_page_fits_its_grid_to_the_pane_and_toggles_the_points() -> None:
    app = ClfApp(MOONS)
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        region_map = app.query_one(RegionMap)
        # Before training, the untrained model's regions.
        await wait_until(pilot, lambda: region_map.grid is not None)
        assert "untrained" in region_map.border_subtitle
        await pilot.press("4")
        await wait_until(pilot, lambda: region_map.content_size[1] > 1 and region_map.grid.shape == (
            region_map.content_size[1] - 1, region_map.content_size[0]))
        width, height = region_map.content_size
        assert app.query_one(Runner).session.region_size == (width, height - 1)
        await train(pilot)
        before = drawn_rows(region_map)
        await pilot.press("t")
        assert region_map.points == "training"
        assert "training" in region_map.border_title
        after = drawn_rows(region_map)
        # 240 training rows mark more cells than 60 validation rows.
        assert sum(line.count("o") + line.count("x") for line in after) > sum(
            line.count("o") + line.count("x") for line in before)


async def test_data_without_two_features_gets_the_reason_instead_of_a_map() -> None:
    app = ClfApp(RunConfig(dataset="breast_cancer", epochs=2, device="cpu"))
    async with app.run_test(size=COMPACT) as pilot:
        await train(pilot)
        await pilot.press("4")
        await pilot.pause()
        region_map = app.query_one(RegionMap)
        text = " ".join(region_map.render_line(y).text for y in range(region_map.size.height))
        assert "need data with exactly 2 features; this data has 30" in text
        assert all(app.query_one(Runner).session.records.get(epoch).grid is None for epoch in (1, 2))


@pytest.mark.parametrize("size", [COMPACT, WIDE])
async def test_a_resize_after_training_redraws_the_regions_at_the_new_size(size: tuple[int, int]) -> None:
    app = ClfApp(MOONS)
    async with app.run_test(size=size) as pilot:
        await train(pilot)
        await pilot.press("4")
        await pilot.resize_terminal(size[0] + 20, size[1] + 6)
        region_map = app.query_one(RegionMap)
        await wait_until(pilot, lambda: app.size == (size[0] + 20, size[1] + 6) and region_map.grid.shape == (
            region_map.content_size[1] - 1, region_map.content_size[0]))
        width, height = region_map.content_size
        expected = grid_probabilities(trainer_of(app), region_map.grid)
        assert np.allclose(_resample(expected, height - 1, width), region_map._probability, atol=1e-6)
