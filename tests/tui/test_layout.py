"""Layout: every pane fits without overlap at 80x24 (one page at a time) and all show together from 120x40."""

from __future__ import annotations

from itertools import combinations

import pytest
from textual.geometry import Region

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.widgets.page_tabs import PAGES

from .conftest import train

PANES = ("#config", "#loss", "#log", "#confusion", "#roc", "#pr", "#probability", "#status")
PAGE_PANES = {
    "config": {"#config"},
    "training": {"#loss", "#log"},
    "evaluation": {"#confusion", "#roc", "#pr", "#probability"},
}


def visible_regions(app: ClfApp) -> dict[str, Region]:
    return {pane: app.query_one(pane).region for pane in PANES if app.query_one(pane).region.area}


def assert_fit_without_overlap(app: ClfApp, regions: dict[str, Region]) -> None:
    screen = Region(0, 0, *app.size)
    for pane, region in regions.items():
        assert screen.contains_region(region), f"{pane} {region} is cut off by the screen {screen}"
        assert region.width >= 15 and region.height >= 5 or pane == "#status", f"{pane} is too small: {region}"
    for (a, region_a), (b, region_b) in combinations(regions.items(), 2):
        assert not region_a.overlaps(region_b), f"{a} {region_a} overlaps {b} {region_b}"


@pytest.mark.parametrize("dataset", ["moons", "digits"])
@pytest.mark.parametrize("size", [(120, 40), (160, 48)])
async def test_every_pane_shows_at_once_on_a_large_terminal(dataset: str, size: tuple[int, int]) -> None:
    app = ClfApp(RunConfig(dataset=dataset, n_samples=200, epochs=2, device="cpu"))
    async with app.run_test(size=size) as pilot:
        await train(pilot)
        regions = visible_regions(app)
        assert set(regions) == set(PANES)
        assert_fit_without_overlap(app, regions)


@pytest.mark.parametrize("dataset", ["moons", "digits"])
async def test_at_80x24_the_keys_switch_pages_that_fit(dataset: str) -> None:
    app = ClfApp(RunConfig(dataset=dataset, n_samples=200, epochs=2, device="cpu"))
    async with app.run_test(size=(80, 24)) as pilot:
        await train(pilot)
        for key, page in zip("123", PAGES):
            await pilot.press(key)
            regions = visible_regions(app)
            assert set(regions) == PAGE_PANES[page] | {"#status"}, page
            assert_fit_without_overlap(app, regions)


async def test_resizing_switches_between_the_layouts(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=(80, 24)) as pilot:
        await train(pilot)
        assert app.has_class("-compact")
        await pilot.resize_terminal(130, 40)
        await pilot.pause()
        assert not app.has_class("-compact")
        assert set(visible_regions(app)) == set(PANES)
