"""Users by username: every user-ID list argument has a `usernames` twin, resolved before anything is sent.

Upstream requests are recorded at the sandbox's door, with their query and body, so a call by
usernames can be compared with the same call by user IDs, and its look-up cost counted.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import typing
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import ElicitResult
from pydantic import BaseModel

import tests.wire as wire
from lanying_mcp.core.cache import Cache
from lanying_mcp.core.schema import input_schema
from lanying_mcp.core.spec import by_name
from lanying_mcp.engine.call import CallContext
from lanying_mcp.engine.client import LanyingClient
from lanying_mcp.engine.dispatch import execute
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import Case, call, sandbox_settings

pytestmark = pytest.mark.anyio


# --- which arguments list users -----------------------------------------------------------------


def _is_int_list(annotation: Any) -> bool:
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is list and typing.get_args(arg) == (int,):
            return True
    return False


def user_lists(model: type[BaseModel]) -> list[str]:
    """The arguments that list users by ID: integer lists whose name or description says users."""
    out = []
    for name, info in model.model_fields.items():
        said = re.sub(r"\b\w+_ids?\b", "", info.description or "")  # other arguments it names do not count
        words = f"{name} {said}".casefold()
        if _is_int_list(info.annotation) and any(w in words for w in ("user", "member", "friend")):
            out.append(name)
    return out


USER_LIST_TOOLS = sorted(name for name, op in CATALOGUE.items() if user_lists(op.params))


def test_the_catalogue_has_the_eighteen_user_list_tools():
    assert len(USER_LIST_TOOLS) == 18, USER_LIST_TOOLS
    for name in ("invite_group_members", "kick_group_members", "mute_group_members", "add_group_admins"):
        assert name in USER_LIST_TOOLS
    for name in ("add_friends", "block_group_members", "send_message", "send_push", "send_system_notice"):
        assert name in USER_LIST_TOOLS


@pytest.mark.parametrize("tool", sorted(CATALOGUE))
def test_every_user_id_list_takes_usernames(tool):
    """A new tool with a user-ID list and no usernames beside it fails here."""
    op = CATALOGUE[tool]
    marked = {mark.ids: name for name, mark in by_name(op.params)}
    assert set(marked) == set(user_lists(op.params)), f"{tool}: every user-ID list needs a usernames twin"
    schema = input_schema(op.params)
    for ids, name in marked.items():
        assert schema["properties"][name]["type"] == "array"
        assert schema["properties"][name]["items"] == {"type": "string"}
        assert ids not in schema.get("required", []), f"{tool}: {ids} is optional when usernames can stand in"
        assert name not in schema.get("required", [])
        assert "as_user_id" not in marked  # the acting user stays an ID


# --- a door that records every request ----------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


class Door:
    """ASGI middleware over the sandbox: records method, path, query, act-as headers and body."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        headers = {k.decode(): v.decode() for k, v in scope.get("headers", [])}
        self.seen.append(
            Seen(
                scope["method"],
                scope["path"],
                scope.get("query_string", b"").decode(),
                {k: headers[k] for k in ("user_id", "group_id") if k in headers},
                json.loads(raw) if raw else None,
            )
        )
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)

    def to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def _rows() -> dict[str, Case]:
    """The first wire-table row of each tool that lists users by ID."""
    rows: dict[str, Case] = {}
    for info in pkgutil.iter_modules(wire.__path__):
        module = importlib.import_module(f"tests.wire.{info.name}")
        for value in vars(module).values():
            if isinstance(value, list):
                for case in value:
                    if isinstance(case, Case) and case.tool in USER_LIST_TOOLS and case.tool not in rows:
                        if any(case.args.get(ids) for ids in user_lists(CATALOGUE[case.tool].params)):
                            rows[case.tool] = case
    return rows


# Tools whose wire rows name no users: a row of their own, with the user list added below.
EXTRA = {
    "create_group": Case("create_group", {"as_user_id": 2302128618880, "name": "g"}, "POST", "/group/create"),
    "send_push": Case("send_push", {"message": {"title": "t", "body": "b"}}, "POST", "/push/send"),
}
ROWS = {**EXTRA, **_rows()}
PEOPLE = ("alice", "bob", "carol")


def _store() -> tuple[Store, list[int]]:
    store = Store()
    store.add_user("owner_x", "pw-123456")
    return store, [store.add_user(name, "pw-123456").user_id for name in PEOPLE]


