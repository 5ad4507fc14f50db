"""EvaluationPanel: confusion matrix, ROC / PR curves and probability view, all at one decision threshold."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.reactive import reactive

from clf_tui.engine.calibration import reliability
from clf_tui.engine.costs import Costs, cost_curve, expected_cost, least_cost_threshold
from clf_tui.engine.evaluation import Evaluation
from clf_tui.engine.events import TemperatureFitted
from clf_tui.engine.metrics import BinaryEval, BinaryReport

from .. import formatting
from .calibration_chart import CalibrationChart
from .confusion_matrix_view import ConfusionMatrixView
from .cost_chart import CostChart
from .curve_chart import CurveChart
from .probability_view import ProbabilityView

PROBABILITY_MIN_ROWS = 5
"""The fewest rows the probabilities pane is shown in: its frame and a class's bars with the axis."""


class EvaluationPanel(Container):
    """Shows one Evaluation at ``threshold``, with class ``positive`` against the rest.

    The threshold is view state, not training config: ``show`` (a new evaluation) and a new
    ``positive`` class set curves and histograms once; a new ``threshold`` then recounts the
    matrix and moves the markers in O(log n), never passing over the samples. The app binds
    both to its own.
    """

    threshold: reactive[float] = reactive(0.5, init=False)
    positive: reactive[int] = reactive(1, init=False)
    """The class scored against the rest: always 1 for binary tasks, chosen for multiclass ones."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report: BinaryReport | None = None
        """The counts and rates shown, at ``threshold``."""
        self._evaluation: Evaluation | None = None
        self._note = ""
        self._confusion = ConfusionMatrixView(id="confusion")
        self._probability = ProbabilityView(id="probability")
        self._roc = CurveChart("roc", id="roc")
        self._pr = CurveChart("pr", id="pr")
        self._calibration = CalibrationChart(id="calibration")
        self._cost = CostChart(id="cost")
        self.costs = Costs()
        """The costs of the errors the cost chart weighs (the run's config's, else 1 : 1)."""
        self.costs_named = False
        self.calibrated: TemperatureFitted | None = None
        """The temperature fit the run ended with: its diagrams before and after, for that epoch's evaluation."""

    def compose(self) -> ComposeResult:
        yield self._confusion
        with Container(id="curves"):
            yield self._roc
            yield self._pr
            yield self._calibration
            yield self._cost
        yield self._probability

    def on_mount(self) -> None:
        self.clear()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_probabilities)

    def _fit_probabilities(self) -> None:
        """Leave the probabilities out where they share a column with the matrix alone (one page at a time)
        and the matrix leaves them fewer than PROBABILITY_MIN_ROWS: a ten-class matrix and its rates fill an
        80 x 24 page's column. Stacked under the curves, as on a large terminal, they have rows of their own."""
        if not self.content_size.height:  # another page is shown
            return
        beside_the_curves = self.query_one("#curves").region.x != self._confusion.region.x
        room = self.content_size.height - self._confusion.outer_size.height
        self.set_class(beside_the_curves and room < PROBABILITY_MIN_ROWS, "-cramped")

    @property
    def evaluation(self) -> Evaluation | None:
        return self._evaluation

    def show_charts(self, shown: set[str]) -> None:
        """Show the charts named ("roc", "pr", "calibration", "cost") and leave the others out."""
        for name, chart in (("roc", self._roc), ("pr", self._pr), ("calibration", self._calibration),
                            ("cost", self._cost)):
            chart.display = name in shown

    def set_costs(self, costs: Costs | None) -> None:
        """Weigh the errors by ``costs`` (None: 1 : 1 until the run names its own)."""
        self.costs, self.costs_named = (costs, True) if costs is not None else (Costs(), False)
        if self._evaluation is not None:
            self._show_positive_class()

    @property
    def least_cost(self) -> tuple[float, float] | None:
        """(threshold, expected cost) of least cost for the evaluation shown; None for none or a multiclass one."""
        evaluation = self._evaluation
        if evaluation is None or not evaluation.is_binary:
            return None
        return least_cost_threshold(evaluation.binary(1), self.costs)

    @property
    def binary(self) -> BinaryEval | None:
        """The sorted evaluation of the positive class against the rest, if there is an evaluation."""
        return None if self._evaluation is None else self._evaluation.binary(self._shown_class())

    def show(self, evaluation: Evaluation, note: str = "") -> None:
        """Show ``evaluation`` at the current threshold; ``note`` follows its epoch under the matrix."""
        self._evaluation = evaluation
        self._note = note
        self.set_class(not evaluation.is_binary, "-multiclass")
        self._show_positive_class()
        self.call_after_refresh(self._fit_probabilities)

    def watch_positive(self) -> None:
        if self._evaluation is not None:
            self._show_positive_class()

    def watch_threshold(self) -> None:
        self._recount()

    def _shown_class(self) -> int:
        """``positive``, or the last class of an evaluation with fewer (until the app's own catches up)."""
        evaluation = self._evaluation
        assert evaluation is not None
        return 1 if evaluation.is_binary else min(self.positive, evaluation.n_classes - 1)

    def _recount(self) -> None:
        """Recount everything at the threshold."""
        evaluation = self._evaluation
        if evaluation is None:
            return
        positive = self._shown_class()
        report = evaluation.binary(positive).at(self.threshold)
        intervals = evaluation.threshold_intervals(positive, self.threshold)
        confusion = self._confusion
        if evaluation.multiclass is None:
            confusion.show_binary(report, evaluation.class_names, intervals)
            confusion.border_title = f"confusion at threshold {formatting.threshold(self.threshold)}"
        else:
            confusion.show_multiclass(evaluation.multiclass, evaluation.class_names, positive, report, intervals)
            argmax = evaluation.argmax_intervals() or {}
            confusion.border_title = (f"confusion (argmax) · accuracy {formatting.rate(evaluation.multiclass.accuracy)}"
                                      f" {argmax.get('accuracy', '')}").rstrip()
        # Epoch 0: predictions of no one epoch (a cross-validation's, pooled out of fold), which the note names.
        epoch = f"epoch {evaluation.epoch}" if evaluation.epoch else ""
        confusion.border_subtitle = " · ".join(part for part in (epoch, self._note) if part)
        self._roc.set_point(report)
        self._pr.set_point(report)
        self._probability.set_threshold(self.threshold)
        if evaluation.is_binary:
            self._cost.set_point(self.threshold, expected_cost(evaluation.binary(1), self.costs, self.threshold))
        self.report = report

    def clear(self) -> None:
        """Show nothing until the next evaluation (the threshold stays)."""
        self._evaluation = None
        self.report = None
        self._confusion.clear("Train a model to see its confusion matrix.")
        self._confusion.border_title = "confusion"
        self._confusion.border_subtitle = ""
        self._probability.clear()
        self._probability.border_title = "probabilities"
        self._roc.clear()
        self._pr.clear()
        self._calibration.clear()
        self._cost.clear()
        self.calibrated = None

    def _show_positive_class(self) -> None:
        evaluation = self._evaluation
        assert evaluation is not None
        positive = self._shown_class()
        binary = evaluation.binary(positive)
        name = evaluation.class_names[positive]
        subject = "" if evaluation.is_binary else f"{name} vs rest"
        ranking = evaluation.ranking_intervals(positive, compute=False) or {}
        self._roc.set_curve(binary, subject, ranking.get("auroc"))
        self._pr.set_curve(binary, subject, ranking.get("average_precision"))
        scores, is_positive = evaluation.scores(positive)
        self._show_calibration(evaluation, positive, scores, is_positive, name if evaluation.is_binary else subject)
        if evaluation.is_binary:
            costs = self.costs
            subject_costs = (f"a false positive costs {costs.false_positive:g}, a false negative "
                             f"{costs.false_negative:g}" if self.costs_named else "errors cost 1 : 1 (set cost fp, fn)")
            if costs.prevalence is not None:
                subject_costs += f", prevalence {costs.prevalence:g}"
            self._cost.show(cost_curve(binary, costs), least_cost_threshold(binary, costs), subject_costs)
        else:
            self._cost.explain("costs weigh a binary task's threshold; this one predicts the most probable class")
        negative = evaluation.class_names[0] if evaluation.is_binary else "rest"
        self._probability.set_scores(scores, is_positive, (negative, name))
        title = f"P({name}) per true class" if evaluation.is_binary else f"P({name}), {subject}"
        self._probability.border_title = Text(title)  # class names come from the data: never markup
        self._recount()

    def _show_calibration(self, evaluation: Evaluation, positive: int, scores: np.ndarray, is_positive: np.ndarray,
                          subject: str) -> None:
        """The reliability diagram of the class shown, with the one before temperature scaling where the run
        ended with a fit on this epoch."""
        after = reliability(is_positive, scores, subject)
        fitted = self.calibrated
        if fitted is not None and fitted.epoch == evaluation.epoch:
            index = 0 if evaluation.is_binary else positive
            self._calibration.show(after, fitted.before[index], fitted.temperature)
        else:
            self._calibration.show(after)
