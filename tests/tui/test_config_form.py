"""The configuration form: every setting under its heading and label, a config shown and read back unchanged, every
refused field marked at once with its reason, and messages in the form's words."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Select, Static

from clf_tui.engine import RunConfig
from clf_tui.engine.config import CHOICES, FIELDS
from clf_tui.errors import ConfigError
from clf_tui.tui.widgets.config_form import FORM_FIELDS, FORM_GROUPS, ROLE_FIELDS, ConfigForm, in_labels, label

from .conftest import wait_until

PANE_WIDTH = 34
"""The configuration pane's width in the wide layout, border and padding included."""

CSV = RunConfig(
    dataset="patients.csv", target="outcome", positive="yes", drop=("id",), categorical=("ward", "sex"),
    numeric=("age",), na_values=("?", "-1"), missing_indicators=True, val_fraction=0.25, split_seed=7,
    stratify=False, scaler="minmax", hidden=(64, 16), activation="tanh", dropout=0.125, loss="bce_logits",
    pos_weight=2.5, optimizer="momentum", lr=0.0123456789, momentum=0.95, nesterov=True, weight_decay=1e-4,
    betas=(0.8, 0.99), batch_size=16, epochs=7, seed=3, device="cpu", threads=2, early_stopping=True, patience=4,
    min_delta=0.001, restore_best=False, checkpoint_every_s=0.0, checkpoint_every_epochs=5, out_dir="my runs",
    temperature_scaling=True, cost_fp=1.0, cost_fn=5.0, prevalence=0.1, folds=5,
)
SYNTHETIC = RunConfig(dataset="blobs", n_samples=100, noise=0.3, n_classes=4, data_seed=9, model="logistic",
                      loss="cross_entropy", optimizer="sgd", lr=0.1, early_stopping="auto", epochs=100)


class FormApp(App[None]):
    """The form alone in a pane as wide as the app's configuration pane."""

    CSS = f"#config {{ width: {PANE_WIDTH}; padding: 0 1; border: round white; scrollbar-size-vertical: 1; }}"

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="config"):
            yield ConfigForm(self.config, id="form")


def rendered(widget: Static) -> str:
    return str(widget.render())


