"""Every built-in loads, split and scaled as documented, and reproduces the course's arrays."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from clf_tui import datasets
from clf_tui.datasets.builtin import CUBIC_X, FLAMINGO_MEAN, SEAGULL_MEAN, make_builtin
from clf_tui.engine.config import RunConfig
from clf_tui.errors import ConfigError, DataError
from tests.limits import HANG_S

FIXED_SIZES = {"cubic": 162, "iris": 150, "wine": 178, "breast_cancer": 569, "digits": 1797}


@pytest.mark.parametrize("entry", datasets.describe(), ids=lambda entry: entry["name"])
def test_every_built_in_loads_as_described(entry: dict) -> None:
    split = datasets.load(entry["name"])
    n_rows = len(split.y_train) + len(split.y_val)
    assert n_rows == FIXED_SIZES.get(entry["name"], 1000) == entry["n_samples"]
    assert split.name == entry["name"]
    assert split.X_train.shape == (len(split.y_train), entry["n_features"])
    assert split.X_val.shape == (len(split.y_val), entry["n_features"])
    assert split.X_train.dtype == split.X_val.dtype == np.float32
    assert split.y_train.dtype == split.y_val.dtype == np.int64
    assert split.class_names == entry["class_names"] and split.n_classes == entry["n_classes"]
    assert split.task == ("binary" if entry["n_classes"] == 2 else "multiclass")
    assert len(split.feature_names) == entry["n_features"]
    counts = split.class_counts
    assert sum(counts["train"]) == len(split.y_train) and sum(counts["val"]) == len(split.y_val)
    assert min(counts["train"]) > 0 and min(counts["val"]) > 0
    assert len(split.y_val) == int(np.ceil(0.2 * n_rows))
    assert split.scaler.kind == "standard" and split.scaler.n_fit_rows == len(split.X_train)
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0.0, atol=1e-5)
    varying = split.X_train.std(axis=0) > 0  # digits has blank pixels
    np.testing.assert_allclose(split.X_train.std(axis=0)[varying], 1.0, atol=1e-4)


def test_course_moons_are_reproduced_exactly() -> None:
    X, y = make_moons(n_samples=100, noise=0.3, random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=13)
    reference = StandardScaler().fit(X_train)
    split = datasets.load("moons", n_samples=100, noise=0.3, data_seed=0, split_seed=13, stratify=False,
                          val_fraction=0.2)
    np.testing.assert_allclose(split.X_train, reference.transform(X_train), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(split.X_val, reference.transform(X_val), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(split.y_train, y_train)
    np.testing.assert_array_equal(split.y_val, y_val)
    np.testing.assert_allclose(split.scaler.shift, reference.mean_)
    np.testing.assert_allclose(split.scaler.scale, reference.scale_)


def test_the_scaler_sees_the_training_rows_only() -> None:
    raw = datasets.load("wine", scaler="none")
    every_row = np.vstack([raw.X_train, raw.X_val])
    standard = datasets.load("wine", scaler="standard")
    np.testing.assert_allclose(standard.scaler.shift, raw.X_train.mean(axis=0), rtol=1e-6)
    assert not np.allclose(standard.scaler.shift, every_row.mean(axis=0), rtol=1e-6)
    minmax = datasets.load("wine", scaler="minmax")
    np.testing.assert_allclose(minmax.scaler.shift, raw.X_train.min(axis=0), rtol=1e-6)
    assert minmax.X_train.min() == 0.0 and minmax.X_train.max() == pytest.approx(1.0)
    for split in standard, minmax:
        np.testing.assert_allclose(split.X_val, split.scaler.transform(raw.X_val), atol=1e-5)


def test_seeds_reproduce_and_change_the_data() -> None:
    first, again = datasets.load("spiral", data_seed=3), datasets.load("spiral", data_seed=3)
    np.testing.assert_array_equal(first.X_train, again.X_train)
    np.testing.assert_array_equal(first.y_val, again.y_val)
    assert not np.array_equal(first.X_train, datasets.load("spiral", data_seed=4).X_train)
    assert not np.array_equal(first.y_train, datasets.load("spiral", data_seed=3, split_seed=1).y_train)


@pytest.mark.parametrize("name", ["blobs", "spiral"])
@pytest.mark.parametrize("k", [2, 5])
def test_blobs_and_spiral_have_n_classes(name: str, k: int) -> None:
    split = datasets.load(name, n_classes=k, n_samples=301)
    assert split.class_names == tuple(str(i) for i in range(k))
    assert split.task == ("binary" if k == 2 else "multiclass")
    assert sum(split.class_counts["train"]) + sum(split.class_counts["val"]) == 301


def test_n_samples_and_noise_reach_the_generators() -> None:
    clean = make_builtin("xor", n_samples=500, noise=0.0)
    assert clean.X.shape == (500, 2)
    np.testing.assert_array_equal(clean.y, clean.X[:, 0] * clean.X[:, 1] > 0)
    assert np.abs(clean.X).max() <= 1.0
    assert make_builtin("moons", n_samples=37).X.shape == (37, 2)


def test_gaussians_are_seagulls_and_flamingos_around_their_means() -> None:
    data = make_builtin("gaussians", n_samples=4001, noise=0.5)
    assert data.class_names == ("seagull", "flamingo")
    assert np.bincount(data.y).tolist() == [2001, 2000]
    np.testing.assert_allclose(data.X[data.y == 0].mean(axis=0), SEAGULL_MEAN, atol=0.05)
    np.testing.assert_allclose(data.X[data.y == 1].mean(axis=0), FLAMINGO_MEAN, atol=0.05)
    np.testing.assert_allclose(data.X[data.y == 1].std(axis=0), 0.5, atol=0.05)


def test_cubic_is_fixed_on_its_grid() -> None:
    data = make_builtin("cubic", n_samples=10, noise=3.0)  # both ignored
    assert data.X.shape == (162, 2) and data.class_names == ("below", "above")
    assert np.bincount(data.y).tolist() == [81, 81]
    np.testing.assert_allclose(np.unique(data.X[:, 0]), (CUBIC_X + 10) / 20)
    assert np.allclose(np.diff(CUBIC_X), 0.25) and CUBIC_X.size == 81
    curve = 3 * CUBIC_X**3 + 2 * CUBIC_X**2 + 5 * CUBIC_X
    curve = (curve - curve.min()) / (curve.max() - curve.min())
    shift_up = data.X[data.y == 1, 1] - curve
    shift_down = curve - data.X[data.y == 0, 1]
    for shift in shift_up, shift_down:
        assert shift.min() >= -0.1 and shift.max() < 0.3
    assert datasets.load("cubic", n_samples=5).scaler.n_fit_rows == 129


def test_bundled_sets_keep_their_names() -> None:
    iris = datasets.load("iris")
    assert iris.feature_names[0] == "sepal length (cm)" and iris.class_names[0] == "setosa"
    digits = make_builtin("digits")
    assert digits.feature_names[:2] == ("pixel_0_0", "pixel_0_1") and digits.class_names[-1] == "9"
    assert all(type(name) is str for name in digits.feature_names + digits.class_names)


def test_listing() -> None:
    names = datasets.builtin_names()
    assert names[0] == "moons" and {"gaussians", "cubic", "breast_cancer"} <= set(names)
    entries = datasets.describe()
    assert [entry["name"] for entry in entries] == list(names)
    assert all(entry["description"] and "\n" not in entry["description"] for entry in entries)
    assert entries[names.index("cubic")]["noise"] is None and entries[0]["noise"] == 0.3
    assert next(e for e in datasets.describe(n_classes=4) if e["name"] == "blobs")["n_classes"] == 4


def test_unknown_built_in_lists_the_built_ins() -> None:
    with pytest.raises(DataError) as raised:
        datasets.load("mons")
    message = str(raised.value)
    assert "unknown built-in data set 'mons'" in message and "did you mean 'moons'" in message
    assert all(repr(name) in message for name in datasets.builtin_names())
    assert ".csv or .npz" in message


@pytest.mark.parametrize(("options", "message"), [
    ({"n_samples": 3}, "n_samples = 3 is invalid: expected at least 4 and at most 10000000"),
    ({"noise": -0.1}, "noise = -0.1 is invalid: expected a number >= 0"),
    ({"n_classes": 1}, "n_classes = 1 is invalid: expected at least 2"),
    ({"val_fraction": 1.0}, "val_fraction = 1.0 is invalid: expected between 0 and 1, exclusive"),
    ({"scaler": "robust"}, "scaler = 'robust' is invalid"),
])
def test_bad_options_name_the_option(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        datasets.load("blobs", **options)
    assert raised.value.field == next(iter(options))


@pytest.mark.parametrize("options", [{"n_samples": 3}, {"n_samples": 10_000_001}, {"noise": float("inf")},
                                     {"n_classes": 1}, {"n_classes": 101}])
def test_the_config_and_the_data_sets_refuse_an_option_alike(options: dict) -> None:
    with pytest.raises(ConfigError) as by_config:
        RunConfig(dataset="blobs", **options)
    with pytest.raises(ConfigError) as by_data_set:
        datasets.load("blobs", **options)
    assert by_config.value.message == by_data_set.value.message
    assert by_config.value.field == by_data_set.value.field == next(iter(options))


def test_importing_the_package_is_light() -> None:
    code = "import sys, clf_tui.datasets; print(sorted({'sklearn', 'torch', 'textual'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=HANG_S)
    assert result.stdout.strip() == "[]"
