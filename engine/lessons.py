"""The course's experiments as lessons: a run, or a comparison of variants, with what to look at."""

from __future__ import annotations

from dataclasses import dataclass

from clf_tui.errors import ConfigError

from .comparison import apply_overrides, config_labels
from .config import RunConfig


@dataclass(frozen=True)
class Lesson:
    """One experiment: a run of ``config``, or (with ``variants``) a comparison of ``config`` and its variants."""

    name: str
    title: str
    text: tuple[str, ...]
    """Two or three lines saying what to look at."""
    config: RunConfig
    """The run, or the base configuration of a comparison."""
    variants: tuple[str, ...] = ()
    """Compare's ``name=value`` overrides of ``config``, one string per variant; none for a single run."""

    @property
    def is_comparison(self) -> bool:
        return bool(self.variants)

    def configs(self) -> tuple[RunConfig, ...]:
        """``config`` and each variant of it (``comparison.apply_overrides``)."""
        return (self.config, *(apply_overrides(self.config, variant) for variant in self.variants))

    def labels(self) -> tuple[str, ...]:
        """A comparison's names for its configurations: the settings in which each differs."""
        return tuple(config_labels(list(self.configs())))


def _lessons() -> dict[str, Lesson]:
    moons = RunConfig(dataset="moons", n_samples=100, noise=0.3, val_fraction=0.2, stratify=False, model="logistic",
                      loss="bce_logits", optimizer="sgd", lr=0.1, batch_size=16, epochs=100)
    # No built-in set has an imbalance option; breast_cancer's malignant rows are 37% of them, the rarer class.
    cancer = RunConfig(dataset="breast_cancer", positive="malignant", model="logistic", loss="bce", optimizer="sgd",
                       lr=0.01, batch_size=16, epochs=30)
    cubic = RunConfig(dataset="cubic", hidden=(16,), activation="tanh", loss="cross_entropy", optimizer="sgd", lr=0.1,
                      batch_size=16, epochs=100)
    iris = RunConfig(dataset="iris", model="logistic", loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=16,
                     epochs=100)
    digits = RunConfig(dataset="digits", hidden=(64,), optimizer="adam", lr=0.001, batch_size=32, epochs=30)
    optimizers = RunConfig(dataset="moons", hidden=(16, 16), optimizer="sgd", lr=0.01, batch_size=32, epochs=50)
    lessons = (
        Lesson("logistic-moons", "Logistic regression on a small moons set", (
            "100 points, an 80/20 split, SGD at lr 0.1 in batches of 16: the course's first model.",
            "A straight line cannot follow the moons: the loss flattens and the regions page shows a line.",
            "The parameters view gives the two weights and the bias, and that line as an equation.",
        ), moons),
        Lesson("bce-pos-weight", "BCE, BCEWithLogits and pos_weight on an imbalanced set", (
            "Breast cancer with malignant, 37% of the rows, as the positive class; three losses, the same seeds.",
            "BCE and BCEWithLogits give the same numbers: one loss, the second computed from logits, which is stable.",
            "pos_weight weighs each malignant row n_neg / n_pos (about 1.7) times: probabilities lean towards "
            "malignant, which moves the operating point at 0.5, not the ranking: AUROC barely moves.",
        ), cancer, ("loss=bce_logits", "loss=bce_logits pos_weight=auto")),
        Lesson("mse-vs-ce", "MSE against cross-entropy on the cubic set", (
            "Their training losses are on different scales: compare the validation log loss, accuracy and AUROC.",
            "MSE regresses 0 and 1, and its outputs are clipped to read as probabilities: confident mistakes "
            "cost it dearly in log loss.",
        ), cubic, ("loss=mse",)),
        Lesson("softmax-vs-nll", "Softmax + cross-entropy against log-softmax + NLL on iris", (
            "CrossEntropyLoss takes logits and applies log-softmax itself; NLLLoss takes a model ending in "
            "LogSoftmax.",
            "The two train alike, to the last digits: one loss, written two ways.",
        ), iris, ("loss=nll",)),
        Lesson("mlp-digits", "An MLP on the 8x8 digits", (
            "64 pixel intensities, 10 classes, one hidden layer of 64 units trained with Adam.",
            "Watch the training loss fall below the validation loss; the confusion matrix shows which digits it "
            "mixes up.",
            "The parameters view shows each layer's weights as a heat map, with its norm and gradient norm.",
        ), digits),
        Lesson("optimizers", "SGD, momentum, RMSProp and Adam", (
            "The same MLP on moons at the same learning rate, 0.01, over the same seeds.",
            "Plain SGD is still far from the others after 50 epochs: compare the validation log loss and the curves.",
        ), optimizers, ("optimizer=momentum", "optimizer=rmsprop", "optimizer=adam")),
    )
    return {lesson.name: lesson for lesson in lessons}


LESSONS = _lessons()


def lesson_names() -> tuple[str, ...]:
    """The lessons' names, in the course's order."""
    return tuple(LESSONS)


def lesson(name: str) -> Lesson:
    """The lesson called ``name``.

    Raises:
        ConfigError: there is no such lesson (the message lists the names).
    """
    found = LESSONS.get(name)
    if found is None:
        raise ConfigError(f"unknown lesson {name!r}; lessons are: {', '.join(LESSONS)}")
    return found