async def test_every_setting_has_a_labelled_field_under_its_heading() -> None:
    app = FormApp(RunConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert [heading for heading, _ in FORM_GROUPS] == ["data", "model", "loss", "optimiser", "training",
                                                          "evaluation"]
        assert set(FORM_FIELDS) == set(FIELDS) - set(ROLE_FIELDS)
        form = app.query_one(ConfigForm)
        labels = [str(widget.render()) for widget in form.query(".form-label").results(Label)]
        assert labels == [label(name) for name in FORM_FIELDS]
        assert not any("_" in text for text in labels)
        assert {"learning rate", "validation fraction", "samples", "batch size", "weight decay"} <= set(labels)
        for heading, names in FORM_GROUPS:
            rule = form.query_one(f"#heading-{heading}")
            assert str(rule.border_title).strip() == heading
            rows = [form.query_one(f"#row-{name}") for name in names]
            assert all(rule.region.y < row.region.y for row in rows)  # under its own heading
        for name in FORM_FIELDS:
            widget = form.query_one(f"#field-{name}")
            chosen = name in CHOICES or str(FIELDS[name].type) in ("bool", "bool | str")
            assert isinstance(widget, Select if chosen else Input), name
        pane = app.query_one("#config", VerticalScroll)
        assert pane.max_scroll_x == 0 and pane.max_scroll_y > 0  # fits the width, scrolls down
        assert all(row.region.right <= pane.region.right - 2 for row in form.query(".form-row"))


@pytest.mark.parametrize("config", [RunConfig(), CSV, SYNTHETIC], ids=["default", "csv", "synthetic"])
async def test_a_config_comes_back_from_the_form_unchanged(config: RunConfig) -> None:
    app = FormApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.query_one(ConfigForm)
        assert form.read_config() == config
        form.set_config(RunConfig())
        await pilot.pause()
        assert form.read_config() == RunConfig()
        form.set_config(config)
        await pilot.pause()
        assert form.read_config() == config
        assert not form.query(".-invalid")


async def test_three_refused_fields_are_marked_at_once_each_with_its_reason() -> None:
    app = FormApp(RunConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.query_one(ConfigForm)
        # The engine checks samples before the learning rate and the batch size: it alone would name one a time.
        typed = {"n_samples": "2", "lr": "-1", "batch_size": "0"}
        for name, text in typed.items():
            form.query_one(f"#field-{name}", Input).value = text
        await pilot.pause()
        reasons = {
            "n_samples": "samples: 2 is invalid: expected at least",
            "lr": "learning rate: -1.0 is invalid: expected a number > 0",
            "batch_size": "batch size: 0 is invalid: expected a whole number >= 1",
        }
        for name, reason in reasons.items():
            assert form.query_one(f"#field-{name}", Input).has_class("-invalid"), name
            assert form.query_one(f"#row-{name}").has_class("-invalid"), name
            note = form.query_one(f"#error-{name}", Static)
            assert note.display and rendered(note).startswith(f"✗ {reason}"), rendered(note)
        marked = {widget.id for widget in form.query(".-invalid") if widget.id and widget.id.startswith("field-")}
        assert marked == {f"field-{name}" for name in typed}
        summary = rendered(form.query_one("#form-error", Static))
        assert summary.startswith(f"✗ {reasons['n_samples']}")
        assert "2 more below: learning rate, batch size" in summary
        with pytest.raises(ConfigError) as refused:
            form.read_config()
        assert refused.value.field == "n_samples"
        assert refused.value.message.startswith(reasons["n_samples"])
        assert refused.value.message.endswith("(and 2 more: learning rate, batch size)")

        form.query_one("#field-lr", Input).value = "0.1"  # one put right: the others stay marked
        await pilot.pause()
        assert not form.query_one("#field-lr", Input).has_class("-invalid")
        assert not form.query_one("#error-lr", Static).display
        assert form.query_one("#field-batch_size", Input).has_class("-invalid")


async def test_a_choice_the_other_settings_refuse_is_marked_too() -> None:
    app = FormApp(RunConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.query_one(ConfigForm)
        form.set_value("missing_indicators", True)  # a CSV setting, on moons
        await pilot.pause()
        assert form.query_one("#field-missing_indicators", Select).has_class("-invalid")
        assert rendered(form.query_one("#error-missing_indicators", Static)) == (
            "✗ missing indicators applies to CSV files, not to data set = 'moons'")


@pytest.mark.parametrize(("typed", "field", "message"), [
    ({"n_samples": "2"}, "n_samples", "samples: 2 is invalid: expected at least 4 and at most 10000000"),
    ({"val_fraction": "1.5"}, "val_fraction", "validation fraction: 1.5 is invalid: expected between 0 and 1, exclusive"),
    ({"lr": "fast"}, "lr", "learning rate: 'fast' is not a number"),
    ({"loss": "cross_entropy", "pos_weight": "2"}, "pos_weight",
     "pos weight: 2.0 applies only to loss = 'bce_logits', not 'cross_entropy'"),
    ({"cost_fn": "5"}, "cost_fp",
     "false negative cost: 5.0 is given without false positive cost: set both costs, or neither"),
    ({"dataset": "my_lr.csv"}, "dataset",
     "data set: 'my_lr.csv' is a CSV file: set target to the name of its label column"),
])
async def test_messages_name_the_forms_labels_not_the_fields(typed: dict[str, str], field: str, message: str) -> None:
    app = FormApp(RunConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.query_one(ConfigForm)
        for name, text in typed.items():
            form.set_value(name, text)
        await pilot.pause()
        assert form.check().reasons == {field: message}
        with pytest.raises(ConfigError, match=re.escape(message)):
            form.read_config()


def test_the_engines_names_become_labels_outside_quoted_values() -> None:
    assert in_labels("n_samples = 2 is invalid") == "samples: 2 is invalid"
    assert in_labels("cost_fp = 0 and cost_fn = 0: no threshold is better") == (
        "false positive cost = 0 and false negative cost = 0: no threshold is better")
    assert in_labels("drop = ['n_samples'] applies to the columns of a CSV file, not to dataset = 'x_y'") == (
        "unused columns: ['n_samples'] applies to the columns of a CSV file, not to data set = 'x_y'")
    assert in_labels("loss = 'mse' and model = 'mlp'") == "loss = 'mse' and model = 'mlp'"


async def test_the_focused_field_shows_its_help_under_it() -> None:
    app = FormApp(RunConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.query_one(ConfigForm)
        help_line = form.query_one("#form-help", Static)
        assert not help_line.display
        form.focus_field("momentum")
        await pilot.pause()
        assert help_line.display and rendered(help_line) == FIELDS["momentum"].metadata["help"]
        assert help_line.region.y == form.query_one("#row-momentum").region.bottom
        # Scrolled into sight: the scroll follows a refresh, which a busy machine may take a few frames to reach.
        await wait_until(pilot, lambda: help_line.region.bottom <= app.query_one("#config").region.bottom)
        form.focus_field("cost_fn")
        await pilot.pause()
        assert rendered(help_line) == "cost of a false negative, in false positive cost's unit"
        app.set_focus(None)
        await pilot.pause()
        assert not help_line.display


async def test_a_new_data_set_leaves_the_column_roles_of_the_old_file() -> None:
    app = FormApp(CSV)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.query_one(ConfigForm)
        form.set_value("dataset", "moons")
        form.set_value("target", "")
        for name in ("na_values", "missing_indicators"):
            form.set_value(name, FIELDS[name].default)
        await pilot.pause()
        config = form.read_config()
        assert (config.dataset, config.drop, config.categorical, config.numeric) == ("moons", (), (), ())
        form.set_value("dataset", CSV.dataset)  # back to the file: its roles come back with it
        form.set_value("target", CSV.target)
        await pilot.pause()
        assert form.read_config() == CSV.replace(na_values=(), missing_indicators=False)


async def test_column_roles_apply_to_the_file_the_form_names() -> None:
    app = FormApp(RunConfig())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        form = app.query_one(ConfigForm)
        with pytest.raises(ConfigError, match=re.escape(
                "unused columns: ['id'] applies to the columns of a CSV file, not to data set = 'moons'")):
            form.change_base(drop=("id",), categorical=(), numeric=())
        form.set_value("dataset", "patients.csv")  # typed, never trained: the roles pane asks for this file's
        form.set_value("target", "outcome")
        form.set_value("epochs", 12)
        await pilot.pause()
        form.change_base(drop=("id",), categorical=("ward",), numeric=())
        await pilot.pause()
        assert form.read_config() == RunConfig(dataset="patients.csv", target="outcome", epochs=12, drop=("id",),
                                               categorical=("ward",))
