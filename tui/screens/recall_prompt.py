"""RecallPrompt: asks for the recall the decision threshold must reach."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Static

from .dialog import Dialog


def parse_recall(text: str) -> float:
    """A recall from "0.9" or "90%".

    Raises:
        ValueError: naming what was wrong with ``text``.
    """
    text = text.strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number: type a recall such as 0.9 or 90%") from None
    if not 0 < value <= 1:
        raise ValueError(f"{text} is not a recall: it must be above 0 and at most 1 (or 100%)")
    return value


class _RecallValidator(Validator):
    def validate(self, value: str) -> ValidationResult:
        try:
            parse_recall(value)
        except ValueError as error:
            return self.failure(str(error))
        return self.success()


class RecallPrompt(Dialog[float | None]):
    """Dismissed with a recall in (0, 1], or None when cancelled."""

    AUTO_FOCUS = "#recall"
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="recall.cancel", tooltip="Keep the threshold.")]

    def __init__(self, default: float) -> None:
        super().__init__()
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Recall target"
            yield Static("The threshold moves to the highest value whose recall (TPR) reaches:", classes="hint")
            yield Input(f"{self._default:g}", id="recall", validators=[_RecallValidator()])
            yield Static(id="recall-note")

    @on(Input.Changed, "#recall")
    def _recall_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        note = "" if result is None or result.is_valid else result.failure_descriptions[0]
        self.query_one("#recall-note", Static).update(Content(note))  # quotes what was typed

    @on(Input.Submitted, "#recall")
    def _recall_submitted(self, event: Input.Submitted) -> None:
        if event.validation_result is None or event.validation_result.is_valid:
            self.dismiss(parse_recall(event.value))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
