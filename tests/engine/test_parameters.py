"""The learned parameters: raw-unit weights that give the model's own scores on raw data, boundary points at
P = threshold, weights and boundaries worked by hand, gradient norms equal to autograd's on the full training
batch, and a trainer left exactly as it was."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from clf_tui.datasets import DataSplit, Scaler
from clf_tui.engine import RunConfig, Trainer
from clf_tui.engine.parameters import is_logistic, learned_parameters, logistic_weights, training_gradients

MOONS = RunConfig(dataset="moons", n_samples=200, model="logistic", optimizer="sgd", lr=0.1, epochs=5, device="cpu")
LOGISTIC = {
    "bce_logits standard": MOONS,
    "bce minmax": MOONS.replace(loss="bce", scaler="minmax"),
    "cross_entropy binary": MOONS.replace(loss="cross_entropy"),
    "mse binary": MOONS.replace(loss="mse"),
    "gaussians no scaler": MOONS.replace(dataset="gaussians", scaler="none"),
    "iris cross_entropy": RunConfig(dataset="iris", model="logistic", epochs=5, device="cpu"),
    "wine nll minmax": RunConfig(dataset="wine", model="logistic", loss="nll", scaler="minmax", epochs=5, device="cpu"),
}


def trained(cfg: RunConfig) -> Trainer:
    trainer = Trainer.from_config(cfg)
    trainer.train(cfg.epochs)
    return trainer


def raw_scores(trainer: Trainer, X_raw: np.ndarray) -> np.ndarray:
    """The logistic regression's scores computed from raw features with its raw weights, in float64."""
    weights = logistic_weights(trainer)
    W = np.array([[w.raw for w in output.weights] for output in weights.outputs])
    b = np.array([output.bias_raw for output in weights.outputs])
    return X_raw @ W.T + b


@pytest.mark.parametrize("setting", list(LOGISTIC))
def test_raw_weights_on_raw_data_give_the_models_scores_on_scaled_data(setting: str) -> None:
    trainer = trained(LOGISTIC[setting])
    data = trainer.data
    X_raw = data.scaler.inverse_transform(data.X_val)
    with torch.no_grad():
        scores = trainer.model[0](torch.from_numpy(data.X_val)).double().numpy()  # the Linear layer, before any Sigmoid
    np.testing.assert_allclose(raw_scores(trainer, X_raw), scores, rtol=1e-5, atol=1e-5)
    weights = logistic_weights(trainer)
    W_scaled = np.array([[w.scaled for w in output.weights] for output in weights.outputs])
    np.testing.assert_array_equal(W_scaled, trainer.model[0].weight.detach().double().numpy())
    assert weights.feature_names == data.feature_names and weights.scaler == data.scaler.kind


def test_weights_and_boundary_by_hand() -> None:
    """transform(x) = (x - (1, 2)) / (2, 4); weights (2, -4), bias 1 give raw weights (1, -1) and raw bias
    1 - (2 * 1 / 2 - 4 * 2 / 4) = 2; so P = 0.5 where x1 - x2 + 2 = 0, x2 = x1 + 2, and P = 0.8 where
    x1 - x2 + 2 = log 4, x2 = x1 + 2 - log 4 = x1 + 0.6137."""
    X = np.zeros((8, 2), dtype=np.float32)
    y = np.array([0, 1] * 4)
    scaler = Scaler("standard", np.array([1.0, 2.0]), np.array([2.0, 4.0]), 8)
    data = DataSplit("hand", X, y, X, y, ("height", "weight"), ("small", "large"), scaler)
    trainer = Trainer.from_config(MOONS, data)
    with torch.no_grad():
        trainer.model[0].weight.copy_(torch.tensor([[2.0, -4.0]]))
        trainer.model[0].bias.fill_(1.0)
    weights = logistic_weights(trainer)
    (output,) = weights.outputs
    assert output.label == "large"
    assert [(w.feature, w.scaled, w.raw) for w in output.weights] == [("height", 2.0, 1.0), ("weight", -4.0, -1.0)]
    assert (output.bias_scaled, output.bias_raw) == (1.0, 2.0)
    assert weights.boundary().equation == "weight = 1 height + 2"
    assert weights.boundary(0.8).equation == "weight = 1 height + 0.6137"
    assert weights.boundary(0.8).offset == pytest.approx(2 - math.log(4))
    trainer.temperature = 2.0  # P = sigmoid(score / 2): P = 0.8 where the score is 2 log 4
    assert logistic_weights(trainer).boundary(0.8).offset == pytest.approx(2 - 2 * math.log(4))
    with torch.no_grad():
        trainer.model[0].weight.copy_(torch.tensor([[2.0, 0.0]]))  # x1 alone decides: x1 + 3 - 1 = 0, x1 = -2
        trainer.model[0].bias.fill_(3.0)
    assert logistic_weights(trainer).boundary().equation == "height = -2"
    assert math.isnan(logistic_weights(trainer).boundary().y_at(0.0))


