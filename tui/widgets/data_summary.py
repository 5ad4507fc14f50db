"""DataSummary: what the loaded data set holds: rows per class in each split and how it was scaled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from clf_tui.datasets import DataSplit

MAX_CLASSES_LISTED = 4
"""Up to this many classes each get their count; more are summed up as a range."""


class DataSummary(Static):
    """Class counts per split, the positive class and the scaler's fit, for the data of the current trainer."""

    def show(self, data: DataSplit) -> None:
        counts = data.class_counts
        kind = "binary" if data.task == "binary" else f"{data.n_classes} classes"
        lines = [Text(data.name, style="bold"), Text(f"{data.n_features} features · {kind}")]
        if data.task == "binary":
            lines.append(Text.assemble(("positive class ", "dim"), data.class_names[1]))
        for split in ("train", "val"):
            split_counts = counts[split]
            if len(split_counts) <= MAX_CLASSES_LISTED:
                per_class = "  ".join(f"{name}:{count}" for name, count in zip(data.class_names, split_counts))
            else:
                per_class = f"{min(split_counts)}–{max(split_counts)} per class"
            lines.append(Text.assemble((f"{split:<5} {sum(split_counts):>6}", "bold"), f"  {per_class}"))
        scaler = data.scaler
        fit = "no scaling" if scaler.kind == "none" else f"scaler ({scaler.kind}) fit on {scaler.n_fit_rows} training rows"
        lines.append(Text(fit, style="dim"))
        self.update(Text("\n").join(lines))

    def show_note(self, note: str) -> None:
        """Say why there is no data to describe (loading, or loading failed)."""
        self.update(Text(note, style="dim italic"))
