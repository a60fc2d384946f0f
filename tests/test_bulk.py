"""Lists larger than the API accepts are split into batches, with progress and a summary sized for a model."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client

from lanying_mcp.core.errors import LanyingError
from lanying_mcp.core.settings import Settings
from lanying_mcp.engine import bulk
from lanying_mcp.engine.call import CallContext
from lanying_mcp.engine.client import LanyingClient
from lanying_mcp.engine.dispatch import execute
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import call, sandbox_client, sandbox_settings


@pytest.mark.anyio
async def test_inviting_1234_users_runs_in_batches_and_answers_with_a_summary(mode):
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
    out["summary"].pop("full_result", None)  # the link to every row, when the server keeps results
    assert out.pop("change_id").startswith("ch_")  # its change-journal entry
    effects = {key: out.pop(key) for key in ("changes", "changes_summary", "undo")}
    assert out == {"summary": {"items": 1234, "succeeded": 1234, "failed": 0}}
    assert "data" not in out
    assert effects["changes_summary"]["count"] == 1234 and len(effects["changes"]) == 5
    assert effects["changes"][0]["after"] is True and effects["undo"]["possible"] is True
    assert result.content[0].text.startswith("1234 items: 1234 succeeded, 0 failed.")
    assert len(groups(store).groups[gid].members) == 1235
    assert progress and progress[-1] == (3, 3)


@pytest.mark.anyio
async def test_the_summary_names_failed_rows_and_keeps_every_row_in_the_attachment():
    store = Store()
    owner = store.add_user("owner_bulk", "pw").user_id
    ids = [store.add_user(f"u{i}", "pw").user_id for i in range(1200)]
    async with sandbox_client(store) as client:
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "bulk", "user_ids": ids[:30]}))["data"][
            "group_id"
        ]
    client = LanyingClient(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
    op = CATALOGUE["invite_group_members"]
    outcome = await execute(
        op, {"as_user_id": owner, "group_id": gid, "user_ids": ids}, CallContext(client, catalogue=CATALOGUE)
    )
    await client.aclose()
    assert outcome.ok
    out = outcome.structured
    summary = out["summary"]
    assert summary["items"] == 1200 and summary["failed"] == 30  # the first 30 were members already
    [member_already] = summary["failures"]  # small enough to list every ID
    assert member_already["count"] == 30 and member_already["more"] == 0
    assert member_already["user_ids"] == ids[:30] and member_already["reason"].startswith("20017")
    assert set(summary["users"]) == {str(i) for i in ids[:30]}  # names beside the IDs
    full = json.loads(outcome.attachment or "")
    assert len(full["data"]) == 1200 and [b["items"] for b in full["batches"]] == [500, 500, 200]
    assert len(outcome.text.encode()) < 8 * 1024


@pytest.mark.anyio
async def test_registering_1000_users_maps_names_to_ids_within_the_budget(mode):
    users = [{"username": f"staff_{i:04d}", "password": "pw"} for i in range(1000)]
    users[7]["username"] = users[3]["username"]  # one duplicate: refused one by one
    async with sandbox_client(mode=mode) as client:
        result = await client.call_tool("register_users", {"users": users})
    assert not result.is_error
    out = result.structured_content["summary"]
    assert {k: out[k] for k in ("items", "succeeded", "failed")} == {"items": 1000, "succeeded": 999, "failed": 1}
    assert out["failures"] == [
        {"reason": out["failures"][0]["reason"], "count": 1, "usernames": ["staff_0003"], "more": 0}
    ]
    created = out["created"]
    assert 50 <= len(created) < 999 and all(isinstance(v, int) for v in created.values())
    assert "staff_0000" in created
    assert f"summary.created lists the first {len(created)}" in result.content[0].text
    assert len(result.content[0].text.encode()) <= 8 * 1024


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
    settings = Settings(
        endpoint="http://fake.test", app_id="a", access_token="test-token-0123456789", toolsets=("all",), confirm=False
    )
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
async def test_a_failed_invite_batch_is_counted_and_located_in_the_summary():
    calls = 0

    def api(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        if request.method == "GET":  # the member list read before the invite (changes)
            return httpx2.Response(200, json={"code": 200, "data": []})
        calls += 1
        users = json.loads(request.content)["user_list"]
        if 2 in users:  # the first batch
            return httpx2.Response(200, json={"code": 20001, "message": "group is full"})
        return httpx2.Response(200, json={"code": 200, "data": [{"user_id": u, "result": "success"} for u in users]})

    settings = Settings(
        endpoint="http://fake.test", app_id="a", access_token="test-token-0123456789", toolsets=("all",), names=False
    )
    async with Client(build_server(settings, transport=httpx2.MockTransport(api)), mode="legacy") as client:
        result = await client.call_tool("invite_group_members", {"group_id": 5, "user_ids": list(range(1, 1101))})
    assert not result.is_error and calls == 3
    out = result.structured_content
    summary = out["summary"]
    assert {k: summary[k] for k in ("items", "succeeded", "failed")} == {"items": 1100, "succeeded": 600, "failed": 500}
    failed = summary["failed_batches"]
    assert failed == [{"index": 0, "items": 500, "ok": False, "error": failed[0]["error"]}]
    assert failed[0]["error"]["code"] == 20001
    assert "(1 of 3 batches failed; their items were not applied)" in result.content[0].text


@pytest.mark.anyio
async def test_when_every_batch_fails_the_call_fails_with_a_compact_error():
    def api(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"code": 20001, "message": "no such group"})

    settings = Settings(
        endpoint="http://fake.test", app_id="a", access_token="test-token-0123456789", toolsets=("all",)
    )
    async with Client(build_server(settings, transport=httpx2.MockTransport(api)), mode="legacy") as client:
        result = await client.call_tool("invite_group_members", {"group_id": 5, "user_ids": list(range(1, 1002))})
    assert result.is_error
    err = result.structured_content["error"]
    assert err["code"] == 20001 and err["details"] == {"batches": 3, "codes": {"20001": 3}}


@pytest.mark.anyio
async def test_small_lists_are_one_plain_call_with_rows_inline():
    async with sandbox_client() as client:
        out = await call(client, "register_users", {"users": [{"username": "small_one", "password": "pw"}]})
    assert "batches" not in out and "summary" not in out and out["data"][0]["username"] == "small_one"


@pytest.mark.anyio
async def test_an_unsplit_call_that_fails_fails_like_any_tool():
    def api(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"code": 20001, "message": "no such group"})

    settings = Settings(
        endpoint="http://fake.test", app_id="a", access_token="test-token-0123456789", toolsets=("all",)
    )
    async with Client(build_server(settings, transport=httpx2.MockTransport(api)), mode="legacy") as client:
        result = await client.call_tool("invite_group_members", {"group_id": 5, "user_ids": [1, 2]})
    assert result.is_error and result.structured_content["error"]["code"] == 20001


async def _invite_10000_into_a_full_group(lang: str = "en") -> tuple[Any, list[int], list[int]]:
    """10,000 existing users and 2 unknown IDs invited into a group that holds 2,000: the sandbox as one server."""
    store = Store()
    owner = store.add_user("owner_bulk", "pw").user_id
    ids = [store.add_user(f"u{i}", "pw").user_id for i in range(10_000)]
    unknown = [ids[-1] + 1_000, ids[-1] + 2_000]
    invited = [*ids[:4000], unknown[0], *ids[4000:7000], unknown[1], *ids[7000:]]
    async with sandbox_client(store, lang=lang) as client:
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "bulk"}))["data"]["group_id"]
        result = await client.call_tool(
            "invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": invited}
        )
    return result, ids, unknown


@pytest.mark.anyio
async def test_a_10000_user_invite_lists_every_rare_failure_and_says_how_many_more_and_where():
    result, ids, unknown = await _invite_10000_into_a_full_group()
    assert not result.is_error
    summary = result.structured_content["summary"]
    assert {k: summary[k] for k in ("items", "succeeded", "failed")} == {
        "items": 10_002,
        "succeeded": 1999,
        "failed": 8003,
    }
    by_code = {f["reason"].split()[0]: f for f in summary["failures"]}
    assert set(by_code) == {"20010", "10000"}
    assert by_code["10000"] == {"reason": "10000 user does not exist", "count": 2, "user_ids": unknown, "more": 0}
    full = by_code["20010"]
    assert full["count"] == 8001 and 100 <= len(full["user_ids"]) < 8001
    assert full["user_ids"] == ids[1999 : 1999 + len(full["user_ids"])]  # the first ones refused, in order
    assert full["more"] == 8001 - len(full["user_ids"])  # counts add up
    assert sum(f["count"] for f in summary["failures"]) == summary["failed"]
    assert summary["full_result"].startswith("lanying://results/")
    assert set(summary["users"]) <= {str(i) for i in full["user_ids"]} and summary["users"]  # names, where known
    text = result.content[0].text
    head = text.partition("\n")[0]
    assert "8001 × 20010" in head and "2 × 10000 user does not exist" in head
    assert f"and {full['more']} more not listed there are in full_result" in head
    assert summary["full_result"] in head  # where the rest is
    assert len(text.encode()) <= 8 * 1024
    assert len(json.dumps(result.structured_content, ensure_ascii=False).encode()) <= 8 * 1024
    link = next(c for c in result.content if getattr(c, "type", "") == "resource_link")
    assert link.uri == summary["full_result"]


@pytest.mark.anyio
async def test_a_10000_user_invite_summary_in_chinese_stays_within_the_budget():
    result, _, unknown = await _invite_10000_into_a_full_group("zh")
    summary = result.structured_content["summary"]
    assert any(f["user_ids"] == unknown for f in summary["failures"])
    head = result.content[0].text.partition("\n")[0]
    assert "另有" in head and "full_result" in head
    assert len(result.content[0].text.encode()) <= 8 * 1024
    assert len(json.dumps(result.structured_content, ensure_ascii=False).encode()) <= 8 * 1024


@pytest.mark.anyio
async def test_many_distinct_reasons_and_long_names_stay_within_the_budget():
    """The worst case for the byte budget: 40 reasons of 120 characters and 60-character usernames."""

    def api(request: httpx2.Request) -> httpx2.Response:
        users = json.loads(request.content)["list"]
        rows = [
            {"username": u["username"], "success": False, "reason": f"{i % 40:03d} " + "x" * 200}
            for i, u in enumerate(users)
        ]
        return httpx2.Response(200, json={"code": 200, "data": rows})

    settings = Settings(
        endpoint="http://fake.test", app_id="a", access_token="test-token-0123456789", toolsets=("all",)
    )
    users = [{"username": f"{i:05d}" + "n" * 55, "password": "pw"} for i in range(1000)]
    async with Client(build_server(settings, transport=httpx2.MockTransport(api)), mode="legacy") as client:
        result = await client.call_tool("register_users", {"users": users})
    summary = result.structured_content["summary"]
    assert summary["failed"] == 1000 and len(summary["failures"]) == bulk.REASONS
    assert summary["failures"][-1]["reason"] == "29 other reasons"
    assert sum(f["count"] for f in summary["failures"]) == 1000
    assert sum(f["count"] - f["more"] for f in summary["failures"]) == sum(
        len(f.get("usernames", [])) for f in summary["failures"]
    )
    assert len(result.content[0].text.encode()) <= 8 * 1024
    assert len(json.dumps(result.structured_content, ensure_ascii=False).encode()) <= 8 * 1024


@pytest.mark.anyio
async def test_the_items_of_a_failed_batch_are_listed_under_its_reason():
    def api(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":  # the member list read before the invite (changes)
            return httpx2.Response(200, json={"code": 200, "data": []})
        users = json.loads(request.content)["user_list"]
        if 1_000_000_002 in users:
            return httpx2.Response(200, json={"code": 20001, "message": "group is full"})
        return httpx2.Response(200, json={"code": 200, "data": [{"user_id": u, "result": "success"} for u in users]})

    settings = Settings(
        endpoint="http://fake.test", app_id="a", access_token="test-token-0123456789", toolsets=("all",), names=False
    )
    async with Client(build_server(settings, transport=httpx2.MockTransport(api)), mode="legacy") as client:
        result = await client.call_tool(
            "invite_group_members", {"group_id": 5, "user_ids": list(range(1_000_000_001, 1_000_001_101))}
        )
    [failure] = result.structured_content["summary"]["failures"]
    assert failure["reason"] == "20001 group is full (batch not applied)" and failure["count"] == 500
    assert failure["user_ids"] == list(range(1_000_000_001, 1_000_000_001 + len(failure["user_ids"])))
    assert failure["more"] == 500 - len(failure["user_ids"]) > 0


async def _unsplit_batch_failure(op) -> tuple[LanyingError, list[dict]]:
    """One batch of `op` (not split) against an API that never answers in time: what run_batches raises."""
    bodies: list[dict] = []

    def slow(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        raise httpx2.ReadTimeout("slow")

    settings = Settings(
        endpoint="http://fake.test", app_id="a", access_token="test-token-0123456789", toolsets=("all",)
    )
    client = LanyingClient(settings, transport=httpx2.MockTransport(slow))
    params = op.params.model_validate({"user_ids": [1, 2], "content": "x", "transaction_id": 9})
    try:
        with pytest.raises(LanyingError) as info:
            await bulk.run_batches(op, [params], CallContext(client))
    finally:
        await client.aclose()
    return info.value, bodies


@pytest.mark.anyio
async def test_an_unsplit_batch_failure_carries_the_operations_declared_dedup_key():
    from dataclasses import replace

    from lanying_mcp.core.spec import Batch

    op = replace(CATALOGUE["send_message"], batch=Batch(("user_ids",), 500), dedup_key="related_mid")
    exc, bodies = await _unsplit_batch_failure(op)
    assert exc.dedup == ("related_mid", bodies[0]["related_mid"])


@pytest.mark.anyio
async def test_a_batch_operation_without_a_dedup_key_passes_none():
    """No batch operation declares a dedup key today: a failed batch names no key, even a `transaction_id`."""
    from dataclasses import replace

    from lanying_mcp.core.spec import Batch

    assert all(op.dedup_key is None for op in CATALOGUE.values() if op.batch is not None)
    op = replace(CATALOGUE["send_message"], batch=Batch(("user_ids",), 500), dedup_key=None)
    exc, _ = await _unsplit_batch_failure(op)
    assert exc.dedup is None
