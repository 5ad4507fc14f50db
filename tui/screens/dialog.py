"""Dialog: a modal screen that a second answer typed faster than it closes cannot close twice."""

from __future__ import annotations

from typing import TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """A ModalScreen whose ``dismiss`` does nothing once it is no longer on top: Escape or Enter pressed again
    before the first answer has closed it would pop the screen below (or fail on a screen already answered)."""

    def dismiss(self, result: ResultT | None = None) -> AwaitComplete:
        if not self.is_active:
            return AwaitComplete.nothing()
        return super().dismiss(result)
