"""A regular (non-editable) install ships every package of the tree, and the app's styles."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def declared() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_in_the_tree_is_declared() -> None:
    setuptools = declared()
    folders = {"clf_tui": "clf_tui", **setuptools["package-dir"]}
    in_tree = set()
    for package, folder in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            in_tree.add(".".join([package, *relative.parts]))
    assert in_tree == set(setuptools["packages"])


def test_the_stylesheets_are_package_data() -> None:
    patterns = declared()["package-data"]["clf_tui.tui"]
    for sheet in (ROOT / "tui").rglob("*.tcss"):
        assert any(sheet.match(pattern) for pattern in patterns), sheet
