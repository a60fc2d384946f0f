"""The conformance fixture server answers the 2026-07-28 scenarios the way the suite expects.

These run in-process with the SDK's client, so a broken fixture shows up in the test suite and not
only in tools/interop.sh (which needs npm and Node 22).
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp.client import Client
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitResult, ListRootsResult, Root

from lanying_mcp.core.settings import Settings
from tests.conformance import fixture_server


@pytest.fixture(scope="module")
def server():
    return fixture_server.build(Settings.from_env({}, sandbox=True).validate())


async def _name_is_ann(context: Any, params: Any) -> ElicitResult:
    field = next(iter(params.requested_schema["properties"]))
    return ElicitResult(action="accept", content={field: "Ann"})


async def _roots(context: Any) -> ListRootsResult:
    return ListRootsResult(roots=[Root(uri="file:///srv/app", name="app")])


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


@pytest.mark.anyio
async def test_a_capability_the_client_did_not_declare_is_refused_with_32021(server):
    # The server's own error mapping used to turn this protocol error into a tool result.
    async with Client(server, mode="auto") as client:  # declares no sampling capability
        with pytest.raises(MCPError) as caught:
            await client.call_tool("test_missing_capability", {})
    assert caught.value.error.code == -32021
    assert "sampling" in (caught.value.error.data or {}).get("requiredCapabilities", {})


@pytest.mark.anyio
async def test_our_destructive_tools_still_explain_a_confirmation_that_cannot_be_asked(server):
    async with Client(server, mode="auto") as client:  # no elicitation either
        result = await client.call_tool("destroy_group", {"group_id": 5})
    assert result.is_error
    assert result.structured_content["error"]["code"] == "confirmation_required"


@pytest.mark.anyio
async def test_multi_round_input_reaches_the_tool(server):
    async with Client(server, mode="auto", elicitation_callback=_name_is_ann, list_roots_callback=_roots) as client:
        greeting = await client.call_tool("test_input_required_result_elicitation", {})
        rounds = await client.call_tool("test_input_required_result_multi_round", {})
        roots = await client.call_tool("test_input_required_result_list_roots", {})
        state = await client.call_tool("test_input_required_result_request_state", {})
    assert _text(greeting) == "Hello, Ann!"
    assert _text(rounds) == "Ann likes Ann"
    assert _text(roots) == "Roots: file:///srv/app"
    assert _text(state).startswith("state-ok")


@pytest.mark.anyio
async def test_the_2020_12_schema_is_listed_unchanged(server):
    async with Client(server, mode="auto") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools["json_schema_2020_12_tool"].input_schema
    assert schema["$defs"]["address"]["$anchor"] == "addressDef"
    assert {"allOf", "if", "then", "else"} <= schema.keys()
    region = tools["test_custom_headers"].input_schema["properties"]["region"]
    assert region["x-mcp-header"] == "Region" and region["type"] == "string"
