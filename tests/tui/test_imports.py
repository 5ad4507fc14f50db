"""The app paints before it loads torch, scikit-learn and pyarrow: its first worker imports them, after the first frame."""

from __future__ import annotations

import subprocess
import sys

from tests.limits import HANG_S

SCRIPT = """
import asyncio, sys
HEAVY = ("torch", "sklearn", "pyarrow")

from clf_tui.tui.app import ClfApp
print(",".join(m for m in HEAVY if m in sys.modules))

app = ClfApp()
loaded_per_frame = []
app.post_display_hook = lambda: loaded_per_frame.append(",".join(m for m in HEAVY if m in sys.modules))

async def first_frame():
    async with app.run_test() as pilot:
        await pilot.pause()

asyncio.run(first_frame())
print(loaded_per_frame[0])
"""


def test_the_app_paints_its_first_frame_without_torch_or_sklearn() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=HANG_S)
    loaded_on_import, loaded_at_first_frame = result.stdout.splitlines()
    assert loaded_on_import == ""
    assert loaded_at_first_frame == ""
