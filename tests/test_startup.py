"""Start-up does no work it can skip: a server that reaches every tool prunes nothing, and builds no pattern."""

from __future__ import annotations

import httpx2

from lanying_mcp import mentions, schema
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.server import build_server
from tests.helpers import sandbox_settings


def test_a_server_reaching_every_tool_never_compiles_the_tool_name_pattern():
    mentions._pattern.cache_clear()
    store = Store()
    server = build_server(
        sandbox_settings(store, toolsets=("all",)), transport=httpx2.ASGITransport(app=build_app(store))
    )
    assert set(mentions._names()) <= set(server.reachable)
    assert mentions._pattern.cache_info().misses == 0  # no sentence was checked for unreachable names
    text = "Then call destroy_group. Or list_users."
    assert mentions.prune(text, server.reachable) is text


def test_pruning_still_applies_when_a_tool_is_out_of_reach():
    reachable = set(mentions._names()) - {"destroy_group"}
    assert mentions.prune("Then call destroy_group. Or list_users.", reachable) == "Or list_users."
    node = {"description": "Use destroy_group. Fine.", "items": [{"description": "x; destroy_group"}]}
    assert mentions.prune_schema(node, reachable) == {"description": "Fine.", "items": [{"description": "x;"}]}


def test_precomputed_schemas_are_served_as_private_copies():
    first = schema.cached("invite_group_members", "en", "output")
    assert first is not None and schema._cache(), "schemas.json is stale: run tools/regen"
    first["properties"]["summary"]["description"] = "changed"
    again = schema.cached("invite_group_members", "en", "output")
    assert again is not None and again["properties"]["summary"]["description"] != "changed"
