"""Bootstrap intervals of every headline metric, side by side: the engine's (counts drawn per resample) against a
plain loop that resamples the rows and calls scikit-learn for each resample.

Workload: a binary task with --rows validation rows (a third positive, scores from two Gaussians), 1,000
stratified resamples, 95% percentile intervals of accuracy, balanced accuracy, F1 and MCC at threshold 0.5 and
of AUROC and AP. The scikit-learn loop is timed on --loop-resamples resamples and scaled to 1,000; both print
their intervals, which agree to within the Monte Carlo noise of their resamples.

    python bench/intervals.py [--rows 100000] [--repeats 5] [--loop-resamples 40]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.metrics import (
    accuracy_score, average_precision_score, balanced_accuracy_score, f1_score, matthews_corrcoef, roc_auc_score,
)

from clf_tui.engine import intervals
from clf_tui.engine.metrics import BinaryEval

TARGET_S = 0.5
METRICS = ("accuracy", "balanced_accuracy", "f1", "mcc", "auroc", "average_precision")


def engine_intervals(y: np.ndarray, scores: np.ndarray) -> dict[str, intervals.Interval]:
    evaluation = BinaryEval(y, scores)
    return {**intervals.threshold_intervals(evaluation, 0.5), **intervals.ranking_intervals(evaluation)}


def sklearn_loop(y: np.ndarray, scores: np.ndarray, resamples: int) -> dict[str, intervals.Interval]:
    """Stratified resamples of the rows, each scored by scikit-learn."""
    rng = np.random.default_rng(0)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    values: dict[str, list[float]] = {name: [] for name in METRICS}
    for _ in range(resamples):
        rows = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        y_b, s_b = y[rows], scores[rows]
        predicted = (s_b >= 0.5).astype(int)
        values["accuracy"].append(accuracy_score(y_b, predicted))
        values["balanced_accuracy"].append(balanced_accuracy_score(y_b, predicted))
        values["f1"].append(f1_score(y_b, predicted))
        values["mcc"].append(matthews_corrcoef(y_b, predicted))
        values["auroc"].append(roc_auc_score(y_b, s_b))
        values["average_precision"].append(average_precision_score(y_b, s_b))
    return {name: intervals.Interval(float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
            for name, v in values.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--loop-resamples", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    y = (rng.random(args.rows) < 1 / 3).astype(int)
    scores = (1 / (1 + np.exp(-(rng.normal(size=args.rows) + 2 * y - 1)))).astype(np.float32)

    engine_s, loop_s = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        ours = engine_intervals(y, scores)
        engine_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs = sklearn_loop(y, scores, args.loop_resamples)
        loop_s.append((time.perf_counter() - started) * intervals.RESAMPLES / args.loop_resamples)
    engine_median, loop_median = statistics.median(engine_s), statistics.median(loop_s)
    print(f"{args.rows:,} validation rows, {intervals.RESAMPLES:,} stratified resamples, all six intervals; "
          f"medians of {args.repeats}")
    print(f"  engine (counts per resample)      {engine_median:8.3f} s   target < {TARGET_S} s: "
          f"{'met' if engine_median < TARGET_S else 'MISSED'}")
    print(f"  rows resampled + scikit-learn     {loop_median:8.1f} s   ({loop_median / engine_median:,.0f}x the engine; "
          f"timed on {args.loop_resamples} resamples)")
    print(f"\n  {'metric':<20}{'engine':>22}{'scikit-learn loop':>26}")
    for name in METRICS:
        print(f"  {name:<20}{str(ours[name]):>22}{str(theirs[name]):>26}")


if __name__ == "__main__":
    main()
