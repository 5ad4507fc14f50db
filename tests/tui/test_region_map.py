"""The decision regions of a large data set: the points thinned so that the shading stays in sight, errors first."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_moons
from textual.app import App, ComposeResult

from clf_tui.engine.regions import RegionGrid
from clf_tui.tui.widgets.region_map import CLASS_MARKS, CONTOUR_MARK, MAX_MARKED_SHARE, PLAIN_SHADES, RegionMap, thin_marks

SIZE = (72, 22)
"""The app's size: the map fills it but for the pane's border and the legend line."""


class MapApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RegionMap(id="regions")


def moons(n: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n, noise=0.2, random_state=0)
    return X.astype(np.float32), y


def probability_on(grid: RegionGrid) -> np.ndarray:
    """A fixed model: positive below a wavy line, about where make_moons puts its second moon."""
    points = grid.points()
    margin = 0.25 + 0.5 * np.sin(np.pi * points[:, 0]) - points[:, 1]
    return (1 / (1 + np.exp(-4 * margin))).reshape(grid.shape)


async def shown(n: int) -> tuple[list[str], str, int]:
    """The map's rows as drawn on screen, its text export at the same size, and how many of its cells hold a
    point, for ``n`` moons points."""
    X, y = moons(n)
    app = MapApp()
    async with app.run_test(size=SIZE) as pilot:
        regions = app.query_one(RegionMap)
        regions.set_data(X, y, X, y, ("0", "1"), ("x1", "x2"))
        grid = RegionGrid.covering(X, 40, 20)
        regions.show(grid, probability_on(grid), epoch=1)
        await pilot.pause()
        width, height = regions.content_size
        rows = [regions.render_line(y).text for y in range(regions.size.height)]
        occupied = len(set(zip(*grid.resized(width, height - 1).cells_of(X), strict=True)))
        return rows, regions.plain_text(width, height - 1) or "", occupied


async def test_thousands_of_points_leave_most_of_the_shading_in_sight() -> None:
    rows, text, occupied = await shown(20_000)
    cells = "".join(rows[:-1])
    assert len(cells) > 1000 and occupied > MAX_MARKED_SHARE * len(cells)
    marked = sum(cell in CLASS_MARKS for cell in cells)
    assert 0.25 * occupied < marked <= 0.5 * occupied  # most cells of the cloud show their shading, not a mark
    assert sum(cell == " " for cell in cells) / len(cells) >= 0.7
    assert "thinned" in rows[-1]

    exported = text.splitlines()
    width = len(rows[0])
    plain = "".join(row.ljust(width) for row in exported[: len(rows) - 1])
    assert [cell in CLASS_MARKS for cell in plain] == [cell in CLASS_MARKS for cell in cells]  # the same points
    assert sum(cell in PLAIN_SHADES for cell in plain) / len(plain) >= 0.7
    assert "thinned" in exported[len(rows) - 1]


async def test_a_small_data_set_shows_every_point() -> None:
    rows, text, occupied = await shown(200)
    assert "thinned" not in rows[-1] and "thinned" not in text
    assert sum(cell in CLASS_MARKS for cell in "".join(rows[:-1])) == occupied


def test_thinning_keeps_every_error_first_and_the_same_cells_each_time() -> None:
    rng = np.random.default_rng(1)
    sides = (np.arange(40)[None, :] >= 20).repeat(20, axis=0).astype(np.int64)  # class 0 left, class 1 right
    marks = sides.copy()
    wrong = rng.random(sides.shape) < 0.05
    marks[wrong] = 1 - sides[wrong]
    thinned = thin_marks(marks, sides)
    assert (thinned >= 0).mean() <= MAX_MARKED_SHARE**2 * 1.2  # a map full of points: about a tenth keeps a mark
    assert (thinned[wrong] == marks[wrong]).all()  # every point on the wrong side is kept
    kept = thinned >= 0
    assert (thinned[kept] == marks[kept]).all()  # a kept cell keeps its class
    assert (thin_marks(marks, sides) == thinned).all()
    assert ((thinned >= 0) & ~wrong)[:, :20].any() and ((thinned >= 0) & ~wrong)[:, 20:].any()

    sparse = np.where(rng.random(sides.shape) < MAX_MARKED_SHARE / 2, marks, -1)
    assert (thin_marks(sparse, sides) == sparse).all()  # few enough: nothing left out
    assert CONTOUR_MARK not in CLASS_MARKS
