"""Losses, and how each one's model outputs become targets, probabilities and classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from clf_tui.errors import ConfigError

LOSS_NAMES = ("bce_logits", "bce", "cross_entropy", "nll", "mse")
_MODULE_TO_NAME = {
    nn.BCEWithLogitsLoss: "bce_logits",
    nn.BCELoss: "bce",
    nn.CrossEntropyLoss: "cross_entropy",
    nn.NLLLoss: "nll",
    nn.MSELoss: "mse",
}


@dataclass(frozen=True)
class LossSpec:
    """One loss and the conventions that go with it.

    - bce_logits: one logit per row; probability = sigmoid(logit).
    - bce: the model ends in a Sigmoid; its output is the probability.
    - cross_entropy: k logits; probabilities = softmax.
    - nll: the model ends in LogSoftmax; probabilities = exp(output).
    - mse: binary, one output regressed on 0 / 1 and thresholded at 0.5 (clipped to
      [0, 1] to read as a probability); multiclass, k outputs regressed on one-hot
      targets, classes by argmax (clipped at 0 and normalised to read as probabilities).

    Binary probabilities are 1-D P(class 1); multiclass ones are (n, k).
    """

    name: str

    @property
    def binary_only(self) -> bool:
        return self.name in ("bce_logits", "bce")

    @property
    def final_layer(self) -> str | None:
        """The layer the model must end in: "sigmoid", "log_softmax" or None."""
        return {"bce": "sigmoid", "nll": "log_softmax"}.get(self.name)

    def n_outputs(self, n_classes: int) -> int:
        """Output units the model needs for ``n_classes`` classes."""
        if self.binary_only or (self.name == "mse" and n_classes == 2):
            return 1
        return n_classes

    def make(self, pos_weight: float | None = None) -> nn.Module:
        """The torch loss module; ``pos_weight`` applies to bce_logits only."""
        if self.name == "bce_logits":
            weight = None if pos_weight is None else torch.tensor([float(pos_weight)])
            return nn.BCEWithLogitsLoss(pos_weight=weight)
        if pos_weight is not None:
            raise ConfigError(f"pos_weight applies only to loss = 'bce_logits', not {self.name!r}",
                              field="pos_weight")
        return {"bce": nn.BCELoss, "cross_entropy": nn.CrossEntropyLoss, "nll": nn.NLLLoss, "mse": nn.MSELoss}[self.name]()

    def target(self, y: torch.Tensor, n_classes: int) -> torch.Tensor:
        """Integer labels (n,) in the form this loss compares outputs with."""
        if self.name in ("cross_entropy", "nll"):
            return y
        if self.n_outputs(n_classes) == 1:
            return y.to(torch.float32).unsqueeze(1)
        return F.one_hot(y, n_classes).to(torch.float32)

    def proba(self, outputs: torch.Tensor) -> torch.Tensor:
        """Probabilities from model outputs: (n,) for two classes, (n, k) for more."""
        if outputs.shape[1] == 1:
            score = outputs[:, 0]
            if self.name == "bce_logits":
                return torch.sigmoid(score)
            return score.clamp(0.0, 1.0)
        if self.name == "cross_entropy":
            prob = torch.softmax(outputs, dim=1)
        elif self.name == "nll":
            prob = outputs.exp()
        else:
            clipped = outputs.clamp(min=0.0)
            total = clipped.sum(dim=1, keepdim=True)
            prob = torch.where(total > 0, clipped / total.clamp(min=1e-30), torch.full_like(clipped, 1 / outputs.shape[1]))
        return prob[:, 1] if outputs.shape[1] == 2 else prob

    @staticmethod
    def labels(y: torch.Tensor) -> torch.Tensor:
        """Integer labels from targets a user formatted for their loss (0/1 column, one-hot or ints)."""
        if y.ndim == 2 and y.shape[1] == 1:
            return (y[:, 0] >= 0.5).long()
        if y.ndim == 2:
            return y.argmax(dim=1)
        return y.long()

    @classmethod
    def of_module(cls, loss_fn: nn.Module) -> LossSpec | None:
        """The spec of a torch loss module, or None for a loss this engine does not know."""
        for module_type, name in _MODULE_TO_NAME.items():
            if isinstance(loss_fn, module_type):
                return cls(name)
        return None


def loss_spec(name: str, n_classes: int) -> LossSpec:
    """The spec for ``name``, checked against the task."""
    if name not in LOSS_NAMES:
        raise ConfigError(f"loss = {name!r} is invalid; choose one of: {', '.join(LOSS_NAMES)}", field="loss")
    spec = LossSpec(name)
    if spec.binary_only and n_classes != 2:
        raise ConfigError(
            f"loss = {name!r} needs a binary task, but this data set has {n_classes} classes; use cross_entropy or nll",
            field="loss",
        )
    return spec
