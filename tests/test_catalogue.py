"""Invariants over every tool: names, texts in both languages, hints, `_meta`, one tool per operation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lanying_mcp.core.schema import input_schema, output_schema
from lanying_mcp.core.spec import Hints
from lanying_mcp.engine.call import output_model
from lanying_mcp.toolsets import CATALOGUE, TOOLSETS
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS
from tests.helpers import sandbox_client

SPEC = Path(__file__).resolve().parents[1] / "tools" / "upstream" / "lanying-api" / "api-docs.json"
LEGACY = {"POST /user/add_roster", "GET /user/rosters"}  # quick-guide operations missing from the Swagger
VERBS = {
    "add",
    "apply",
    "bind",
    "block",
    "broadcast",
    "change",
    "check",
    "clear",
    "create",
    "decline",
    "delete",
    "destroy",
    "disable",
    "enable",
    "explain",
    "find",
    "get",
    "handle",
    "invite",
    "join",
    "kick",
    "leave",
    "list",
    "mute",
    "pin",
    "recall",
    "register",
    "remove",
    "rename",
    "reset",
    "send",
    "set",
    "transfer",
    "unbind",
    "unblock",
    "unmute",
    "undo",
    "unpin",
    "update",
    "upload",
    "accept",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def swagger_pairs() -> set[str]:
    spec = json.loads(SPEC.read_text())
    return {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}


ALL = [*CATALOGUE.values(), *LOCAL_OPERATIONS]


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_tool_invariants(op):
    assert re.fullmatch(r"[a-z][a-z0-9_]{2,63}", op.name)
    assert op.name.split("_")[0] in VERBS, f"{op.name}: start with one of the catalogue's verbs"
    assert isinstance(op.hints, Hints)
    assert not (op.hints.read_only and op.hints.destructive)
    for i in (0, 1):
        assert op.title[i].strip() and op.description[i].strip()
    assert CJK.search(op.title[1]) and CJK.search(op.description[1]), "Chinese texts must be Chinese"
    assert not CJK.search(op.description[0]), "English texts must be English"
    assert len(op.description[0]) <= 300
    for name, info in op.params.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        assert info.description and extra.get("x-zh"), f"{op.name}.{name} needs an English and a Chinese description"
    for lang in ("en", "zh"):
        assert input_schema(op.params, lang)["type"] == "object"
        assert output_schema(output_model(op), lang)["type"] == "object"


def test_meta_matches_swagger_and_no_operation_twice():
    pairs = swagger_pairs() | LEGACY
    owners: dict[str, str] = {}
    for op in CATALOGUE.values():
        calls = op.http_meta if isinstance(op.http_meta, list) else [op.http_meta]
        for call in calls:
            if "{" in call:  # the storage URL an upload goes to
                continue
            assert call in pairs, f"{op.name}: {call} is not a documented operation"
        if op.handler is not None:
            continue  # multi-step tools reuse other operations' calls
        for method in (op.method, *op.aliases):
            key = f"{method} {op.path}"
            assert key in pairs, f"{op.name}: alias {key} is not documented"
            assert key not in owners, f"{key} is served by both {owners[key]} and {op.name}"
            owners[key] = op.name


def test_toolsets_are_declared_and_used():
    used = {op.toolset for op in CATALOGUE.values()}
    assert used == set(TOOLSETS)
    for ts in TOOLSETS.values():
        assert ts.description[0] and CJK.search(ts.description[1])


@pytest.mark.anyio
async def test_listed_tools_carry_annotations_and_meta(mode):
    async with sandbox_client(mode=mode) as client:
        tools = (await client.list_tools()).tools
    expected = set(CATALOGUE) | {op.name for op in LOCAL_OPERATIONS} | {"apply_plan", "await_approval"}
    assert {t.name for t in tools} == expected
    for tool in tools:
        a = tool.annotations
        assert a is not None and tool.title
        # Every hint that means something is sent; the spec's defaults and the hints it gives no meaning are not.
        assert a.read_only_hint is not None
        if a.read_only_hint:
            assert a.destructive_hint is None and a.idempotent_hint is None
        else:
            assert a.destructive_hint is not None and a.idempotent_hint is not None
        assert a.open_world_hint in (None, False)
        assert tool.meta and "lanying/http" in tool.meta
        assert tool.output_schema and tool.output_schema["type"] == "object"


@pytest.mark.anyio
async def test_hints_read_with_the_spec_defaults_are_the_operations_own():
    """A host that fills in the spec's defaults (destructive true, idempotent false, open world true) reads
    every tool's hints as the operation declares them."""
    async with sandbox_client(toolsets=("all",), discovery=True) as client:
        tools = (await client.list_tools()).tools
    ops = {op.name: op for op in [*CATALOGUE.values(), *LOCAL_OPERATIONS]}
    checked = 0
    async with sandbox_client() as client:
        tools += (await client.list_tools()).tools
    for tool in tools:
        a = tool.annotations
        assert a is not None
        op = ops.get(tool.name)
        read_only = bool(a.read_only_hint)
        open_world = True if a.open_world_hint is None else a.open_world_hint
        if op is not None:
            assert read_only == op.hints.read_only, tool.name
            assert open_world == (not op.local), tool.name
            checked += 1
        if not read_only:
            destructive = True if a.destructive_hint is None else a.destructive_hint
            idempotent = False if a.idempotent_hint is None else a.idempotent_hint
            if op is not None:
                assert (destructive, idempotent) == (op.hints.destructive, op.hints.idempotent), tool.name
    assert checked > 130


