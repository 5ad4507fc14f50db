"""Model builders: logistic regression and a multi-layer perceptron."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}
FINAL_LAYERS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "log_softmax": nn.LogSoftmax}


def build_model(
    kind: str,
    n_features: int,
    n_outputs: int,
    *,
    hidden: Sequence[int] = (),
    activation: str = "relu",
    dropout: float = 0.0,
    final_layer: str | None = None,
) -> nn.Sequential:
    """A ``logistic`` model (one Linear layer) or an ``mlp``.

    The MLP is Linear, activation and (if ``dropout`` > 0) Dropout per hidden size,
    then a Linear to ``n_outputs``. ``final_layer`` appends the Sigmoid or LogSoftmax
    that the bce and nll losses expect.
    """
    layers: list[nn.Module] = []
    width = n_features
    if kind == "mlp":
        for size in hidden:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
    elif kind != "logistic":
        raise ValueError(f"unknown model kind {kind!r}")
    layers.append(nn.Linear(width, n_outputs))
    if final_layer is not None:
        layers.append(FINAL_LAYERS[final_layer](dim=1) if final_layer == "log_softmax" else FINAL_LAYERS[final_layer]())
    return nn.Sequential(*layers)
