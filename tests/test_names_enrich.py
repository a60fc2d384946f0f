"""Names beside IDs: declared on every operation, added from batched cached lookups, never fatal."""

from __future__ import annotations

import re
import types
import typing
from typing import Any

import httpx2
import pytest
from pydantic import BaseModel

from lanying_mcp.core.cache import MISSING, Cache
from lanying_mcp.engine import names
from lanying_mcp.engine.call import CallContext
from lanying_mcp.engine.client import LanyingClient
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.toolsets import CATALOGUE

from .helpers import call, sandbox_client, sandbox_settings

pytestmark = pytest.mark.anyio

ID_LIKE = re.compile(r"(user_id|group_id|owner|owner_id|sender|author|uploader|inviter_id|invitee_id|applicant_id)$")
ID_PARENTS = {"from_xid", "to_xid", "conversation_id"}


def result_paths(tp: Any, path: str = "data") -> list[str]:
    """Every leaf path of a result type, in the declaration syntax (`data[].user_id`)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return [p for arg in typing.get_args(tp) if arg is not type(None) for p in result_paths(arg, path)]
    if origin is list:
        return result_paths(typing.get_args(tp)[0], path + "[]")
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [p for name, info in tp.model_fields.items() for p in result_paths(info.annotation, f"{path}.{name}")]
    return [path]


def untyped_paths(tp: Any, path: str = "data") -> list[str]:
    """The leaf paths typed `Any`: what the API or a diagnosis fills with any shape (a list of tags, a number)."""
    if tp is Any:
        return [path]
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return [p for arg in typing.get_args(tp) for p in untyped_paths(arg, path)]
    if origin is list:
        return untyped_paths(typing.get_args(tp)[0], path + "[]")
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [p for name, info in tp.model_fields.items() for p in untyped_paths(info.annotation, f"{path}.{name}")]
    return []


def id_like(path: str) -> bool:
    steps = path.replace("[]", "").split(".")
    return bool(ID_LIKE.search(steps[-1])) or (steps[-1] == "uid" and any(s in ID_PARENTS for s in steps[:-1]))


def test_every_id_field_is_declared() -> None:
    """A new tool whose result carries user or group IDs cannot slip through without a declaration."""
    missing = []
    for op in CATALOGUE.values():
        declared = set()
        if op.ids is not None:
            declared = {*op.ids.users, *op.ids.groups, *op.ids.either, *op.ids.plain}
        for path in result_paths(op.result):
            if id_like(path) and path not in declared:
                missing.append(f"{op.name}: {path}")
    assert not missing, "declare these in Operation.ids (users, groups or plain):\n" + "\n".join(missing)


def test_declared_paths_exist() -> None:
    """A typo in a declaration would silently name nothing."""
    wrong = []
    for op in CATALOGUE.values():
        if op.ids is None:
            continue
        paths = set(result_paths(op.result))
        open_ended = untyped_paths(op.result)  # a path may go on inside a value typed Any
        for path in (*op.ids.users, *op.ids.groups, *op.ids.either, *op.ids.plain, *op.ids.text):
            if path not in paths and not any(path.startswith((p + "[]", p + ".")) for p in open_ended):
                wrong.append(f"{op.name}: {path}")
    assert not wrong, wrong


def counting_app(store: Store, seen: list[str], fail: tuple[str, ...] = ()) -> Any:
    """The sandbox, counting the paths it is asked for; `fail` paths answer HTTP 500."""
    app = build_app(store)

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
            if scope["path"] in fail:
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"boom"})
                return
        await app(scope, receive, send)

    return wrapper


async def team(client: Any, size: int = 3) -> tuple[list[int], int]:
    ids = []
    for i in range(size):
        ids.append(
            (await call(client, "register_user", {"username": f"member_{i}", "password": "pw123456"}))["data"][
                "user_id"
            ]
        )
    await call(client, "set_user_nickname", {"as_user_id": ids[0], "nick_name": "Boss"})
    group = await call(client, "create_group", {"as_user_id": ids[0], "name": "Ops War Room", "user_ids": ids[1:]})
    gid = group["data"]["group_id"]
    await call(client, "add_group_admins", {"group_id": gid, "user_ids": [ids[1]]})
    await call(client, "mute_group_members", {"group_id": gid, "user_ids": [ids[2]], "duration": 90})
    return ids, gid


async def test_members_get_names_roles_and_mute_end(mode: str) -> None:
    async with sandbox_client(mode=mode) as client:
        ids, gid = await team(client)
        result = await call(client, "list_group_members", {"group_id": gid})
    users = result["users"]
    assert users[str(ids[0])] == {"username": "member_0", "nick_name": "Boss"}
    assert users[str(ids[2])]["username"] == "member_2"
    roles = {m["user_id"]: m["role"] for m in result["data"]}
    assert roles == {ids[0]: "owner", ids[1]: "admin", ids[2]: "member"}
    muted = {m["user_id"]: m.get("muted_until") for m in result["data"]}
    assert muted[ids[0]] is None and muted[ids[1]] is None
    assert muted[ids[2]] > 0


async def test_names_off_gives_raw_ids() -> None:
    async with sandbox_client(names=False) as client:
        ids, gid = await team(client)
        result = await call(client, "list_group_members", {"group_id": gid})
    assert "users" not in result
    assert all("role" not in m for m in result["data"])


async def test_other_results_are_named() -> None:
    async with sandbox_client() as client:
        ids, gid = await team(client)
        groups = await call(client, "list_user_groups", {"as_user_id": ids[1]})
        assert groups["groups"] == {str(gid): "Ops War Room"}
        info = await call(client, "get_group_info", {"group_id": gid})
        assert info["users"][str(ids[0])]["nick_name"] == "Boss"
        await call(client, "send_message", {"from_user_id": ids[1], "group_ids": [gid], "content": "hi"})
        history = await call(client, "list_conversation_messages", {"opposite_id": gid})
        assert history["users"][str(ids[1])]["username"] == "member_1"
        await call(client, "block_user", {"as_user_id": ids[0], "user_id": ids[2]})
        blocked = await call(client, "list_blocked_users", {"as_user_id": ids[0]})
        assert blocked["users"][str(ids[2])]["username"] == "member_2"


async def test_cost_per_page_is_bounded_and_cached() -> None:
    """A page of 100 members costs 3 extra calls cold (names, owner, admins) and none warm."""
    store, seen = Store(), []
    server_app = counting_app(store, seen)
    ids = [store.add_user(f"u_{i}", "pw123456").user_id for i in range(100)]
    async with sandbox_client(store) as setup:
        gid = (await call(setup, "create_group", {"as_user_id": ids[0], "name": "Big", "user_ids": ids[1:]}))["data"][
            "group_id"
        ]
    client = LanyingClient(sandbox_settings(store), transport=httpx2.ASGITransport(app=server_app))
    from lanying_mcp.engine.dispatch import execute

    ctx = CallContext(client, catalogue=CATALOGUE)
    async with client:
        seen.clear()
        cold = await execute(CATALOGUE["list_group_members"], {"group_id": gid, "limit": 100}, ctx)
        assert cold.ok and len(cold.structured["users"]) == 100
        assert sorted(seen) == sorted(["/group/member_list", "/roster/list", "/group/info", "/group/admin_list"])
        seen.clear()
        warm = await execute(CATALOGUE["list_group_members"], {"group_id": gid, "limit": 100}, ctx)
        assert warm.ok and warm.structured["users"] == cold.structured["users"]
        assert seen == ["/group/member_list"]


async def test_lookup_failure_never_fails_the_call() -> None:
    store, seen = Store(), []
    async with sandbox_client(store) as setup:
        ids, gid = await team(setup)
    app = counting_app(store, seen, fail=("/roster/list", "/group/info", "/group/info/batch"))
    client = LanyingClient(sandbox_settings(store), transport=httpx2.ASGITransport(app=app))
    from lanying_mcp.engine.dispatch import execute

    async with client:
        ctx = CallContext(client, catalogue=CATALOGUE)
        outcome = await execute(CATALOGUE["list_group_members"], {"group_id": gid}, ctx)
        groups = await execute(CATALOGUE["list_user_groups"], {"as_user_id": ids[0]}, ctx)
    assert outcome.ok and "users" not in outcome.structured
    assert [m["user_id"] for m in outcome.structured["data"]] == ids
    assert groups.ok and groups.structured["data"] == [gid] and "groups" not in groups.structured


async def test_tenants_never_share_the_cache() -> None:
    store, seen = Store(), []
    async with sandbox_client(store) as setup:
        ids, _ = await team(setup)
    client = LanyingClient(sandbox_settings(store), transport=httpx2.ASGITransport(app=counting_app(store, seen)))
    other = client.with_settings(sandbox_settings(store, app_id="another-app"))
    cache = Cache()  # one server's cache, shared by its calls to both apps
    async with client:
        first = await names.users(CallContext(client, catalogue=CATALOGUE, cache=cache), ids)
        seen.clear()
        again = await names.users(CallContext(client, catalogue=CATALOGUE, cache=cache), ids)
        assert again == first and seen == []
        # The other app asks its own API (which knows none of these users), never the first app's cache.
        assert await names.users(CallContext(other, catalogue=CATALOGUE, cache=cache), ids) == {}
        assert seen and set(seen) == {"/roster/list"}


async def test_a_write_drops_the_names_it_changes() -> None:
    async with sandbox_client() as client:
        ids, gid = await team(client)
        before = await call(client, "list_group_members", {"group_id": gid})
        assert before["users"][str(ids[0])]["nick_name"] == "Boss"
        await call(client, "set_user_nickname", {"as_user_id": ids[0], "nick_name": "Chief"})
        await call(client, "transfer_group_owner", {"group_id": gid, "new_owner": ids[1]})
        after = await call(client, "list_group_members", {"group_id": gid})
    assert after["users"][str(ids[0])]["nick_name"] == "Chief"
    assert {m["user_id"]: m["role"] for m in after["data"]}[ids[1]] == "owner"


def test_cache_is_bounded_and_expires() -> None:
    cache = Cache(max_entries=3)
    for i in range(5):
        cache.put(("u", "t", i), i)
    assert len(cache) == 3 and cache.get(("u", "t", 0)) is MISSING and cache.get(("u", "t", 4)) == 4
    cache.put(("u", "t", 9), 9, ttl=-1)
    assert cache.get(("u", "t", 9)) is MISSING
