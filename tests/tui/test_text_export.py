"""x saves the view as plain text: the engine's counts at the app's threshold, the charts, no escape codes."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import numpy as np
from textual.widgets import Input

from clf_tui.arguments import build_train_parser, config_from_args
from clf_tui.engine import RunConfig
from clf_tui.engine.atomic import is_temporary
from clf_tui.engine.metrics import BinaryEval, MulticlassEval
from clf_tui.engine.regions import contour_cells
from clf_tui.tui import formatting
from clf_tui.tui.app import ClfApp
from clf_tui.tui.screens.path_prompt import PathPrompt
from clf_tui.tui.text_export import render_view
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.loss_chart import LossChart
from clf_tui.tui.widgets.region_map import CONTOUR_MARK, RegionMap, _resample
from clf_tui.tui.runner import Runner
from clf_tui.tui.widgets.status_bar import StatusBar

from .conftest import COMPACT, error_messages, notifications, train, trainer_of, type_path, wait_ready, wait_until

ESCAPE = "\x1b"


async def export(pilot, path: Path) -> None:
    """Press x and accept ``path`` in its prompt."""
    await pilot.press("x")
    assert isinstance(pilot.app.screen, PathPrompt)
    await type_path(pilot, path)
    await pilot.pause()


def view_of(app: ClfApp) -> str:
    """The text the app would save now, rendered straight from its panes."""
    assert trainer_of(app) is not None
    return render_view(run=app.query_one(StatusBar).summary, config=trainer_of(app).config,
                       loss=app.query_one(LossChart), evaluation=app.query_one(EvaluationPanel),
                       regions=app.query_one(RegionMap))


def settings_of(text: str) -> RunConfig:
    """The configuration that the file's settings line gives on the command line."""
    (line,) = re.findall(r"^settings: (.*)$", text, flags=re.MULTILINE)
    return config_from_args(build_train_parser().parse_args(shlex.split(line)))


async def test_x_saves_the_charts_and_the_engines_counts_at_the_apps_threshold(
    moons: RunConfig, tmp_path: Path
) -> None:
    app = ClfApp(dataclasses.replace(moons, out_dir=str(tmp_path)))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await train(pilot)
        await pilot.press("3", "right", "right", "right")
        await pilot.press("x")
        prompt = app.screen
        assert isinstance(prompt, PathPrompt)
        default = Path(prompt.query_one("#path", Input).value)
        assert default.parent == tmp_path and default.suffix == ".txt"
        await type_path(pilot, tmp_path / "view.txt")
        await pilot.pause()
        text = (tmp_path / "view.txt").read_text(encoding="utf-8")
        assert any(n.title == "View saved" for n in notifications(app))

        assert trainer_of(app) is not None
        y_true, y_prob = trainer_of(app).evaluate()
        evaluation = BinaryEval(y_true, y_prob)
        report = evaluation.at(app.threshold)
        assert app.threshold == 0.53
        assert ESCAPE not in text
        assert f"epoch {moons.epochs} · threshold 0.53" in text
        assert settings_of(text) == trainer_of(app).config
        matrix = text[text.index("confusion at threshold 0.53 · epoch 5"):].splitlines()
        counts = [int(n) for line in matrix[2:4] for n in re.findall(r"(\d+)\s+\d+\.\d%", line)]
        assert counts == [report.tn, report.fp, report.fn, report.tp]
        assert re.search(rf"F1\s+{formatting.rate(report.f1)}", text)
        assert f"ROC: TPR by FPR · AUROC {formatting.rate(evaluation.auroc)}" in text
        assert f"PR: precision by recall · AP {formatting.rate(evaluation.average_precision)}" in text
        assert "loss (train, val) per epoch" in text
        # Without colour the two losses differ in their glyphs: validation's x, training's braille dots.
        loss_chart = text[text.index("loss (train, val) per epoch"):text.index("ROC: TPR by FPR")]
        assert re.search(r"x+ val", loss_chart) and re.search(r"[\u2801-\u28ff]+ train", loss_chart)
        assert sum(line.count("x") for line in loss_chart.splitlines()[2:-3]) >= moons.epochs - 1
        for labels in (r"epoch", r"FPR\s+recall"):  # the x axes: the loss chart's, then ROC's and PR's side by side
            assert re.search(rf"^\s+{labels}$", text, flags=re.MULTILINE), labels
        assert "●" in text  # the operating point on the curves
        # The decision regions, at the threshold: the contour drawn is the engine's on the latest epoch's grid.
        regions = text[text.index("regions · • P = 0.53 · validation · epoch 5"):].splitlines()
        rows = regions[1:21][::-1]
        assert all(len(row) <= 80 for row in rows)
        grid_prob = app.query_one(Runner).session.records.latest().grid_prob.astype(np.float32)
        contour = contour_cells(_resample(grid_prob, 20, 80), app.threshold)
        drawn = np.array([[char == CONTOUR_MARK for char in row.ljust(80)] for row in rows])
        assert drawn.any() and not (drawn & ~contour).any()
        assert any(char in "ox" for row in rows for char in row)
        assert regions[22] == "regions: ' ' predicted 0  '░' predicted 1"
        assert text == view_of(app)  # exactly what the panes show now
        assert [path.name for path in tmp_path.iterdir() if is_temporary(path)] == []


