"""The built-in data sets: scikit-learn's generators and bundled sets, and the course's own."""

from __future__ import annotations

import difflib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from clf_tui.datasets.labelled import Labelled, listing, numbered
from clf_tui.errors import ConfigError, DataError

# (n_samples, noise, n_classes, seed) -> (X, y); each generator ignores what it does not use.
RowGenerator = Callable[[int, float, int, int], tuple[np.ndarray, np.ndarray]]

SEAGULL_MEAN = (5.0, 3.0)
FLAMINGO_MEAN = (8.0, 7.0)
CUBIC_X = np.linspace(-10.0, 10.0, 81)  # step 0.25
MIN_GENERATED_ROWS = 4
MAX_GENERATED_ROWS = 10_000_000
"""The most rows a synthetic set generates: more would exhaust memory before training began."""
MAX_CLASSES = 100
"""The most classes blobs and spiral generate."""


@dataclass(frozen=True)
class Builtin(ABC):
    """A built-in data set: what it is, its defaults and its shape.

    ``n_samples`` is the default number of rows, or the fixed size of a set that
    ignores the option; ``noise`` is the default noise, None for fixed sets (which
    ignore both). ``class_names`` None means one class per ``n_classes``, named
    "0", "1", ...
    """

    name: str
    description: str
    n_samples: int
    noise: float | None
    n_features: int
    class_names: tuple[str, ...] | None

    def classes(self, n_classes: int) -> tuple[str, ...]:
        """The class names this set has when ``n_classes`` are asked for."""
        return self.class_names or numbered("", n_classes, start=0)

    @abstractmethod
    def make(self, n_samples: int, noise: float, n_classes: int, seed: int) -> Labelled:
        """Generate or load the rows."""


@dataclass(frozen=True)
class Synthetic(Builtin):
    """A set drawn by a generator seeded with the data seed; its features are x1, x2, ..."""

    generate: RowGenerator

    def make(self, n_samples: int, noise: float, n_classes: int, seed: int) -> Labelled:
        with np.errstate(over="ignore", invalid="ignore"):  # a noise that overflows float64 is refused below
            X, y = self.generate(n_samples, noise, n_classes, seed)
        if not np.isfinite(X).all():
            raise ConfigError(f"noise = {noise!r} is invalid: the features of {self.name} overflow float64 at that "
                              "noise; expected a smaller noise", field="noise")
        return Labelled(self.name, X.astype(np.float64), y.astype(np.int64),
                        numbered("x", X.shape[1]), self.classes(n_classes))


@dataclass(frozen=True)
class Bundled(Builtin):
    """A set shipped with scikit-learn, with its own feature names and target names."""

    loader: str

    def make(self, n_samples: int, noise: float, n_classes: int, seed: int) -> Labelled:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, self.loader)()
        return Labelled(self.name, bunch.data.astype(np.float64), bunch.target.astype(np.int64),
                        tuple(str(name) for name in bunch.feature_names),
                        tuple(str(name) for name in bunch.target_names))


def _moons(n_samples: int, noise: float, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n_samples, noise=noise, random_state=seed)


def _circles(n_samples: int, noise: float, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)


