"""The command line: `clf-tui` opens the app; `train`, `eval`, `predict`, `inspect`, `compare` and `datasets` run headless."""

from __future__ import annotations

import argparse
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from clf_tui import __version__

COMMANDS = ("train", "eval", "predict", "inspect", "compare", "datasets")
EXIT_USAGE = 2
FLAG_ALIASES = {"na_values": ["--na"]}
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line arguments; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line on stderr and raise instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """--config FILE and one --option per RunConfig field (dashes or underscores)."""
    parser.add_argument("--config", metavar="FILE", help="a run.toml file; options given here override it")
    _add_field_options(parser)


def _add_field_options(parser: argparse.ArgumentParser) -> None:
    """One --option per RunConfig field (dashes or underscores)."""
    from clf_tui.engine.config import FIELDS

    group = parser.add_argument_group("run settings (any RunConfig field)")
    for name, f in FIELDS.items():
        flags = [f"--{name.replace('_', '-')}"] + ([f"--{name}"] if "_" in name else []) + FLAG_ALIASES.get(name, [])
        extra: dict[str, Any] = {"nargs": "?", "const": "true"} if str(f.type) in ("bool", "bool | str") else {}
        if str(f.type) == "tuple[str, ...]":  # a column name may hold a comma: one name per flag, repeated
            extra = {"action": "append"}
        group.add_argument(*flags, dest=f"cfg_{name}", metavar="VALUE", help=f.metadata["help"], **extra)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="clf-tui",
        description="A terminal trainer for classification with PyTorch. With no command, opens the app.",
        epilog="commands: clf-tui train | eval | predict | inspect | compare | datasets (each has --help)",
    )
    parser.add_argument("--version", action="version", version=f"clf-tui {__version__}")
    parser.add_argument("checkpoint", nargs="?", help="open the app on a saved run (.pt)")
    _add_config_options(parser)
    return parser


def build_train_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clf-tui train", description="Train headless and write a checkpoint, the config and metrics.")
    parser.add_argument("--out", metavar="DIR", help="folder for checkpoint.pt, config.toml and metrics.csv, "
                        "held by this run alone while it writes there (default: a new folder "
                        "OUT_DIR/DATASET-TIMESTAMP, or DATASET-TIMESTAMP-2, -3, ... if that is taken)")
    parser.add_argument("--resume", metavar="CHECKPOINT", help="continue a saved run for --epochs more epochs")
    parser.add_argument("--tensorboard", metavar="DIR", help="also write TensorBoard logs to DIR: losses and "
                        "metrics per epoch, the final PR curves, the settings (pip install 'clf-tui[tensorboard]')")
    _add_config_options(parser)
    return parser


def build_eval_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clf-tui eval", description="Evaluate a saved model at a decision threshold.")
    parser.add_argument("checkpoint", help="a checkpoint written by clf-tui")
    parser.add_argument("--threshold", type=float, default=None,
                        help="decision threshold for binary tasks (default: the one saved)")
    parser.add_argument("--data", metavar="SOURCE",
                        help="evaluate every row of this .csv / .npz / built-in (default: the run's validation split)")
    parser.add_argument("--target", help="target column of a --data CSV (default: the run's)")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N (default: cpu)")
    return parser


def build_predict_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clf-tui predict", description="Apply a saved model to the rows of a CSV file, with or "
                     "without its target column: one output row per input row, its identifier (or row number), "
                     "P(class) for each class and the predicted class.")
    parser.add_argument("checkpoint", help="a checkpoint written by clf-tui")
    parser.add_argument("--data", metavar="FILE.csv", required=True, help="the rows; columns are matched by name")
    parser.add_argument("--out", metavar="FILE.csv", help="write the predictions here (default: standard output)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="decision threshold for binary tasks (default: the one saved)")
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N (default: cpu)")
    return parser


def build_inspect_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clf-tui inspect", description="Report what a CSV file holds before training: a role for "
                     "every column and why, the classes, and every problem found.")
    parser.add_argument("file", help="a .csv file with a header row")
    parser.add_argument("--target", help="the label column")
    parser.add_argument("--drop", action="append", metavar="COL", help="a column not to learn from (repeatable)")
    parser.add_argument("--categorical", action="append", metavar="COL", help="a column to one-hot encode (repeatable)")
    parser.add_argument("--numeric", action="append", metavar="COL", help="a column to read as numbers (repeatable)")
    parser.add_argument("--na", action="append", metavar="TEXT", help="a cell that means missing, besides empty, NA, "
                        "N/A, NaN, nan and null (repeatable)")
    parser.add_argument("--positive", metavar="LABEL", help="the positive class of a binary task")
    return parser


