"""Start-up does no work it can skip: a server that reaches every tool prunes nothing, and builds no pattern."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields

import httpx2

from lanying_mcp.core import schema
from lanying_mcp.engine import mentions
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.selection import OPERATIONS
from lanying_mcp.serving.server import build_server
from tests.helpers import sandbox_settings


def test_a_server_reaching_every_tool_never_compiles_the_tool_name_pattern():
    mentions._pattern.cache_clear()
    store = Store()
    server = build_server(
        sandbox_settings(store, toolsets=("all",)), transport=httpx2.ASGITransport(app=build_app(store))
    )
    assert set(OPERATIONS) <= set(server.reachable)
    assert mentions._pattern.cache_info().misses == 0  # no sentence was checked for unreachable names
    text = "Then call destroy_group. Or list_users."
    assert mentions.prune(text, server.reachable, OPERATIONS) is text


def test_pruning_still_applies_when_a_tool_is_out_of_reach():
    reachable = set(OPERATIONS) - {"destroy_group"}
    assert mentions.prune("Then call destroy_group. Or list_users.", reachable, OPERATIONS) == "Or list_users."
    node = {"description": "Use destroy_group. Fine.", "items": [{"description": "x; destroy_group"}]}
    assert mentions.prune_schema(node, reachable, OPERATIONS) == {
        "description": "Fine.",
        "items": [{"description": "x;"}],
    }


def test_precomputed_schemas_are_served_as_private_copies():
    first = schema.cached("invite_group_members", "en", "output")
    assert first is not None and schema._cache(), "lanying_mcp/schemas/groups.json is stale: run tools/regen"
    first["properties"]["summary"]["description"] = "changed"
    again = schema.cached("invite_group_members", "en", "output")
    assert again is not None and again["properties"]["summary"]["description"] != "changed"


def test_the_catalogue_index_is_current():
    from lanying_mcp.toolsets import MODULES, _index

    assert list(_index.SOURCES) == list(MODULES), "toolsets/_index.py is stale: run tools/regen"
    for module, (digest, sources) in _index.SOURCES.items():
        assert digest == schema.sources_digest(sources), f"toolsets/_index.py is stale for {module}: run tools/regen"


def test_the_catalogue_from_the_index_is_the_catalogue_of_the_modules():
    """Every operation of the index, once its module is read, is the module's operation, field by field."""
    from lanying_mcp.core.spec import Operation
    from lanying_mcp.toolsets import CATALOGUE, TOOLSETS, LazyOperation, build_eager

    toolsets, catalogue = build_eager()
    assert TOOLSETS == toolsets and list(TOOLSETS) == list(toolsets)
    assert list(CATALOGUE) == list(catalogue)
    for name, op in CATALOGUE.items():
        assert isinstance(op, LazyOperation)
        real = catalogue[name]
        for f in fields(Operation):
            assert getattr(op, f.name) == getattr(real, f.name), (name, f.name)
        assert op == real and real == op and hash(op) == hash(real)


def test_a_stale_index_is_never_used(monkeypatch):
    """When the sources have changed since the index was generated, the modules are imported as they always were."""
    from lanying_mcp import toolsets
    from lanying_mcp.core.spec import Operation
    from lanying_mcp.toolsets import _index

    monkeypatch.setattr(_index, "SOURCES", {m: ("0" * 64, sources) for m, (_, sources) in _index.SOURCES.items()})
    sets, catalogue = toolsets._build()
    assert sets == toolsets.TOOLSETS and catalogue == toolsets.CATALOGUE
    assert all(type(op) is Operation for op in catalogue.values())


def test_an_indexed_operation_reads_its_module_at_first_use():
    """A fresh process lists every tool without importing one toolset module; a call reads only its own."""
    code = """
import sys, anyio, httpx2
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import MODULES
from lanying_mcp.serving.selection import OPERATIONS
from tests.helpers import sandbox_settings

def loaded():
    return sorted(m for m in MODULES if f"lanying_mcp.toolsets.{m}" in sys.modules)

store = Store()
server = build_server(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
print(loaded())
tools = anyio.run(server.list_tools)
print(len(tools), loaded())
op = server.reachable["get_group_info"]
print(op.params.__name__, loaded())
"""
    env = {**os.environ, "PYTHONPATH": str(schema.CACHE_DIR.parents[1])}  # the repository: tests.helpers
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    before, listed, called = out.stdout.splitlines()
    assert before == "[]" and listed.endswith(" []") and int(listed.split()[0]) > 100
    assert called.endswith("['groups']"), called
