"""The lessons: every configuration valid and trainable, the first one the course's run, and the claims of their
text that are facts of the engine (one loss written two ways trains alike)."""

from __future__ import annotations

import numpy as np
import pytest

from clf_tui.engine import ConfigError, Trainer
from clf_tui.engine.compare import compare
from clf_tui.engine.comparison import MAX_CONFIGS, ComparisonEnded
from clf_tui.engine.lessons import LESSONS, lesson, lesson_names


@pytest.mark.parametrize("name", list(LESSONS))
def test_each_configuration_trains(name: str) -> None:
    found = lesson(name)
    assert found.name == name and found.title and 2 <= len(found.text) <= 3
    configs = found.configs()
    assert len(configs) == 1 + len(found.variants) <= MAX_CONFIGS
    for cfg in configs:
        trainer = Trainer.from_config(cfg.replace(epochs=2, device="cpu"))
        trainer.train(2)
        assert trainer.total_epochs == 2 and all(np.isfinite(trainer.losses))
    if found.is_comparison:
        assert len(set(found.labels())) == len(configs)
        ended = list(compare([cfg.replace(epochs=1, device="cpu") for cfg in configs], 2))[-1]
        assert isinstance(ended, ComparisonEnded) and ended.comparison is not None


def test_the_first_lesson_is_the_courses_logistic_regression() -> None:
    cfg = lesson("logistic-moons").config
    assert (cfg.dataset, cfg.n_samples, cfg.noise, cfg.val_fraction, cfg.stratify) == ("moons", 100, 0.3, 0.2, False)
    assert (cfg.model, cfg.loss, cfg.optimizer, cfg.lr, cfg.batch_size, cfg.epochs) == (
        "logistic", "bce_logits", "sgd", 0.1, 16, 100)
    trainer = Trainer.from_config(cfg.replace(device="cpu"))
    assert (len(trainer.data.y_train), len(trainer.data.y_val)) == (80, 20)


def test_the_optimisers_lesson_compares_the_four() -> None:
    assert [cfg.optimizer for cfg in lesson("optimizers").configs()] == ["sgd", "momentum", "rmsprop", "adam"]


def test_the_imbalanced_lesson_has_a_rare_positive_class() -> None:
    configs = lesson("bce-pos-weight").configs()
    assert [(cfg.loss, cfg.pos_weight) for cfg in configs] == [("bce", "none"), ("bce_logits", "none"),
                                                               ("bce_logits", "auto")]
    data = Trainer.from_config(configs[0].replace(device="cpu")).data
    n_negative, n_positive = data.class_counts["train"]
    assert data.class_names[1] == "malignant" and n_positive < 0.4 * (n_negative + n_positive)


@pytest.mark.parametrize("name", ["bce-pos-weight", "softmax-vs-nll"])
def test_one_loss_written_two_ways_trains_alike(name: str) -> None:
    first, second = (Trainer.from_config(cfg.replace(epochs=10, device="cpu")) for cfg in lesson(name).configs()[:2])
    first.train(10)
    second.train(10)
    np.testing.assert_allclose(first.losses, second.losses, rtol=1e-5)
    np.testing.assert_allclose(first.evaluate()[1], second.evaluate()[1], atol=1e-5)


def test_an_unknown_lesson_lists_the_names() -> None:
    with pytest.raises(ConfigError, match="unknown lesson 'moons'; lessons are: " + ", ".join(lesson_names())):
        lesson("moons")
