"""ConfirmQuit: asks before leaving a run that is training or has epochs not saved."""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from .dialog import Dialog

Answer = Literal["save", "leave"]


class ConfirmQuit(Dialog[Answer | None]):
    """Dismissed with "save" (save the run, then leave), "leave" (stop it if it trains, and leave without saving)
    or None (stay). ``leaving`` names what leaving does ("quit", "start over")."""

    BINDINGS = [
        Binding("s", "answer('save')", "Save first", id="quit.save", tooltip="Save the run to a file, then go on."),
        Binding("y,d", "answer('leave')", "Don't save", id="quit.yes", tooltip="Go on without saving the run."),
        Binding("n,escape", "answer(None)", "Stay", id="quit.no", tooltip="Go back to the run."),
    ]

    def __init__(self, question: str, *, leaving: str = "quit", can_save: bool = True) -> None:
        super().__init__()
        self._question = question
        self._leaving = leaving
        self._can_save = can_save

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = f"{self._leaving.capitalize()}?"
            yield Static(self._question, markup=False)
            with Horizontal(id="dialog-buttons"):
                if self._can_save:
                    yield Button(f"Save, then {self._leaving} (s)", variant="primary", id="save")
                yield Button(f"{self._leaving.capitalize()} without saving (y)", variant="error", id="leave")
                yield Button("Stay (n)", id="stay")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(None if event.button.id == "stay" else event.button.id)

    def action_answer(self, answer: Answer | None) -> None:
        if answer == "save" and not self._can_save:
            return
        self.dismiss(answer)
