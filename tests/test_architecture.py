"""The house rules, read from the source: imports point down only, with no cycle anywhere.

The import graph is built with `ast` from every module of citizenbot, function-local imports
included (an import hidden in a function is still a dependency, and the usual way to paper over
a cycle). An import of `a.b.c` counts as a dependency on `a.b.c`, not on the packages above it:
Python runs those first, but a package that re-exports its modules is not a cycle.
docs/architecture.md draws the picture these tests hold.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "citizenbot"
CORE = f"{PACKAGE}.core"
FEATURES = {f"{PACKAGE}.telegram.{name}" for name in ("answers", "tickets", "admin", "webhook")}
DOORS = (f"{PACKAGE}.telegram", f"{PACKAGE}.console", f"{PACKAGE}.cli")
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM|PRAGMA \w+|"
                 r"CREATE (TABLE|INDEX|UNIQUE INDEX))\b", re.S)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8"), str(p))
            for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def imported(name: str, tree: ast.Module) -> Iterator[str]:
    """Every module ``name`` imports, anywhere in it (top level, functions, TYPE_CHECKING)."""
    package = name if name in _packages() else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from a import b` imports the module a.b when there is one, else a.
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base


@cache
def _packages() -> frozenset[str]:
    return frozenset(module_name(p.parent / "__init__.py")
                     for p in (SRC / PACKAGE).rglob("__init__.py"))


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the citizenbot modules it imports."""
    return {name: frozenset(m for m in imported(name, tree)
                            if m in modules() and m != name)
            for name, tree in modules().items()}


def external(name: str) -> set[str]:
    return {m.split(".")[0] for m in imported(name, modules()[name])
            if not m.startswith(PACKAGE)}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def find_cycle() -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph()[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph()):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


# --------------------------------------------------------------------------- the rules

def test_the_graph_is_read_from_every_module_and_sees_local_imports() -> None:
    assert len(modules()) > 30
    # cli imports the Telegram app inside a function only: it must still be an edge.
    assert f"{PACKAGE}.telegram.app" in graph()[f"{PACKAGE}.cli"]
    assert graph()[f"{PACKAGE}.telegram.app"] >= FEATURES


def test_there_is_no_import_cycle() -> None:
    cycle = find_cycle()
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    # A check that cannot fail proves nothing: add a back edge and it must see the loop.
    saved = dict(graph())
    graph.cache_clear()
    try:
        patched = graph()
        patched[f"{PACKAGE}.model"] = frozenset({f"{PACKAGE}.telegram.app"})
        assert find_cycle() is not None
    finally:
        graph.cache_clear()
    assert graph() == saved


def test_only_the_telegram_package_imports_python_telegram_bot() -> None:
    users = sorted(name for name in modules() if "telegram" in external(name))
    assert users and all(within(name, f"{PACKAGE}.telegram") for name in users), users


def test_only_app_imports_the_telegram_features() -> None:
    for name, deps in graph().items():
        if name != f"{PACKAGE}.telegram.app":
            assert not deps & FEATURES, f"{name} imports {sorted(deps & FEATURES)}"


@pytest.mark.parametrize("layer, forbidden", [
    # The core imports nothing of citizenbot outside itself.
    (CORE, (PACKAGE + ".",)),
    (f"{PACKAGE}.store", (f"{PACKAGE}.service", f"{PACKAGE}.staff", *DOORS)),
    # The service sees storage only through its Storage and Journal protocols.
    (f"{PACKAGE}.service", (f"{PACKAGE}.store", f"{PACKAGE}.staff", *DOORS)),
    (f"{PACKAGE}.staff", DOORS),
    (f"{PACKAGE}.model", (PACKAGE + ".",)),
])
def test_imports_point_down(layer: str, forbidden: tuple[str, ...]) -> None:
    members = {n for n in modules() if within(n, layer)}
    assert members
    for name in members:
        for dep in graph()[name]:
            if within(dep, layer):
                continue
            assert not any(dep.startswith(f) if f.endswith(".") else within(dep, f)
                           for f in forbidden), f"{name} imports {dep}"


def test_no_sql_outside_the_store() -> None:
    found = []
    for name, tree in modules().items():
        if within(name, f"{PACKAGE}.store"):
            continue
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                    | ast.AsyncFunctionDef)
                      and node.body and isinstance(node.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in docstrings and SQL.search(node.value):
                found.append(f"{name}: {node.value[:60]!r}")
    assert found == []