async def test_a_multiclass_view_names_the_class_against_the_rest(tmp_path: Path) -> None:
    app = ClfApp(RunConfig(dataset="iris", epochs=5, hidden=(8,), device="cpu", out_dir=str(tmp_path)))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await train(pilot)
        await pilot.press("3", "right_square_bracket")  # the class keys act where the evaluation shows
        await export(pilot, tmp_path / "iris.txt")
        text = (tmp_path / "iris.txt").read_text(encoding="utf-8")

        assert trainer_of(app) is not None
        y_true, y_prob = trainer_of(app).evaluate()
        names = trainer_of(app).data.class_names
        positive = app.positive_class
        assert positive == 2
        assert ESCAPE not in text
        assert f"epoch 5 · threshold 0.50 · {names[positive]} vs rest" in text
        k = len(names)
        matrix = text[text.index("confusion (argmax)"):].splitlines()[2:2 + k]
        shown = [[0 if cell == "·" else int(cell) for cell in line.split()[-k - 1:-1]] for line in matrix]
        assert shown == MulticlassEval.from_proba(y_true, y_prob).confusion.tolist()
        report = BinaryEval((y_true == positive).astype(np.int8), y_prob[:, positive]).at(app.threshold)
        assert re.search(rf"TPR/recall\s+{formatting.rate(report.recall)}", text)
        assert "regions ·" not in text  # four features: no map
        assert text == view_of(app)


async def test_x_during_a_run_saves_the_view_and_the_run_goes_on(moons: RunConfig, tmp_path: Path) -> None:
    app = ClfApp(dataclasses.replace(moons, epochs=100_000, out_dir=str(tmp_path)))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        # Started and paused without keys: after each key Pilot waits for an idle app, which a training run is not.
        app.action_start_training()
        panel = app.query_one(EvaluationPanel)
        await wait_until(pilot, lambda: panel.evaluation is not None)
        app.action_pause()
        # Paused between two batches, the run posts what it holds: the panes then show its last epoch.
        await wait_until(pilot, lambda: panel.evaluation.epoch == trainer_of(app).total_epochs > 0)
        await export(pilot, tmp_path / "live.txt")
        assert app.run_state == "paused" and any(n.title == "View saved" for n in notifications(app))
        text = (tmp_path / "live.txt").read_text()
        assert panel.evaluation is not None and f"epoch {panel.evaluation.epoch} · threshold" in text
        exported = panel.evaluation.epoch
        app.action_resume()
        await wait_until(pilot, lambda: panel.evaluation is not None and panel.evaluation.epoch > exported)
        app.action_stop_training()
        await wait_until(pilot, lambda: app.run_state == "stopped")


async def test_with_nothing_to_export_x_says_so(moons: RunConfig, tmp_path: Path) -> None:
    app = ClfApp(dataclasses.replace(moons, out_dir=str(tmp_path)))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await pilot.press("x")
        assert not isinstance(app.screen, PathPrompt)
        assert [n.title for n in notifications(app)] == ["No evaluation yet"]
    assert list(tmp_path.iterdir()) == []


async def test_a_path_that_cannot_be_written_is_one_notification_and_leaves_what_was_there(
    moons: RunConfig, tmp_path: Path
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("kept")
    app = ClfApp(dataclasses.replace(moons, epochs=2, out_dir=str(tmp_path)))
    async with app.run_test(size=COMPACT) as pilot:
        await wait_ready(pilot)
        await train(pilot)
        for path in (folder, in_the_way / "view.txt"):
            await export(pilot, path)
            assert app.is_running and not isinstance(app.screen, PathPrompt)
        assert len(error_messages(app)) == 2
        assert all(n.title == "Could not save the view" for n in notifications(app) if n.severity == "error")
    assert list(folder.iterdir()) == [] and in_the_way.read_text() == "kept"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file", "folder"]
