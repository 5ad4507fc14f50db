"""The drill-down screen: each cell lists exactly the rows the app's confusion matrix counts there, and holds still."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from clf_tui.engine import RunConfig
from clf_tui.engine.drilldown import row_log_loss
from clf_tui.tui import formatting
from clf_tui.tui.app import ClfApp
from clf_tui.tui.screens.drilldown import MAX_ROWS, DrillDownScreen
from clf_tui.tui.widgets.cell_picker import CellPicker
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.sample_table import SampleTable

from .conftest import COMPACT, notifications, train, trainer_of, wait_ready, wait_until

N_FIXED = 5
"""row, true, pred, P, log loss: the columns before the features."""


def listed(screen: DrillDownScreen) -> list[list[str]]:
    table = screen.query_one(SampleTable)
    return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]


def caption(screen: DrillDownScreen) -> str:
    return str(screen.query_one("#drill-caption", Static).render())


async def walk_to(pilot: Pilot, cell: tuple[int, int]) -> None:
    """Move the picker to ``cell`` with the arrow keys."""
    picker = pilot.app.screen.query_one(CellPicker)
    (i, j), (to_i, to_j) = picker.cell, cell
    await pilot.press(*(["down"] * (to_i - i) + ["up"] * (i - to_i) + ["right"] * (to_j - j) + ["left"] * (j - to_j)))
    assert picker.cell == cell


def expected_rows(y_true: np.ndarray, y_prob: np.ndarray, y_pred: np.ndarray, cell: tuple[int, int]) -> list[int]:
    """The rows of ``cell`` by a plain mask, highest log loss first (then by row), at most MAX_ROWS."""
    rows = np.flatnonzero((y_true == cell[0]) & (y_pred == cell[1]))
    losses = row_log_loss(y_true, y_prob)[rows]
    return [int(row) for _, row in sorted(zip(-losses, rows))][:MAX_ROWS]


async def test_binary_cells_list_the_rows_the_matrix_counts(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=COMPACT) as pilot:
        await train(pilot)
        await pilot.press("3", "f")  # the threshold of max F1: a probability itself, which counts as positive
        panel = app.query_one(EvaluationPanel)
        evaluation, report = panel.evaluation, panel.report
        assert evaluation is not None and report is not None and trainer_of(app) is not None
        assert app.threshold in evaluation.y_prob
        at_half = evaluation.binary(1).at(0.5)
        assert (report.tp, report.fp) != (at_half.tp, at_half.fp), "rows lie between 0.5 and the threshold"
        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DrillDownScreen)
        title = f"Drill-down · epoch {moons.epochs} · threshold {formatting.threshold(app.threshold)}"
        assert screen.query_one("#drill-body").border_title == title
        y_true, y_prob = evaluation.y_true, evaluation.y_prob
        y_pred = (y_prob >= np.float32(app.threshold)).astype(int)
        counted = {(0, 0): report.tn, (0, 1): report.fp, (1, 0): report.fn, (1, 1): report.tp}
        data = trainer_of(app).data
        for cell in ((0, 0), (0, 1), (1, 1), (1, 0)):
            await walk_to(pilot, cell)
            rows = listed(screen)
            assert [int(row[0]) for row in rows] == expected_rows(y_true, y_prob, y_pred, cell)
            assert len(rows) == counted[cell]
            assert f": {counted[cell]} row" in caption(screen)
            for row in rows:
                index = int(row[0])
                assert row[1:3] == [evaluation.class_names[cell[0]], evaluation.class_names[cell[1]]]
                assert float(row[3]) == round(float(y_prob[index]), 4)
                features = data.scaler.inverse_transform(data.X_val[index : index + 1])[0]
                assert np.allclose([float(v) for v in row[N_FIXED:]], features, rtol=1e-5, atol=1e-6)
        await pilot.press("escape")
        assert not isinstance(app.screen, DrillDownScreen)


async def test_the_numbers_line_up_on_their_decimal_points(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=COMPACT) as pilot:
        await train(pilot)
        await pilot.press("3", "d")
        screen = app.screen
        assert isinstance(screen, DrillDownScreen)
        table = screen.query_one(SampleTable)
        for cell in ((0, 0), (0, 1), (1, 1), (1, 0)):
            await walk_to(pilot, cell)
            await pilot.pause()
            rows = listed(screen)
            if not rows:
                continue
            for column in range(3, len(rows[0])):  # P, log loss and the features: one number of decimals each
                assert len({len(row[column].partition(".")[2]) for row in rows}) == 1, (cell, column)
            lines = [table.render_line(y).text for y in range(1, min(len(rows), table.size.height - 1) + 1)]
            points = [[x for x, char in enumerate(line) if char == "."] for line in lines]
            assert len(points[0]) >= 2 and all(p == points[0] for p in points), (cell, lines)


async def test_multiclass_cells_and_pairs_follow_the_argmax_matrix() -> None:
    config = RunConfig(dataset="blobs", n_samples=300, epochs=2, device="cpu")
    app = ClfApp(config)
    async with app.run_test(size=COMPACT) as pilot:
        await train(pilot)
        evaluation = app.query_one(EvaluationPanel).evaluation
        assert evaluation is not None and evaluation.multiclass is not None
        matrix = evaluation.multiclass.confusion
        await pilot.press("3", "d")
        screen = app.screen
        assert isinstance(screen, DrillDownScreen)
        picker = screen.query_one(CellPicker)
        y_true, y_prob = evaluation.y_true, evaluation.y_prob
        y_pred = y_prob.argmax(axis=1)
        off_diagonal = sorted((-matrix[i, j], i, j) for i, j in np.ndindex(matrix.shape) if i != j and matrix[i, j])
        assert len(off_diagonal) >= 2, "two epochs on blobs leave a few rows confused"
        assert picker.cell == off_diagonal[0][1:], "it opens on the most confused pair"
        for cell in np.ndindex(matrix.shape):
            await walk_to(pilot, cell)
            rows = listed(screen)
            assert [int(row[0]) for row in rows] == expected_rows(y_true, y_prob, y_pred, cell)
            assert len(rows) == matrix[cell]
            assert [float(row[3]) for row in rows] == [round(float(y_prob[int(row[0]), cell[1]]), 4) for row in rows]

        await walk_to(pilot, off_diagonal[0][1:])
        await pilot.press("tab")
        pairs = screen.query_one("#drill-pairs", OptionList)
        assert app.screen.focused is pairs
        assert pairs.option_count == len(off_diagonal)
        for index, (count, i, j) in enumerate(off_diagonal):
            if index:
                await pilot.press("down")
            assert pairs.highlighted == index
            assert picker.cell == (i, j)
            assert len(listed(screen)) == -count
            share = -count / (y_true == i).sum()
            assert f"{-count:>4} {100 * share:>5.1f}%" in str(pairs.get_option_at_index(index).prompt)


async def test_without_an_evaluation_d_says_so(moons: RunConfig) -> None:
    app = ClfApp(moons)
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await pilot.press("3", "d")
        assert not isinstance(app.screen, DrillDownScreen)
        assert any(n.title == "No evaluation yet" for n in notifications(app))


async def test_it_opens_while_training_and_keeps_its_epoch(moons: RunConfig) -> None:
    """Keys go in as key events, without Pilot's wait for an idle app, which does not come while training."""
    app = ClfApp(dataclasses.replace(moons, epochs=100_000))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        panel = app.query_one(EvaluationPanel)
        app.simulate_key("s")
        await wait_until(pilot, lambda: app.run_state == "training" and panel.evaluation is not None)
        app.simulate_key("3")
        app.simulate_key("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DrillDownScreen) and app.screen.is_mounted)
        screen = app.screen
        assert isinstance(screen, DrillDownScreen)
        opened = screen.evaluation
        assert f"epoch {opened.epoch} ·" in str(screen.query_one("#drill-body").border_title)
        picker = screen.query_one(CellPicker)
        cell = picker.cell
        y_pred = (opened.y_prob >= np.float32(app.threshold)).astype(int)
        before = listed(screen), caption(screen)
        assert [int(row[0]) for row in before[0]] == expected_rows(opened.y_true, opened.y_prob, y_pred, cell)
        await wait_until(pilot, lambda: panel.evaluation is not None and panel.evaluation.epoch > opened.epoch)
        assert app.run_state == "training" and app.screen is screen and screen.evaluation is opened
        assert (listed(screen), caption(screen)) == before
        # To the other row and back: the cell is recounted now, from the evaluation it opened on. The picker
        # moves at the key, and the screen lists the cell when it hears of it: wait for each caption.
        away, back = ("down", "up") if cell[0] == 0 else ("up", "down")
        app.simulate_key(away)
        await wait_until(pilot, lambda: picker.cell != cell and caption(screen) != before[1])
        app.simulate_key(back)
        await wait_until(pilot, lambda: picker.cell == cell and caption(screen) == before[1])
        assert listed(screen) == before[0]
        app.simulate_key("escape")
        app.simulate_key("s")
        await wait_until(pilot, lambda: app.run_state == "stopped")


async def test_many_features_scroll_a_column_at_a_time_beside_the_fixed_ones(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n_features = 40
    X = rng.integers(0, 100, size=(120, n_features))
    y = (X[:, 0] > 50).astype(int)
    csv = tmp_path / "wide.csv"
    header = ",".join(f"feature_{k}" for k in range(n_features))
    csv.write_text(header + ",label\n" + "".join(",".join(map(str, row)) + f",{label}\n" for row, label in zip(X, y)))
    app = ClfApp(RunConfig(dataset=str(csv), target="label", epochs=2, device="cpu"))
    async with app.run_test(size=COMPACT) as pilot:
        await train(pilot)
        await pilot.press("3", "d", "right")  # the true positives: a cell with rows
        screen = app.screen
        assert isinstance(screen, DrillDownScreen)
        for row in listed(screen):
            assert [int(v) for v in row[N_FIXED:]] in X.tolist()  # in the CSV's own units
        table = screen.query_one(SampleTable)
        await pilot.press("tab")
        assert app.screen.focused is table
        assert table.max_scroll_x > 0
        widths = [column.get_render_width(table) for column in table.ordered_columns]
        for k in (1, 2, 3):
            await pilot.press("right")
            assert table.scroll_x == sum(widths[N_FIXED:N_FIXED + k])
        await pilot.press("end")
        assert table.scroll_x == table.max_scroll_x
        await pilot.press("left")
        assert 0 < table.scroll_x < table.max_scroll_x