# --- one place for each rule ------------------------------------------------------------------------
# The tables that name tools by design: discovery's meta-tools, the reads by role, the reads before a write.
TABLES = {"discovery.py", "roles.py", "changes_table.py"}
_PACKAGE = Path(__file__).resolve().parents[1] / "lanying_mcp"
GENERIC = sorted(
    p
    for p in _PACKAGE.rglob("*.py")
    if p.name not in TABLES and p.relative_to(_PACKAGE).parts[0] not in ("toolsets", "sandbox")
)


@pytest.mark.parametrize("path", GENERIC, ids=[p.relative_to(_PACKAGE).as_posix() for p in GENERIC])
def test_generic_code_names_no_tool(path):
    """Rules live on the Operation (or in roles.py), not in `if name == "send_push"` branches.

    The tables are exempt: discovery.py declares the meta-tools, as a toolset module declares its
    operations; roles.py and changes_table.py are where generic code finds a tool for a role.
    """
    import ast

    names = set(CATALOGUE) | {op.name for op in LOCAL_OPERATIONS} | {"call_tool", "search_tools", "get_tool_schema"}
    found = [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
    ]
    assert found == []


def test_every_role_names_a_read_of_the_catalogue():
    from lanying_mcp.engine import roles

    for name in (*roles.ALL, *(probe for probe, _ in roles.PROBES.values())):
        assert name in CATALOGUE and CATALOGUE[name].hints.read_only, name


def test_every_write_that_delivers_content_declares_its_audience():
    """A new sending tool cannot slip past the policy's [allow] lists or the mass-reach rule."""
    content = {"content", "message", "title", "attachment"}
    for op in CATALOGUE.values():
        if op.hints.read_only or op.local:
            continue
        if content & set(op.params.model_fields) or op.dedup_key is not None:
            assert op.audience is not None, f"{op.name} delivers content but declares no audience"
        if op.audience is not None:
            declared = [*op.audience.users, *op.audience.groups, *op.audience.tags, *op.audience.aliases]
            declared += [*op.audience.tokens] + (
                [op.audience.everyone] if isinstance(op.audience.everyone, str) else []
            )
            fields = {name.split(".")[0].removesuffix("[]") for name in [*declared, *op.audience.text]}
            assert fields <= set(op.params.model_fields), op.name  # `requests[].user_id` names a list's items
