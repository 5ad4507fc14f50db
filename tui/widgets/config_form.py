"""ConfigForm: every setting of a run under headings, labelled in words, each refused value marked with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from clf_tui.datasets.builtin import builtin_names
from clf_tui.engine.config import CHOICES, FIELDS, RunConfig
from clf_tui.errors import ConfigError

ROLE_FIELDS = ("drop", "categorical", "numeric")
"""Settings the form leaves to the column roles pane, which shows each CSV column with its inferred role and why:
typed here as lists of names, the same setting would have two editors that disagree."""
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("data", ("dataset", "target", "positive", "n_samples", "noise", "n_classes", "data_seed", "val_fraction",
              "split_seed", "stratify", "folds", "scaler", "na_values", "missing_indicators")),
    ("model", ("model", "hidden", "activation", "dropout")),
    ("loss", ("loss", "pos_weight")),
    ("optimiser", ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "betas")),
    ("training", ("batch_size", "epochs", "seed", "device", "threads", "early_stopping", "patience", "min_delta",
                  "restore_best", "checkpoint_every_s", "checkpoint_every_epochs", "out_dir")),
    ("evaluation", ("temperature_scaling", "cost_fp", "cost_fn", "prevalence")),
)
"""The form's headings and their fields, in order. A field of RunConfig that no group names (a setting newer than
this list) is shown at the end of the last group under its own name, so that no setting is out of reach."""
LABELS = {
    "dataset": "data set", "positive": "positive class", "n_samples": "samples", "n_classes": "classes",
    "data_seed": "data seed", "val_fraction": "validation fraction", "split_seed": "split seed",
    "na_values": "NA values", "missing_indicators": "missing indicators", "hidden": "hidden layers",
    "pos_weight": "pos weight", "optimizer": "optimiser", "lr": "learning rate", "nesterov": "Nesterov",
    "weight_decay": "weight decay", "batch_size": "batch size", "early_stopping": "early stopping",
    "min_delta": "min delta", "restore_best": "restore best", "checkpoint_every_s": "save every (s)",
    "checkpoint_every_epochs": "save every (epochs)", "out_dir": "run folder",
    "temperature_scaling": "temperature scaling", "cost_fp": "false positive cost",
    "cost_fn": "false negative cost", "drop": "unused columns", "categorical": "category columns",
    "numeric": "number columns",
}
"""The words the form shows for a field; a field not named here is shown by its own name."""
YES_NO = (("yes", True), ("no", False))
OPTIONS: dict[str, tuple[tuple[str, Any], ...]] = {
    **{name: tuple((choice, choice) for choice in choices) for name, choices in CHOICES.items()},
    **{name: YES_NO for name, f in FIELDS.items() if str(f.type) == "bool"},
    **{name: (("auto", "auto"), *YES_NO) for name, f in FIELDS.items() if str(f.type) == "bool | str"},
}
"""Fields chosen from a list (a Select) rather than typed, with each option's text and value."""
SUGGESTIONS = {"dataset": builtin_names(), "device": ("auto", "cpu", "cuda"), "pos_weight": ("none", "auto")}
PLACEHOLDERS = {"dataset": "moons … or a .csv / .npz path", "target": "label column", "positive": "default",
                "n_samples": "default", "noise": "default", "na_values": "e.g. ?,-1", "cost_fp": "none",
                "cost_fn": "none", "prevalence": "validation's"}


def _form_fields() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """GROUPS with the fields RunConfig has, and any field it names nowhere at the end."""
    listed = {name for _, names in GROUPS for name in names}
    newer = tuple(name for name in FIELDS if name not in listed and name not in ROLE_FIELDS)
    groups = [(heading, tuple(name for name in names if name in FIELDS)) for heading, names in GROUPS]
    groups[-1] = (groups[-1][0], groups[-1][1] + newer)
    return tuple((heading, names) for heading, names in groups if names)


FORM_GROUPS = _form_fields()
"""The headings shown and the fields under each: GROUPS as RunConfig has them now."""
FORM_FIELDS = tuple(name for _, names in FORM_GROUPS for name in names)


def label(name: str) -> str:
    """The words the form shows for field ``name``."""
    return LABELS.get(name, name.replace("_", " "))


