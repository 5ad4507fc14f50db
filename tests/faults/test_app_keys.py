"""The app survives the user: random keys and terminal sizes, during training and after, raise nothing.

Notifications are drawn as toasts, as in a terminal (run_test leaves them out unless asked).
The stream of keys leaves out q and ctrl+q, which quit (tests/tui/test_quit.py and the last test
here prove those). The command palette can still reach Quit from any letters of its name, so the
app under test records an exit instead of exiting; everything before the exit (asking, stopping
the run) happens for real.
"""

from __future__ import annotations

import asyncio
import random
import re
import string
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import textual.app
import textual.pilot
from textual.command import CommandList
from textual.events import Key
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from clf_tui.engine import ConfigError, RunConfig
from clf_tui.engine.metrics import BinaryEval, MulticlassEval
from clf_tui.tui import formatting
from clf_tui.tui.app import WIDE_LAYOUT_MIN, ClfApp
from clf_tui.tui.keys import BINDINGS
from clf_tui.tui.runner import Runner
from clf_tui.tui.screens.command_palette import CommandPalette
from clf_tui.tui.screens.confirm_quit import ConfirmQuit
from clf_tui.tui.widgets.config_form import ConfigForm
from clf_tui.tui.widgets.confusion_matrix_view import ConfusionMatrixView
from clf_tui.tui.widgets.evaluation_panel import EvaluationPanel
from clf_tui.tui.widgets.loss_chart import LossChart
from clf_tui.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import WIDE, notifications, train, trainer_of, wait_ready, wait_until

QUIT_KEYS = ("q", "ctrl+q")
APP_KEYS = sorted({key for binding in BINDINGS for key in binding.key.split(",")} - set(QUIT_KEYS))
MOVE_KEYS = ["tab", "shift+tab", "enter", "escape", "backspace", "up", "down", "space", "ctrl+p", "ctrl+c"]
PRINTABLE_KEYS = [c for c in string.ascii_letters + string.digits + string.punctuation if c not in QUIT_KEYS]
N_KEYS = 2_000
CORNER_SIZES = ((40, 12), (200, 60), (40, 60), (200, 12))
N_RESIZES = 40
SMALL_RUN = RunConfig(dataset="moons", n_samples=200, epochs=3, device="cpu")
MARKUP = "[/x]"
"""Read as markup, this closing tag without an opening one raises."""
RATES = {"TPR/recall": "tpr", "FPR": "fpr", "precision": "precision", "F1": "f1", "accuracy": "accuracy", "MCC": "mcc"}


@pytest.fixture
def no_idle_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot waits after each key and resize until the process is idle, for at most a second; while a run
    trains it never is. Go on as soon as the app has handled them (Pilot still waits for the screen)."""
    for module in (textual.app, textual.pilot):
        monkeypatch.setattr(module, "wait_for_idle", lambda *_: asyncio.sleep(0))


def record_exits(app: ClfApp, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Make ``app`` record each exit (the end of every way to quit) instead of taking it."""
    exits: list[tuple] = []
    monkeypatch.setattr(app, "exit", lambda *args, **kwargs: exits.append(args))
    return exits


def random_keys(rng: random.Random, n: int) -> list[str]:
    """``n`` keys: half the app's bindings, the rest keys that move around and printable characters."""
    groups = rng.choices([APP_KEYS, MOVE_KEYS, PRINTABLE_KEYS], weights=[5, 2, 3], k=n)
    return [rng.choice(group) for group in groups]


async def mash(pilot: Pilot, keys: list[str], keep_training: RunConfig | None = None) -> dict[str, int]:
    """Press ``keys`` one at a time; returns how many met the app in each run state.

    With ``keep_training``, a run ended by the keys (stopped, diverged, or never started because the
    form was garbled) is started again from that configuration before the next key, once whatever the
    keys started instead (a range test, a checkpoint opening) has finished; so the keys meet a run at
    work however fast or slow it trains.
    """
    app = pilot.app
    assert isinstance(app, ClfApp)
    states: Counter[str] = Counter()
    for key in keys:
        if keep_training is not None:
            await start_again_unless_at_work(pilot, keep_training)
        states[app.run_state] += 1
        await pilot.press(key)
        assert_alive(app)
    return dict(states)


async def start_again_unless_at_work(pilot: Pilot, config: RunConfig) -> None:
    """Unless a run trains or is paused, wait for the runner's work to end, then train ``config`` on."""
    app = pilot.app
    assert isinstance(app, ClfApp)
    if app.run_state in ("training", "paused"):
        return
    runner = app.query_one(Runner)
    await wait_until(pilot, lambda: not runner.busy and app.run_state != "loading")
    app.query_one(ConfigForm).set_config(config)
    app.action_start_training()
    await wait_until(pilot, lambda: app.run_state != "loading")


