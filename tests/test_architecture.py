"""The layers stay as docs/architecture.md draws them.

Read from the source with `ast`, so a violation fails here even on a code path
no other test runs:
- the sans-I/O core (`httpcore._core`) imports no I/O module (trio, socket,
  ssl, selectors, asyncio, ...) and nothing from the layers above it;
- each layer imports only from the layers it may build on;
- the runtime import graph of the package has no cycle;
- inside the core, even type-only references point down the layers, with one
  documented exception (`exceptions` names the models it carries).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import httpcore

PACKAGE_DIR = Path(httpcore.__file__).parent
IO_MODULES = {"trio", "socket", "ssl", "selectors", "asyncio", "anyio", "uvloop", "threading"}

# Which layer may import which (a layer may always import itself and `_version`).
ALLOWED = {
    "httpcore._core": {"httpcore._core"},
    "httpcore._trio": {"httpcore._core", "httpcore._trio"},
    "httpcore._asyncio": {"httpcore._core", "httpcore._trio", "httpcore._asyncio"},
    "httpcore.cli": {"httpcore", "httpcore._core", "httpcore._trio", "httpcore.cli"},
}

# Type-only references that point up the core's layers, each for a reason:
# an exception carries the request (and response) it is about, typed as such.
TYPE_ONLY_UPWARD = {("httpcore._core.exceptions", "httpcore._core.models")}


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`
    lazy: bool  # inside a function body


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(source: str, name: str, is_package: bool) -> Iterator[Import]:
    """Every import statement of a module, resolved to absolute names."""
    package = name if is_package else name.rpartition(".")[0]

    def visit(node: ast.AST, type_only: bool, lazy: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno, type_only, lazy)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield Import(target, node.lineno, type_only, lazy)
            for alias in node.names:  # `from . import x` may name a submodule
                yield Import(f"{target}.{alias.name}", node.lineno, type_only, lazy)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                yield from visit(statement, True, lazy)
            for statement in node.orelse:
                yield from visit(statement, type_only, lazy)
        else:
            inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for child in ast.iter_child_nodes(node):
                yield from visit(child, type_only, inner)

    yield from visit(ast.parse(source), False, False)


def internal_imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    """Imports of `name` that name a module of this package (the module, not a name in it)."""
    for imported in imports_of(path.read_text(), name, path.name == "__init__.py"):
        if imported.module in modules and imported.module != name:
            yield imported


def layer_of(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else name


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of `graph` as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return [*path[path.index(successor) :], successor]
            if successor not in state and (cycle := visit(successor)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


MODULES = package_modules()
CORE = sorted(name for name in MODULES if layer_of(name) == "httpcore._core")


@pytest.mark.parametrize("name", CORE)
def test_core_module_imports_no_io(name: str) -> None:
    found = [
        f"line {imported.line}: {imported.module}"
        for imported in imports_of(MODULES[name].read_text(), name, name == "httpcore._core")
        if imported.module.split(".")[0] in IO_MODULES
    ]
    assert not found, f"{name} is sans-I/O but imports {found}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer_of(n) in ALLOWED))
def test_layer_imports_only_what_it_may(name: str) -> None:
    allowed = ALLOWED[layer_of(name)] | {"httpcore._version"}
    bad = [
        f"line {imported.line}: {imported.module}"
        for imported in internal_imports(name, MODULES[name], MODULES)
        if layer_of(imported.module) not in allowed and imported.module not in allowed
    ]
    assert not bad, f"{name} ({layer_of(name)}) may not import {bad}"


def test_runtime_import_graph_has_no_cycle() -> None:
    graph = {
        name: {
            imported.module
            for imported in internal_imports(name, path, MODULES)
            if not imported.type_only and not imported.lazy
        }
        for name, path in MODULES.items()
    }
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"


def test_core_references_point_down_the_layers() -> None:
    graph = {
        name: {
            imported.module
            for imported in internal_imports(name, MODULES[name], MODULES)
            if (name, imported.module) not in TYPE_ONLY_UPWARD
        }
        for name in CORE
    }
    cycle = find_cycle(graph)
    assert cycle is None, f"core modules refer to each other in a circle: {' -> '.join(cycle)}"


def test_every_module_lives_in_a_known_room() -> None:
    """New code goes into a layer (add a new one to ALLOWED and docs/architecture.md)."""
    top_level = {"httpcore", "httpcore.__main__", "httpcore._version"}
    unplaced = {
        name
        for name, path in MODULES.items()
        if (layer_of(name) not in ALLOWED if path.parent != PACKAGE_DIR else name not in top_level)
    }
    assert not unplaced, f"modules outside the known layers: {sorted(unplaced)}"


# -- the checks above can fail -----------------------------------------------------------


def test_walker_sees_every_kind_of_import() -> None:
    source = (
        "import trio\n"
        "from ..cli import main\n"
        "from . import urls\n"
        "if TYPE_CHECKING:\n"
        "    from .models import Request\n"
        "else:\n"
        "    import json\n"
        "def later():\n"
        "    import ssl\n"
    )
    found = {
        (i.module, i.type_only, i.lazy)
        for i in imports_of(source, "httpcore._core.cookies", is_package=False)
    }
    assert ("trio", False, False) in found
    assert ("httpcore.cli.main", False, False) in found
    assert ("httpcore._core.urls", False, False) in found
    assert ("httpcore._core.models", True, False) in found
    assert ("json", False, False) in found
    assert ("ssl", False, True) in found


def test_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