@pytest.mark.parametrize("setting", ["bce_logits standard", "bce minmax", "cross_entropy binary", "mse binary",
                                     "gaussians no scaler"])
@pytest.mark.parametrize("threshold", [0.5, 0.2, 0.85])
@pytest.mark.parametrize("temperature", [1.0, 1.7])
def test_points_of_the_boundary_have_probability_threshold(setting: str, threshold: float, temperature: float) -> None:
    trainer = trained(LOGISTIC[setting])
    trainer.temperature = temperature
    boundary = logistic_weights(trainer).boundary(threshold)
    X_raw = trainer.data.scaler.inverse_transform(trainer.data.X_train)
    x = np.linspace(X_raw[:, 0].min(), X_raw[:, 0].max(), 7)
    points = np.column_stack([x, [boundary.y_at(value) for value in x]])
    probability = trainer.predict_proba(trainer.data.scaler.transform(points))
    np.testing.assert_allclose(probability, threshold, atol=2e-6)


def test_a_boundary_needs_two_features_and_two_classes() -> None:
    assert logistic_weights(trained(LOGISTIC["iris cross_entropy"])).boundary() is None
    assert logistic_weights(trained(RunConfig(dataset="breast_cancer", model="logistic", epochs=1,
                                              device="cpu"))).boundary() is None
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        logistic_weights(trained(MOONS)).boundary(1.0)


