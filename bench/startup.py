"""Start-up time of the command line and of the app's first frame, against importing Textual alone.

Each measurement runs in a fresh process, N times, and the table gives medians:

- ``python -c "import textual.app"``: the floor for any Textual app;
- ``clf-tui --help``: spawn until the process has exited;
- ``clf-tui`` (the real entry point, opening the app on the default moons run): spawn until
  the first frame has been written. The app runs under a pseudo-terminal of the given size,
  exactly as in a terminal emulator; the bench reads what it writes and stops the clock when
  the first frame's status bar, which says "loading", has arrived (Textual writes a frame in
  one piece, and the status bar is its last line but the footer's);
- the same run until the data set's summary has been drawn: torch and scikit-learn were
  imported, and the data built, in a worker thread while the app was already on screen.

The last column divides each median by the median import of textual.app.

    python bench/startup.py [--runs 7] [--size 120x40]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import shutil
import statistics
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable

FIRST_FRAME = b"loading"
"""In the status bar of the first frame."""
DATA_SHOWN = b"features"
"""In the data summary ("2 features · binary"), drawn once the engine has built the run."""
TIMEOUT_S = 60.0


def exit_time_s(command: list[str]) -> float:
    """Seconds from spawning ``command`` until it has exited (its output discarded)."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def screen_times_s(command: list[str], size: tuple[int, int], markers: list[bytes]) -> list[float]:
    """Seconds from spawning ``command`` in a pseudo-terminal of ``size`` (columns, rows) until each of
    ``markers`` has appeared in what it wrote, in order; the process is killed afterwards."""
    controller, terminal = os.openpty()
    columns, rows = size
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal, env=env,
                               start_new_session=True)
    os.close(terminal)
    written = b""
    times = []
    try:
        for marker in markers:
            while marker not in written:
                if time.perf_counter() - start > TIMEOUT_S:
                    raise TimeoutError(f"{command} wrote no {marker!r} within {TIMEOUT_S} s")
                ready, _, _ = select.select([controller], [], [], 0.5)
                if ready:
                    written += os.read(controller, 1 << 16)
            times.append(time.perf_counter() - start)
    finally:
        process.kill()
        process.wait()
        os.close(controller)
    return times


def medians(run: Callable[[], list[float]], repeats: int) -> list[float]:
    """Per value that ``run`` returns, the median over ``repeats`` calls."""
    samples = [run() for _ in range(repeats)]
    return [statistics.median(column) for column in zip(*samples)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per measurement")
    parser.add_argument("--size", default="120x40", help="terminal size of the app, COLUMNSxROWS")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    clf_tui = shutil.which("clf-tui", path=os.path.dirname(sys.executable)) or "clf-tui"

    import_textual, = medians(lambda: [exit_time_s([sys.executable, "-c", "import textual.app"])], args.runs)
    help_s, = medians(lambda: [exit_time_s([clf_tui, "--help"])], args.runs)
    first_frame_s, data_shown_s = medians(lambda: screen_times_s([clf_tui], size, [FIRST_FRAME, DATA_SHOWN]),
                                          args.runs)
    rows = [
        ('python -c "import textual.app"', import_textual),
        ("clf-tui --help", help_s),
        (f"clf-tui: first frame ({size[0]}x{size[1]})", first_frame_s),
        ("clf-tui: data shown (torch, sklearn loaded)", data_shown_s),
    ]
    print(f"median of {args.runs} fresh processes each")
    print(f"  {'command':<46}{'median':>10}{'/ import textual':>18}")
    for name, seconds in rows:
        print(f"  {name:<46}{seconds:>9.3f}s{seconds / import_textual:>17.2f}x")


if __name__ == "__main__":
    main()