def assert_alive(app: ClfApp) -> None:
    assert app.is_running and app.return_code is None
    unexpected = [n for n in notifications(app) if "(unexpected)" in n.title]
    assert not unexpected, unexpected[0].message


async def settle(pilot: Pilot) -> None:
    """Close the screens the keys left open, leave the form, return to the latest epoch, stop training and
    wait for the workers."""
    app = pilot.app
    assert isinstance(app, ClfApp)
    for _ in range(2 * len(app.screen_stack)):  # a widget the palette maximized takes an escape of its own
        if len(app.screen_stack) == 1:
            break
        await pilot.press("escape")
    assert len(app.screen_stack) == 1, f"escape does not close {app.screen}"
    app.set_focus(None)
    await pilot.press("greater_than_sign")  # back to the latest epoch, if the keys were replaying an earlier one
    if app.run_state in ("training", "paused"):
        app.action_stop_training()
    runner = app.query_one(Runner)
    await wait_until(pilot, lambda: not runner.busy and app.run_state not in ("loading", "training", "paused"))
    await pilot.pause(0.05)


def assert_counts_are_the_engines(app: ClfApp) -> None:
    """The counts and rates on screen are the engine's for the current weights at the displayed threshold."""
    panel = app.query_one(EvaluationPanel)
    trainer = trainer_of(app)
    assert panel.evaluation is not None and trainer is not None
    assert panel.evaluation.epoch == trainer.total_epochs
    y_true, y_prob = trainer.evaluate()
    text = app.query_one(ConfusionMatrixView).render().plain
    lines = text.splitlines()
    if y_prob.ndim == 1:
        report = BinaryEval(y_true, y_prob).at(app.threshold)
        assert f"threshold {formatting.threshold(app.threshold)}" in str(app.query_one(ConfusionMatrixView).border_title)
        counts = [int(n) for line in lines[1:3] for n in re.findall(r"(\d+)\s+(?:\d+\.\d%|—)", line)]
        assert counts == [report.tn, report.fp, report.fn, report.tp]
    else:
        positive = app.positive_class
        report = BinaryEval((y_true == positive).astype("int8"), y_prob[:, positive]).at(app.threshold)
        assert f"threshold {formatting.threshold(app.threshold)}" in text
        k = y_prob.shape[1]
        shown = [[0 if cell == "·" else int(cell) for cell in line.split()[-k - 1:-1]] for line in lines[1:k + 1]]
        assert shown == MulticlassEval.from_proba(y_true, y_prob).confusion.tolist()
    for name, value in re.findall(r"(TPR/recall|FPR|precision|F1|accuracy|MCC)\s+(\S+)", text):
        assert value == formatting.rate(getattr(report, RATES[name])), name


