"""HelpScreen: every key binding with what it does, and how the threshold and the pages work."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """Lists ``bindings`` (key, name, explanation) above ``notes`` (Textual markup)."""

    AUTO_FOCUS = "#help-body"  # so the arrow keys scroll it
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close", tooltip="Close the help."),
    ]

    def __init__(self, bindings: list[Binding], notes: str) -> None:
        super().__init__()
        self._key_bindings = bindings
        self._notes = notes

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for binding in self._key_bindings:
            keys.add_row(self.app.get_key_display(binding), binding.description, binding.tooltip)
        keys.add_row("ctrl+p", "Commands", "Search and run any of these by name.")
        with VerticalScroll(id="help-body") as body:
            body.border_title = "clf-tui keys (Escape closes)"
            yield Static(keys, id="help-keys")
            yield Static(self._notes, id="help-notes")
