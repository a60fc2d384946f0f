"""An applied write's result says what it changed (`changes`, before and after) and whether it can be undone."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from lanying_mcp.engine import changes
from lanying_mcp.engine.call import CallContext, validate
from lanying_mcp.engine.client import LanyingClient
from lanying_mcp.engine.dispatch import execute
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.toolsets import CATALOGUE

from .helpers import call, sandbox_client, sandbox_settings
from .sandbox.world import World, build, client_for
from .test_undo import CASES


def _when(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


async def _team(client: Any, store: Store) -> tuple[int, int, int, int]:
    owner = store.add_user("olga", "pw").user_id
    admin = store.add_user("adam", "pw").user_id
    member = store.add_user("mia", "pw").user_id
    gid = (await call(client, "create_group", {"as_user_id": owner, "name": "Team", "user_ids": [admin, member]}))[
        "data"
    ]["group_id"]
    await call(client, "add_group_admins", {"group_id": gid, "user_ids": [admin]})
    return owner, admin, member, gid


@pytest.mark.anyio
async def test_a_mute_says_when_it_ends_in_utc_and_in_minutes(mode: str) -> None:
    store = Store()
    async with sandbox_client(store, mode=mode) as client:
        _, _, member, gid = await _team(client, store)
        out = await call(client, "mute_group_members", {"group_id": gid, "user_ids": [member], "duration": 30})
    [change] = out["changes"]
    assert change["target"] == {"kind": "member", "id": member, "name": "mia"}
    assert change["field"] == "mute_end" and change["before"] is None
    assert change["after"]["minutes"] == 30
    assert abs(_when(change["after"]["until"]) - (time.time() + 30 * 60)) < 120
    assert out["undo"]["possible"] is True and "unmute_group_members" in out["undo"]["how"]
    assert out["change_id"].startswith("ch_")


@pytest.mark.anyio
async def test_an_owner_transfer_shows_the_old_owner_and_the_admin_role_the_new_owner_lost(mode: str) -> None:
    store = Store()
    async with sandbox_client(store, mode=mode) as client:
        owner, admin, _, gid = await _team(client, store)
        out = await call(client, "transfer_group_owner", {"group_id": gid, "new_owner": admin})
    found = {(c["target"]["kind"], c["target"]["id"], c["field"]): (c["before"], c["after"]) for c in out["changes"]}
    assert found[("group", gid, "owner_id")] == (owner, admin)
    assert found[("member", owner, "role")] == ("owner", "member")
    assert found[("member", admin, "role")] == ("admin", "owner")  # the admin role is gone, said without a read
    group = next(c for c in out["changes"] if c["field"] == "owner_id")
    assert group["target"]["name"] == "Team"
    assert "transfer_group_owner" in out["undo"]["how"] and "ordinary member" in out["undo"]["how"]


@pytest.mark.anyio
async def test_a_rename_gives_the_old_and_new_name_beside_the_id(mode: str) -> None:
    store = Store()
    async with sandbox_client(store, mode=mode) as client:
        _, _, _, gid = await _team(client, store)
        out = await call(client, "set_group_name", {"group_id": gid, "value": "Crew"})
    assert out["changes"] == [
        {"target": {"kind": "group", "id": gid, "name": "Team"}, "field": "name", "before": "Team", "after": "Crew"}
    ]
    assert out["undo"] == {
        "possible": True,
        "how": "undo_change with this result's change_id runs set_group_name with the values before.",
    }
    async with sandbox_client(store, mode=mode, lang="zh") as client:
        zh = await call(client, "set_group_name", {"group_id": gid, "value": "Band"})
    assert zh["changes"][0]["before"] == "Crew"
    assert zh["undo"]["how"] == "用undo_change(传入此结果的change_id)以写入前的值执行set_group_name。"


@pytest.mark.anyio
async def test_an_irreversible_write_says_why_in_its_result() -> None:
    store = Store()
    async with sandbox_client(store) as client:
        _, _, _, gid = await _team(client, store)
        out = await call(client, "destroy_group", {"group_id": gid})
    assert out["undo"]["possible"] is False
    assert (
        out["undo"]["why"]
        == "This cannot be undone: a destroyed group cannot be restored, with its members and history."
    )
    assert out["changes"][0]["target"] == {"kind": "group", "id": gid, "name": "Team"}
    assert out["changes"][0]["after"] == "destroyed"


@pytest.mark.anyio
async def test_a_bulk_write_lists_the_first_changes_and_counts_the_rest() -> None:
    store = Store()
    owner = store.add_user("own", "pw").user_id
    ids = [store.add_user(f"b{i}", "pw").user_id for i in range(45)]
    async with sandbox_client(store) as client:
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "bulk"}))["data"]["group_id"]
        out = await call(client, "invite_group_members", {"group_id": gid, "user_ids": ids})
    assert len(out["changes"]) == changes.BULK_SHOWN  # a write split in batches lists a few
    assert out["changes_summary"]["count"] == 45 and out["changes_summary"]["by_field"] == {"membership": 45}
    assert all(c["before"] is False and c["after"] is True for c in out["changes"])


@pytest.mark.anyio
async def test_a_failed_before_read_never_fails_the_write_and_the_result_says_so() -> None:
    store = Store()
    app = build_app(store)
    inner = httpx2.ASGITransport(app=app)

    class NoGroupInfo(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            if request.url.path == "/group/info":
                return httpx2.Response(200, json={"code": 20001, "message": "group not found", "data": None})
            return await inner.handle_async_request(request)

    owner = store.add_user("o", "pw").user_id
    async with LanyingClient(sandbox_settings(store), transport=inner) as setup:
        ctx = CallContext(setup, catalogue=dict(CATALOGUE))
        made = await execute(CATALOGUE["create_group"], {"as_user_id": owner, "name": "n"}, ctx)
    gid = made.structured["data"]["group_id"]
    async with LanyingClient(sandbox_settings(store), transport=NoGroupInfo()) as client:
        ctx = CallContext(client, catalogue=dict(CATALOGUE))
        out = await execute(CATALOGUE["set_group_name"], {"group_id": gid, "value": "m"}, ctx)
    assert out.ok, out.text
    change = out.structured["changes"][0]
    assert change["after"] == "m" and change["before_unknown"] is True
    assert out.structured["undo"]["possible"] is False and "name" in out.structured["undo"]["why"]
    assert "failed" in out.structured["undo"]["note"]


class Counting(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.paths.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


async def _requests(name: str, effects: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], dict[str, Any]]:
    """The upstream requests one write makes, with or without its before-read (names off: only the write's own)."""
    store = Store()
    async with client_for(store) as http:
        w: World = await build(http, store)
        case = CASES[name]
        if case.setup is not None:
            await case.setup(w)
        counting = Counting(httpx2.ASGITransport(app=build_app(store)))
        with monkeypatch.context() as patch:
            if not effects:
                patch.setattr(changes, "READERS", {})
            settings = sandbox_settings(store, names=False, confirm=False)
            async with LanyingClient(settings, transport=counting) as client:
                ctx = CallContext(client, catalogue=dict(CATALOGUE))
                args = case.args(w)
                out = await execute(CATALOGUE[name], args, ctx)
        assert out.ok, out.text
        return counting.paths, args


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(CASES))
async def test_extra_reads_per_write_are_what_the_readme_states(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured: requests with the before-read minus requests without it, per write tool."""
    with_reads, args = await _requests(name, True, monkeypatch)
    without, _ = await _requests(name, False, monkeypatch)
    op = CATALOGUE[name]
    extra = list(with_reads)
    for path in without:
        extra.remove(path)
    assert len(extra) == changes.reads_of(op, validate(op, args)), (name, with_reads, without)
    reads = {o.http for o in CATALOGUE.values() if o.hints.read_only}
    assert all(path in reads for path in extra), extra


@pytest.mark.anyio
async def test_the_before_read_is_made_once_per_call_and_reused() -> None:
    store = Store()
    owner = store.add_user("o", "pw").user_id
    counting = Counting(httpx2.ASGITransport(app=build_app(store)))
    async with LanyingClient(sandbox_settings(store, names=False), transport=counting) as client:
        ctx = CallContext(client, catalogue=dict(CATALOGUE))
        made = await execute(CATALOGUE["create_group"], {"as_user_id": owner, "name": "n"}, ctx)
        gid = made.structured["data"]["group_id"]
        op = CATALOGUE["set_group_name"]
        params = validate(op, {"group_id": gid, "value": "x"})
        counting.paths.clear()
        first = await changes.read_before(op, params, ctx)
        again = await changes.read_before(op, params, ctx)
        assert first is again and counting.paths == ["GET /group/info"]
        assert ctx.before is first  # the question and the journal find it on the context
        other = await changes.read_before(op, validate(op, {"group_id": gid, "value": "y"}), ctx)
        assert other is not first and counting.paths == ["GET /group/info"]  # same read, answered from the call's cache


def test_creates_and_sends_read_nothing_before() -> None:
    for name in ("create_group", "register_user", "send_message", "broadcast_message", "send_push"):
        assert changes.reads_of(CATALOGUE[name]) == 0


def test_a_write_of_thousands_builds_the_changes_it_shows_and_counts_the_rest():
    op = CATALOGUE["invite_group_members"]
    ids = list(range(1000, 11000))
    params = validate(op, {"group_id": 7, "user_ids": ids})
    before = changes.Before([changes.State("member", 1000, None, {"membership": True, "group_id": 7})])
    failed = {1001, 1002}
    answer = {"summary": {"failures": [{"reason": "x", "count": 2, "more": 0, "user_ids": sorted(failed)}]}}
    whole = changes.diff(op, params, before, answer)
    tail: dict[str, int] = {}
    shown = changes.diff(op, params, before, answer, cap=5, tail=tail)
    assert len(whole) == 9998 and shown == whole[:5]  # the same first changes, the failed users left out
    assert [c.id for c in shown] == [1000, 1003, 1004, 1005, 1006] and shown[0].before is True
    assert tail == {"membership": 9993}
    assert changes.summary(shown, "en", 5, tail) == changes.summary(whole, "en", 5)
    assert changes.summary(shown, "en", 5, tail)["count"] == 9998  # type: ignore[index]