def build_compare_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clf-tui compare",
                     description="Train one to four configurations over the same seeds on the same data, each one's "
                                 "seeds as one batched model; print mean ± std and box plots, and write CSVs.")
    parser.add_argument("--config", metavar="FILE", action="append",
                        help="a run.toml file; give it up to four times (default: one configuration from the options)")
    parser.add_argument("--seeds", type=int, default=5, metavar="N",
                        help="seeds per configuration: the first configuration's seed and the N - 1 after it (default 5)")
    parser.add_argument("--out", metavar="FILE.csv", help="one row per configuration and seed; the history goes "
                        "beside it in FILE-epochs.csv (default: a new file OUT_DIR/compare-DATASET-TIMESTAMP.csv, "
                        "or ...-TIMESTAMP-2.csv, -3, ... if that is taken)")
    _add_field_options(parser)  # the options apply to every configuration
    return parser


def config_from_args(args: argparse.Namespace, base: Any = None) -> Any:
    """RunConfig from --config and --field options (options win)."""
    from clf_tui.engine.config import FIELDS, RunConfig

    if base is None:
        base = RunConfig.load(args.config) if args.config else RunConfig()
    changes = {
        name: tuple(text) if isinstance(text, list) else RunConfig.parse_field(name, text)
        for name in FIELDS
        if (text := getattr(args, f"cfg_{name}", None)) is not None
    }
    return base.replace(**changes) if changes else base


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `clf-tui` command; returns the exit code.

    An argument holding bytes that are not UTF-8 is refused before anything else: the run's files
    are written in UTF-8, so such a name could not be saved. Python warnings raised while the
    command runs are held back: dropped when it ends in its one-line error (or Ctrl-C before it
    began), shown on stderr after it finished otherwise, so that nothing ever precedes that line.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    from clf_tui.errors import ClfError

    refusal = _not_utf8(argv)
    if refusal is not None:
        return _refuse(refusal)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # the filters stay as they are: once per place
            code = _run_command(argv)
    except (UsageError, ClfError) as exc:
        return _refuse(str(exc))
    except OSError as exc:  # a file or folder in the arguments that cannot be read or written, such as --out FILE
        return _refuse(f"cannot use {exc.filename}: {exc.strerror}" if exc.filename else str(exc))
    except KeyboardInterrupt:  # Ctrl-C before a command's own handler is in place, such as while torch loads
        print("clf-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException:  # --help's exit, or a bug's traceback, which a warning may help explain
        _show_warnings(caught)
        raise
    _show_warnings(caught)
    return code


def _run_command(argv: list[str]) -> int:
    """Run the command ``argv`` names (the app, with none) and return its exit code."""
    if argv and argv[0] in COMMANDS:
        command = argv.pop(0)
        if command == "train":
            from clf_tui.commands import train

            return train(build_train_parser().parse_args(argv))
        if command == "eval":
            from clf_tui.commands import evaluate

            return evaluate(build_eval_parser().parse_args(argv))
        if command in ("predict", "inspect"):
            from clf_tui import table_commands

            if command == "predict":
                return table_commands.predict(build_predict_parser().parse_args(argv))
            return table_commands.inspect(build_inspect_parser().parse_args(argv))
        if command == "compare":
            from clf_tui.compare_command import compare

            return compare(build_compare_parser().parse_args(argv))
        from clf_tui.commands import list_datasets

        _Parser(prog="clf-tui datasets", description="List the built-in data sets.").parse_args(argv)
        return list_datasets()
    args = build_parser().parse_args(argv)
    from clf_tui.tui.app import run_app

    return run_app(config=config_from_args(args), checkpoint=args.checkpoint)


def _not_utf8(argv: Sequence[str]) -> str | None:
    """The refusal of the first argument holding bytes that are not UTF-8, if any.

    Python hands such bytes over as lone surrogates (U+DC80 to U+DCFF for the bytes 0x80 to 0xFF);
    the refusal shows them escaped, as ``\\xff``.
    """
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            shown = "".join(_escaped(char) for char in arg)
            code = ord(arg[exc.start])
            what = (f"a byte that is not UTF-8 (0x{code - 0xDC00:02x})" if 0xDC80 <= code <= 0xDCFF
                    else f"a lone surrogate (U+{code:04X}), which is not UTF-8")
            return f"argument '{shown}' holds {what}; rename it"
    return None


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return char


def _show_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Show held-back warnings as Python would have shown them when they were raised."""
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)


def run() -> NoReturn:
    """The `clf-tui` script and `python -m clf_tui`: ``main()``, then exit with its code.

    A Ctrl-C once the command is done would interrupt the interpreter's shutdown (torch's
    takes a moment) with a traceback; by then there is nothing left to stop, so it is ignored.
    """
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


def _refuse(message: str) -> int:
    """Print the error as one line, its line breaks escaped (a file name may hold one), and return exit code 2."""
    one_line = message.replace("\r", "\\r").replace("\n", "\\n")
    print(f"clf-tui: error: {one_line}", file=sys.stderr)
    return EXIT_USAGE
