"""`python -m clf_tui` runs the command line."""

from clf_tui.cli import run

run()
