"""Generated TOML: RunConfig.load returns a config that survives a save and a reload, or raises ConfigError."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from clf_tui.datasets.builtin import builtin_names
from clf_tui.engine.config import CHOICES, FIELD_NAMES, RunConfig
from clf_tui.errors import ConfigError

FUZZ = settings(max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
NESTING_DEPTH = 1000

# Values of each field's kind, often in range, so that a fair share of the documents are valid configs.
KIND_OF_FIELD = {
    "dataset": st.sampled_from([*builtin_names(), "data.csv", "data.npz", "mnist"]),
    "target": st.text(max_size=4), "noise": st.floats(-0.5, 2), "n_samples": st.integers(0, 500),
    "pos_weight": st.one_of(st.sampled_from(["none", "auto", "AUTO", "some"]), st.floats(-1, 10)),
    "device": st.sampled_from(["auto", "cpu", "cuda", "cuda:1", "cuda:", "gpu"]),
    "hidden": st.lists(st.integers(0, 70_000), max_size=3), "betas": st.lists(st.floats(0, 1), max_size=3),
    "out_dir": st.text(max_size=4), **{name: st.sampled_from([*choices, "other"]) for name, choices in CHOICES.items()},
    **{name: st.lists(st.text(max_size=3), max_size=3) for name in ("drop", "categorical", "numeric", "na_values")},
    "positive": st.text(max_size=3), "early_stopping": st.sampled_from([True, False, "auto", "AUTO", "sometimes"]),
    "cost_fp": st.floats(-1, 10), "cost_fn": st.floats(-1, 10), "prevalence": st.floats(-0.5, 1.5),
}
DEFAULT_KINDS = {bool: st.booleans(), int: st.integers(-2, 200), float: st.floats(-0.5, 1.5)}


def plausible(name: str) -> st.SearchStrategy[Any]:
    if name in KIND_OF_FIELD:
        return KIND_OF_FIELD[name]
    return DEFAULT_KINDS[type(getattr(RunConfig(), name))]


SCALARS = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(), st.text(max_size=8),
                    st.datetimes(), st.dates(), st.times())
ANY_VALUE = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.text("abc", min_size=1, max_size=3), inner, max_size=2), max_leaves=6)
KEYS = st.one_of(st.sampled_from(sorted(FIELD_NAMES)), st.sampled_from(sorted(FIELD_NAMES)), st.text(max_size=6))


def toml_value(value: Any) -> str:
    """``value`` written as TOML: basic strings, inline arrays and tables, and the special floats."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    """A TOML document of settings, valid TOML most of the time, sometimes cut, padded, or in a table."""
    settings_ = {}
    for key in draw(st.lists(KEYS, max_size=4, unique=True)):
        fitting = key in FIELD_NAMES and draw(st.integers(0, 3)) > 0
        settings_[key] = draw(plausible(key) if fitting else ANY_VALUE)
    lines = [f"{json.dumps(key, ensure_ascii=False)} = {toml_value(value)}" for key, value in settings_.items()]
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    mutation = draw(st.sampled_from(["none"] * 6 + ["cut", "junk", "table", "BOM"]))
    if mutation == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif mutation == "junk":
        text += "\n" + draw(st.text(max_size=10))
    elif mutation == "table":
        text = f"[{draw(st.sampled_from(['run', 'hidden', 'epochs']))}]\n{text}"
    elif mutation == "BOM":
        text = "\ufeff" + text
    return text


def load_or_config_error(content: str | bytes) -> RunConfig | None:
    """The config ``RunConfig.load`` reads from ``content``, checked by a round trip, or None after ConfigError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "run.toml")
        path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
        try:
            cfg = RunConfig.load(path)
        except ConfigError as exc:
            assert str(exc) and "\n" not in str(exc)
            event("ConfigError")
            return None
        event("valid config")
        assert RunConfig.load(cfg.save(Path(folder, "saved.toml"))) == cfg
        return cfg


@FUZZ
@given(toml_documents())
@example("epochs = 1e400")  # an infinite float for an int field
@example("hidden = [1, [2]]")  # a nested list
@example("[hidden]\nsize = 3")  # a table where a list belongs
@example("dataset = 5")
@example('target = "\\U00010000\\u007f"')  # beyond U+FFFF, and DEL: both must be saved as valid TOML
@example("seed = 9223372036854775807\nbetas = [0.5, 0.5]")  # the largest TOML integer; a valid config
@example("a = " + "[" * NESTING_DEPTH + "]" * NESTING_DEPTH)  # nesting deeper than Python's recursion limit
@example("hidden = " + "[" * NESTING_DEPTH + "]" * NESTING_DEPTH)
def test_generated_toml_loads_or_raises_config_error(document: str) -> None:
    load_or_config_error(document)


@FUZZ
@given(st.binary(max_size=200))
@example(b"epochs = 3\n\xff\xfe")  # not UTF-8
@example(b"\x00")
def test_generated_bytes_load_or_raise_config_error(content: bytes) -> None:
    load_or_config_error(content)


def test_missing_and_unreadable_config_files_raise_config_error(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.toml", tmp_path):
        with pytest.raises(ConfigError):
            RunConfig.load(path)


def test_a_leaked_exception_fails_the_property(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were the TOML parser to let a ValueError through, the property would fail, not pass quietly."""
    def leaky_loads(text: str) -> dict:
        raise ValueError("invalid literal")

    monkeypatch.setattr("tomllib.loads", leaky_loads)
    with pytest.raises(ValueError):
        test_generated_toml_loads_or_raises_config_error()
