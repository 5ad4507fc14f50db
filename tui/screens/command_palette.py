"""CommandPalette: Textual's command palette, safe against keys typed faster than it opens and closes."""

from __future__ import annotations

import textual
from textual import command, work
from textual.await_complete import AwaitComplete
from textual.css.query import NoMatches

# The one place in clf-tui that uses private names of Textual: its palette offers no public way to guard a
# search. Textual 8.2 (8.2.8 checked) has both names, and both races below; pyproject keeps Textual below 9,
# tests/tui/test_textual_internals.py fails by name if an update drops them, and tests/faults/test_app_keys.py
# tells whether the races are still there.
try:
    _gather_commands = command.CommandPalette._gather_commands.__wrapped__
    """Textual's own gathering of the commands that match a search, without its worker decorator."""
    _GATHER_COMMANDS_GROUP = command.CommandPalette._GATHER_COMMANDS_GROUP
except AttributeError as missing:
    raise ImportError(f"the command palette needs private parts of Textual's that Textual {textual.__version__} "
                      f"lacks ({missing}); install the Textual that pyproject.toml asks for") from None


class CommandPalette(command.CommandPalette):
    """Textual's palette, with two races of fast typing closed.

    Enter then Escape, typed faster than the list answers, closes it twice: the choice is
    handled after Escape has closed it already, and that second close would pop the screen
    below (or fail on the last one). A palette that is no longer on top leaves the stack alone.

    A key typed just before Escape starts a search that runs after the palette has taken its
    list down, and Textual's search then fails on the missing list, taking the app with it.
    A search that finds the palette closed ends quietly.
    """

    def dismiss(self, result: object = None) -> AwaitComplete:
        if not self.is_active:
            return AwaitComplete.nothing()
        return super().dismiss(result)

    @work(exclusive=True, group=_GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        try:
            await _gather_commands(self, search_value)
        except NoMatches:
            if self.query(command.CommandList):  # the list is there: a failure of its own
                raise
