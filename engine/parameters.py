"""The learned model as the course shows it: logistic weights in scaled and raw units, the boundary, layer norms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from .batching import TensorBatches
from .build import VAL_CHUNK_ROWS, split_tensors

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit

    from .trainer import Trainer

FeatureKind = Literal["number", "one-hot", "flag", "missing"]
FINAL_LAYERS = (nn.Sigmoid, nn.LogSoftmax, nn.Softmax, nn.Identity)
"""Layers without weights that may follow a logistic regression's one Linear layer."""


@dataclass(frozen=True)
class FeatureWeight:
    """One feature's weight in one output of a logistic regression."""

    feature: str
    scaled: float
    """Per unit of the scaled feature that the model sees."""
    raw: float
    """Per unit of the feature in the data's own units: ``scaled / scale``."""
    kind: FeatureKind
    """"number", or a 0/1 column of a CSV file ("one-hot" category, boolean "flag", "missing" indicator), whose
    own units are 0 and 1: its raw weight is what the output gains when the column goes from 0 to 1."""


@dataclass(frozen=True)
class OutputWeights:
    """One output of a logistic regression: ``score = sum(w * x) + b``, in scaled units and in raw ones."""

    label: str
    """The class whose score (logit, log-probability or regressed value) it is."""
    weights: tuple[FeatureWeight, ...]
    bias_scaled: float
    bias_raw: float
    """``bias_scaled - sum(w * shift / scale)``: the same score computed from the data's own units."""


@dataclass(frozen=True)
class Boundary:
    """Where P(positive class) equals ``threshold`` for data of two features, in the data's own units: the line
    ``coef_x * x + coef_y * y + intercept = level``."""

    x_feature: str
    y_feature: str
    threshold: float
    level: float
    """The score at P = threshold: T * logit(threshold) for a sigmoid or softmax (T the temperature, 1 unless
    fit), the probability itself for mse, whose output is read as one."""
    coef_x: float
    coef_y: float
    intercept: float

    @property
    def slope(self) -> float | None:
        """dy / dx along the line; None for a vertical line (or none at all)."""
        return -self.coef_x / self.coef_y if self.coef_y else None

    @property
    def offset(self) -> float | None:
        """y where the line crosses x = 0; None for a vertical line (or none at all)."""
        return (self.level - self.intercept) / self.coef_y if self.coef_y else None

    def y_at(self, x: float) -> float:
        """The boundary's y at ``x``; NaN for a vertical line (or none at all)."""
        if not self.coef_y:
            return math.nan
        return (self.level - self.intercept - self.coef_x * x) / self.coef_y

    @property
    def equation(self) -> str:
        """``x2 = 1.234 x1 - 0.45``; ``x1 = 0.3`` for a vertical line; says so when both weights are 0."""
        if self.coef_y:
            slope, offset = self.slope, self.offset
            assert slope is not None and offset is not None
            sign = "-" if offset < 0 else "+"
            return f"{self.y_feature} = {_number(slope)} {self.x_feature} {sign} {_number(abs(offset))}"
        if self.coef_x:
            return f"{self.x_feature} = {_number((self.level - self.intercept) / self.coef_x)}"
        return "none: both weights are 0, so every point has the same probability"


@dataclass(frozen=True)
class LogisticWeights:
    """A logistic regression's weights: one output for two classes (bce, bce_logits, mse), one per class else."""

    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    outputs: tuple[OutputWeights, ...]
    scaler: str
    """The scaler the raw units are undone from: "standard", "minmax" or "none" (raw and scaled then agree)."""
    loss: str | None
    """The loss the model trained with (it says how outputs become probabilities); None for one the engine does not
    know."""
    temperature: float = 1.0

    @property
    def has_indicators(self) -> bool:
        """Whether some features are 0/1 columns of a CSV file, whose raw units are 0 and 1."""
        return any(w.kind != "number" for w in self.outputs[0].weights)

    def boundary(self, threshold: float = 0.5) -> Boundary | None:
        """The decision boundary at ``threshold`` (strictly between 0 and 1) for two features and two classes;
        None for other data, or a loss the engine does not know."""
        if len(self.feature_names) != 2 or len(self.class_names) != 2 or self.loss is None:
            return None
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold = {threshold!r}: a boundary needs a threshold strictly between 0 and 1")
        if len(self.outputs) == 1:
            coefs = [w.raw for w in self.outputs[0].weights]
            intercept = self.outputs[0].bias_raw
        else:  # two scores through a softmax: P(class 1) = sigmoid(their difference)
            negative, positive = self.outputs
            coefs = [p.raw - n.raw for p, n in zip(positive.weights, negative.weights)]
            intercept = positive.bias_raw - negative.bias_raw
        logit = self.temperature * math.log(threshold / (1.0 - threshold))
        level = 1.0 / (1.0 + math.exp(-logit)) if self.loss == "mse" else logit
        x, y = self.feature_names
        return Boundary(x, y, threshold, level, coefs[0], coefs[1], intercept)