_QUOTED = r"'(?:[^'\\]|\\.)*'" + "|" + r'"(?:[^"\\]|\\.)*"'
_LEAD = re.compile(rf"(\w+) = ({_QUOTED}|\([^)]*\)|\[[^\]]*\]|\S+) (?!and )")
"""A message's opening "name = value " (not "name = value and other = ...", which reads better as it is)."""
_QUOTED_OR_NAME = re.compile(rf"({_QUOTED})|\b([a-z]\w*)\b")


def in_labels(message: str) -> str:
    """The engine's message about a setting, told in the form's words: "n_samples = 2 is invalid" becomes
    "samples: 2 is invalid", and a field named further on takes its label too. Quoted values stay as typed."""
    lead = _LEAD.match(message)
    if lead and lead.group(1) in FIELDS:
        message = f"{label(lead.group(1))}: {message[lead.end(1) + 3:]}"

    def swap(match: re.Match[str]) -> str:
        name = match.group(2)
        # Only names no sentence would use as a word ("loss", "model", "target" read the same either way).
        if name is None or name not in FIELDS or "_" not in name and name not in ("dataset", "lr", "optimizer"):
            return match.group(0)
        return label(name)

    return _QUOTED_OR_NAME.sub(swap, message)


@dataclass(frozen=True)
class FormCheck:
    """What the engine makes of the form's values."""

    config: RunConfig | None
    """The config they give, or None if any value is refused."""
    reasons: dict[str, str]
    """Why each refused field's value is refused, in the form's words, in the form's order."""
    general: tuple[str, ...]
    """Refusals that no field of the form answers for (a column role the roles pane asked for)."""

    @property
    def message(self) -> str | None:
        """One line for the whole form: the first reason and the labels of the other refused fields."""
        if not self.reasons:
            return self.general[0] if self.general else None
        first, *others = self.reasons
        more = f" (and {len(others)} more: {', '.join(map(label, others))})" if others else ""
        return self.reasons[first] + more


