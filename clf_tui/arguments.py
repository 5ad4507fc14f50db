"""The command line's arguments: a parser per command, the usage error and exit codes, and the config they give."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from clf_tui import __version__

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
        epilog="commands: clf-tui train | eval | predict | inspect | compare | datasets | lessons (each has --help)",
    )
    parser.add_argument("--version", action="version", version=f"clf-tui {__version__}")
    parser.add_argument("checkpoint", nargs="?", help="open the app on a saved run (.pt)")
    _add_lesson_option(parser, "open the app set up for one of the course's experiments (clf-tui lessons lists them)")
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
    _add_lesson_option(parser, "train a lesson's run (clf-tui lessons lists them); options given here override it")
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
    parser.add_argument("--cost-fp", type=float, metavar="COST", help="cost of a false positive: with --cost-fn, "
                        "evaluate at the threshold of least expected cost on these rows instead of --threshold")
    parser.add_argument("--cost-fn", type=float, metavar="COST", help="cost of a false negative, in --cost-fp's unit")
    parser.add_argument("--prevalence", type=float, metavar="SHARE", help="share of positives expected in "
                        "deployment, for the costs (default: the evaluated rows')")
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
    _add_lesson_option(parser, "compare a lesson's configurations (clf-tui lessons lists them); options given "
                       "here apply to each")
    _add_field_options(parser)  # the options apply to every configuration
    return parser


def build_lessons_parser() -> argparse.ArgumentParser:
    return _Parser(prog="clf-tui lessons", description="List the lessons: the course's experiments, each a run or a "
                   "comparison set up in one step with --lesson NAME.")


def _add_lesson_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--lesson", metavar="NAME", help=help_text)


def lesson_from_args(args: argparse.Namespace) -> Any:
    """The lesson that --lesson names, or None without one.

    Raises:
        UsageError: --lesson beside --config or --resume, which say what to start from too.
        ConfigError: no lesson has that name (the message lists the names).
    """
    name = getattr(args, "lesson", None)
    if name is None:
        return None
    if getattr(args, "config", None):
        raise UsageError("--lesson and --config both give the settings to start from; give one of them")
    if getattr(args, "resume", None):
        raise UsageError("--resume continues a saved run as it was; --lesson does not apply to it")
    from clf_tui.engine.lessons import lesson

    return lesson(name)


def build_datasets_parser() -> argparse.ArgumentParser:
    return _Parser(prog="clf-tui datasets", description="List the built-in data sets.")


def config_from_args(args: argparse.Namespace, base: Any = None) -> Any:
    """RunConfig from --lesson or --config and --field options (options win).

    A --dataset that names a .csv or .npz file is refused first if there is no such file: the config's own
    check would ask for the target column of a file that is not there.
    """
    from clf_tui.engine.config import FIELDS, RunConfig
    from clf_tui.errors import DataError
    from clf_tui.files import require_regular_file

    lesson = lesson_from_args(args)
    if base is None:
        if lesson is not None and lesson.is_comparison:
            raise UsageError(f"lesson {lesson.name!r} compares {len(lesson.configs())} configurations: run "
                             f"clf-tui compare --lesson {lesson.name}")
        base = lesson.config if lesson is not None else RunConfig.load(args.config) if args.config else RunConfig()
    dataset = getattr(args, "cfg_dataset", None)
    if dataset is not None and dataset.lower().endswith((".csv", ".npz")):
        require_regular_file(dataset, DataError, "data file")
    changes = {
        name: tuple(text) if isinstance(text, list) else RunConfig.parse_field(name, text)
        for name in FIELDS
        if (text := getattr(args, f"cfg_{name}", None)) is not None
    }
    return base.replace(**changes) if changes else base