async def _run(tool: str, args: dict[str, Any], store: Store, door: Door | None = None, **changes: Any) -> Any:
    door = door or Door(build_app(store))
    settings = sandbox_settings(store, **changes)
    client = LanyingClient(settings, transport=httpx2.ASGITransport(app=door))
    try:
        return await execute(CATALOGUE[tool], args, CallContext(client, settings.lang, catalogue=CATALOGUE)), door
    finally:
        await client.aclose()


def _renumbered(seen: Seen, ids: dict[int, int]) -> Seen:
    """The request with one sandbox's user IDs replaced by the other's."""

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return ids.get(value, value) if isinstance(value, int) else value

    query = seen.query
    for old, new in ids.items():
        query = query.replace(str(old), str(new))
    return Seen(seen.method, seen.path, query, seen.headers, swap(seen.body))


def test_every_user_list_tool_has_a_wire_row_to_replay():
    assert sorted(ROWS) == USER_LIST_TOOLS


@pytest.mark.parametrize("tool", USER_LIST_TOOLS)
async def test_each_tool_sends_the_same_request_by_usernames_as_by_ids(tool):
    """Two identical sandboxes: one call by user IDs, one by usernames; the tool's own request is the same."""
    op = CATALOGUE[tool]
    row = ROWS[tool]
    lists = [ids for ids in user_lists(op.params) if row.args.get(ids)] or ["user_ids"]
    fixed = {op.dedup_key: 4242} if op.dedup_key else {}
    by_id_store, ids = _store()
    by_id = {**row.args, **fixed, **dict.fromkeys(lists, ids[:2])}
    by_name_store, same = _store()  # the same users, under this sandbox's own IDs
    twins = {mark.ids: name for name, mark in by_name(op.params)}
    by_names = {k: v for k, v in {**row.args, **fixed}.items() if k not in lists}
    by_names.update({twins[name]: list(PEOPLE[:2]) for name in lists})
    first, door_a = await _run(tool, by_id, by_id_store, confirm=False, names=False)
    second, door_b = await _run(tool, by_names, by_name_store, confirm=False, names=False)
    own = [_renumbered(s, dict(zip(ids, same, strict=True))) for s in door_a.seen if s.path == op.path]
    assert own, f"{tool}: the call by IDs sent nothing ({first.text[:200]})"
    assert door_b.to(op.path) == own, f"{tool}: the request by usernames differs"
    assert second.ok == first.ok and second.structured.get("error", {}).get("code") == first.structured.get(
        "error", {}
    ).get("code")
    # Beyond what the call by IDs sent (its own request and the read before a write), two name look-ups.
    others = sorted(s.path for s in door_b.seen if s.path != op.path)
    assert others == sorted([*(s.path for s in door_a.seen if s.path != op.path), "/roster/name", "/roster/name"])


async def test_ids_and_usernames_together_merge_once_in_order():
    store, ids = _store()
    owner = store.add_user("boss", "pw-123456").user_id
    out, door = await _run("create_group", {"as_user_id": owner, "name": "g", "user_ids": [ids[2]]}, store)
    gid = out.structured["data"]["group_id"]
    args = {"as_user_id": owner, "group_id": gid, "user_ids": [ids[1]], "usernames": ["alice", "bob", "alice"]}
    out, door = await _run("invite_group_members", args, store)
    assert out.ok, out.text
    [invite] = door.to("/group/invite")
    assert invite.body["user_list"] == [ids[1], ids[0]]
    assert set(groups(store).groups[gid].members) == {owner, *ids}


async def test_a_group_invite_by_usernames_through_mcp(mode):
    store, ids = _store()
    owner = store.add_user("boss", "pw-123456").user_id
    server = build_server(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
    async with Client(server, mode=mode) as client:
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "g", "usernames": ["carol"]}))["data"][
            "group_id"
        ]
        await call(
            client, "invite_group_members", {"as_user_id": owner, "group_id": gid, "usernames": ["alice", "bob"]}
        )
        got = await call(client, "send_message", {"from_user_id": owner, "usernames": ["alice"], "content": "hi"})
    await server.lanying_client.aclose()
    assert set(groups(store).groups[gid].members) == {owner, *ids}
    assert "data" in got


