"""Binary metrics at scale, side by side: the engine's sorted evaluation against scikit-learn.

    python bench/metrics.py [--rows 1000000] [--repeats 7]

Scores are float32 probabilities with realistic ties (rounded to 1e-6), labels
drawn so that scores carry signal. The table gives medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from clf_tui.engine.metrics import BinaryEval


def median_s(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    from sklearn import metrics as sk

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, args.rows)
    y_prob = np.round(1 / (1 + np.exp(-(rng.normal(size=args.rows) + 1.5 * (2 * y_true - 1)))), 6).astype(np.float32)
    evaluation = BinaryEval(y_true, y_prob)
    thresholds = rng.random(1000)

    def engine_full() -> None:
        e = BinaryEval(y_true, y_prob)
        e.roc_curve(), e.pr_curve(), e.auroc, e.average_precision, e.at(0.5)

    def sklearn_full() -> None:
        sk.roc_curve(y_true, y_prob), sk.precision_recall_curve(y_true, y_prob)
        sk.roc_auc_score(y_true, y_prob), sk.average_precision_score(y_true, y_prob)
        sk.confusion_matrix(y_true, y_prob >= 0.5)

    def one_query() -> None:
        for t in thresholds:
            evaluation.at(t)

    rows = [
        ("threshold query (at), per call", median_s(one_query, args.repeats) / len(thresholds),
         median_s(lambda: sk.confusion_matrix(y_true, y_prob >= 0.5), args.repeats)),
        ("full evaluation: sort, ROC, PR, AUROC, AP, confusion", median_s(engine_full, args.repeats),
         median_s(sklearn_full, args.repeats)),
    ]
    print(f"n = {args.rows:,} float32 scores, median of {args.repeats}")
    print(f"  {'task':<54}{'engine':>12}{'scikit-learn':>14}{'speed-up':>10}")
    for name, ours, theirs in rows:
        print(f"  {name:<54}{ours * 1e3:>10.3f}ms{theirs * 1e3:>12.1f}ms{theirs / ours:>9.0f}x")


if __name__ == "__main__":
    main()