def _blobs(n_samples: int, noise: float, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    return make_blobs(n_samples=n_samples, n_features=2, centers=n_classes, cluster_std=noise, random_state=seed)


def _xor(n_samples: int, noise: float, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = X[:, 0] * X[:, 1] > 0  # labelled before the jitter, so jitter blurs the border
    return X + rng.normal(0.0, noise, size=X.shape), y


def _spiral(n_samples: int, noise: float, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # The first n_samples % n_classes arms get one point more, so the rows add up to n_samples.
    sizes = [n_samples // n_classes + (arm < n_samples % n_classes) for arm in range(n_classes)]
    arms = []
    for arm, size in enumerate(sizes):
        radius = np.linspace(0.0, 1.0, size)
        theta = np.linspace(arm * 4.0, (arm + 1) * 4.0, size) + rng.standard_normal(size) * noise
        arms.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
    return np.vstack(arms), np.repeat(np.arange(n_classes), sizes)


def _gaussians(n_samples: int, noise: float, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_flamingos = n_samples // 2
    seagulls = rng.normal(SEAGULL_MEAN, noise, size=(n_samples - n_flamingos, 2))
    flamingos = rng.normal(FLAMINGO_MEAN, noise, size=(n_flamingos, 2))
    return np.vstack([seagulls, flamingos]), np.repeat([0, 1], [len(seagulls), n_flamingos])


def _cubic(n_samples: int, noise: float, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = _unit_range(CUBIC_X)
    curve = _unit_range(3 * CUBIC_X**3 + 2 * CUBIC_X**2 + 5 * CUBIC_X)
    above = curve + rng.uniform(-0.1, 0.3, size=x.size)
    below = curve - rng.uniform(-0.1, 0.3, size=x.size)
    X = np.vstack([np.column_stack([x, below]), np.column_stack([x, above])])
    return X, np.repeat([0, 1], x.size)


def _unit_range(values: np.ndarray) -> np.ndarray:
    return (values - values.min()) / (values.max() - values.min())


BUILTINS: dict[str, Builtin] = {spec.name: spec for spec in (
    Synthetic("moons", "two interleaving half circles (scikit-learn's make_moons)",
              1000, 0.3, 2, ("0", "1"), _moons),
    Synthetic("circles", "a small circle inside a large one (make_circles, factor 0.5)",
              1000, 0.1, 2, ("0", "1"), _circles),
    Synthetic("blobs", "one Gaussian blob per class, n_classes of them (make_blobs; noise is the cluster std)",
              1000, 1.0, 2, None, _blobs),
    Synthetic("xor", "uniform points in [-1, 1]^2, class 1 where x1 * x2 > 0, with Gaussian jitter",
              1000, 0.1, 2, ("0", "1"), _xor),
    Synthetic("spiral", "one spiral arm per class, n_classes of them (the CS231n spiral)",
              1000, 0.2, 2, None, _spiral),
    Synthetic("gaussians", "two Gaussian clouds: seagulls around (5, 3), flamingos around (8, 7); noise is the std",
              1000, 1.5, 2, ("seagull", "flamingo"), _gaussians),
    Synthetic("cubic", "points just below and above the curve 3x^3 + 2x^2 + 5x, scaled to [0, 1] (fixed size)",
              2 * CUBIC_X.size, None, 2, ("below", "above"), _cubic),
    Bundled("iris", "scikit-learn's iris flowers: 4 measurements, 3 species",
            150, None, 4, ("setosa", "versicolor", "virginica"), "load_iris"),
    Bundled("wine", "scikit-learn's wines: 13 chemical measurements, 3 cultivars",
            178, None, 13, ("class_0", "class_1", "class_2"), "load_wine"),
    Bundled("breast_cancer", "scikit-learn's Wisconsin breast cancer: 30 cell nucleus features, 2 diagnoses",
            569, None, 30, ("malignant", "benign"), "load_breast_cancer"),
    Bundled("digits", "scikit-learn's 8x8 handwritten digits: 64 pixel intensities, 10 digits",
            1797, None, 64, numbered("", 10, start=0), "load_digits"),
)}


def builtin_names() -> tuple[str, ...]:
    """The names of the built-in data sets, in listing order."""
    return tuple(BUILTINS)


def describe(n_classes: int = 3) -> list[dict[str, Any]]:
    """One entry per built-in, for a listing: name, description, n_samples (the default or the
    fixed size), noise (the default, None for fixed sets), n_features, n_classes and class_names
    (blobs and spiral shown with ``n_classes`` classes)."""
    entries = []
    for spec in BUILTINS.values():
        class_names = spec.classes(n_classes)
        entries.append({
            "name": spec.name, "description": spec.description, "n_samples": spec.n_samples,
            "noise": spec.noise, "n_features": spec.n_features, "n_classes": len(class_names),
            "class_names": class_names,
        })
    return entries


def make_builtin(name: str, *, n_samples: int | None = None, noise: float | None = None,
                 n_classes: int = 3, data_seed: int = 0) -> Labelled:
    """The rows of the built-in ``name``; unset options take the set's defaults.

    Raises:
        DataError: ``name`` is not a built-in.
        ConfigError: an option is out of range (see ``check_options``).
    """
    spec = BUILTINS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, BUILTINS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise DataError(f"unknown built-in data set {name!r}; {hint}built-ins are {listing(BUILTINS)}, "
                        "or give a path to a .csv or .npz file")
    check_options(n_samples=n_samples, noise=noise, n_classes=n_classes)
    if spec.noise is None:  # a fixed set: its own size, no noise
        return spec.make(spec.n_samples, 0.0, n_classes, data_seed)
    return spec.make(spec.n_samples if n_samples is None else n_samples,
                     spec.noise if noise is None else noise, n_classes, data_seed)


def check_options(*, n_samples: int | None, noise: float | None, n_classes: int) -> None:
    """Refuse an option of the synthetic built-ins out of range; None takes the set's default.

    The one check of these bounds: RunConfig's validation calls it too.

    Raises:
        ConfigError: naming the option in its message and its ``field``.
    """
    _require(n_samples is None or MIN_GENERATED_ROWS <= n_samples <= MAX_GENERATED_ROWS, "n_samples", n_samples,
             f"at least {MIN_GENERATED_ROWS} and at most {MAX_GENERATED_ROWS}")
    _require(noise is None or (math.isfinite(noise) and noise >= 0), "noise", noise, "a number >= 0")
    _require(2 <= n_classes <= MAX_CLASSES, "n_classes", n_classes, f"at least 2 and at most {MAX_CLASSES}")


def _require(ok: bool, name: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{name} = {value!r} is invalid: expected {expected}", field=name)
