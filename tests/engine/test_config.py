"""RunConfig: defaults, validation messages, TOML round trip, field parsing."""

from __future__ import annotations

import dataclasses

import pytest

from clf_tui.engine import ConfigError, RunConfig


def test_defaults_are_the_built_in_run() -> None:
    cfg = RunConfig()
    assert (cfg.dataset, cfg.model, cfg.optimizer, cfg.loss) == ("moons", "mlp", "adam", "auto")
    assert cfg.resolved_loss("binary") == "bce_logits"
    assert cfg.resolved_loss("multiclass") == "cross_entropy"


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunConfig().lr = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"optimizer": "adagrad"}, ["optimizer", "'adagrad'", "sgd, momentum, rmsprop, adam, adamw"]),
        ({"activation": "gelu"}, ["activation", "'gelu'", "relu"]),
        ({"lr": -0.1}, ["lr", "-0.1", "> 0"]),
        ({"lr": float("nan")}, ["lr", "nan"]),
        ({"batch_size": 0}, ["batch_size", "0", ">= 1"]),
        ({"dropout": 1.0}, ["dropout", "1.0"]),
        ({"val_fraction": 1.5}, ["val_fraction", "1.5", "between 0 and 1"]),
        ({"hidden": (32, 0)}, ["hidden", "(32, 0)"]),
        ({"device": "tpu"}, ["device", "'tpu'", "auto, cpu, cuda or cuda:N"]),
        ({"dataset": "mnist"}, ["dataset", "'mnist'", "moons", ".csv"]),
        ({"dataset": "data.csv"}, ["target", "label column"]),
        ({"pos_weight": "heavy"}, ["pos_weight", "'heavy'", "none, auto or a number"]),
        ({"pos_weight": 2.0, "loss": "cross_entropy"}, ["pos_weight", "bce_logits"]),
        ({"epochs": "ten"}, ["epochs", "'ten'", "whole number"]),
        ({"betas": (0.9,)}, ["betas", "two numbers"]),
    ],
)
def test_bad_values_name_field_value_and_choices(changes: dict, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig(**changes)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"optimizer": "adagrad"}, "optimizer"),
        ({"lr": -0.1}, "lr"),
        ({"epochs": "ten"}, "epochs"),
        ({"n_samples": 2}, "n_samples"),
        ({"dataset": "mnist"}, "dataset"),
        ({"dataset": "data.csv"}, "dataset"),  # a CSV file without its target column
        ({"pos_weight": 2.0, "loss": "cross_entropy"}, "pos_weight"),
        ({"drop": ("id",)}, "drop"),
        ({"na_values": ("?",)}, "na_values"),
    ],
)
def test_an_error_about_a_field_names_it(changes: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig(**changes)
    assert info.value.field == field


def test_parsing_and_loading_keep_the_field_and_an_unknown_setting_has_none(tmp_path) -> None:
    with pytest.raises(ConfigError) as parsed:
        RunConfig.parse_field("batch_size", "big")
    assert parsed.value.field == "batch_size"
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = 'fast'\n")
    with pytest.raises(ConfigError) as loaded:
        RunConfig.load(bad)
    assert loaded.value.field == "lr"
    with pytest.raises(ConfigError) as unknown:
        RunConfig().replace(learning_rate=0.5)
    assert unknown.value.field is None


def test_replace_validates_and_rejects_unknown_fields() -> None:
    assert RunConfig().replace(lr=0.5).lr == 0.5
    with pytest.raises(ConfigError, match="unknown setting 'learning_rate'"):
        RunConfig().replace(learning_rate=0.5)
    with pytest.raises(ConfigError, match="lr"):
        RunConfig().replace(lr=0)


def test_toml_round_trip(tmp_path) -> None:
    cfg = RunConfig(dataset="data.csv", target="label", hidden=(64, 8), pos_weight="auto", betas=(0.8, 0.99),
                    lr=1e-05, early_stopping=True, n_samples=500)
    path = cfg.save(tmp_path / "run.toml")
    assert RunConfig.load(path) == cfg
    text = path.read_text()
    assert 'target = "label"' in text and "hidden = [64, 8]" in text
    assert "noise" not in text  # None fields are left out: TOML has no null


def test_toml_errors_say_which_file_and_field(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = 'fast'\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: lr = 'fast' is not a number"):
        RunConfig.load(bad)
    bad.write_text("lr = [1,\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        RunConfig.load(bad)
    bad.write_text("speed = 3\n")
    with pytest.raises(ConfigError, match="unknown setting 'speed'"):
        RunConfig.load(bad)
    with pytest.raises(ConfigError, match="no such config file"):
        RunConfig.load(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("lr", "0.05", 0.05),
        ("hidden", "64,32", (64, 32)),
        ("hidden", "64 32 16", (64, 32, 16)),
        ("early_stopping", "yes", True),
        ("pos_weight", "auto", "auto"),
        ("pos_weight", "2.5", 2.5),
        ("n_samples", "default", None),
        ("betas", "0.8, 0.9", (0.8, 0.9)),
    ],
)
def test_parse_field(name: str, text: str, value: object) -> None:
    assert RunConfig.parse_field(name, text) == value


def test_parse_field_errors() -> None:
    with pytest.raises(ConfigError, match="batch_size = 'big' is not a whole number"):
        RunConfig.parse_field("batch_size", "big")
    with pytest.raises(ConfigError, match="unknown setting"):
        RunConfig.parse_field("speed", "1")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"cost_fp": 1.0}, "cost_fn", ["cost_fp = 1.0", "without cost_fn", "set both costs"]),
        ({"cost_fn": 5.0}, "cost_fp", ["cost_fn = 5.0", "without cost_fp"]),
        ({"cost_fp": -1.0, "cost_fn": 1.0}, "cost_fp", ["cost_fp = -1.0", ">= 0"]),
        ({"cost_fp": 1.0, "cost_fn": float("inf")}, "cost_fn", ["cost_fn = inf", "finite"]),
        ({"cost_fp": 0.0, "cost_fn": 0.0}, "cost_fp", ["cost_fp = 0 and cost_fn = 0", "above 0"]),
        ({"prevalence": 0.1}, "prevalence", ["prevalence = 0.1", "set cost_fp and cost_fn"]),
        ({"cost_fp": 1.0, "cost_fn": 2.0, "prevalence": 1.0}, "prevalence", ["prevalence = 1.0", "between 0 and 1"]),
        ({"cost_fp": 1.0, "cost_fn": 2.0, "prevalence": 0.0}, "prevalence", ["prevalence = 0.0"]),
        ({"folds": -1}, "folds", ["folds = -1", "from 2 to 100", "0 or 1"]),
        ({"folds": 101}, "folds", ["folds = 101"]),
        ({"temperature_scaling": "yes"}, "temperature_scaling", ["true or false"]),
    ],
)
def test_costs_prevalence_and_folds_are_checked(changes: dict, field: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig(**changes)
    assert info.value.field == field
    for word in words:
        assert word in str(info.value)


def test_honest_number_settings_default_off_and_round_trip(tmp_path) -> None:
    default = RunConfig()
    assert (default.temperature_scaling, default.cost_fp, default.cost_fn, default.prevalence, default.folds) == (
        False, None, None, None, 0)
    assert not default.cross_validates and not default.has_costs and not RunConfig(folds=1).cross_validates
    cfg = RunConfig(temperature_scaling=True, cost_fp=1, cost_fn=5, prevalence=0.05, folds=5)
    assert cfg.cost_fp == 1.0 and isinstance(cfg.cost_fp, float) and cfg.cross_validates and cfg.has_costs
    path = cfg.save(tmp_path / "run.toml")
    assert RunConfig.load(path) == cfg
    text = path.read_text()
    assert "temperature_scaling = true" in text and "cost_fn = 5.0" in text and "folds = 5" in text
    assert "prevalence" not in RunConfig(cost_fp=1, cost_fn=1).save(tmp_path / "plain.toml").read_text()
    assert RunConfig.parse_field("cost_fp", "2.5") == 2.5 and RunConfig.parse_field("prevalence", "default") is None
    assert RunConfig.parse_field("temperature_scaling", "on") is True and RunConfig.parse_field("folds", "3") == 3


def test_a_comparison_is_not_named_by_settings_that_change_nothing_trained() -> None:
    from clf_tui.engine.comparison import config_labels

    plain = RunConfig(hidden=(8,))
    assert config_labels([plain, plain.replace(temperature_scaling=True, cost_fp=1.0, cost_fn=3.0, prevalence=0.2)]) == [
        "config 1", "config 2"]
