"""A bulk call's full result sits behind a resource link: bounded, expiring, readable by its caller only."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client, MCPError

from lanying_mcp.core.schema import output_schema
from lanying_mcp.engine.call import CallContext, Outcome, output_model
from lanying_mcp.engine.client import LanyingClient
from lanying_mcp.engine.dispatch import execute
from lanying_mcp.engine.results import ResultStore
from lanying_mcp.engine.state import MemoryState
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving import sdk
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import sandbox_settings


def adapter_server(store: Store, kept: ResultStore) -> tuple[sdk.LanyingMCP, LanyingClient]:
    """A minimal MCP server running invite_group_members through dispatch and the SDK adapter."""
    api = LanyingClient(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
    op = CATALOGUE["invite_group_members"]

    async def run(caller: sdk.Caller, arguments: dict[str, Any], answer: sdk.Answer) -> Outcome:
        args = {"as_user_id": arguments["owner"], "group_id": arguments["group_id"], "user_ids": arguments["user_ids"]}
        return await execute(op, args, CallContext(api, catalogue=CATALOGUE))

    spec = sdk.ToolSpec(
        name="invite",
        title="Invite",
        description="Invite users.",
        input_schema={"type": "object"},
        output_schema=output_schema(output_model(op)),
        read_only=False,
        destructive=False,
        idempotent=False,
        open_world=True,
    )
    server = sdk.LanyingMCP(tools=[sdk.make_tool(spec, run, None, kept)], hidden=set(), instructions="", version="0")
    server.add_results(kept)
    return server, api


def seeded(count: int) -> tuple[Store, int, list[int]]:
    store = Store()
    owner = store.add_user("owner_links", "pw").user_id
    return store, owner, [store.add_user(f"l{i}", "pw").user_id for i in range(count)]


async def make_group(store: Store, owner: int) -> int:
    api = LanyingClient(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
    outcome = await execute(
        CATALOGUE["create_group"], {"as_user_id": owner, "name": "links"}, CallContext(api, catalogue=CATALOGUE)
    )
    await api.aclose()
    return outcome.structured["data"]["group_id"]


@pytest.mark.anyio
async def test_a_bulk_result_links_its_rows_and_the_same_session_reads_them(mode):
    store, owner, ids = seeded(1200)
    kept = ResultStore()
    server, api = adapter_server(store, kept)
    async with Client(server, mode=mode) as client:
        gid = await make_group(store, owner)
        result = await client.call_tool("invite", {"owner": owner, "group_id": gid, "user_ids": ids})
        assert not result.is_error
        text, link = result.content
        assert link.type == "resource_link" and link.uri.startswith("lanying://results/")
        assert link.mime_type == "application/json" and link.size and link.size > 8 * 1024
        assert f"Full per-item result: {link.uri}" in text.text.splitlines()[0]
        assert result.structured_content["summary"]["full_result"] == link.uri
        assert len(text.text.encode()) < 2048
        read = await client.read_resource(link.uri)
    rows = json.loads(read.contents[0].text)
    assert len(rows["data"]) == 1200 and all(r["result"] == "success" for r in rows["data"])
    assert [b["items"] for b in rows["batches"]] == [500, 500, 200]
    await api.aclose()


@pytest.mark.anyio
async def test_another_session_of_the_same_caller_reads_the_link(mode):
    """The link follows the caller (here the local user, as on stdio), not the connection that made it."""
    store, owner, ids = seeded(600)
    kept = ResultStore()
    server, api = adapter_server(store, kept)
    async with Client(server, mode=mode) as first:
        gid = await make_group(store, owner)
        result = await first.call_tool("invite", {"owner": owner, "group_id": gid, "user_ids": ids})
        uri = result.content[1].uri
    async with Client(server, mode=mode) as later:
        assert len(json.loads((await later.read_resource(uri)).contents[0].text)["data"]) == 600
    await api.aclose()


@pytest.mark.anyio
async def test_an_unknown_link_is_not_found(mode):
    server = sdk.LanyingMCP(tools=[], hidden=set(), instructions="", version="0")
    server.add_results(ResultStore())
    async with Client(server, mode=mode) as client:
        with pytest.raises(MCPError):
            await client.read_resource("lanying://results/" + "0" * 32)


@pytest.mark.anyio
async def test_the_store_expires_and_evicts_and_keeps_callers_apart():
    now = [0.0]
    kept = ResultStore(MemoryState(clock=lambda: now[0]), ttl=60, max_results=2, max_bytes=100)
    a = await kept.put("local:alice", "x" * 10)
    assert a is not None and await kept.get("local:alice", a) == "x" * 10
    assert await kept.get("http:other", a) is None  # another caller: the same answer as an unknown id
    b = await kept.put("local:alice", "y" * 10)
    c = await kept.put("http:other", "z" * 10)  # a third result evicts the oldest, whoever made it
    assert b and c and await kept.get("local:alice", a) is None
    d = await kept.put("local:alice", "w" * 90)  # too many bytes: the oldest go until it fits
    assert d and await kept.get("local:alice", b) is None and await kept.get("http:other", c) == "z" * 10
    assert await kept.put("local:alice", "v" * 101) is None  # larger than the whole store
    assert await kept.get("local:alice", "../" + a) is None  # not an id: nothing is looked up
    now[0] = 61.0
    assert await kept.get("local:alice", d) is None and await kept.get("http:other", c) is None


@pytest.mark.anyio
async def test_a_result_too_large_to_keep_says_so_and_links_nothing():
    kept = ResultStore(max_bytes=10)
    outcome = Outcome(True, {"summary": {"items": 2, "succeeded": 2, "failed": 0}}, "2 items.\n{}", "[1,2]" * 10)
    result = await sdk.to_result(outcome, None, kept)
    assert [c.type for c in result.content] == ["text"]
    assert "too large to keep" in result.content[0].text
    assert "full_result" not in result.structured_content["summary"]


@pytest.mark.anyio
async def test_the_lanying_server_links_bulk_results(mode):
    store, owner, ids = seeded(700)
    settings = sandbox_settings(store)
    server = build_server(settings, transport=httpx2.ASGITransport(app=build_app(store)))
    async with Client(server, mode=mode) as client:
        created = await client.call_tool("create_group", {"as_user_id": owner, "name": "wired"})
        gid = created.structured_content["data"]["group_id"]
        result = await client.call_tool("invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": ids})
        link = result.content[1]
        assert link.type == "resource_link"
        read = await client.read_resource(link.uri)
    assert len(json.loads(read.contents[0].text)["data"]) == 700
    await server.lanying_client.aclose()


def test_the_caller_is_the_local_user_or_a_digest_of_what_an_http_request_proves():
    from lanying_mcp.core.identity import ANONYMOUS, caller_identity, local_user

    assert caller_identity(None) == f"local:{local_user()}"  # stdio and in-process: the user running the server
    a = {"X-Lanying-App-Id": "a", "X-Lanying-Access-Token": "t1"}
    assert caller_identity(a) == caller_identity({k.lower(): v for k, v in a.items()})  # header case does not matter
    assert caller_identity(a) != caller_identity({**a, "X-Lanying-Access-Token": "t2"})
    assert caller_identity(a) != caller_identity({**a, "Authorization": "Bearer b"})
    assert caller_identity({"Authorization": "Bearer b1"}) != caller_identity({"Authorization": "Bearer b2"})
    assert "t1" not in caller_identity(a) and caller_identity(a).startswith("http:")
    # Nothing that tells callers apart: one shared identity, where the link's random ID is the capability.
    assert caller_identity({"host": "127.0.0.1", "user-agent": "x"}) == caller_identity({}) == ANONYMOUS


@pytest.mark.anyio
async def test_a_link_outlives_its_server_in_the_state_file(tmp_path):
    """Another server process of the same user (or the same one restarted) reads the link within its lifetime."""
    from lanying_mcp.engine.state import SQLiteState

    first = ResultStore(SQLiteState(tmp_path / "state.sqlite3"))
    rid = await first.put("local:alice", '{"data": [1, 2, 3]}')
    await first.state.close()
    again = ResultStore(SQLiteState(tmp_path / "state.sqlite3"))
    assert rid is not None and await again.get("local:alice", rid) == '{"data": [1, 2, 3]}'
    assert await again.get("http:someone-else", rid) is None
    await again.state.close()


@pytest.mark.anyio
async def test_a_failing_state_file_keeps_the_call_result_and_says_so(tmp_path, mode):
    """The bulk write was made: its summary still goes back, and a read of a link is a clear error."""
    from lanying_mcp.engine.state import SQLiteState

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    kept = ResultStore(SQLiteState(blocker / "state.sqlite3"))
    outcome = Outcome(True, {"summary": {"items": 2, "succeeded": 2, "failed": 0}}, "2 items.\n{}", "[1,2]")
    result = await sdk.to_result(outcome, None, kept)
    assert not result.is_error and [c.type for c in result.content] == ["text"]
    assert "could not be kept (the state file failed)" in result.content[0].text
    server = sdk.LanyingMCP(tools=[], hidden=set(), instructions="", version="0")
    server.add_results(kept)
    async with Client(server, mode=mode) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("lanying://results/" + "0" * 32)
    assert "cannot be read now" in caught.value.error.message and "state file" in caught.value.error.message
