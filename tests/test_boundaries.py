"""What imports load: the engine and the data sets never load a UI; the command line's parsers load no array library."""

from __future__ import annotations

import subprocess
import sys

from tests.limits import HANG_S

SCRIPT = """
import sys
import clf_tui.datasets, clf_tui.engine
from clf_tui.engine import Trainer, RunConfig
from clf_tui.engine.metrics import BinaryEval
trainer = Trainer.from_config(RunConfig(n_samples=100, epochs=1))
trainer.train(1)
loaded = [m for m in ("textual", "textual_plotext", "plotext", "clf_tui.tui") if m in sys.modules]
print(",".join(loaded))
"""


def test_engine_and_datasets_load_no_ui_modules() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=HANG_S)
    assert result.stdout.strip() == ""


def test_the_parsers_read_the_settings_without_numpy_torch_or_sklearn() -> None:
    """`clf-tui --help` builds a parser from RunConfig's fields; the data sets' bounds load only when a config is
    validated."""
    code = """
import sys
from clf_tui import arguments
for build in (arguments.build_parser, arguments.build_train_parser, arguments.build_compare_parser):
    build().format_help()
print(",".join(m for m in ("numpy", "torch", "sklearn", "pyarrow", "clf_tui.datasets") if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=HANG_S)
    assert result.stdout.strip() == ""