@pytest.mark.slow
async def test_2000_random_keys_during_training_and_after_raise_nothing_and_leave_the_counts_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_idle_waits: None
) -> None:
    monkeypatch.chdir(tmp_path)  # a checkpoint or a screenshot the keys save lands here
    config = RunConfig(dataset="moons", n_samples=400, epochs=50_000, batch_size=64, device="cpu",
                       out_dir=str(tmp_path))
    app = ClfApp(config)
    exits = record_exits(app, monkeypatch)
    rng = random.Random(5)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await wait_ready(pilot)
        states = await mash(pilot, random_keys(rng, N_KEYS // 2), keep_training=config)
        # How the keys split between the two depends on speed (a key that opens a screen sooner or later);
        # that each met a run at work does not.
        assert states.get("training", 0) + states.get("paused", 0) == N_KEYS // 2, states
        await settle(pilot)
        await mash(pilot, random_keys(rng, N_KEYS // 2))
        await settle(pilot)
        if app.query_one(EvaluationPanel).evaluation is not None:
            assert_counts_are_the_engines(app)
        await assert_a_garbled_form_is_refused_with_its_reason(pilot)

        # It still answers: a short run of the configuration it started with, then the threshold keys.
        app.query_one(ConfigForm).set_config(config.replace(epochs=3))
        await train(pilot)
        await pilot.press("right", "right", "right")
        assert_counts_are_the_engines(app)
        await pilot.press("f")
        assert_counts_are_the_engines(app)
        assert_alive(app)
    assert len(exits) <= 1  # the palette's Quit, if the keys found it


async def assert_a_garbled_form_is_refused_with_its_reason(pilot: Pilot) -> None:
    app = pilot.app
    try:
        app.query_one(ConfigForm).read_config()
    except ConfigError as error:
        await pilot.press("s")
        assert error.message in app.query_one(StatusBar).problem  # in the status line, under no notification
        assert app.run_state not in ("training", "loading")


@pytest.mark.slow
async def test_resizing_the_terminal_while_training_raises_nothing(tmp_path: Path, no_idle_waits: None) -> None:
    config = RunConfig(dataset="moons", n_samples=400, epochs=50_000, batch_size=64, device="cpu",
                       out_dir=str(tmp_path))
    rng = random.Random(11)
    sizes = [*CORNER_SIZES, *((rng.randint(40, 200), rng.randint(12, 60)) for _ in range(N_RESIZES))]
    app = ClfApp(config)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.query_one(LossChart).epochs != [])
        for width, height in sizes:
            compact = width < WIDE_LAYOUT_MIN.width or height < WIDE_LAYOUT_MIN.height
            await pilot.resize_terminal(width, height)
            await wait_until(pilot, lambda: app.size == (width, height) and app.has_class("-compact") == compact)
            await pilot.pause(0.05)  # a few redraws of every pane at this size, while epochs arrive
            assert_alive(app)
            assert app.run_state == "training"
        await settle(pilot)
        assert_counts_are_the_engines(app)


async def test_text_with_brackets_is_shown_as_typed_not_read_as_markup() -> None:
    app = ClfApp(SMALL_RUN)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await train(pilot)
        await pilot.press("r")
        app.screen.query_one("#recall", Input).value = MARKUP  # not a recall: the prompt quotes it
        await pilot.press("escape", "ctrl+o")
        app.screen.query_one("#path", Input).value = MARKUP
        await pilot.press("enter")  # no such file: the prompt quotes it
        assert MARKUP in str(app.screen.query_one("#path-note", Static).render())
        await pilot.press("escape")
        app.query_one("#field-lr", Input).value = MARKUP
        await pilot.press("s")  # refused: the form's error line and the status line quote it
        assert MARKUP in app.query_one(StatusBar).problem
        assert MARKUP in str(app.screen.query_one("#form-error", Static).render())
        await pilot.pause(0.1)
        assert_alive(app)


async def test_class_names_with_brackets_are_shown_as_named(tmp_path: Path) -> None:
    csv = tmp_path / "named.csv"
    rows = [f"{x:.3f},{(i * 7) % 11},{MARKUP if x > 0 else 'A'}" for i, x in enumerate(np.linspace(-1, 1, 60))]
    csv.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    app = ClfApp(SMALL_RUN.replace(dataset=str(csv), target="label", n_samples=None))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await train(pilot)
        assert trainer_of(app).data.class_names == ("A", MARKUP)
        await pilot.press("right_square_bracket")  # binary: says which class is positive, by name
        await pilot.pause(0.1)
        assert_alive(app)


async def test_enter_then_escape_at_once_in_the_palette_closes_it_once(no_idle_waits: None) -> None:
    app = ClfApp(SMALL_RUN)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p", *"youden")
        await wait_until(pilot, lambda: app.screen.query_one(OptionList).option_count == 1)
        await pilot.press("enter")
        app.post_message(Key("escape", None))  # before the palette has answered the enter
        await wait_until(pilot, lambda: len(app.screen_stack) == 1 or not app.is_running)
        await pilot.pause()
        assert_alive(app)
        assert app.screen_stack == [app.screen_stack[0]]


async def test_a_search_that_starts_after_the_palette_took_its_list_down_ends_quietly() -> None:
    """Keys typed as the palette closes (ctrl+s, ctrl+p, tab, escape, 0, 3, enter, ctrl+p, x, escape from the
    random keys test, once) start a search after Escape has taken the palette's list down; Textual's search
    then fails on the missing list, and the app with it."""
    app = ClfApp(SMALL_RUN)
    async with app.run_test(size=WIDE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+p")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await palette.query_one(CommandList).remove()
        palette._gather_commands("x")
        await palette.workers.wait_for_complete()
        assert_alive(app)


@pytest.mark.parametrize("key", QUIT_KEYS)
async def test_the_quit_keys_left_out_of_the_stream_ask_first_while_training(key: str, no_idle_waits: None) -> None:
    app = ClfApp(SMALL_RUN.replace(epochs=50_000))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.run_state == "training")
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmQuit))
        assert app.run_state == "training"
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmQuit))
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0
