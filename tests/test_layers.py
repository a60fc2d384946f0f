"""The package's architecture, held against its import graph.

Every import counts: at the top of a module, inside a function, and under `TYPE_CHECKING` (a type-only
import is still a dependency of the design), plus the toolset modules the catalogue loads by name. The
wings are layered: a module may import its own wing and the wings below it, never one above. The
top-level modules (`cli`, `doctor`, `__main__`, the package's face) sit above every wing.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lanying_mcp"

# Bottom to top. The sandbox is apart: it emulates the API from the documented facts alone.
WINGS = ("core", "safety", "engine", "toolsets", "review", "serving")
APART = {"sandbox": ("core",)}
TOP = {"lanying_mcp", "lanying_mcp.__main__", "lanying_mcp.cli", "lanying_mcp.doctor"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        named = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        subs = [f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in MODULES]
        named = subs + ([source] if len(subs) < len(node.names) else [])
    found: list[str] = []
    for name in named:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.append(name)
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module].update(_targets(module, path, node))
    # The catalogue imports its toolset modules by name (importlib), at their first call.
    catalogue = (PACKAGE / "toolsets" / "__init__.py").read_text(encoding="utf-8")
    listed = re.search(r"MODULES = \(([^)]*)\)", catalogue)
    assert listed is not None, "toolsets/__init__.py no longer lists MODULES: teach this test how it loads them"
    for name in re.findall(r'"(\w+)"', listed.group(1)):
        assert f"lanying_mcp.toolsets.{name}" in MODULES, name
        graph["lanying_mcp.toolsets"].add(f"lanying_mcp.toolsets.{name}")
    return graph


def _wing(module: str) -> str | None:
    if module in TOP:
        return None
    return module.split(".")[1]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a path, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(MODULES):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_module_belongs_to_a_wing_or_the_top():
    wings = set(WINGS) | set(APART)
    stray = sorted(m for m in MODULES if m not in TOP and _wing(m) not in wings)
    assert stray == [], f"modules outside every wing (give each a wing, or name it in TOP): {stray}"


def test_there_is_no_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_each_wing_imports_only_itself_and_the_wings_below():
    rank = {wing: i for i, wing in enumerate(WINGS)}
    upward: list[str] = []
    for module, targets in sorted(_graph().items()):
        wing = _wing(module)
        if wing is None:
            continue
        for target in sorted(targets):
            other = _wing(target)
            if other is None:
                upward.append(f"{module} -> {target} (the top level)")
            elif wing in APART:
                if other != wing and other not in APART[wing]:
                    upward.append(f"{module} -> {target} ({wing} may use only {APART[wing]})")
            elif other in APART:
                upward.append(f"{module} -> {target} (the {other} is apart: only the top level uses it)")
            elif rank[other] > rank[wing]:
                upward.append(f"{module} -> {target} ({wing} is below {other})")
    assert upward == []


def test_the_graph_is_read_whole():
    """The reader must see the imports it guards: a lazy one, a type-only one and the catalogue's."""
    graph = _graph()
    assert "lanying_mcp.engine.call" in graph["lanying_mcp.engine.dispatch"]
    assert "lanying_mcp.toolsets.users" in graph["lanying_mcp.toolsets"]
    assert any(graph[m] for m in graph if m.startswith("lanying_mcp.review."))
