"""LessonPicker: the course's experiments, one to set up in the form (or in the compare screen)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from clf_tui.engine.lessons import LESSONS, Lesson

from .dialog import Dialog


class LessonPicker(Dialog[Lesson | None]):
    """Dismissed with the lesson chosen (Enter), or None (Escape); the highlighted one's text shows below."""

    AUTO_FOCUS = "#lessons"
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="lessons.cancel", tooltip="Keep the form as it is.")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Lessons (Enter sets one up, Escape cancels)"
            yield OptionList(*(Option(Text(lesson.title), id=name) for name, lesson in LESSONS.items()), id="lessons")
            yield Static(id="lesson-text", classes="hint")

    def on_mount(self) -> None:
        self._describe(next(iter(LESSONS.values())))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._describe(LESSONS[str(event.option.id)])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(LESSONS[str(event.option.id)])

    def _describe(self, lesson: Lesson) -> None:
        runs = f"compares {len(lesson.variants) + 1} configurations" if lesson.is_comparison else "one run"
        self.query_one("#lesson-text", Static).update(Text("\n".join((f"{lesson.name}: {runs}", *lesson.text))))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
