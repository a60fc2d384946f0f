"""Where the sandbox once differed from the documentation: each documented behaviour, checked over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest

from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.sandbox.groups import KICK_LIMIT, groups
from tests.helpers import call, call_error, sandbox_client


class Api:
    def __init__(self, http: httpx2.AsyncClient, store: Store) -> None:
        self.http, self.store = http, store

    async def __call__(
        self, method: str, path: str, *, token: str | None = None, act: int | None = None, **kw: Any
    ) -> dict[str, Any]:
        headers = {"access-token": token or self.store.admin_token}
        if act is not None:
            headers["user_id"] = str(act)
        answer = await self.http.request(method, path, headers=headers, **kw)
        return answer.json()


@asynccontextmanager
async def api(store: Store) -> AsyncIterator[Api]:
    transport = httpx2.ASGITransport(app=build_app(store))
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://sandbox.test", headers={"app_id": SANDBOX_APP_ID}
    ) as http:
        yield Api(http, store)


def users(store: Store, *names: str) -> list[int]:
    return [store.add_user(n, "pw").user_id for n in names]


TEXT = {"type": 1, "content": "hi", "content_type": 0}


@pytest.mark.anyio
async def test_blacklist_refuses_messages_with_10006_for_admin_and_user_tokens() -> None:
    store = Store()
    a, b = users(store, "a", "b")
    async with api(store) as req:
        assert (await req("POST", "/roster/block", act=b, params={"user_id": a}))["code"] == 200
        may = await req("GET", "/roster/may_message", params={"user_id": a, "roster_id": b})
        assert may["data"] is False
        as_admin = await req("POST", "/message/send", json={**TEXT, "targets": [b], "from_user_id": a})
        assert as_admin["code"] == 10006
        own = await req("POST", "/message/send", token=store.issue_user_token(a), json={**TEXT, "targets": [b]})
        assert own["code"] == 10006


@pytest.mark.anyio
async def test_invite_respects_the_kick_limit() -> None:
    store = Store()
    owner, x = users(store, "owner", "x")
    async with api(store) as req:
        gid = (await req("POST", "/group/create", act=owner, json={"name": "g"}))["data"]["group_id"]
        for _ in range(KICK_LIMIT):
            assert (await req("POST", "/group/invite", act=owner, json={"group_id": gid, "user_list": [x]}))[
                "code"
            ] == 200
            await req("POST", "/group/kick", act=owner, json={"group_id": gid, "user_list": [x]})
        again = await req("POST", "/group/invite", act=owner, json={"group_id": gid, "user_list": [x]})
        assert again["data"][0]["result"] == "fail" and again["data"][0]["reason"].startswith("20016")
        assert x not in groups(store).groups[gid].members


@pytest.mark.anyio
async def test_capacity_is_enforced() -> None:
    store = Store()
    owner, x, y, z = users(store, "owner", "x", "y", "z")
    async with api(store) as req:
        gid = (await req("POST", "/group/create", act=owner, json={"name": "g", "user_list": [x]}))["data"]["group_id"]
        groups(store).groups[gid].capacity = 3
        invited = await req("POST", "/group/invite", act=owner, json={"group_id": gid, "user_list": [y, z]})
        assert [r["result"] for r in invited["data"]] == ["success", "fail"]
        assert invited["data"][1]["reason"].startswith("20010")
        groups(store).groups[gid].apply_approval = 0
        applied = await req("POST", "/group/apply", act=z, json={"group_id": gid})
        assert applied["code"] == 20010
        info = await req("GET", "/group/info", params={"group_id": gid})
        assert info["data"]["count"] == info["data"]["capacity"] == 3


@pytest.mark.anyio
async def test_create_with_user_list_respects_group_confirm() -> None:
    store = Store()
    owner, shy, easy = users(store, "owner", "shy", "easy")
    store.users[shy].settings["group_confirm"] = True
    async with api(store) as req:
        body = {"name": "g", "user_list": [shy, easy]}
        gid = (await req("POST", "/group/create", act=owner, json=body))["data"]["group_id"]
        g = groups(store).groups[gid]
        assert easy in g.members and shy not in g.members
        invitations = await req("GET", "/group/invitation_list", act=shy)
        assert [i["group_id"] for i in invitations["data"]] == [gid]


@pytest.mark.anyio
async def test_user_list_page_size_is_capped_at_the_swagger_maximum() -> None:
    store = Store()
    users(store, *(f"u{i}" for i in range(5)))
    async with api(store) as req:
        assert (await req("GET", "/user/list", params={"page_size": 200}))["code"] == 200
        assert (await req("GET", "/user/list", params={"page_size": 201}))["code"] == 10002
        assert (await req("GET", "/user/list", params={"page_size": 0}))["code"] == 10002
    async with sandbox_client(store) as client:
        err = await call_error(client, "list_users", {"page_size": 500})
        assert err["code"] == "invalid_arguments"


@pytest.mark.anyio
async def test_required_and_optional_parameters_follow_the_swagger() -> None:
    store = Store()
    a, b = users(store, "a", "b")
    async with api(store) as req:
        no_start = await req("GET", "/message/conversation", act=a, params={"opposite_id": b, "limit": 5})
        assert no_start["code"] == 10002
        with_start = {"opposite_id": b, "limit": 5, "msg_id_start": 0}
        assert (await req("GET", "/message/conversation", act=a, params=with_start))["code"] == 200
        no_content = await req("POST", "/message/send", act=a, json={"targets": [b], "type": 1, "content_type": 0})
        assert no_content["code"] == 10002
        empty = await req("POST", "/message/send", act=a, json={**TEXT, "content": "", "targets": [b]})
        assert empty["code"] == 200  # present and empty: allowed (a file message's caption)
        await req("POST", "/message/send", act=a, json={**TEXT, "targets": [b]})
        assert (await req("GET", "/message/unread", act=b))["data"][0]["num"] == 2
        bare_ack = await req("GET", "/message/ack", act=b)
        assert bare_ack == {"code": 200, "message": None, "data": True}
        assert (await req("GET", "/message/unread", act=b))["data"][0]["num"] == 0


@pytest.mark.anyio
async def test_chat_upload_to_a_group_checks_the_group() -> None:
    store = Store()
    (a,) = users(store, "a")
    async with api(store) as req:
        missing = await req("GET", "/file/upload/chat", act=a, params={"file_type": 100, "to_id": 12345, "to_type": 2})
        assert missing["code"] == 20001
        gid = (await req("POST", "/group/create", act=a, json={"name": "g"}))["data"]["group_id"]
        ok = await req("GET", "/file/upload/chat", act=a, params={"file_type": 100, "to_id": gid, "to_type": 2})
        assert ok["code"] == 200 and ok["data"]["upload_url"]


@pytest.mark.anyio
async def test_push_to_all_needs_the_admin_token() -> None:
    store = Store()
    (a,) = users(store, "a")
    body = {"audience": "all", "message": {"title": "t", "body": "b"}}
    async with api(store) as req:
        assert (await req("POST", "/push/notify", token=store.issue_user_token(a), json=body))["code"] == 10010
        assert (await req("POST", "/push/notify", json=body))["code"] == 200
        to_self = {"audience": {"user_id": [a]}, "message": {"body": "b"}}
        assert (await req("POST", "/push/notify", token=store.issue_user_token(a), json=to_self))["code"] == 200


@pytest.mark.anyio
async def test_roster_last_pages_omit_the_cursor() -> None:
    store = Store()
    a, b, c = users(store, "a", "b", "c")
    store.users[c].settings["auth_mode"] = 1
    async with api(store) as req:
        await req("POST", "/roster/apply", act=a, json={"user_id": b})
        first = await req("GET", "/roster/list", act=a, params={"limit": 1})
        assert first["data"] == [b] and "cursor" not in first
        await req("POST", "/roster/apply", act=a, json={"user_id": c})
        await req("POST", "/roster/apply", act=b, json={"user_id": c})
        page1 = await req("GET", "/roster/apply/list", act=c, params={"limit": 1})
        assert page1["cursor"]
        page2 = await req("GET", "/roster/apply/list", act=c, params={"limit": 1, "cursor": page1["cursor"]})
        assert len(page2["data"]) == 1 and "cursor" not in page2


@pytest.mark.anyio
async def test_shapes_follow_the_swagger_definitions() -> None:
    store = Store()
    owner, member, stranger = users(store, "owner", "member", "stranger")
    async with api(store) as req:
        settings = (await req("GET", "/user/settings", act=owner))["data"]
        assert settings["id"] == owner and settings["push_token"] == ""
        created = (await req("POST", "/group/create", act=owner, json={"name": "g", "user_list": [member]}))["data"]
        assert created["msg_mute_mode"] == 0 and created["msg_push_mode"] == 0
        info = (await req("GET", "/group/info", params={"group_id": created["group_id"]}))["data"]
        assert {"msg_mute_mode", "msg_push_mode"} <= info.keys()
        rows = (await req("GET", "/group/member_list", act=owner, params={"group_id": created["group_id"]}))["data"]
        assert all(r["display_name"] == "" and r["expired_time"] == 0 for r in rows)
        found = (await req("GET", "/roster/id", act=owner, params={"user_id": stranger}))["data"]
        assert (found["alias"], found["ext"], found["mute_notification"]) == ("", "", False)
        await req("POST", "/message/send", act=owner, json={**TEXT, "targets": [member]})
        page = await req(
            "GET", "/message/conversation", act=member, params={"opposite_id": owner, "limit": 5, "msg_id_start": 0}
        )
        assert page["data"]["messages"] and all("type" not in m for m in page["data"]["messages"])


@pytest.mark.anyio
async def test_destroyed_group_and_deleted_peer() -> None:
    store = Store()
    owner, member, gone = users(store, "owner", "member", "gone")
    async with api(store) as req:
        gid = (await req("POST", "/group/create", act=owner, json={"name": "g", "user_list": [member]}))["data"][
            "group_id"
        ]
        await req("POST", "/message/send", act=owner, json={**TEXT, "type": 2, "targets": [gid]})
        await req("POST", "/message/send", act=gone, json={**TEXT, "targets": [member]})
        assert {u["conversation_id"]["uid"] for u in (await req("GET", "/message/unread", act=member))["data"]} == {
            gid,
            gone,
        }
        assert (await req("POST", "/group/destroy", act=owner, params={"group_id": gid}))["code"] == 200
        history = {"opposite_id": gid, "limit": 5, "msg_id_start": 0}
        assert (await req("GET", "/message/conversation", act=member, params=history))["code"] == 20001
        assert (await req("POST", "/user/delete", act=gone))["code"] == 200
        assert (await req("GET", "/message/unread", act=member))["data"] == []
        history = {"opposite_id": gone, "limit": 5, "msg_id_start": 0}
        assert (await req("GET", "/message/conversation", act=member, params=history))["code"] == 10000


@pytest.mark.anyio
async def test_the_tools_see_the_documented_answers() -> None:
    """The same rules reach a model through the tools: a blacklisted send is error 10006."""
    store = Store()
    a, b = users(store, "a", "b")
    async with sandbox_client(store) as client:
        await call(client, "block_user", {"as_user_id": b, "user_id": a})
        err = await call_error(client, "send_message", {"as_user_id": a, "user_ids": [b], "content": "hi"})
        assert err["code"] == 10006
