"""ColumnRoles: a CSV file's columns with the role each was given, and a key that gives one another role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from clf_tui.datasets import DataReport
    from clf_tui.datasets.roles import ColumnRole
    from clf_tui.engine import RunConfig

ROLE_NAMES = {"target": "target", "numeric": "number", "categorical": "category", "boolean": "yes/no",
              "dropped": "unused"}
ROLE_STYLES = {"target": "bold magenta", "numeric": "cyan", "categorical": "green", "boolean": "yellow",
               "dropped": "dim"}
CHOICES = (None, "numeric", "categorical", "dropped")
"""What the role key steps through: the role inferred (None), then each that can be asked for."""
SETTINGS = {"numeric": "numeric", "categorical": "categorical", "dropped": "drop"}
"""The RunConfig setting that asks for each role."""


def roles_asked(config: RunConfig) -> dict[str, str]:
    """The roles ``config`` asks for, by column name."""
    return {name: role for role, setting in SETTINGS.items() for name in getattr(config, setting)}


def role_settings(asked: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """The RunConfig settings that ask for the roles ``asked``."""
    return {setting: tuple(name for name, asked_role in asked.items() if asked_role == role)
            for role, setting in SETTINGS.items()}


class ColumnRoles(Widget):
    """One line per column of the data's report; Enter on a column steps the role asked for it to the next
    of CHOICES and says so with a RoleChosen message. A role asked for and not yet applied is marked with an
    arrow: it applies to the next run, which the train key starts."""

    DEFAULT_CSS = """
    ColumnRoles { height: auto; display: none; }
    ColumnRoles.-shown { display: block; }
    ColumnRoles > OptionList { height: auto; max-height: 12; border: none; padding: 0; scrollbar-size-vertical: 1; }
    ColumnRoles > OptionList:focus { border: none; background-tint: $foreground 5%; }
    ColumnRoles > #roles-detail { height: auto; color: $text-muted; }
    """
    BINDINGS = [
        Binding("space", "next_role", "Change role", id="roles.next",
                tooltip="Give the highlighted column the next role (number, category, unused); it applies to the next run."),
    ]

    @dataclass
    class RoleChosen(Message):
        """The user asked for column ``name`` to have ``role`` (numeric, categorical, dropped), or None: as inferred."""

        name: str
        role: str | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns: tuple[ColumnRole, ...] = ()
        self._applied: dict[str, str] = {}
        self._requested: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("columns", "bold"), (" · o, then Enter: role", "dim")), id="roles-title")
        yield OptionList(id="roles-list")
        yield Static(id="roles-detail")

    @property
    def columns(self) -> tuple[ColumnRole, ...]:
        return self._columns

    def show(self, report: DataReport | None, applied: dict[str, str]) -> None:
        """Show ``report``'s columns (none: hide), made with the roles ``applied`` asks for by column name."""
        self._columns = () if report is None else report.columns
        self._applied, self._requested = dict(applied), dict(applied)
        self.set_class(report is not None, "-shown")
        self._redraw()

    @property
    def requested(self) -> dict[str, str]:
        """The roles asked for by column name, for the next run."""
        return dict(self._requested)

    def _redraw(self) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options([Option(self._line(column), id=f"column-{i}") for i, column in enumerate(self._columns)])
        if self._columns:
            options.highlighted = min(highlighted or 0, len(self._columns) - 1)

    def _line(self, column: ColumnRole) -> Text:
        line = Text.assemble((f"{ROLE_NAMES[column.role]:<9}", ROLE_STYLES[column.role]), column.name or "(index)")
        requested = self._requested.get(column.name)
        if requested != self._applied.get(column.name):
            line.append(f" → {ROLE_NAMES[requested] if requested else 'inferred'}", style="bold")
        line.no_wrap, line.overflow = True, "ellipsis"
        return line

    @on(OptionList.OptionHighlighted, "#roles-list")
    def _describe(self, message: OptionList.OptionHighlighted) -> None:
        column = self._columns[message.option_index]
        detail = Text(column.reason)
        if column.is_feature:
            detail.append(f" · {column.action}")
        if column.n_missing:
            detail.append(f" · {column.n_missing:,} missing")
        if column.problem:
            detail.append(f"\n{column.problem}", style="yellow")
        self.query_one("#roles-detail", Static).update(detail)

    @on(OptionList.OptionSelected, "#roles-list")
    def _selected(self) -> None:
        """Enter on a column: the list's own key, which selects."""
        self.action_next_role()

    def action_next_role(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or not self._columns:
            return
        column = self._columns[index]
        if column.role == "target":
            self.notify("The target is what the model learns; choose another in the form.", severity="warning")
            return
        role = CHOICES[(CHOICES.index(self._requested.get(column.name)) + 1) % len(CHOICES)]
        if role is None:
            del self._requested[column.name]
        else:
            self._requested[column.name] = role
        self._redraw()
        self.post_message(self.RoleChosen(column.name, role))
