"""ConfusionMatrixView: the confusion matrix in text, with the rates at the current threshold."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from clf_tui.engine.intervals import Interval
from clf_tui.engine.metrics import BinaryReport, MulticlassEval

from .. import formatting

RIGHT = "green"
WRONG = "red"
BINARY_RATES = {"recall": "TPR/recall", "fpr": "FPR", "precision": "precision", "f1": "F1", "accuracy": "accuracy",
                "mcc": "MCC"}
CLASS_RATES = {"recall": "TPR/recall", "fpr": "FPR", "precision": "precision", "f1": "F1"}


class ConfusionMatrixView(Widget):
    """Binary: 2 x 2 counts with row percentages and every rate at the threshold.
    Multiclass: k x k counts of the argmax with per-class recall, and the chosen class
    against the rest at the threshold."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text("Train a model to see its confusion matrix.", style="dim")

    def show_binary(self, report: BinaryReport, class_names: tuple[str, ...], intervals: dict[str, Interval]) -> None:
        """Rows are the true classes, columns the predicted ones; each cell a count and its row's share. Below, each
        rate with its 95% interval.

        Columns are as narrow as their content, so that two class names of up to MAX_CLASS_NAME
        characters fit the evaluation pane at 120 columns. They are headed "pred NAME" where both
        fit, else by the bare names, and the corner says "true \\ pred".
        """
        names = [formatting.class_name(name) for name in class_names]
        counts = ((report.tn, report.fp), (report.fn, report.tp))
        count_width = max(3, len(str(max(max(row) for row in counts))))
        cell = max(count_width + 8, *(len(name) + 2 for name in names))  # "  41  97.6%": count, share
        label_width = max(len(name) for name in names) + 6  # "true NAME "
        say_pred = all(len(name) + 6 <= cell for name in names)
        headers = [f"pred {name}" if say_pred else name for name in names]
        corner = "" if say_pred else "true \\ pred"
        header = Text(f"{corner:<{label_width}}", style="dim")
        for name in headers:
            header.append(f"{name:>{cell}}", style="bold")
        lines = [header]
        for actual, row in enumerate(counts):
            line = Text(f"{'true ' + names[actual]:<{label_width}}", style="bold")
            row_total = sum(row)
            for predicted, count in enumerate(row):
                share = f"{100 * count / row_total:.1f}%" if row_total else "—"
                line.append(f"{f'{count:>{count_width}} {share:>6}':>{cell}}",
                            style=RIGHT if actual == predicted else WRONG)
            lines.append(line)
        lines.extend(_rates(report, intervals, BINARY_RATES))
        self._show(lines)

    def show_multiclass(self, scores: MulticlassEval, class_names: tuple[str, ...], positive: int,
                        report: BinaryReport, intervals: dict[str, Interval]) -> None:
        """The argmax matrix (rows true, columns predicted); class ``positive`` stands out, and ``report``
        scores it against the rest."""
        long_names = any(len(name) > 3 for name in class_names)
        headers = [str(i) if long_names else name for i, name in enumerate(class_names)]
        rows = [f"{i} {formatting.class_name(name)}" if long_names else name for i, name in enumerate(class_names)]
        cell = max(len(str(int(scores.confusion.max()))), max(len(h) for h in headers)) + 1
        label_width = max(len(r) for r in rows) + 1
        header = Text(" " * label_width)
        for j, name in enumerate(headers):
            header.append(f"{name:>{cell}}", style="bold reverse" if j == positive else "bold")
        header.append(" recall", style="bold")
        lines = [header]
        for i, label in enumerate(rows):
            line = Text(f"{label:<{label_width}}", style="bold reverse" if i == positive else "bold")
            for j in range(scores.n_classes):
                count = int(scores.confusion[i, j])
                if count == 0:
                    line.append(f"{'·':>{cell}}", style="dim")
                else:
                    line.append(f"{count:>{cell}}", style=RIGHT if i == j else WRONG)
            line.append(f" {formatting.rate(scores.recall[i]):>6}")
            lines.append(line)
        lines.append(Text.assemble(
            (formatting.class_name(class_names[positive]), "bold reverse"),
            (f" vs rest at threshold {formatting.threshold(report.threshold)}", "bold"),
        ))
        lines.extend(_rates(report, intervals, CLASS_RATES))
        self._show(lines)

    def clear(self, message: str) -> None:
        self._show([Text(message, style="dim")])

    def render(self) -> Text:
        return self._text

    def _show(self, lines: list[Text]) -> None:
        # Height is auto: only a change in the number of lines needs a new layout, which redraws every pane.
        resized = len(lines) != len(self._text.plain.splitlines())
        self._text = Text("\n").join(lines)
        self.refresh(layout=resized)


def _rates(report: BinaryReport, intervals: dict[str, Interval], names: dict[str, str]) -> list[Text]:
    """The rates at the report's threshold, one to a line, each with its 95% interval."""
    return [
        Text.assemble((f"{label:<11}", "dim"), (f"{formatting.rate(getattr(report, name)):>6}", "bold"),
                      (f" {intervals[name]}" if name in intervals else "", "dim"))
        for name, label in names.items()
    ]
