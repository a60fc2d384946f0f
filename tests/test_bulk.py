"""Lists larger than the API accepts are split into batches, with progress and per-batch results."""

from __future__ import annotations

import json

import httpx2
import pytest
from mcp import Client

from lanying_mcp.sandbox import Store
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.server import build_server
from lanying_mcp.settings import Settings
from tests.helpers import call, sandbox_client


@pytest.mark.anyio
async def test_inviting_1234_users_runs_in_batches_against_the_sandbox(mode):
    store = Store()
    owner = store.add_user("owner_bulk", "pw").user_id
    ids = [store.add_user(f"u{i}", "pw").user_id for i in range(1234)]
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    async with sandbox_client(store, mode=mode) as client:
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "bulk"}))["data"]["group_id"]
        result = await client.call_tool(
            "invite_group_members",
            {"as_user_id": owner, "group_id": gid, "user_ids": ids},
            progress_callback=on_progress,
        )
    assert not result.is_error
    out = result.structured_content
    assert [b["items"] for b in out["batches"]] == [500, 500, 234]
    assert out["failed_batches"] == 0
    assert len(out["data"]) == 1234 and all(r["result"] == "success" for r in out["data"])
    assert len(groups(store).groups[gid].members) == 1235
    assert progress and progress[-1] == (3, 3)


@pytest.mark.anyio
async def test_a_failed_batch_keeps_the_others_and_says_what_failed():
    seen: list[list[int]] = []

    def api(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        seen.append(body["audience"]["user_id"])
        if len(seen) == 2:
            return httpx2.Response(200, json={"code": 12006, "message": "push off for this batch"})
        return httpx2.Response(200, json={"code": 200, "data": {"task_id": len(seen)}})

    # 1,200 recipients is mass reach: the operator has switched confirmation off for this test.
    settings = Settings(endpoint="http://fake.test", app_id="a", access_token="t", toolsets=("all",), confirm=False)
    server = build_server(settings, transport=httpx2.MockTransport(api))
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("send_push", {"user_ids": list(range(1, 1201)), "message": {"body": "hi"}})
    assert not result.is_error
    out = result.structured_content
    assert sorted(len(s) for s in seen) == [200, 500, 500]
    assert out["failed_batches"] == 1
    failed = [b for b in out["batches"] if not b["ok"]]
    assert failed[0]["error"]["code"] == 12006 and failed[0]["items"] in (500, 200)
    assert sum(b["items"] for b in out["batches"] if b["ok"]) + failed[0]["items"] == 1200
    assert result.content[0].text.startswith("PARTIAL: 1 of 3 batches failed")


@pytest.mark.anyio
async def test_when_every_batch_fails_the_call_fails():
    def api(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"code": 20001, "message": "no such group"})

    settings = Settings(endpoint="http://fake.test", app_id="a", access_token="t", toolsets=("all",))
    async with Client(build_server(settings, transport=httpx2.MockTransport(api)), mode="legacy") as client:
        result = await client.call_tool("invite_group_members", {"group_id": 5, "user_ids": list(range(1, 1002))})
    assert result.is_error
    err = result.structured_content["error"]
    assert err["code"] == 20001 and len(err["details"]["batches"]) == 3


@pytest.mark.anyio
async def test_small_lists_are_one_plain_call():
    async with sandbox_client() as client:
        out = await call(client, "register_users", {"users": [{"username": "small_one", "password": "pw"}]})
    assert "batches" not in out and out["data"][0]["username"] == "small_one"
