"""PathPrompt: asks for a file path, typed or picked from a tree of folders and files (checkpoints by default)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DirectoryTree, Input, Static

from .dialog import Dialog

CHECKPOINT_SUFFIXES = (".pt", ".pth")


class CheckpointTree(DirectoryTree):
    """Folders and files named with one of ``suffixes`` (checkpoints by default) only, hidden ones left out."""

    def __init__(self, path: Path, *, suffixes: tuple[str, ...] = CHECKPOINT_SUFFIXES, id: str | None = None) -> None:
        self.suffixes = suffixes
        super().__init__(path, id=id)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            path for path in paths
            if not path.name.startswith(".") and (path.is_dir() or path.suffix in self.suffixes)
        ]


class PathPrompt(Dialog[Path | None]):
    """Dismissed with the chosen path, or None when cancelled.

    To open (``must_exist``), the file must exist and picking one in the tree opens it.
    To save, picking a file in the tree only fills in its name, and an existing file is
    flagged as about to be replaced.
    """

    AUTO_FOCUS = "#path"
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="path.cancel", tooltip="Close without a path.")]

    def __init__(self, title: str, default: str, *, must_exist: bool,
                 suffixes: tuple[str, ...] = CHECKPOINT_SUFFIXES) -> None:
        super().__init__()
        self._title = title
        self._default = default
        self._must_exist = must_exist
        self._suffixes = suffixes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="path-dialog") as dialog:
            dialog.border_title = self._title
            yield Static("Enter accepts the path · Tab moves to the file tree · Escape cancels", classes="hint")
            yield Input(self._default, id="path")
            yield Static(id="path-note")
            yield CheckpointTree(_browse_root(Path(self._default).expanduser()), suffixes=self._suffixes, id="tree")

    def on_mount(self) -> None:
        self._describe(self._default)

    @on(Input.Changed, "#path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._describe(event.value)

    @on(Input.Submitted, "#path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        self._accept(event.value)

    @on(DirectoryTree.FileSelected)
    def _file_picked(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#path", Input).value = str(event.path)
        if self._must_exist:
            self._accept(str(event.path))
        else:
            self.query_one("#path", Input).focus()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def _accept(self, text: str) -> None:
        text = text.strip()
        if not text:
            self._note("type a path, or pick a file in the tree", "error")
        elif self._must_exist and not Path(text).expanduser().is_file():
            self._note(f"no such file: {text}", "error")
        else:
            self.dismiss(Path(text).expanduser())

    def _describe(self, text: str) -> None:
        path = Path(text.strip()).expanduser()
        if self._must_exist or not text.strip():
            self._note("", "")
        elif path.is_dir():
            self._note("that is a folder: add a file name", "error")
        elif path.exists():
            self._note(f"{path.name} exists and will be replaced", "warning")
        else:
            self._note(f"new file in {path.parent.resolve()}", "")

    def _note(self, text: str, kind: str) -> None:
        note = self.query_one("#path-note", Static)
        note.update(Content(text))  # the path as typed, "[" included: never markup
        note.set_classes(kind)


def _browse_root(path: Path) -> Path:
    """Where the file tree starts: the nearest existing folder of ``path``, else the working folder."""
    for folder in (path, *path.parents):
        if folder.is_dir():
            return folder.resolve()
    return Path.cwd()
