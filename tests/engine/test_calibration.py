"""Calibration against scikit-learn's calibration_curve and brier_score_loss, and temperature scaling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from clf_tui.engine.calibration import apply_temperature, fit_temperature, reliabilities, reliability


def test_the_reliability_diagram_is_scikit_learns() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(1000) ** 2
    p[:10] = [0.0, 0.1, 0.2, 0.5, 0.9, 1.0, 0.3, 0.7, 0.1, 0.2]  # on the bins' edges
    y = (rng.random(1000) < p).astype(int)
    diagram = reliability(y, p, "1", n_bins=10)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    filled = diagram.counts > 0
    assert np.allclose(diagram.observed[filled], observed, atol=1e-12)
    assert np.allclose(diagram.mean_predicted[filled], predicted, atol=1e-12)
    assert diagram.counts.sum() == 1000
    assert diagram.brier == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    weights = diagram.counts[filled] / 1000
    assert diagram.ece == pytest.approx(np.sum(weights * np.abs(observed - predicted)), abs=1e-12)


def test_a_multiclass_task_has_one_diagram_per_class_against_the_rest() -> None:
    rng = np.random.default_rng(1)
    y_prob = softmax(rng.normal(size=(600, 3)) * 2, axis=1)
    y_true = np.array([rng.choice(3, p=row) for row in y_prob])
    diagrams = reliabilities(y_true, y_prob, ("a", "b", "c"))
    assert [d.subject for d in diagrams] == ["a vs rest", "b vs rest", "c vs rest"]
    for c, diagram in enumerate(diagrams):
        assert diagram.brier == pytest.approx(brier_score_loss(y_true == c, y_prob[:, c]), abs=1e-12)


def test_temperature_scaling_recovers_the_temperature_that_overconfidence_put_in() -> None:
    """Labels drawn from sigmoid(z), probabilities reported as sigmoid(3 z): T = 3 undoes it."""
    rng = np.random.default_rng(2)
    z = rng.normal(size=20_000) * 1.5
    y = (rng.random(20_000) < expit(z)).astype(int)
    overconfident = expit(3 * z)
    temperature = fit_temperature(y, overconfident)
    assert temperature == pytest.approx(3.0, rel=0.05)  # 20,000 labels pin it down to about 2%
    calibrated = apply_temperature(overconfident, temperature)
    assert log_loss(y, calibrated) < log_loss(y, overconfident)
    assert reliability(y, calibrated).ece < reliability(y, overconfident).ece / 3


def test_temperature_scaling_of_a_multiclass_model_keeps_its_argmax() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(3000, 4)) * 2
    y = np.array([rng.choice(4, p=row) for row in softmax(logits, axis=1)])
    overconfident = softmax(2.5 * logits, axis=1).astype(np.float32)
    temperature = fit_temperature(y, overconfident)
    calibrated = apply_temperature(overconfident, temperature)
    assert temperature == pytest.approx(2.5, rel=0.1)
    assert calibrated.dtype == np.float32 and np.allclose(calibrated.sum(axis=1), 1, atol=1e-6)
    assert (calibrated.argmax(axis=1) == overconfident.argmax(axis=1)).all()
    assert log_loss(y, calibrated) < log_loss(y, overconfident)


def test_a_temperature_of_one_changes_nothing() -> None:
    p = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    assert apply_temperature(p, 1.0) is p


def test_a_trainer_fits_its_temperature_uses_it_and_keeps_it_in_its_checkpoint(tmp_path) -> None:
    from clf_tui.engine import RunConfig, Trainer

    trainer = Trainer.from_config(RunConfig(n_samples=400, epochs=30, device="cpu"))
    trainer.train(30)
    y_true, raw = trainer.evaluate()
    fitted = trainer.fit_temperature()
    assert fitted.temperature == trainer.temperature == fit_temperature(y_true, raw)
    # float32 probabilities: scikit-learn sums them in float32, the diagram in float64.
    assert fitted.before[0].brier == pytest.approx(brier_score_loss(y_true, raw), abs=1e-6)
    _, calibrated = trainer.evaluate()
    assert np.allclose(calibrated, apply_temperature(raw, fitted.temperature), atol=1e-6)
    assert fitted.after[0].brier == pytest.approx(brier_score_loss(y_true, calibrated), abs=1e-6)
    assert log_loss(y_true, calibrated) <= log_loss(y_true, raw)
    assert np.allclose(trainer.predict_proba(trainer.data.X_val), calibrated, atol=1e-6)
    restored = Trainer.from_checkpoint(trainer.save_checkpoint(tmp_path / "run.pt"))
    assert restored.temperature == trainer.temperature
    assert np.array_equal(restored.evaluate()[1], calibrated)
