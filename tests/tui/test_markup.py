"""Text from the user's files shown as written: column names, class names, paths and the messages that quote
them hold square brackets that Textual would read as markup ("[/x]" raises, "[red]neg" loses its brackets)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
from textual.widgets import Input

from clf_tui.engine import RunConfig
from clf_tui.tui.app import ClfApp
from clf_tui.tui.runner import Runner

from .conftest import WIDE, notifications, train, type_path, wait_until

COLUMN, POSITIVE, NEGATIVE = "[bold]x1", "[/x]", "[red]neg"
LINE = re.compile(r'<text [^>]*clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>(.*?)</text>')


def screen_text(app: ClfApp) -> str:
    """What the terminal shows now, line by line, from the app's own screenshot (runs of spaces left out)."""
    lines: dict[int, list[str]] = {}
    for match in LINE.finditer(app.export_screenshot()):
        lines.setdefault(int(match.group(1)), []).append(html.unescape(match.group(2)))
    return "\n".join("".join(parts) for _, parts in sorted(lines.items()))


async def test_names_and_paths_holding_markup_are_shown_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "[red]data"
    folder.mkdir()
    xs = np.linspace(-1, 1, 80)
    rows = [f"{x:.3f},{(i * 7) % 11},{POSITIVE if x > 0 else NEGATIVE}" for i, x in enumerate(xs)]
    csv = folder / "named.csv"
    csv.write_text(f"{COLUMN},x2,label\n" + "\n".join(rows) + "\n")
    app = ClfApp(RunConfig(dataset=str(csv), target="label", epochs=3, device="cpu"))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await train(pilot)
        shown = screen_text(app)
        assert COLUMN in shown and POSITIVE in shown and NEGATIVE in shown

        saved = folder / "[/b]run.pt"
        await pilot.press("ctrl+s")
        await type_path(pilot, saved)
        await wait_until(pilot, lambda: saved.exists() and any(n.title == "Checkpoint saved" for n in notifications(app)))
        await pilot.pause()
        assert str(saved) in " ".join(n.message for n in notifications(app))
        assert "[/b]run.pt" in screen_text(app)

        broken = folder / "[/i]broken.pt"
        broken.write_bytes(b"not a checkpoint")
        await pilot.press("ctrl+o")
        await type_path(pilot, broken)
        runner = app.query_one(Runner)
        await wait_until(pilot, lambda: not runner.busy and any(n.severity == "error" for n in notifications(app)))
        await pilot.pause()
        assert "[/i]broken.pt" in screen_text(app)

        view = folder / "[/u]view.txt"
        await pilot.press("x")
        await wait_until(pilot, lambda: app.screen.query(Input))
        await type_path(pilot, view)
        await wait_until(pilot, lambda: view.exists())
        await pilot.pause()
        text = view.read_text()
        assert POSITIVE in text and NEGATIVE in text
        assert app.is_running and app.return_code is None
