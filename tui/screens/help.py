"""HelpScreen: the keys grouped by topic in as many columns as the terminal holds, then how the views work."""

from __future__ import annotations

from math import ceil

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.widgets import Static

from .dialog import Dialog

TOPICS = ("training", "threshold", "classes", "pages", "replay", "regions", "checkpoints", "tools", "app")
"""The topics in the order the help lists them."""
TOPIC_OF_PREFIX = {
    "train": "training", "threshold": "threshold", "class": "classes", "page": "pages", "config": "pages",
    "replay": "replay", "regions": "regions", "checkpoint": "checkpoints", "app": "app",
}
"""A binding's topic by the part of its id before the dot; any other prefix is a tool."""
TOPIC_OF_ID = {"evaluation.chart": "pages"}
"""Bindings whose prefix says less than what they do: switching the chart shown is moving between views."""
COMMANDS = Binding("ctrl+p", "command_palette", "Commands", id="app.commands",
                   tooltip="Search and run any of these by name.")
COLUMN_MIN_WIDTH = 50
"""A column of keys is at least this wide: a key, a name and a line of explanation of some length."""
MAX_COLUMNS = 3
MAX_WIDTH = 168
FRAME_WIDTH = 5
"""The help's border, padding and scroll bar."""


def topic(binding: Binding) -> str:
    """The help topic ``binding`` is listed under, from its id."""
    if binding.id in TOPIC_OF_ID:
        return TOPIC_OF_ID[binding.id]
    return TOPIC_OF_PREFIX.get((binding.id or "").partition(".")[0], "tools")


def columns_for(width: int) -> int:
    """How many columns of keys a terminal ``width`` cells wide holds: one at 80, two from 105, three from 155."""
    return max(1, min(MAX_COLUMNS, (min(width, MAX_WIDTH) - FRAME_WIDTH) // COLUMN_MIN_WIDTH))


class HelpScreen(Dialog[None]):
    """Lists ``bindings`` by topic (each key with its name and full explanation) above ``notes`` (Textual markup)."""

    DEFAULT_CSS = """
    HelpScreen #help {
        width: 100%;
        max-width: 168;  /* MAX_WIDTH */
        height: 90%;
        padding: 0 1;
        border: round $accent;
        background: $surface;
    }
    HelpScreen #help-columns { height: auto; }
    HelpScreen .help-column { width: 1fr; height: auto; padding-right: 2; }
    HelpScreen .help-topic { height: auto; margin-bottom: 1; }
    HelpScreen #help-notes { height: auto; }
    """
    AUTO_FOCUS = "#help"  # so the arrow keys scroll it
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close", tooltip="Close the help."),
    ]

    def __init__(self, bindings: list[Binding], notes: str) -> None:
        super().__init__()
        self._key_bindings = [*bindings, COMMANDS]
        self._notes = notes
        self._width = 80

    @property
    def groups(self) -> dict[str, list[Binding]]:
        """The bindings by topic, topics in TOPICS' order, each topic's bindings in the order given."""
        grouped: dict[str, list[Binding]] = {name: [] for name in TOPICS}
        for binding in self._key_bindings:
            grouped.setdefault(topic(binding), []).append(binding)
        return {name: bindings for name, bindings in grouped.items() if bindings}

    def compose(self) -> ComposeResult:
        self._width = self.app.size.width
        with VerticalScroll(id="help") as body:
            body.border_title = "clf-tui keys (Escape closes)"
            with Horizontal(id="help-columns"):
                for column in self._balanced():
                    with Vertical(classes="help-column"):
                        for name in column:
                            yield Static(self._topic_table(name), classes="help-topic", id=f"help-{name}")
            yield Static(self._notes, id="help-notes")

    def on_resize(self, event: Resize) -> None:
        changed = columns_for(event.size.width) != columns_for(self._width)
        self._width = event.size.width
        if changed:
            self.refresh(recompose=True)

    def _topic_table(self, name: str) -> Group:
        keys = Table.grid(padding=(0, 1))
        keys.add_column(style="bold cyan", no_wrap=True, width=self._key_width())
        keys.add_column(ratio=1)
        for binding in self.groups[name]:
            keys.add_row(self.app.get_key_display(binding), Text.assemble((binding.description, "bold"), " · ",
                                                                           binding.tooltip or ""))
        return Group(Text(name, style="bold underline"), keys)

    def _key_width(self) -> int:
        """The widest key, so that every topic's explanations start in one column."""
        return max(len(self.app.get_key_display(binding)) for binding in self._key_bindings)

    def _balanced(self) -> list[list[str]]:
        """The topics split, in order, into columns of about equal height."""
        n_columns = columns_for(self._width)
        column_width = (min(self._width, MAX_WIDTH) - FRAME_WIDTH) // n_columns - 2
        width = max(column_width - self._key_width() - 1, 10)
        heights = {name: 2 + sum(ceil((len(b.description) + 3 + len(b.tooltip or "")) / width) for b in bindings)
                   for name, bindings in self.groups.items()}
        target = sum(heights.values()) / n_columns
        columns: list[list[str]] = [[]]
        filled = 0.0
        for name, height in heights.items():
            # Start the next column once this one would pass its share by more than half the topic.
            if columns[-1] and len(columns) < n_columns and filled + height / 2 > target * len(columns):
                columns.append([])
            columns[-1].append(name)
            filled += height
        return columns
