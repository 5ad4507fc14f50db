"""ConfirmQuit: asks before quitting while a run is training."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmQuit(ModalScreen[bool]):
    """Dismissed with True to stop training and quit, False to keep going."""

    BINDINGS = [
        Binding("y", "answer(True)", "Stop and quit", id="quit.yes", tooltip="Stop training and quit."),
        Binding("n,escape", "answer(False)", "Keep training", id="quit.no", tooltip="Go back to the run."),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Quit?"
            yield Static("Training is running. Stop it after this batch and quit?")
            with Horizontal(id="dialog-buttons"):
                yield Button("Stop and quit (y)", variant="error", id="yes")
                yield Button("Keep training (n)", variant="primary", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, stop: bool) -> None:
        self.dismiss(stop)
