"""The command line: `clf-tui` opens the app; train, eval, predict, inspect, compare, datasets, lessons run headless."""

from __future__ import annotations

import signal
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from clf_tui.arguments import (
    EXIT_INTERRUPTED, EXIT_USAGE, UsageError, build_compare_parser, build_datasets_parser, build_eval_parser,
    build_inspect_parser, build_lessons_parser, build_parser, build_predict_parser, build_train_parser,
    config_from_args, lesson_from_args,
)
from clf_tui.errors import ClfError

COMMANDS = ("train", "eval", "predict", "inspect", "compare", "datasets", "lessons")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `clf-tui` command; returns the exit code.

    An argument holding bytes that are not UTF-8 is refused before anything else: the run's files
    are written in UTF-8, so such a name could not be saved. Python warnings raised while the
    command runs are held back: dropped when it ends in its one-line error (or Ctrl-C before it
    began), shown on stderr after it finished otherwise, so that nothing ever precedes that line.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
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

            args = build_train_parser().parse_args(argv)
            lesson_from_args(args)  # a lesson beside --resume or --config is refused before a checkpoint is read
            return train(args)
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
        if command == "lessons":
            from clf_tui.lesson_commands import list_lessons

            build_lessons_parser().parse_args(argv)
            return list_lessons()
        from clf_tui.commands import list_datasets

        build_datasets_parser().parse_args(argv)
        return list_datasets()
    args = build_parser().parse_args(argv)
    lesson = lesson_from_args(args)
    if lesson is not None and args.checkpoint:
        raise UsageError("a checkpoint and --lesson both say what to open; give one of them")
    config = config_from_args(args, base=None if lesson is None else lesson.config)
    refusal = _not_a_terminal()
    if refusal is not None:
        raise UsageError(refusal)
    from clf_tui.tui.app import run_app

    if lesson is not None:
        return run_app(config=config, checkpoint=args.checkpoint, lesson=lesson)
    return run_app(config=config, checkpoint=args.checkpoint)


def _not_a_terminal() -> str | None:
    """Why the app cannot run here, if standard input or output is not a terminal: the app would write its
    screens into a pipe or a file, and wait for keys that never come."""
    for stream, name in ((sys.stdin, "standard input"), (sys.stdout, "standard output")):
        try:
            terminal = stream is not None and stream.isatty()
        except (ValueError, OSError):  # closed
            terminal = False
        if not terminal:
            return (f"the app needs a terminal, and {name} is not one; to train without a terminal, run clf-tui "
                    "train with the same options")
    return None


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
