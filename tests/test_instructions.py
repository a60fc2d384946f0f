"""The server's instructions name a tool only when it is listed, or say how to run it (through call_tool)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp import Client

from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.mentions import unreachable
from lanying_mcp.serving.selection import OPERATIONS
from lanying_mcp.serving.server import build_server
from tests.test_reachability import BASE, SELECTIONS

SENTENCE = re.compile(r"(?<=[.;:!?。;:!?])\s*")
CASES: dict[str, dict[str, Any]] = {
    **SELECTIONS,
    "extra tools": {"tools": ("get_group_info", "list_users")},
    "discovery read-only": {"discovery": True, "read_only": True},
}


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("label", list(CASES))
async def test_instructions_name_only_listed_tools_or_say_how_to_reach_them(label, lang):
    server = build_server(Settings(**BASE, **CASES[label], lang=lang))
    async with Client(server, mode="legacy") as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        text = client.instructions or ""
    assert text, "the server gives instructions"
    for sentence in SENTENCE.split(text):
        for name in unreachable(sentence, listed, OPERATIONS):  # named here, not listed
            assert name in server.reachable, (name, sentence)
            assert "call_tool" in listed and "call_tool" in sentence, (name, sentence)


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_default_instructions_reach_explain_error_through_call_tool(lang):
    server = build_server(Settings(**BASE, lang=lang))
    assert "explain_error" not in server.listed and "explain_error" in server.reachable
    async with Client(server, mode="legacy") as client:
        text = client.instructions or ""
        result = await client.call_tool("call_tool", {"name": "explain_error", "arguments": {"code": 20013}})
    assert "explain_error" in text and "call_tool" in text
    assert not result.is_error
