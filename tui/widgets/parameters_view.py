"""The learned parameters in text: a logistic regression's weights feature by feature (scaled and in the data's own
units), its bias and decision boundary; every Linear layer's weights as a small heat map with its norms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from clf_tui.engine.parameters import LayerWeights, LearnedParameters, LogisticWeights

SHADES = " ░▒▓█"
"""A weight's size against the largest of its layer, in five steps; its sign by colour."""
POSITIVE, NEGATIVE = "#f0a030", "#4e8ff0"
MAX_MAP = (8, 32)
"""Rows and columns of a heat map at most: a larger weight matrix is averaged over blocks."""


def parameters_view(parameters: LearnedParameters, threshold: float) -> RenderableType:
    """What the model learned: the logistic weights when it is one linear layer, and every layer's heat map."""
    parts: list[RenderableType] = []
    if parameters.logistic is not None:
        parts.append(logistic_view(parameters.logistic, threshold))
    loss = "" if parameters.train_loss is None else f"; training loss {parameters.train_loss:.4f} at these weights"
    parts.append(Text(f"\nweights at epoch {parameters.epoch}{loss}", style="bold"))
    for layer in parameters.layers:
        parts.append(layer_view(layer))
    return Group(*parts)


def logistic_view(weights: LogisticWeights, threshold: float) -> RenderableType:
    """Each output's weight per feature, scaled and in the data's own units, its bias, and the boundary."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("feature", style="bold cyan", no_wrap=True)
    for output in weights.outputs:
        label = output.label if len(weights.outputs) > 1 else "weight"
        table.add_column(f"{label} (scaled)", justify="right")
        table.add_column(f"{label} (data units)", justify="right")
    for row, feature in enumerate(weights.feature_names):
        cells = []
        for output in weights.outputs:
            weight = output.weights[row]
            cells += [f"{weight.scaled:.4g}", f"{weight.raw:.4g}" + ("" if weight.kind == "number" else " (0/1)")]
        table.add_row(Text(feature), *cells)
    table.add_row(Text("bias", style="bold"), *(cell for output in weights.outputs
                                                 for cell in (f"{output.bias_scaled:.4g}", f"{output.bias_raw:.4g}")))
    scores = ("the logit of P(class 1)" if len(weights.outputs) == 1 and weights.loss in ("bce_logits", "bce")
              else "each class's score (its softmax gives the probabilities)")
    lines = [Text.assemble(("logistic regression: ", "bold"), f"score = sum of weight x feature + bias; the score is "
                           f"{scores}. Scaled: per {weights.scaler} unit of the feature the model sees.")]
    boundary = weights.boundary(threshold) if 0 < threshold < 1 else None
    if boundary is not None:
        lines.append(Text.assemble(("decision boundary at threshold ", "bold"), f"{threshold:g}: ",
                                   (boundary.equation, "bold yellow")))
    return Group(*lines, table)


def layer_view(layer: LayerWeights) -> RenderableType:
    """``layer``'s weight matrix as a heat map (rows outputs, columns inputs) under a line of its norms."""
    norms = f"‖W‖ {layer.norm:.3g}" + ("" if layer.grad_norm is None else f"  ‖∇W‖ {layer.grad_norm:.3g}")
    header = Text.assemble((f"layer {layer.name} ", "bold cyan"), f"{layer.shape[0]} x {layer.shape[1]}  {norms}")
    return Group(header, heat_map(layer.weight))


def heat_map(weight: np.ndarray) -> Text:
    """At most MAX_MAP cells, each the mean of its block of weights: its shade the size, its colour the sign."""
    rows, columns = weight.shape
    grid = _blocks(_blocks(np.asarray(weight, dtype=np.float64), MAX_MAP[0], axis=0), MAX_MAP[1], axis=1)
    largest = float(np.abs(grid).max()) or 1.0
    text = Text()
    for values in grid:
        for value in values:
            step = min(int(abs(value) / largest * (len(SHADES) - 1) + 0.5), len(SHADES) - 1)
            text.append(SHADES[step], style=POSITIVE if value >= 0 else NEGATIVE)
        text.append("\n")
    text.append(f"{rows} output{'s' * (rows != 1)} x {columns} input{'s' * (columns != 1)}"
                + (" (block means)" if grid.shape != weight.shape else "")
                + f"; █ orange > 0, blue < 0, as large as {largest:.3g}", style="dim")
    return text


def _blocks(values: np.ndarray, most: int, *, axis: int) -> np.ndarray:
    """``values`` averaged over equal runs along ``axis`` so that at most ``most`` remain."""
    n = values.shape[axis]
    if n <= most:
        return values
    edges = np.linspace(0, n, most + 1).round().astype(int)
    parts = [values.take(range(a, b), axis=axis).mean(axis=axis, keepdims=True) for a, b in zip(edges, edges[1:])]
    return np.concatenate(parts, axis=axis)