# --- unknown names ------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["invite_group_members", "send_message", "mute_group_members"])
async def test_unknown_usernames_are_listed_and_nothing_is_sent(tool):
    store, ids = _store()
    owner = store.add_user("boss", "pw-123456").user_id
    args: dict[str, Any] = {
        "invite_group_members": {"as_user_id": owner, "group_id": 1},
        "send_message": {"from_user_id": owner, "content": "hi"},
        "mute_group_members": {"group_id": 1, "duration": 30},
    }[tool]
    args["usernames"] = ["alice", "ghost", "bob", "Alice", "nobody"]
    out, door = await _run(tool, args, store)
    assert not out.ok
    err = out.structured["error"]
    assert err["code"] == "invalid_arguments"
    assert err["details"] == {"unknown_usernames": ["ghost", "Alice", "nobody"], "unknown": 3}
    for name in ("ghost", "Alice", "nobody"):
        assert f'"{name}"' in err["message"]
    assert '"alice"' not in err["message"] and "nothing was sent" in err["message"]
    assert door.to(CATALOGUE[tool].path) == []  # not even for the known names
    assert {s.path for s in door.seen} == {"/roster/name"}


async def test_unknown_usernames_in_chinese():
    store, _ = _store()
    out, _ = await _run("add_friends", {"as_user_id": 1, "usernames": ["ghost"]}, store, lang="zh")
    assert out.structured["error"]["message"].startswith('以下用户名不存在:"ghost"')


async def test_bad_usernames_are_argument_errors_not_crashes():
    store, _ = _store()
    for bad in ("alice", [1, 2], [""], ["x" * 300], {"a": 1}):
        out, door = await _run("kick_group_members", {"group_id": 1, "usernames": bad}, store)
        assert not out.ok and out.structured["error"]["code"] == "invalid_arguments", bad
        assert "usernames" in out.structured["error"]["message"]
        assert door.seen == []
    out, door = await _run("kick_group_members", {"group_id": 1}, store)
    assert "give user_ids or usernames" in out.structured["error"]["message"]
    assert door.seen == []


# --- cost ---------------------------------------------------------------------------------------


async def test_a_1200_name_invite_reads_the_user_list_not_1200_profiles():
    """1,208 users in the app: the names are found in 7 pages of 200, then 3 invite batches of up to 500."""
    store = Store()
    owner = store.add_user("owner_bulk", "pw-123456").user_id
    names = [f"u{i:04d}" for i in range(1207)]
    for name in names:
        store.add_user(name, "pw-123456")
    out, door = await _run("create_group", {"as_user_id": owner, "name": "bulk"}, store)
    gid = out.structured["data"]["group_id"]
    door.seen.clear()
    out, door = await _run(
        "invite_group_members", {"as_user_id": owner, "group_id": gid, "usernames": names[7:]}, store, door
    )
    assert out.ok, out.text
    assert out.structured["summary"]["succeeded"] == 1200
    assert len(door.to("/user/list")) == 7  # 1,208 users, 200 a page: the 7th page is short
    assert door.to("/roster/name") == []
    assert len(door.to("/group/invite")) == 3
    assert len(door.seen) == 11  # and one read of the members before the write; against 1,204 one name at a time
    assert len(groups(store).groups[gid].members) == 1201


async def test_a_few_names_cost_one_look_up_each():
    store = Store()
    for i in range(500):
        store.add_user(f"u{i:04d}", "pw-123456")
    out, door = await _run("disable_users", {"usernames": ["u0499", "u0001", "u0250"]}, store, confirm=False)
    assert out.ok, out.text
    assert len(door.to("/roster/name")) == 3 and door.to("/user/list") == []


async def test_more_than_the_look_up_cap_is_refused_before_sending():
    """Names spread over a large app, with a small cap: refused up front, nothing sent."""
    store = Store()
    for i in range(3000):
        store.add_user(f"u{i:04d}", "pw-123456")
    wanted = [f"u{i:04d}" for i in range(2950, 2970)]  # in the last page: the scan stops before it
    out, door = await _run("enable_users", {"usernames": wanted}, store, max_lookups=12)
    assert not out.ok
    msg = out.structured["error"]["message"]
    assert "LANYING_MAX_LOOKUPS=12" in msg and "nothing was sent" in msg
    assert door.to("/user/enable") == [] and len(door.seen) <= 12


