"""`python -m clf_tui` runs the command line."""

import sys

from clf_tui.cli import main

sys.exit(main())
