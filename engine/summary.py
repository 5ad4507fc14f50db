"""Model summary: each leaf layer's output shape and parameter count, the totals and the size in memory."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

DUMMY_ROWS = 2
"""Rows of the zero batch pushed through the model to read the output shapes."""


@dataclass(frozen=True)
class LayerSummary:
    """One leaf layer: its name in ``named_modules``, its class name, its output shape and parameter counts."""

    name: str
    type_name: str
    output_shape: tuple[int, ...] | None
    """With the batch size in front; None when the layer did not run or did not return a tensor."""
    n_params: int
    n_trainable: int


@dataclass(frozen=True)
class ModelSummary:
    """Every leaf layer in ``named_modules`` order, with totals over the whole model."""

    layers: tuple[LayerSummary, ...]
    n_params: int
    n_trainable: int
    param_bytes: int
    buffer_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.param_bytes + self.buffer_bytes


def summarize(model: nn.Module, n_features: int, *, batch_size: int = -1) -> ModelSummary:
    """Summarise ``model`` by a forward pass of a zero batch with ``n_features`` columns.

    The pass runs without gradients, in eval mode and on the model's device and dtype; every
    module's mode is put back afterwards. ``batch_size`` is the first dimension shown in the
    output shapes (-1, as torchsummary prints it, means any).
    """
    leaves = [(name, module) for name, module in model.named_modules() if next(module.children(), None) is None]
    shapes: dict[str, tuple[int, ...]] = {}

    def record(name: str, output: object) -> None:
        if isinstance(output, torch.Tensor):
            shapes[name] = (batch_size, *output.shape[1:])

    first = next(model.parameters(), None)
    like = {"device": first.device, "dtype": first.dtype} if first is not None else {}
    dummy = torch.zeros(DUMMY_ROWS, n_features, **like)
    modes = {module: module.training for module in model.modules()}
    hooks = [
        module.register_forward_hook(lambda _module, _inputs, output, name=name: record(name, output))
        for name, module in leaves
    ]
    try:
        model.eval()
        with torch.no_grad():
            model(dummy)
    finally:
        for hook in hooks:
            hook.remove()
        for module, training in modes.items():
            module.training = training

    params = list(model.parameters())
    return ModelSummary(
        layers=tuple(
            LayerSummary(
                name=name,
                type_name=type(module).__name__,
                output_shape=shapes.get(name),
                n_params=sum(p.numel() for p in module.parameters(recurse=False)),
                n_trainable=sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad),
            )
            for name, module in leaves
        ),
        n_params=sum(p.numel() for p in params),
        n_trainable=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        buffer_bytes=sum(b.numel() * b.element_size() for b in model.buffers()),
    )
