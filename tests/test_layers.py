"""The layering, read from the source with ``ast``: packages import downwards only, no module takes another's
underscore names, and no modules import each other in a circle.

The layers, lowest first: the base (``clf_tui``'s ``__init__``, ``errors`` and ``files``), ``datasets``,
``engine``, ``render`` (the Rich renderings the command line and the app share), ``tui``, and the command line
(``clf_tui.cli`` and every other module of ``clf_tui``). A module may import its own layer and the ones below.
Imports under ``if TYPE_CHECKING:`` are left out; imports inside functions count, as they run all the same.

The checks take the root of a source tree, so they can be pointed at any checkout:
``python -c "from pathlib import Path; from tests.test_layers import problems; print(problems(Path('ROOT')))"``.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAYERS = ("base", "datasets", "engine", "render", "tui", "command line")
BASE_MODULES = frozenset({"clf_tui", "clf_tui.errors", "clf_tui.files"})
PACKAGE_LAYERS = {"clf_tui.datasets": "datasets", "clf_tui.engine": "engine", "clf_tui.render": "render",
                  "clf_tui.tui": "tui"}
UI_LIBRARIES = ("textual", "textual_plotext", "plotext", "rich")
BARRED_LIBRARIES = {"base": UI_LIBRARIES, "datasets": UI_LIBRARIES, "engine": UI_LIBRARIES,
                    "render": ("textual", "textual_plotext", "plotext")}
"""Libraries a layer never imports: the engine and everything below it stay headless; renderings are Rich only."""
ENTRY_POINT = "clf_tui.cli"
ENTRY_POINT_IMPORTERS = frozenset({"clf_tui.__main__"})
"""The only module that imports the entry point (the other is pyproject's script, which is no module)."""
PRIVATE_ALLOWED = {
    ("clf_tui.tui.screens.command_palette", "textual"):
        "closes two races of Textual 8's command palette; tests/tui/test_textual_internals.py checks the names",
}
"""(importer, top-level package) pairs allowed to read underscore names, each with its reason."""


@dataclass(frozen=True)
class Import:
    """One import statement's target, as the importing module sees it."""

    importer: str
    module: str
    """The imported module: for ``from package import name`` the submodule when ``name`` is one."""
    name: str | None
    """The name taken by ``from module import name``; None for ``import module`` or a submodule taken by name."""
    line: int


@dataclass(frozen=True)
class PrivateRead:
    """An underscore attribute read through a name that an import bound, such as ``module._name``."""

    module: str
    line: int
    text: str
    source: str
    """What the import bound that name to: a module, or ``module.name``."""


@dataclass(frozen=True)
class Project:
    """Every module of a source tree, with its imports and where it reads underscore names of imported modules."""

    modules: dict[str, Path]
    imports: list[Import]
    private_reads: list[PrivateRead]

    def graph(self) -> dict[str, set[str]]:
        """Each project module and the project modules it imports."""
        edges: dict[str, set[str]] = {module: set() for module in self.modules}
        for imp in self.imports:
            if imp.module in self.modules:
                edges[imp.importer].add(imp.module)
        return edges


def layer_of(module: str) -> str:
    """The layer of a project module."""
    if module in BASE_MODULES:
        return "base"
    for package, layer in PACKAGE_LAYERS.items():
        if module == package or module.startswith(f"{package}."):
            return layer
    return "command line"


def read_project(root: Path) -> Project:
    """Parse every module of the packages that ``root``'s pyproject.toml declares."""
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = setuptools.get("package-dir", {})
    modules: dict[str, Path] = {}
    for package in setuptools["packages"]:
        top = next((name for name in folders if package == name or package.startswith(f"{name}.")), None)
        if top is None:
            folder = root.joinpath(*package.split("."))
        else:
            folder = root.joinpath(folders[top], *package[len(top) + 1:].split(".") if package != top else ())
        for path in sorted(folder.glob("*.py")):
            modules[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    imports: list[Import] = []
    private_reads: list[PrivateRead] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = module if path.stem == "__init__" else module.rpartition(".")[0]
        reader = _ImportReader(module, package, modules)
        reader.visit(tree)
        imports.extend(reader.imports)
        private_reads.extend(PrivateRead(module, line, text, reader.bound[name])
                             for line, text, name in _private_reads(tree, reader.bound))
    return Project(modules, imports, private_reads)


class _ImportReader(ast.NodeVisitor):
    """Collects a module's imports (relative ones resolved), skipping ``if TYPE_CHECKING:`` blocks, and the names
    they bind (wherever in the module: a simple reading that does not follow scopes)."""

    def __init__(self, module: str, package: str, modules: dict[str, Path]) -> None:
        self.module = module
        self.package = package
        self.modules = modules
        self.imports: list[Import] = []
        self.bound: dict[str, str] = {}
        """Local name -> the imported module (or ``module.name``) it stands for."""

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imports.append(Import(self.module, alias.name, None, node.lineno))
            if alias.asname:
                self.bound[alias.asname] = alias.name
            else:
                top = alias.name.partition(".")[0]
                self.bound[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parts = self.package.split(".")
            base = ".".join(parts[:len(parts) - node.level + 1])
            source = f"{base}.{node.module}" if node.module else base
        else:
            source = node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in self.modules:
                self.imports.append(Import(self.module, submodule, None, node.lineno))
            else:
                self.imports.append(Import(self.module, source, alias.name, node.lineno))
            self.bound[alias.asname or alias.name] = submodule


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _private_reads(tree: ast.AST, bound: dict[str, str]) -> Iterator[tuple[int, str, str]]:
    """Each ``name.attr...`` chain that starts at a name an import bound and reads an underscore attribute."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                yield node.lineno, ast.unparse(node), root.id


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def layer_problems(project: Project) -> list[str]:
    """Imports of a higher layer, of a library the layer bars, or of the entry point by anything but __main__."""
    problems: dict[str, None] = {}  # one line per statement, however many names it takes
    for imp in project.imports:
        layer = layer_of(imp.importer)
        where = f"{imp.importer} (line {imp.line})"
        if imp.module in project.modules:
            target = layer_of(imp.module)
            if LAYERS.index(target) > LAYERS.index(layer):
                problems[f"{where} imports {imp.module}: {layer} may not import {target}"] = None
            if imp.module == ENTRY_POINT and imp.importer not in ENTRY_POINT_IMPORTERS:
                problems[f"{where} imports {ENTRY_POINT}, the entry point that only dispatches"] = None
        elif imp.module.partition(".")[0] in BARRED_LIBRARIES.get(layer, ()):
            problems[f"{where} imports {imp.module}: {layer} never imports {imp.module.partition('.')[0]}"] = None
    return list(problems)


def private_problems(project: Project) -> list[str]:
    """``from module import _name`` and ``module._name`` reads, except the allowed ones."""
    problems = []
    for imp in project.imports:
        if imp.name is not None and _is_private(imp.name) and not _allowed(imp.importer, imp.module):
            problems.append(f"{imp.importer} (line {imp.line}) imports {imp.name} from {imp.module}")
    for read in project.private_reads:
        if not _allowed(read.module, read.source):
            problems.append(f"{read.module} (line {read.line}) reads {read.text}")
    return problems


def _allowed(importer: str, source: str) -> bool:
    return (importer, source.partition(".")[0]) in PRIVATE_ALLOWED


def cycles(project: Project) -> list[str]:
    """Per group of modules that import each other: one cycle through them, and the whole group when larger."""
    graph = project.graph()
    found = []
    for group in _strongly_connected(graph):
        if len(group) > 1 or next(iter(group)) in graph[next(iter(group))]:
            cycle = _cycle_in(graph, group)
            rest = sorted(group - set(cycle))
            found.append(" -> ".join(cycle) + (f" (and with them {', '.join(rest)})" if rest else ""))
    return sorted(found)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def _cycle_in(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest cycle through the group's first module, staying inside the group."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & group):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")


def problems(root: Path) -> dict[str, list[str]]:
    """Every finding of the three checks on the tree at ``root``."""
    project = read_project(root)
    return {
        "layers": layer_problems(project),
        "private names": private_problems(project),
        "cycles": cycles(project),
    }


def test_each_module_imports_only_its_own_layer_or_lower_ones() -> None:
    found = layer_problems(read_project(ROOT))
    assert not found, "imports against the layering:\n" + "\n".join(found)


def test_no_module_takes_another_modules_underscore_names() -> None:
    found = private_problems(read_project(ROOT))
    assert not found, "underscore names taken from other modules:\n" + "\n".join(found)


def test_no_modules_import_each_other_in_a_circle() -> None:
    found = cycles(read_project(ROOT))
    assert not found, "import cycles:\n" + "\n".join(found)


def test_every_layer_has_modules_so_the_checks_see_the_tree() -> None:
    project = read_project(ROOT)
    assert {layer_of(module) for module in project.modules} == set(LAYERS)
    assert len(project.imports) > 100


# The checker on small trees: what it must catch, and what it must leave alone.

def write_tree(root: Path, files: dict[str, str]) -> Path:
    (root / "pyproject.toml").write_text(
        '[tool.setuptools]\npackages = ["clf_tui", "clf_tui.engine", "clf_tui.datasets"]\n'
        '[tool.setuptools.package-dir]\n"clf_tui.engine" = "engine"\n"clf_tui.datasets" = "datasets"\n')
    for name in ("clf_tui/__init__.py", "engine/__init__.py", "datasets/__init__.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_the_checker_finds_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"datasets/names.py": "def f():\n    from clf_tui.engine import config\n",
                                 "engine/config.py": ""})
    assert problems(root)["layers"] == [
        "clf_tui.datasets.names (line 2) imports clf_tui.engine.config: datasets may not import engine"]


def test_the_checker_finds_a_ui_library_below_the_app(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"engine/show.py": "import rich.table\n"})
    assert problems(root)["layers"] == ["clf_tui.engine.show (line 1) imports rich.table: engine never imports rich"]


def test_the_checker_finds_private_names_imported_or_read(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "engine/a.py": "from .b import _hidden, shown\nfrom . import b\nb._hidden()\nb.shown.__name__\n",
        "engine/b.py": "def _hidden(): ...\ndef shown(): ...\n",
    })
    assert problems(root)["private names"] == [
        "clf_tui.engine.a (line 1) imports _hidden from clf_tui.engine.b",
        "clf_tui.engine.a (line 3) reads b._hidden",
    ]


def test_the_checker_finds_a_cycle_through_a_function_but_not_through_type_checking(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "engine/a.py": "from . import b\n",
        "engine/b.py": "def later():\n    from .a import x\n",
        "engine/c.py": "from typing import TYPE_CHECKING\nfrom . import a\nif TYPE_CHECKING:\n    from . import c2\n",
        "engine/c2.py": "from . import c\n",
    })
    assert problems(root)["cycles"] == ["clf_tui.engine.a -> clf_tui.engine.b -> clf_tui.engine.a"]


def test_the_checker_resolves_relative_imports_from_a_package_and_a_module(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"engine/__init__.py": "from .a import x\nfrom ..datasets import names\n",
                                 "engine/a.py": "from ..datasets.names import y\n", "datasets/names.py": ""})
    project = read_project(root)
    assert {(imp.importer, imp.module) for imp in project.imports} == {
        ("clf_tui.engine", "clf_tui.engine.a"), ("clf_tui.engine", "clf_tui.datasets.names"),
        ("clf_tui.engine.a", "clf_tui.datasets.names")}