@dataclass(frozen=True, eq=False)
class LayerWeights:
    """One Linear layer: its weight matrix (out_features x in_features), its norm and its gradient's norm."""

    name: str
    """The layer's name in the model's ``named_modules`` ("0", "2", ...)."""
    shape: tuple[int, int]
    weight: np.ndarray
    """A read-only float32 copy, for a heat map."""
    norm: float
    """The weight matrix's Frobenius norm."""
    grad_norm: float | None
    """The Frobenius norm of the training loss's gradient with respect to the weight matrix, over every training
    row at these weights; None when it was not computed."""


@dataclass(frozen=True, eq=False)
class LearnedParameters:
    """What a trainer's model has learned, at epoch ``epoch``."""

    epoch: int
    layers: tuple[LayerWeights, ...]
    logistic: LogisticWeights | None
    """The weights feature by feature when the model is a logistic regression (one Linear layer); None else."""
    train_loss: float | None
    """The training loss over every training row at these weights (in eval mode), whose gradient ``grad_norm``
    measures; None when gradients were not computed."""


def learned_parameters(trainer: Trainer, *, gradients: bool = True) -> LearnedParameters:
    """The weights of ``trainer``'s model as plain values, and (with ``gradients``) each layer's gradient norm.

    Leaves the trainer as it was: the weights, the optimiser, the random generators, every module's train or
    eval mode and every parameter's ``.grad`` (``training_gradients``).
    """
    model = trainer.unwrapped_model
    linears = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    grads = training_gradients(trainer) if gradients else None
    layers = tuple(
        LayerWeights(name, (layer.out_features, layer.in_features), _read_only(layer.weight),
                     float(torch.linalg.matrix_norm(layer.weight.detach().float())),
                     None if grads is None or name not in grads[1] else grads[1][name])
        for name, layer in linears
    )
    return LearnedParameters(trainer.total_epochs, layers, logistic_weights(trainer),
                             None if grads is None else grads[0])


def is_logistic(model: nn.Module) -> bool:
    """Whether ``model`` is a logistic regression: a Sequential of one Linear layer, and perhaps a Sigmoid,
    LogSoftmax or Softmax after it."""
    if not isinstance(model, nn.Sequential) or len(model) == 0 or not isinstance(model[0], nn.Linear):
        return False
    return all(isinstance(layer, FINAL_LAYERS) for layer in list(model)[1:])


def logistic_weights(trainer: Trainer) -> LogisticWeights | None:
    """The weight of each feature and the bias of each output, scaled and raw; None unless ``is_logistic``.

    The engine's scaler gives the model ``(x - shift) / scale``, so an output's score is
    ``sum(w / scale * x) + b - sum(w * shift / scale)`` in the data's own units. A trainer without data (built
    by hand) has no scaler: its raw weights are its scaled ones.
    """
    model = trainer.unwrapped_model
    if not is_logistic(model):
        return None
    linear: nn.Linear = model[0]
    weight = linear.weight.detach().cpu().double().numpy()
    bias = linear.bias.detach().cpu().double().numpy() if linear.bias is not None else np.zeros(len(weight))
    data = trainer.data
    n_features = weight.shape[1]
    if data is not None:
        shift, scale = data.scaler.shift, data.scaler.scale
        feature_names, class_names, scaler = data.feature_names, data.class_names, data.scaler.kind
    else:
        shift, scale = np.zeros(n_features), np.ones(n_features)
        feature_names = tuple(f"x{i + 1}" for i in range(n_features))
        n_classes = trainer.n_classes or max(len(weight), 2)
        class_names, scaler = tuple(str(i) for i in range(n_classes)), "none"
    raw = weight / scale
    bias_raw = bias - raw @ shift
    kinds = feature_kinds(data) if data is not None else ("number",) * n_features
    labels = (class_names[1],) if len(weight) == 1 else class_names
    outputs = tuple(
        OutputWeights(label, tuple(FeatureWeight(name, float(w), float(r), kind)
                                   for name, w, r, kind in zip(feature_names, weight[i], raw[i], kinds)),
                      float(bias[i]), float(bias_raw[i]))
        for i, label in enumerate(labels)
    )
    loss = trainer.spec.name if trainer.spec is not None else None
    return LogisticWeights(tuple(feature_names), tuple(class_names), outputs, scaler, loss, trainer.temperature)


