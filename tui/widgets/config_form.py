"""ConfigForm: the RunConfig fields that matter, edited in place and checked as they are typed."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.content import Content
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from clf_tui.datasets.builtin import builtin_names
from clf_tui.engine.config import CHOICES, FIELDS, RunConfig
from clf_tui.errors import ConfigError

FORM_FIELDS = (
    "dataset", "target", "positive", "n_samples", "model", "hidden", "activation", "dropout", "loss", "pos_weight",
    "optimizer", "lr", "weight_decay", "batch_size", "epochs", "seed", "device",
)
LABELS = {
    "dataset": "data set", "n_samples": "samples", "pos_weight": "pos weight", "lr": "learning rate",
    "weight_decay": "weight decay", "batch_size": "batch size",
}
SUGGESTIONS = {"dataset": builtin_names(), "device": ("auto", "cpu", "cuda")}
PLACEHOLDERS = {"dataset": "moons … or a .csv / .npz path", "target": "CSV label column", "n_samples": "default",
                "positive": "default"}


class ConfigForm(Widget):
    """Edits a RunConfig: one row per field in FORM_FIELDS; the other fields keep the base config's values.

    Every keystroke re-checks the whole form, so a value is refused at its field with the
    engine's reason, including rules that span fields (a CSV needs a target column).
    """

    def __init__(self, config: RunConfig, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._base = config

    def compose(self) -> ComposeResult:
        with Grid(id="form-fields"):
            for name in FORM_FIELDS:
                yield Label(LABELS.get(name, name), classes="field-label")
                yield self._field(name)
        yield Static(id="form-error")

    def _field(self, name: str) -> Input | Select:
        value = getattr(self._base, name)
        help_text = FIELDS[name].metadata["help"]
        if name in CHOICES:
            select: Select[str] = Select(
                [(choice, choice) for choice in CHOICES[name]], value=value, allow_blank=False,
                compact=True, id=f"field-{name}",
            )
            select.tooltip = help_text
            return select
        return Input(
            _text(value), placeholder=PLACEHOLDERS.get(name, ""), compact=True, id=f"field-{name}",
            validators=[_FieldValidator(self, name)], tooltip=help_text,
            suggester=SuggestFromList(SUGGESTIONS[name], case_sensitive=False) if name in SUGGESTIONS else None,
        )

    def read_config(self) -> RunConfig:
        """The configuration the form shows.

        Raises:
            ConfigError: naming the first field whose value the engine refuses.
        """
        changes = {name: RunConfig.parse_field(name, text) for name, text in self._texts().items()}
        return self._base.replace(**changes)

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` (for instance one restored from a checkpoint)."""
        self._base = config
        for name in FORM_FIELDS:
            self._show(name, getattr(config, name))
        self._check_all()

    def change_base(self, **changes: Any) -> None:
        """Change settings that have no field here (a CSV file's column roles), keeping what is typed."""
        self._base = self._base.replace(**changes)
        self._check_all()

    def set_value(self, name: str, value: Any) -> None:
        """Show ``value`` in field ``name`` (one of FORM_FIELDS), as if it had been typed there."""
        self._show(name, value)
        self._check_all()

    def _show(self, name: str, value: Any) -> None:
        widget = self.query_one(f"#field-{name}")
        if isinstance(widget, Select):
            widget.value = value
        else:
            widget.value = _text(value)

    def focus_field(self, name: str | None = None) -> None:
        """Focus the field ``name`` (by default the first one)."""
        self.query_one(f"#field-{name or FORM_FIELDS[0]}").focus()

    def error_for(self, name: str, text: str) -> str | None:
        """Why ``text`` cannot be field ``name``'s value given the other fields, or None if it can."""
        try:
            value = RunConfig.parse_field(name, text)
        except ConfigError as error:
            return error.message
        others: dict[str, Any] = {}
        for other, other_text in self._texts().items():
            if other != name:
                try:
                    others[other] = RunConfig.parse_field(other, other_text)
                except ConfigError:
                    pass  # refused at its own field
        try:
            self._base.replace(**others, **{name: value})
        except ConfigError as error:
            return error.message if error.field == name else None
        return None

    @on(Input.Changed)
    @on(Select.Changed)
    def _check_all(self) -> None:
        """Re-check every field: one change can make another field right or wrong."""
        first_error = None
        for name in FORM_FIELDS:
            widget = self.query_one(f"#field-{name}")
            if isinstance(widget, Input):
                result = widget.validate(widget.value)
                if first_error is None and result is not None and not result.is_valid:
                    first_error = result.failure_descriptions[0]
        # The engine's message quotes the typed value, which may hold "[": plain text, never markup.
        self.query_one("#form-error", Static).update(Content(f"✗ {first_error}" if first_error else ""))

    def _texts(self) -> dict[str, str]:
        texts = {}
        for name in FORM_FIELDS:
            widget = self.query_one(f"#field-{name}")
            texts[name] = str(widget.value) if isinstance(widget, Select) else widget.value
        return texts


class _FieldValidator(Validator):
    """Checks one field's text through the engine's own parsing and validation."""

    def __init__(self, form: ConfigForm, name: str) -> None:
        super().__init__()
        self._form = form
        self._name = name

    def validate(self, value: str) -> ValidationResult:
        error = self._form.error_for(self._name, value) if self._form.is_mounted else None
        return self.failure(error) if error else self.success()


def _text(value: Any) -> str:
    """A field value as the form shows it (the inverse of RunConfig.parse_field)."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
