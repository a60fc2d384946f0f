"""The sandbox's shape: its areas in one list, each with its routes and its part of deleting a user,
no area reaching into another's state, and a route for every tool's request."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import ModuleType

import pytest

from lanying_mcp.core import facts
from lanying_mcp.sandbox import AREAS, ROUTES, Store, app, core
from lanying_mcp.toolsets import CATALOGUE

AREA_IDS = [area.__name__.rsplit(".", 1)[-1] for area in AREAS]
SANDBOX_DIR = Path(app.__file__).parent


def _tool_requests() -> list[tuple[str, str, str]]:
    """(tool, method, path) of every HTTP request a tool makes to the API."""
    out = []
    for op in CATALOGUE.values():
        if op.local:
            continue
        for method in (op.method, *op.aliases):
            out.append((op.name, method, op.path))
        for step in op.calls:  # multi-step tools: their API calls; external upload URLs are skipped
            method, _, path = step.partition(" ")
            if path.startswith("/"):
                out.append((op.name, method, path))
    return out


@pytest.mark.parametrize(("tool", "method", "path"), _tool_requests(), ids=lambda v: str(v))
def test_every_tool_request_is_served(tool: str, method: str, path: str) -> None:
    assert (method, path) in ROUTES, f"{tool}: the sandbox serves no {method} {path}"


@pytest.mark.parametrize("area", AREAS, ids=AREA_IDS)
def test_each_area_exports_routes_and_forget_user(area: ModuleType) -> None:
    assert isinstance(area.ROUTES, core.Routes)
    params = list(inspect.signature(area.forget_user).parameters)
    assert params == ["store", "user_id"]


def test_every_area_module_is_listed() -> None:
    listed = {Path(area.__file__).name for area in AREAS}
    machinery = {"__init__.py", "app.py", "core.py", "saved.py"}  # saved.py keeps the CLI's sandbox between runs
    assert {p.name for p in SANDBOX_DIR.glob("*.py")} - machinery == listed


def test_routes_come_from_the_area_tables_only() -> None:
    """Nothing global is filled by importing: the table is rebuilt from AREAS and equals ROUTES."""
    assert not hasattr(core, "ROUTES") and not hasattr(core, "route")
    assert app.route_table() == ROUTES
    assert sum(len(area.ROUTES.table) for area in AREAS) == len(ROUTES)


def _state_accessors(tree: ast.Module) -> set[str]:
    """Module-level names that hand out an area's state: functions returning (part of) `store.part(...)`,
    and the classes kept with `store.part`."""
    names: set[str] = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "part":
                names.update(a.id for a in sub.args if isinstance(a, ast.Name))
        for ret in (r for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None):
            if any(isinstance(c, ast.Attribute) and c.attr == "part" for c in ast.walk(ret.value)):
                names.add(node.name)
    return names


def _trees() -> dict[str, ast.Module]:
    return {name: ast.parse((SANDBOX_DIR / f"{name}.py").read_text()) for name in AREA_IDS}


@pytest.mark.parametrize("area", AREA_IDS)
def test_no_area_reaches_into_another_areas_state(area: str) -> None:
    trees = _trees()
    private = {name: _state_accessors(tree) for name, tree in trees.items()}
    tree = trees[area]
    aliases: dict[str, str] = {}
    used: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module in trees:  # from .groups import x
                used += [(node.module, a.name) for a in node.names]
            elif node.module is None:  # from . import groups as G
                aliases.update({a.asname or a.name: a.name for a in node.names if a.name in trees})
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            used.append((aliases[node.value.id], node.attr))
    bad = [f"{mod}.{name}" for mod, name in used if mod != area and (name.startswith("_") or name in private[mod])]
    assert not bad, f"{area} uses another area's internals: {bad}"


def test_deleting_a_user_runs_every_areas_part() -> None:
    from lanying_mcp.sandbox import build_app

    store = Store()
    build_app(store)
    seen: list[str] = []
    store.forgetters = tuple((lambda s, u, n=n: seen.append(n)) for n in AREA_IDS)
    store.forget_user(1)
    assert seen == AREA_IDS and AREA_IDS[-1] == "users"


def test_tool_models_and_sandbox_share_the_documented_facts() -> None:
    """The same objects, not copies: a change in facts.py moves both sides."""
    from lanying_mcp.sandbox import push as sandbox_push
    from lanying_mcp.sandbox import users as sandbox_users
    from lanying_mcp.toolsets import push as tool_push
    from lanying_mcp.toolsets import users as tool_users

    assert sandbox_push.PUSH_MAX_TARGETS is facts.PUSH_MAX_TARGETS == tool_push.MAX_AUDIENCE
    assert sandbox_users.facts is tool_users.facts
    size = tool_users.ListUsers.model_fields["page_size"].metadata
    assert any(getattr(m, "le", None) == facts.USER_LIST_PAGE_SIZE_MAX for m in size)


def test_fault_injection_is_not_shipped() -> None:
    assert not (SANDBOX_DIR / "faults.py").exists()
