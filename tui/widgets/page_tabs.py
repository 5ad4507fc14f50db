"""PageTabs: the page names of the compact layout, the current one highlighted; a click switches page."""

from __future__ import annotations

from textual.widgets import Static

PAGES = {"config": "Config", "training": "Training", "evaluation": "Evaluation", "regions": "Regions"}
"""Page id -> title, in key order (1, 2, 3, 4)."""


class PageTabs(Static):
    """``1 Config  2 Training  3 Evaluation  4 Regions``, shown only where the panes do not fit side by side."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_page("config")

    def show_page(self, page: str) -> None:
        tabs = []
        for number, (name, title) in enumerate(PAGES.items(), start=1):
            style = "b reverse" if name == page else "dim"
            tabs.append(f"[@click=app.show_page('{name}')][{style}] {number} {title} [/{style}][/]")
        self.update(" ".join(tabs))
