"""Scalers fit on training rows equal scikit-learn's StandardScaler and MinMaxScaler."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from clf_tui import datasets
from clf_tui.datasets import Scaler
from clf_tui.datasets.record import CHUNK_ROWS
from clf_tui.datasets.scaling import fit_scaler
from clf_tui.errors import ConfigError, DataError
from tests.limits import HANG_S

REFERENCES = {"standard": StandardScaler, "minmax": MinMaxScaler}

# Measurements with three decimals; Hypothesis likes repeats, so constant columns come up often.
measurements = arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 4)),
                      elements=st.integers(-10**6, 10**6).map(lambda i: i / 1000))


@pytest.mark.parametrize("kind", REFERENCES)
@settings(max_examples=60, deadline=None)
@given(X=measurements)
def test_transform_equals_scikit_learn(kind: str, X: np.ndarray) -> None:
    scaler = fit_scaler(X, kind)
    reference = REFERENCES[kind]().fit(X)
    new_rows = X[::-1] * 0.5 + 1.0
    np.testing.assert_allclose(scaler.transform(new_rows), reference.transform(new_rows).astype(np.float32),
                               rtol=1e-5, atol=1e-5)
    assert scaler.n_fit_rows == len(X)


def test_standard_uses_mean_and_population_std() -> None:
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    scaler = fit_scaler(X, "standard")
    np.testing.assert_allclose(scaler.shift, [3.0, 10.0])
    np.testing.assert_allclose(scaler.scale, [np.sqrt(8 / 3), 1.0])  # a constant column keeps scale 1
    assert scaler.transform(X).dtype == np.float32


@pytest.mark.parametrize("kind", REFERENCES)
@pytest.mark.parametrize("value", [0.1, 1e6 + 0.1, -3.7e-5])
def test_constant_column_maps_to_zero_despite_round_off(kind: str, value: float) -> None:
    X = np.full((7, 1), value)
    scaler = fit_scaler(X, kind)
    assert scaler.scale[0] == 1.0
    np.testing.assert_allclose(scaler.transform(X), REFERENCES[kind]().fit(X).transform(X), atol=1e-6)


def test_none_is_the_identity_and_round_trips_through_a_dict() -> None:
    X = np.array([[1.5, -2.0], [0.0, 4.0]])
    scaler = fit_scaler(X, "none")
    np.testing.assert_array_equal(scaler.transform(X), X.astype(np.float32))
    again = Scaler.from_dict(scaler.to_dict())
    assert again.kind == "none" and again.n_fit_rows == 2
    np.testing.assert_array_equal(again.transform(X), scaler.transform(X))


def test_unknown_kind_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="scaler = 'robust' is invalid: expected one of standard, minmax, none"):
        fit_scaler(np.ones((3, 2)), "robust")


@pytest.mark.parametrize("kind", REFERENCES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_table_longer_than_a_chunk_scales_as_scikit_learn_and_in_place(kind: str, dtype: type) -> None:
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((2 * CHUNK_ROWS + 5, 3)) * [1.0, 50.0, 1e-3] + [0.0, 1e4, -2.0]).astype(dtype)
    scaler = fit_scaler(X, kind)
    reference = REFERENCES[kind]().fit(X.astype(np.float64))
    np.testing.assert_allclose(scaler.shift, reference.mean_ if kind == "standard" else reference.data_min_, rtol=1e-7)
    expected = reference.transform(X.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(scaler.transform(X), expected, rtol=1e-5, atol=1e-5)
    if dtype is np.float32:
        in_place = X.copy()
        assert scaler.transform(in_place, out=in_place) is in_place
        np.testing.assert_array_equal(in_place, scaler.transform(X))


@pytest.mark.parametrize(("kind", "column"), [
    ("standard", [1e200, -1e200, 0.0]),  # its squares overflow
    *((kind, column) for kind in REFERENCES for column in ([1e308, -1e308, 5.0], [np.inf, 0.0, 1.0],
                                                          [-np.inf, np.inf, 0.0])),
])
def test_a_column_past_float64_arithmetic_is_fit_without_warnings_and_never_scaled_into_range(
        kind: str, column: list[float]) -> None:
    X = np.array(column)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaler = fit_scaler(X, kind)
    with np.errstate(all="ignore"):
        assert not np.isfinite(scaler.transform(X)).all()  # what finite_or_refused refuses, naming the column


@pytest.mark.parametrize(("name", "noise", "scaler", "error"), [
    ("moons", 1e308, "standard", ConfigError), ("moons", 1e308, "minmax", ConfigError),
    ("spiral", 1e308, "standard", ConfigError), ("blobs", 1e308, "none", ConfigError),
    ("xor", 1e300, "standard", DataError),  # finite, but beyond float32 once scaled
])
def test_a_noise_past_float64_is_refused_without_a_numpy_warning(name: str, noise: float, scaler: str,
                                                                 error: type[Exception]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(error):
            datasets.load(name, noise=noise, scaler=scaler)


def test_the_command_prints_one_line_for_a_noise_past_float64(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "clf_tui", "train", "--dataset", "moons", "--noise", "1e308",
                           "--epochs", "1", "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=HANG_S)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["clf-tui: error: noise = 1e+308 is invalid: the features of moons overflow "
                                        "float64 at that noise; expected a smaller noise"]
