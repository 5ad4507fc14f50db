"""CommandPalette: Textual's command palette, minus a second close when a choice arrives after Escape."""

from __future__ import annotations

from textual import command
from textual.await_complete import AwaitComplete


class CommandPalette(command.CommandPalette):
    """Textual's palette. Enter then Escape, typed faster than the list answers, closes it twice: the
    choice is handled after Escape has closed it already, and that second close would pop the screen
    below (or fail on the last one). A palette that is no longer on top leaves the stack alone."""

    def dismiss(self, result: object = None) -> AwaitComplete:
        if not self.is_active:
            return AwaitComplete.nothing()
        return super().dismiss(result)