def test_one_hot_and_flag_columns_keep_their_0_1_units(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = ["size,colour,member,label"]
    for i in range(120):
        size = rng.normal(50, 10)
        colour = "red green blue".split()[i % 3]
        member = "yes" if i % 4 else "no"
        rows.append(f"{size:.2f},{colour},{member},{'ab'[int(size > 50 or colour == 'red')]}")
    path = tmp_path / "shop.csv"
    path.write_text("\n".join(rows) + "\n")
    trainer = trained(RunConfig(dataset=str(path), target="label", model="logistic", epochs=3, device="cpu"))
    weights = logistic_weights(trainer)
    kinds = {w.feature: w.kind for w in weights.outputs[0].weights}
    assert kinds == {"size": "number", "colour=blue": "one-hot", "colour=green": "one-hot", "colour=red": "one-hot",
                     "member": "flag"}
    assert weights.has_indicators
    X_raw = trainer.data.scaler.inverse_transform(trainer.data.X_val)
    np.testing.assert_allclose(X_raw[:, 1:], np.round(X_raw[:, 1:]), atol=1e-6)  # the raw units are 0 and 1
    with torch.no_grad():
        scores = trainer.model[0](torch.from_numpy(trainer.data.X_val)).double().numpy()
    np.testing.assert_allclose(raw_scores(trainer, X_raw), scores, rtol=1e-5, atol=1e-5)


def reference_gradient_norms(trainer: Trainer) -> tuple[float, list[float]]:
    """The full training batch through a copy of the model in eval mode, one backward: torch's own numbers."""
    model = copy.deepcopy(trainer.model).eval()
    X, y = trainer.train_loader.X, trainer.train_loader.y
    loss = trainer.loss_fn(model(X), y)
    loss.backward()
    return float(loss.detach()), [float(layer.weight.grad.norm()) for layer in model if isinstance(layer, nn.Linear)]


@pytest.mark.parametrize("cfg", [
    RunConfig(dataset="moons", n_samples=300, hidden=(16, 8), dropout=0.3, epochs=3, device="cpu"),
    RunConfig(dataset="iris", hidden=(8,), loss="nll", epochs=3, device="cpu"),
    RunConfig(dataset="digits", hidden=(32,), loss="mse", epochs=2, device="cpu"),
    RunConfig(dataset="moons", n_samples=12_000, hidden=(8,), pos_weight=2.5, epochs=1, device="cpu"),  # > 1 chunk
], ids=["dropout", "nll", "mse multiclass", "chunks"])
def test_gradient_norms_are_autograds_on_the_full_training_batch(cfg: RunConfig) -> None:
    trainer = trained(cfg)
    parameters = learned_parameters(trainer)
    loss, norms = reference_gradient_norms(trainer)
    assert parameters.train_loss == pytest.approx(loss, rel=1e-5)
    assert [layer.grad_norm for layer in parameters.layers] == pytest.approx(norms, rel=1e-4)
    linears = [layer for layer in trainer.model if isinstance(layer, nn.Linear)]
    assert [layer.shape for layer in parameters.layers] == [(m.out_features, m.in_features) for m in linears]
    for layer, module in zip(parameters.layers, linears):
        np.testing.assert_array_equal(layer.weight, module.weight.detach().numpy())
        assert layer.norm == pytest.approx(float(torch.linalg.matrix_norm(module.weight.detach())))
        assert not layer.weight.flags.writeable
    assert parameters.logistic is None and parameters.epoch == cfg.epochs


def test_a_trainer_built_by_hand_on_a_dataloader() -> None:
    torch.manual_seed(3)
    X, y = torch.randn(50, 3), (torch.rand(50) > 0.5).float().unsqueeze(1)
    model = nn.Sequential(nn.Linear(3, 1))
    trainer = Trainer(model, nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    trainer.set_loaders(DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True))
    trainer.train(2)
    parameters = learned_parameters(trainer)
    loss = nn.BCEWithLogitsLoss()(model(X), y)
    (grad,) = torch.autograd.grad(loss, [model[0].weight])
    assert parameters.train_loss == pytest.approx(float(loss.detach()), rel=1e-6)
    assert parameters.layers[0].grad_norm == pytest.approx(float(grad.norm()), rel=1e-5)
    weights = parameters.logistic
    assert weights.feature_names == ("x1", "x2", "x3") and weights.scaler == "none"
    assert [w.raw for w in weights.outputs[0].weights] == [w.scaled for w in weights.outputs[0].weights]


def everything(trainer: Trainer) -> dict:
    """What a look at the parameters must leave as it was."""
    return {
        "weights": copy.deepcopy(trainer.model.state_dict()),
        "optimizer": copy.deepcopy(trainer.optimizer.state_dict()),
        "rng": trainer.rng_state(),
        "modes": [module.training for module in trainer.model.modules()],
        "grads": [p.grad for p in trainer.model.parameters()],
    }


def assert_same(before: dict, after: dict) -> None:
    for name in ("weights", "rng"):
        assert before[name].keys() == after[name].keys()
        for key in before[name]:
            assert torch.equal(before[name][key], after[name][key]), (name, key)
    assert before["modes"] == after["modes"] and before["grads"] == after["grads"]
    assert repr(before["optimizer"]) == repr(after["optimizer"])


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_trainer_is_left_as_it_was(mode: str) -> None:
    cfg = RunConfig(dataset="moons", n_samples=300, hidden=(16,), dropout=0.5, epochs=6, device="cpu")
    reference = trained(cfg)
    trainer = Trainer.from_config(cfg)
    trainer.train(3)
    trainer.model.train(mode == "train")
    before = everything(trainer)
    learned_parameters(trainer)
    assert_same(before, everything(trainer))
    trainer.train(3)  # dropout draws the same masks and the batches come in the same order as without the look
    assert trainer.losses == reference.losses


def test_logistic_is_one_linear_layer_and_perhaps_a_final_one() -> None:
    assert is_logistic(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()))
    assert is_logistic(nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1)))
    assert not is_logistic(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)))
    assert not is_logistic(nn.Linear(2, 1))
    assert training_gradients(Trainer(nn.Sequential(nn.Linear(2, 1)), nn.MSELoss(),
                                      torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1))) is None
