"""`clf-tui inspect` (a CSV file's data report) and `clf-tui predict` (a saved model applied to new rows)."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path


from clf_tui.arguments import UsageError
from clf_tui.data_report import data_report
from clf_tui.report import cli_console
from clf_tui.engine.atomic import write_atomic


def inspect(args: argparse.Namespace) -> int:
    """Print the data report of a CSV file: every column's role and why, the classes, every problem."""
    from clf_tui import datasets

    if args.target is None:
        raise UsageError("inspect needs --target, the name of the label column")
    report = datasets.inspect(args.file, args.target, overrides=datasets.Overrides(
        tuple(args.drop or ()), tuple(args.categorical or ()), tuple(args.numeric or ())),
        na_values=tuple(args.na or ()), positive=args.positive)
    cli_console().print(data_report(report))
    return 0


def predict(args: argparse.Namespace) -> int:
    """Write one row per input row: its identifier, P(class) per class and the predicted class, as CSV."""
    from clf_tui.engine.predict import predict_file

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError(f"--threshold {args.threshold} is invalid: expected a number between 0 and 1")
    predictions, _ = predict_file(args.checkpoint, args.data, threshold=args.threshold, device=args.device)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = predictions.class_names
    writer.writerow([predictions.id_name, *(f"P({name})" for name in names), "predicted"])
    for identifier, row, predicted in zip(predictions.ids, predictions.proba.tolist(), predictions.predicted.tolist()):
        writer.writerow([identifier, *(f"{p:.6g}" for p in row), names[predicted]])
    err = cli_console(stderr=True)
    for note in predictions.notes:
        err.print(f"note: {note}")
    how = ("the most probable class" if predictions.threshold is None
           else f"{names[1]} at P({names[1]}) >= {predictions.threshold:g}")
    if args.out:
        out = write_atomic(Path(args.out), buffer.getvalue().encode("utf-8"))
        err.print(f"{len(predictions.ids):,} predictions ({how}) written to {out}", markup=False)
    else:
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
    return 0