class ConfigForm(Widget):
    """Edits a RunConfig: one row per setting under FORM_GROUPS' headings; the column roles (ROLE_FIELDS) keep the
    base config's values, which ``change_base`` changes.

    Every change re-checks the whole form through the engine's own parsing and validation, and marks every
    refused field at once, each with its reason on the line under it; the line at the top of the form gives
    the first reason and names the others. The focused field's help line shows under it.
    """

    DEFAULT_CSS = """
    ConfigForm { height: auto; }
    ConfigForm > .form-heading {
        height: 1; margin-top: 1; border-top: solid $primary-darken-2;
        border-title-align: left; border-title-color: $text-primary; border-title-style: bold;
    }
    ConfigForm > .form-heading.-first { margin-top: 0; }
    ConfigForm > .form-row { height: auto; }
    ConfigForm > .form-row > .form-label { width: 14; height: auto; padding-right: 1; color: $text-muted; }
    ConfigForm > .form-row.-invalid > .form-label { color: $text-error; }
    ConfigForm > .form-row > Input, ConfigForm > .form-row > Select { width: 1fr; }
    ConfigForm > .form-row > Select.-textual-compact > SelectCurrent { padding: 0; }  /* room for cross_entropy */
    ConfigForm > .form-row > Select.-invalid > SelectCurrent { background-tint: $error 20%; }
    ConfigForm > .field-error { height: auto; display: none; color: $text-error; padding-left: 2; }
    ConfigForm > .field-error.-shown { display: block; }
    ConfigForm > #form-help { height: auto; display: none; color: $text-muted; padding-left: 2; }
    ConfigForm > #form-help.-shown { display: block; }
    ConfigForm > #form-error { height: auto; display: none; color: $text-error; }
    ConfigForm > #form-error.-shown { display: block; }
    """

    def __init__(self, config: RunConfig, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._base = config
        self._last_check: tuple[tuple[RunConfig, tuple[tuple[str, Any], ...]], FormCheck] | None = None
        """The last check and what it was of: every field's validator asks for the same one after a change."""

    def compose(self) -> ComposeResult:
        yield Static(id="form-error")
        for index, (heading, names) in enumerate(FORM_GROUPS):
            rule = Static(classes="form-heading -first" if index == 0 else "form-heading", id=f"heading-{heading}")
            rule.border_title = f" {heading} "
            yield rule
            for name in names:
                with Horizontal(classes="form-row", id=f"row-{name}"):
                    yield Label(label(name), classes="form-label")
                    yield self._field(name)
                yield Static(classes="field-error", id=f"error-{name}")
        yield Static(id="form-help")

    def _field(self, name: str) -> Input | Select[Any]:
        value = getattr(self._base, name)
        if name in OPTIONS:
            return Select(OPTIONS[name], value=value, allow_blank=False, compact=True, id=f"field-{name}")
        return Input(
            _text(value), placeholder=PLACEHOLDERS.get(name, ""), compact=True, id=f"field-{name}",
            validators=[_FieldValidator(self, name)],
            suggester=SuggestFromList(SUGGESTIONS[name], case_sensitive=False) if name in SUGGESTIONS else None,
        )

    # -- the API the app uses ------------------------------------------------------------------

    def read_config(self) -> RunConfig:
        """The configuration the form shows.

        Raises:
            ConfigError: when any value is refused; its message gives the first reason in the form's words and
                names the other refused fields, its ``field`` the first refused field.
        """
        check = self.check()
        if check.config is None:
            raise ConfigError(check.message or "the configuration is refused",
                              field=next(iter(check.reasons), None))
        return check.config

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` (for instance one restored from a checkpoint)."""
        self._base = config
        for name in FORM_FIELDS:
            self._show(name, getattr(config, name))
        self._check_all()

    def change_base(self, **changes: Any) -> None:
        """Change settings the form has no field for (a CSV file's column roles), keeping what is typed; a
        setting that has a field is shown there instead.

        Raises:
            ConfigError: when the config refuses the changes, in the form's words.
        """
        unshown = {name: value for name, value in changes.items() if name not in FORM_FIELDS}
        if unshown:
            # Over what the form shows, when it is valid: the roles are for the file typed there, which the base
            # (the config the app started with, or the last restored) may not name.
            try:
                self._base = (self.check().config or self._base).replace(**unshown)
            except ConfigError as error:
                raise ConfigError(in_labels(error.message), field=error.field) from None
        for name, value in changes.items():
            if name in FORM_FIELDS:
                self._show(name, value)
        self._check_all()

    def set_value(self, name: str, value: Any) -> None:
        """Show ``value`` in field ``name`` as if it had been typed there (a setting without a field: the base's)."""
        self.change_base(**{name: value})

    def focus_field(self, name: str | None = None) -> None:
        """Focus the field ``name`` (by default the first one)."""
        self.query_one(f"#field-{name or FORM_FIELDS[0]}").focus()

    # -- checking --------------------------------------------------------------------------------

    def check(self) -> FormCheck:
        """What the engine makes of the form as it stands."""
        return self._check(self._entries())

    def error_for(self, name: str, text: str) -> str | None:
        """Why ``text`` cannot be field ``name``'s value given the other fields, or None if it can."""
        return self._check({**self._entries(), name: text}).reasons.get(name)

    def _entries(self) -> dict[str, Any]:
        """Each field's text (typed fields) or value (chosen ones)."""
        return {name: self._widget(name).value for name in FORM_FIELDS}

    def _widget(self, name: str) -> Input | Select[Any]:
        widget = self.query_one(f"#field-{name}")
        assert isinstance(widget, (Input, Select))
        return widget

    def _check(self, entries: dict[str, Any]) -> FormCheck:
        key = (self._base, tuple(entries.items()))
        if self._last_check is None or self._last_check[0] != key:
            self._last_check = (key, _check(self._base, entries))
        return self._last_check[1]

    @on(Input.Changed)
    @on(Select.Changed)
    def _check_all(self) -> None:
        """Re-check every field: one change can make another field right or wrong."""
        check = self.check()
        for name in FORM_FIELDS:
            widget = self._widget(name)
            if isinstance(widget, Input):
                widget.validate(widget.value)
            else:
                widget.set_class(name in check.reasons, "-invalid")
            self.query_one(f"#row-{name}").set_class(name in check.reasons, "-invalid")
            note = self.query_one(f"#error-{name}", Static)
            note.set_class(name in check.reasons, "-shown")
            # The engine's message quotes the typed value, which may hold "[": plain text, never markup.
            note.update(Text(f"✗ {check.reasons[name]}") if name in check.reasons else "")
        self._show_summary(check)

    def _show_summary(self, check: FormCheck) -> None:
        summary = self.query_one("#form-error", Static)
        summary.set_class(check.message is not None, "-shown")
        lines = []
        if check.reasons:
            first, *others = check.reasons
            lines.append(f"✗ {check.reasons[first]}")
            if others:
                lines.append(f"  and {len(others)} more below: {', '.join(map(label, others))}")
        lines.extend(f"✗ {reason}" for reason in check.general)
        summary.update(Text("\n".join(lines)))

    # -- the focused field's help ----------------------------------------------------------------

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        name = _field_name(event.widget)
        if name is None:
            return
        help_line = self.query_one("#form-help", Static)
        help_line.update(Text(in_labels(FIELDS[name].metadata["help"])))
        self.move_child(help_line, after=self.query_one(f"#error-{name}"))
        help_line.add_class("-shown")
        self.call_after_refresh(help_line.scroll_visible, animate=False)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.query_one("#form-help").remove_class("-shown")

    def _show(self, name: str, value: Any) -> None:
        widget = self._widget(name)
        widget.value = value if isinstance(widget, Select) else _text(value)


def _check(base: RunConfig, entries: dict[str, Any]) -> FormCheck:
    """Every field the engine refuses in ``entries`` over ``base``, not only the first.

    The engine stops at the first refusal, so each refused change is set aside (its field back to the base's
    value) and the rest checked again. The base is a valid config, so this ends, at the latest once every
    change is set aside. A refusal may name a field the user left alone (no false positive cost beside a false
    negative one): then the change its message names is set aside, or else the last change.
    """
    values: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for name, entry in entries.items():
        if name in OPTIONS:
            values[name] = entry
            continue
        try:
            values[name] = RunConfig.parse_field(name, entry)
        except ConfigError as error:
            reasons[name] = in_labels(error.message)
            values[name] = getattr(base, name)
    if values["dataset"] != base.dataset:  # the column roles name the columns of the base's file, not this one's
        values.update({name: FIELDS[name].default for name in ROLE_FIELDS})
    general: list[str] = []
    while True:
        try:
            config = base.replace(**values)
            break
        except ConfigError as error:
            message = in_labels(error.message)
            if error.field in FORM_FIELDS:
                reasons.setdefault(error.field, message)
            elif message not in general:
                general.append(message)
            changed = [name for name, value in values.items() if value != getattr(base, name)]
            if not changed:  # unreachable while the base is valid
                break
            named = [name for name in changed if re.search(rf"\b{name}\b", error.message)]
            culprit = error.field if error.field in changed else (named or changed)[-1]
            values[culprit] = getattr(base, culprit)
    ordered = {name: reasons[name] for name in FORM_FIELDS if name in reasons}
    return FormCheck(config if not ordered and not general else None, ordered, tuple(general))


def _field_name(widget: Widget) -> str | None:
    """The form field ``widget`` is (or is inside: a Select's list has the focus while it is open)."""
    for node in (widget, *widget.ancestors):
        if isinstance(node, Widget) and node.id and node.id.startswith("field-"):
            return node.id.removeprefix("field-")
    return None


class _FieldValidator(Validator):
    """Checks one field's text through the engine's own parsing and validation, beside the other fields."""

    def __init__(self, form: ConfigForm, name: str) -> None:
        super().__init__()
        self._form = form
        self._name = name

    def validate(self, value: str) -> ValidationResult:
        error = self._form.error_for(self._name, value) if self._form.is_mounted else None
        return self.failure(error) if error else self.success()


def _text(value: Any) -> str:
    """A field value as the form shows it (the inverse of RunConfig.parse_field): floats as short as they read
    back exactly, so that a config shown and read again is the same config."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ",".join(_text(v) for v in value)
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)
