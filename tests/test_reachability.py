"""From any selection, every text a model reads names only tools it can reach, and hidden tools stay reachable."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client

from lanying_mcp.core import error_text
from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.mentions import prune, unreachable
from lanying_mcp.serving.selection import OPERATIONS
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE, TOOLSETS
from tests.helpers import call, sandbox_client

BASE: dict[str, Any] = {"endpoint": "http://api.test", "app_id": "app", "access_token": "reach-token-0123456789"}
SELECTIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "discovery": {"discovery": True},
    "all": {"toolsets": ("all",)},
    "read-only": {"read_only": True},
    "read-only all": {"toolsets": ("all",), "read_only": True},
    **{f"toolset {name}": {"toolsets": (name,)} for name in TOOLSETS},
}


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in ([v] if k == "description" and isinstance(v, str) else _texts(v))]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


@pytest.mark.anyio
@pytest.mark.parametrize("label", list(SELECTIONS))
async def test_no_text_points_to_an_unreachable_tool(label):
    server = build_server(Settings(**BASE, **SELECTIONS[label]))
    reachable = set(server.reachable)
    async with Client(server, mode="legacy") as client:
        texts = [client.instructions or ""]
        for tool in (await client.list_tools()).tools:
            texts += [tool.description or "", *_texts(tool.input_schema), *_texts(tool.output_schema or {})]
    bad = {t[:80]: unreachable(t, reachable, OPERATIONS) for t in texts if unreachable(t, reachable, OPERATIONS)}
    assert bad == {}
    for code, entry in error_text.catalogue().items():  # error hints, as execute() prunes them
        assert unreachable(prune(entry.hint, reachable, OPERATIONS), reachable, OPERATIONS) == [], code


def test_prune_drops_only_the_sentences_that_point_away():
    text = "Lists members. Names come from find_user_by_id. Page with cursor."
    assert prune(text, {"list_group_members"}, OPERATIONS) == "Lists members. Page with cursor."
    assert prune(text, {"find_user_by_id"}, OPERATIONS) == text


@pytest.mark.anyio
async def test_an_error_hint_names_no_unreachable_tool():
    def api(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"code": 10000, "message": "no such user"})

    server = build_server(Settings(**BASE, toolsets=("groups",)), transport=httpx2.MockTransport(api))
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("get_group_info", {"group_id": 1})
    hint = result.structured_content["error"]["hint"]
    assert result.is_error and unreachable(hint, set(server.reachable), OPERATIONS) == []
    assert unreachable(error_text.entry(10000).hint, set(server.reachable), OPERATIONS), (
        "the raw hint does name a hidden tool"
    )


@pytest.mark.anyio
async def test_the_default_listing_reaches_the_whole_catalogue(mode):
    async with sandbox_client(mode=mode, toolsets=()) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        assert {"search_tools", "get_tool_schema", "call_tool"} <= listed
        assert "add_group_admins" not in listed
        hits = (await call(client, "search_tools", {"query": "make group admin"}))["data"]
        admin = next(h for h in hits if h["name"] == "add_group_admins")
        assert any(arg.startswith("group_id: int") for arg in admin["required"])
        assert any(arg.startswith("user_ids: [int]") for arg in admin["required"])
        # A hidden tool runs through call_tool, or directly by name once search has shown it.
        users = await call(client, "call_tool", {"name": "list_users", "arguments": {}})
        assert "data" in users
        direct = await call(client, "list_users", {})
        assert json.dumps(direct["data"]) == json.dumps(users["data"])
        instructions = client.instructions or ""
        assert "search_tools" in instructions and "group_moderation" in instructions


def test_every_operation_is_in_a_listed_or_searchable_place():
    server = build_server(Settings(**BASE))
    assert set(CATALOGUE) <= set(server.reachable)
