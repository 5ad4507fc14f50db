"""The private parts of Textual's command palette that tui/screens/command_palette.py relies on are still there.

That module closes two races of the palette (tests/faults/test_app_keys.py) through them. A Textual update that
drops them fails here, naming them; see then whether that Textual closed the races itself (drop the subclass)
or port the fix. The app itself refuses to start with one clear line rather than failing deep inside.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import textual
from textual.command import CommandPalette

from tests.limits import HANG_S

PRIVATE_NAMES = ("_gather_commands", "_GATHER_COMMANDS_GROUP")


@pytest.mark.parametrize("name", PRIVATE_NAMES)
def test_textual_still_has_the_palette_name_the_app_relies_on(name: str) -> None:
    assert hasattr(CommandPalette, name), (
        f"Textual {textual.__version__} has no CommandPalette.{name}, which tui/screens/command_palette.py uses")


def test_the_palette_search_is_still_a_worker_around_a_coroutine() -> None:
    bare = getattr(getattr(CommandPalette, "_gather_commands", None), "__wrapped__", None)
    assert inspect.iscoroutinefunction(bare), (
        f"Textual {textual.__version__}'s CommandPalette._gather_commands is no longer a @work coroutine")
    assert isinstance(getattr(CommandPalette, "_GATHER_COMMANDS_GROUP", None), str)


def test_without_them_the_app_stops_at_its_import_with_one_clear_error() -> None:
    code = "import textual.command as c\ndel c.CommandPalette._GATHER_COMMANDS_GROUP\nimport clf_tui.tui.app\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_S)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"ImportError: the command palette needs private parts of Textual's that Textual "
                                f"{textual.__version__} lacks"), result.stderr
    assert "_GATHER_COMMANDS_GROUP" in last_line