async def test_resolved_names_are_cached_per_app():
    """The gate and the call resolve alike: the second resolution through one server's client is free."""
    store, _ = _store()
    door = Door(build_app(store))
    client = LanyingClient(sandbox_settings(store), transport=httpx2.ASGITransport(app=door))
    cache = Cache()  # the server's, shared by its calls
    for _ in range(2):
        ctx = CallContext(client, catalogue=CATALOGUE, cache=cache)
        out = await execute(CATALOGUE["get_friend_details"], {"as_user_id": 1, "usernames": ["alice"]}, ctx)
        assert not out.ok or "data" in out.structured
    await client.aclose()
    assert len(door.to("/roster/name")) == 1
    # Another client (another app, or another connection pool) asks again.
    _, door2 = await _run("get_friend_details", {"as_user_id": 1, "usernames": ["alice"]}, store)
    assert len(door2.to("/roster/name")) == 1


# --- consent ------------------------------------------------------------------------------------


@asynccontextmanager
async def _mcp(store: Store, answer: Any, **changes: Any):
    door = Door(build_app(store))
    server = build_server(sandbox_settings(store, **changes), transport=httpx2.ASGITransport(app=door))
    yield server, door
    await server.lanying_client.aclose()


async def test_a_confirmed_kick_by_usernames_names_them_and_runs_once(mode):
    store, ids = _store()
    owner = store.add_user("boss", "pw-123456").user_id
    out, _ = await _run("create_group", {"as_user_id": owner, "name": "crew", "user_ids": ids}, store)
    gid = out.structured["data"]["group_id"]
    asked: list[str] = []

    async def yes(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with _mcp(store, yes) as (server, door):
        async with Client(server, mode=mode, elicitation_callback=yes) as client:
            result = await client.call_tool(
                "kick_group_members", {"as_user_id": owner, "group_id": gid, "usernames": ["alice", "carol"]}
            )
    assert not result.is_error, result.content
    assert len(asked) == 1
    assert "alice" in asked[0] and "carol" in asked[0] and "bob" not in asked[0]
    assert str(ids[0]) in asked[0] and str(ids[2]) in asked[0]
    kicks = door.to("/group/kick")
    assert len(kicks) == 1 and kicks[0].body["user_list"] == [ids[0], ids[2]]
    # The question, the answer's check and the call resolve alike; the names are looked up once.
    assert sorted(s.query for s in door.to("/roster/name")) == ["username=alice", "username=carol"]
    assert set(groups(store).groups[gid].members) == {owner, ids[1]}


async def test_a_declined_kick_by_usernames_sends_nothing(mode):
    store, ids = _store()
    owner = store.add_user("boss", "pw-123456").user_id
    out, _ = await _run("create_group", {"as_user_id": owner, "name": "crew", "user_ids": ids}, store)
    gid = out.structured["data"]["group_id"]

    async def no(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="decline")

    async with _mcp(store, no) as (server, door):
        async with Client(server, mode=mode, elicitation_callback=no) as client:
            result = await client.call_tool("kick_group_members", {"group_id": gid, "usernames": ["alice"]})
    assert result.is_error
    assert door.to("/group/kick") == []
    assert set(groups(store).groups[gid].members) == {owner, *ids}


async def test_reach_counts_the_resolved_users(tmp_path, mode):
    """With a reach threshold of 2, a message to 3 users given by username asks first."""
    store, ids = _store()
    policy = tmp_path / "policy.toml"
    policy.write_text("confirm_reach = 2\n")
    asked: list[str] = []

    async def yes(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with _mcp(store, yes, policy_file=str(policy)) as (server, door):
        async with Client(server, mode=mode, elicitation_callback=yes) as client:
            result = await client.call_tool("send_message", {"usernames": list(PEOPLE), "content": "hello all"})
    assert not result.is_error, result.content
    assert len(asked) == 1 and "3" in asked[0]
    [sent] = door.to("/message/send")
    assert sent.body["targets"] == ids


async def test_an_unknown_name_in_a_confirmed_call_asks_nobody_and_sends_nothing(mode):
    store, ids = _store()
    owner = store.add_user("boss", "pw-123456").user_id
    out, _ = await _run("create_group", {"as_user_id": owner, "name": "crew", "user_ids": ids}, store)
    gid = out.structured["data"]["group_id"]
    asked: list[str] = []

    async def yes(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with _mcp(store, yes) as (server, door):
        async with Client(server, mode=mode, elicitation_callback=yes) as client:
            result = await client.call_tool("kick_group_members", {"group_id": gid, "usernames": ["alice", "mallory"]})
    assert result.is_error and asked == []
    assert result.structured_content["error"]["details"]["unknown_usernames"] == ["mallory"]
    assert door.to("/group/kick") == []
    assert set(groups(store).groups[gid].members) == {owner, *ids}
