"""Layout: every pane shows at once from 160x48; below, one page at a time, each giving its charts the room; below
60x18, one line saying how large the terminal must be."""

from __future__ import annotations

from itertools import combinations

import pytest
from textual.geometry import Region
from textual.widget import Widget

from clf_tui.engine import RunConfig
from clf_tui.tui.app import MIN_SIZE, ClfApp
from clf_tui.tui.widgets.page_tabs import PAGES

from .conftest import train

PANES = ("#config", "#loss", "#log", "#confusion", "#roc", "#pr", "#probability", "#status")
PAGE_PANES = {
    "config": {"#config"},
    "training": {"#loss", "#log"},
    "evaluation": {"#confusion", "#roc", "#probability"},
}
CHART_OVERHEAD = 4
"""Rows of a plotext chart that hold no plot: the frame's top, the x axis, its ticks' labels and its name."""


CHARTS_BY_V = ("#calibration", "#cost")
"""The evaluation charts that show only when v chooses them."""


def visible_regions(app: ClfApp) -> dict[str, Region]:
    return {pane: app.query_one(pane).region for pane in PANES + CHARTS_BY_V if app.query_one(pane).region.area}


def plot_rows(chart: Widget) -> int:
    return chart.content_size.height - CHART_OVERHEAD


def assert_fit_without_overlap(app: ClfApp, regions: dict[str, Region]) -> None:
    screen = Region(0, 0, *app.size)
    for pane, region in regions.items():
        assert screen.contains_region(region), f"{pane} {region} is cut off by the screen {screen}"
        assert region.width >= 15 and region.height >= 5 or pane == "#status", f"{pane} is too small: {region}"
    for (a, region_a), (b, region_b) in combinations(regions.items(), 2):
        assert not region_a.overlaps(region_b), f"{a} {region_a} overlaps {b} {region_b}"


@pytest.mark.parametrize("dataset", ["moons", "digits"])
@pytest.mark.parametrize("size", [(160, 48), (200, 60)])
async def test_every_pane_shows_at_once_on_a_large_terminal_and_every_chart_has_room(dataset: str,
                                                                                      size: tuple[int, int]) -> None:
    app = ClfApp(RunConfig(dataset=dataset, n_samples=200, epochs=2, device="cpu"))
    async with app.run_test(size=size) as pilot:
        await train(pilot)
        regions = visible_regions(app)
        assert set(regions) == set(PANES)
        assert_fit_without_overlap(app, regions)
        for chart in ("#loss", "#roc", "#pr"):
            assert plot_rows(app.query_one(chart)) >= 8, chart


@pytest.mark.parametrize("dataset", ["moons", "digits"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_below_160x48_the_keys_switch_pages_that_give_their_charts_room(dataset: str,
                                                                              size: tuple[int, int]) -> None:
    app = ClfApp(RunConfig(dataset=dataset, n_samples=200, epochs=2, device="cpu"))
    async with app.run_test(size=size) as pilot:
        await train(pilot)
        for key, page in zip("123", PAGES):
            await pilot.press(key)
            regions = visible_regions(app)
            expected = PAGE_PANES[page] | ({"#pr"} if page == "evaluation" and size == (120, 36) else set())
            if page == "evaluation" and dataset == "digits" and size == (80, 24):
                expected -= {"#probability"}  # the ten-class matrix and its rates leave it no room
            assert set(regions) == expected | {"#status"}, page
            assert_fit_without_overlap(app, regions)
        await pilot.press("2")
        assert plot_rows(app.query_one("#loss")) >= 10
        await pilot.press("3")
        for curve in ("#roc", "#pr") if size == (120, 36) else ("#roc",):
            assert plot_rows(app.query_one(curve)) >= (8 if size == (120, 36) else 12), curve


async def test_at_80x24_v_steps_the_evaluation_page_through_roc_pr_calibration_and_cost(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=(80, 24)) as pilot:
        await train(pilot)
        await pilot.press("3")
        for chart in ("#pr", "#calibration", "#cost", "#roc"):
            await pilot.press("v")
            assert set(visible_regions(app)) == {"#confusion", chart, "#probability", "#status"}
            assert plot_rows(app.query_one(chart)) >= 12, chart


async def test_resizing_switches_between_the_layouts(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=(80, 24)) as pilot:
        await train(pilot)
        assert app.has_class("-compact")
        await pilot.resize_terminal(170, 50)
        await pilot.pause()
        assert not app.has_class("-compact")
        assert set(visible_regions(app)) == set(PANES)


@pytest.mark.parametrize("size", [(40, 12), (59, 30), (100, 17)])
async def test_below_the_smallest_size_one_line_says_how_large_the_terminal_must_be(moons: RunConfig,
                                                                                      size: tuple[int, int]) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=(80, 24)) as pilot:
        await train(pilot)
        await pilot.resize_terminal(*size)
        await pilot.pause()
        message = app.query_one("#too-small")
        text = str(message.render()).replace("\n", " ")
        assert f"at least {MIN_SIZE.width} x {MIN_SIZE.height}" in text and f"this one is {size[0]} x {size[1]}" in text
        assert message.region.area and not visible_regions(app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not message.region.area and "#status" in visible_regions(app)


async def test_the_probabilities_left_out_beside_a_ten_class_matrix_come_back_when_the_terminal_grows() -> None:
    app = ClfApp(RunConfig(dataset="digits", n_samples=200, epochs=2, device="cpu"))
    async with app.run_test(size=(80, 24)) as pilot:
        await train(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert "#probability" not in visible_regions(app)
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        await pilot.pause()
        regions = visible_regions(app)
        assert "#probability" in regions and regions["#probability"].height >= 5
        assert_fit_without_overlap(app, regions)