def feature_kinds(data: DataSplit) -> tuple[FeatureKind, ...]:
    """Each feature's kind: a number, or a 0/1 column that a CSV file's preprocessing made."""
    if data.preprocessing is None:
        return ("number",) * data.n_features
    kinds: list[FeatureKind] = []
    for column in data.preprocessing.columns:
        n_values = len(column.feature_names) - int(column.indicator)
        kind: FeatureKind = ("one-hot" if column.role == "categorical" else "flag" if column.role == "boolean"
                             else "number")
        kinds += [kind] * n_values + (["missing"] if column.indicator else [])
    return tuple(kinds)


def training_rows(trainer: Trainer) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The training rows and their targets (as the loss takes them), read without drawing a batch order; None
    for a loader that cannot give them so."""
    loader = trainer.train_loader
    if isinstance(loader, TensorBatches):
        return loader.X, loader.y
    dataset = getattr(loader, "dataset", None)
    if type(dataset) is TensorDataset and len(dataset.tensors) == 2:
        return dataset.tensors[0], dataset.tensors[1]
    if trainer.data is not None and trainer.spec is not None:
        X_train, y_train, _, _ = split_tensors(trainer.data, trainer.spec)
        return X_train, y_train
    return None


def training_gradients(trainer: Trainer) -> tuple[float, dict[str, float]] | None:
    """The training loss over every training row at the current weights, and the Frobenius norm of its gradient
    with respect to each trainable Linear layer's weight, by layer name; None without training rows.

    The loss is the full batch's, as the loss function reduces it (chunks of rows are weighted by their share of
    a mean), in eval mode so that dropout draws nothing. The gradients come from ``torch.autograd.grad``: no
    step is taken and no parameter's ``.grad`` is touched; every module's mode is put back.
    """
    rows = training_rows(trainer)
    if rows is None or len(rows[0]) == 0:
        return None
    X, y = rows
    model = trainer.unwrapped_model
    named = [(name, module.weight) for name, module in model.named_modules()
             if isinstance(module, nn.Linear) and module.weight.requires_grad]
    if not named:
        return None
    weights = [weight for _, weight in named]
    sums = [torch.zeros_like(weight) for weight in weights]
    total = torch.zeros((), dtype=torch.float64, device=weights[0].device)
    n = len(X)
    mean = getattr(trainer.loss_fn, "reduction", "mean") == "mean"
    modes = {module: module.training for module in model.modules()}
    try:
        model.eval()
        with torch.enable_grad():
            for start in range(0, n, VAL_CHUNK_ROWS):
                x_chunk = X[start:start + VAL_CHUNK_ROWS].to(trainer.device)
                y_chunk = y[start:start + VAL_CHUNK_ROWS].to(trainer.device)
                loss = trainer.loss_fn(model(x_chunk), y_chunk)
                if mean:
                    loss = loss * (len(x_chunk) / n)
                for running, grad in zip(sums, torch.autograd.grad(loss, weights)):
                    running += grad
                total += loss.detach()
    finally:
        for module, training in modes.items():
            module.training = training
    norms = {name: float(torch.linalg.matrix_norm(grad.double())) for (name, _), grad in zip(named, sums)}
    return float(total), norms


def _read_only(weight: torch.Tensor) -> np.ndarray:
    array = weight.detach().float().cpu().numpy().copy()
    array.flags.writeable = False
    return array


def _number(value: float) -> str:
    """Four significant digits, without a minus sign on zero."""
    text = f"{value:.4g}"
    return "0" if text in ("-0", "0") else text
