"""Message scenarios against the sandbox: history paging, read state, recall rights, group history
visibility, deleted and pinned conversations, system notices and broadcasts."""

from __future__ import annotations

import itertools

import httpx2
import pytest

from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.sandbox.groups import groups
from tests.helpers import call, call_error, sandbox_client


def ticking_store(*names: str) -> tuple[Store, list[int]]:
    """A store whose clock moves 1 ms per reading, so 'sent before joining' is never a tie."""
    store = Store()
    clock = itertools.count(1_700_000_000_000)
    store.now_ms = lambda: next(clock)  # type: ignore[method-assign]
    return store, [store.add_user(n, "pw").user_id for n in names]


async def dm(client, sender: int, to: int, text: str) -> int:
    sent = await call(client, "send_message", {"user_ids": [to], "from_user_id": sender, "content": text})
    return sent["msg_ids"][0]


async def history(client, **args) -> dict:
    return (await call(client, "list_conversation_messages", args))["data"]


async def unread(client, user: int) -> dict[int, int]:
    rows = (await call(client, "list_unread_conversations", {"as_user_id": user}))["data"]
    return {row["conversation_id"]["uid"]: row["num"] for row in rows}


async def make_group(client, store: Store, owner: int, members: list[int]) -> int:
    created = await call(client, "create_group", {"as_user_id": owner, "name": "team", "user_ids": members})
    return created["data"]["group_id"]


@pytest.mark.anyio
async def test_history_paging_and_read_acks(mode: str) -> None:
    store, (alice, bob) = ticking_store("alice", "bob")
    async with sandbox_client(store, mode=mode) as client:
        ids = [await dm(client, alice, bob, f"m{i}") for i in range(3)]
        assert await unread(client, bob) == {alice: 3}
        assert await unread(client, alice) == {bob: 0}

        first = await history(client, as_user_id=bob, opposite_id=alice, limit=2)
        assert [m["content"] for m in first["messages"]] == ["m2", "m1"]
        assert first["is_last"] is False and first["next_msg_id"] == ids[0]
        second = await history(client, as_user_id=bob, opposite_id=alice, msg_id_start=first["next_msg_id"], limit=2)
        assert [m["content"] for m in second["messages"]] == ["m0"]
        assert second["is_last"] is True and "next_msg_id" not in second

        await call(client, "send_read_ack", {"as_user_id": bob, "conversation_id": alice, "msg_id": ids[1]})
        assert await unread(client, bob) == {alice: 1}
        seen = await history(client, as_user_id=alice, opposite_id=bob, limit=10)
        assert [m["status"] for m in seen["messages"]] == ["UNREAD", "READ", "READ"]
        await call(client, "send_read_ack", {"as_user_id": bob, "conversation_id": alice})
        assert await unread(client, bob) == {alice: 0}

        # a receipt must name a message of the reader's own conversation
        carol = store.add_user("carol", "pw").user_id
        err = await call_error(client, "send_read_ack", {"as_user_id": carol, "msg_id": ids[0]})
        assert err["code"] == 10002
        err = await call_error(client, "send_read_ack", {"as_user_id": bob, "conversation_id": carol, "msg_id": ids[0]})
        assert err["code"] == 10002
        err = await call_error(client, "list_conversation_messages", {"as_user_id": bob, "opposite_id": 12345})
        assert err["code"] == 10000


@pytest.mark.anyio
async def test_recall_rights_in_one_to_one_chats() -> None:
    store, (alice, bob) = ticking_store("alice", "bob")
    async with sandbox_client(store) as client:
        first = await dm(client, alice, bob, "oops")
        second = await dm(client, alice, bob, "fine")
        err = await call_error(client, "recall_message", {"as_user_id": bob, "conversation_id": alice, "msg_id": first})
        assert err["code"] == 10010
        err = await call_error(
            client, "recall_message", {"as_user_id": alice, "conversation_id": alice, "msg_id": first}
        )
        assert err["code"] == 10002  # alice's side of the chat is called bob
        await call(client, "recall_message", {"as_user_id": alice, "conversation_id": bob, "msg_id": first})
        err = await call_error(client, "recall_message", {"as_user_id": alice, "conversation_id": bob, "msg_id": first})
        assert err["code"] == 10002
        err = await call_error(client, "recall_message", {"conversation_id": bob, "msg_id": 999})
        assert err["code"] == 10002
        assert [m["content"] for m in (await history(client, as_user_id=bob, opposite_id=alice))["messages"]] == [
            "fine"
        ]
        await call(client, "recall_message", {"conversation_id": bob, "msg_id": second})  # the app admin may
        assert await unread(client, bob) == {}


@pytest.mark.anyio
async def test_recall_rights_in_groups() -> None:
    store, (owner, admin, member, other, outsider) = ticking_store("owner", "admin", "member", "other", "outsider")
    async with sandbox_client(store) as client:
        gid = await make_group(client, store, owner, [admin, member, other])
        groups(store).groups[gid].admins.add(admin)

        async def post(text: str) -> int:
            sent = await call(client, "send_message", {"group_ids": [gid], "from_user_id": member, "content": text})
            return sent["msg_ids"][0]

        msgs = [await post(f"g{i}") for i in range(4)]
        err = await call_error(
            client, "recall_message", {"as_user_id": other, "conversation_id": gid, "msg_id": msgs[0]}
        )
        assert err["code"] == 20012
        err = await call_error(
            client, "recall_message", {"as_user_id": outsider, "conversation_id": gid, "msg_id": msgs[0]}
        )
        assert err["code"] == 20002
        err = await call_error(
            client, "recall_message", {"as_user_id": member, "conversation_id": other, "msg_id": msgs[0]}
        )
        assert err["code"] == 10002
        await call(client, "recall_message", {"as_user_id": member, "conversation_id": gid, "msg_id": msgs[0]})
        await call(client, "recall_message", {"as_user_id": admin, "conversation_id": gid, "msg_id": msgs[1]})
        await call(client, "recall_message", {"as_group_id": gid, "conversation_id": gid, "msg_id": msgs[2]})
        left = await history(client, as_user_id=other, opposite_id=gid)
        assert [m["msg_id"] for m in left["messages"]] == [msgs[3]]


@pytest.mark.anyio
async def test_group_history_visibility_and_membership() -> None:
    store, (owner, early, late, outsider) = ticking_store("owner", "early", "late", "outsider")
    async with sandbox_client(store) as client:
        gid = await make_group(client, store, owner, [early])
        for text in ("before-1", "before-2"):
            await call(client, "send_message", {"group_ids": [gid], "from_user_id": owner, "content": text})
        await call(client, "invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": [late]})
        await call(client, "send_message", {"group_ids": [gid], "from_user_id": early, "content": "after"})

        def texts(page: dict) -> list[str]:
            return [m["content"] for m in page["messages"]]

        assert texts(await history(client, as_user_id=late, opposite_id=gid)) == ["after"]
        assert texts(await history(client, as_user_id=early, opposite_id=gid)) == ["after", "before-2", "before-1"]
        assert texts(await history(client, as_group_id=gid, opposite_id=gid)) == ["after", "before-2", "before-1"]
        assert await unread(client, late) == {gid: 1}
        assert await unread(client, early) == {gid: 2}
        err = await call_error(client, "list_conversation_messages", {"as_user_id": outsider, "opposite_id": gid})
        assert err["code"] == 20002

        groups(store).groups[gid].history_visible = True
        assert texts(await history(client, as_user_id=late, opposite_id=gid)) == ["after", "before-2", "before-1"]

        await call(client, "send_read_ack", {"as_user_id": early, "conversation_id": gid})
        assert await unread(client, early) == {gid: 0}
        err = await call_error(client, "send_read_ack", {"as_user_id": outsider, "conversation_id": gid, "msg_id": 1})
        assert err["code"] == 10002


@pytest.mark.anyio
async def test_deleting_and_pinning_conversations() -> None:
    store, (alice, bob, carol) = ticking_store("alice", "bob", "carol")
    async with sandbox_client(store) as client:
        await dm(client, alice, bob, "old")
        await dm(client, carol, bob, "hello")
        await call(client, "delete_conversation", {"as_user_id": bob, "conversation_id": alice})
        assert await unread(client, bob) == {carol: 1}
        assert (await history(client, as_user_id=bob, opposite_id=alice))["messages"] == []
        assert len((await history(client, as_user_id=alice, opposite_id=bob))["messages"]) == 1  # only bob's view
        await dm(client, alice, bob, "new")
        assert await unread(client, bob) == {alice: 1, carol: 1}
        assert [m["content"] for m in (await history(client, as_user_id=bob, opposite_id=alice))["messages"]] == ["new"]

        gid = await make_group(client, store, bob, [alice])
        for conversation in (gid, alice, gid):
            await call(client, "pin_conversation", {"as_user_id": bob, "conversation_id": conversation})
        pinned = await call(client, "list_pinned_conversations", {"as_user_id": bob})
        assert pinned["data"]["conversation_ids"] == [gid, alice]
        await call(client, "unpin_conversation", {"as_user_id": bob, "conversation_id": gid})
        await call(client, "unpin_conversation", {"as_user_id": bob, "conversation_id": gid})
        pinned = await call(client, "list_pinned_conversations", {"as_user_id": bob})
        assert pinned["data"]["conversation_ids"] == [alice]
        assert (await call(client, "list_pinned_conversations", {"as_user_id": alice}))["data"][
            "conversation_ids"
        ] == []
        err = await call_error(client, "pin_conversation", {"as_user_id": bob, "conversation_id": 4242})
        assert err["code"] == 10000
        err = await call_error(client, "delete_conversation", {"as_user_id": bob, "conversation_id": 4242})
        assert err["code"] == 10000
        err = await call_error(client, "list_pinned_conversations")
        assert err["code"] == 10002  # a conversation list belongs to a user: act as one


@pytest.mark.anyio
async def test_system_notices_and_broadcasts() -> None:
    store, (owner, member, third) = ticking_store("owner", "member", "third")
    async with sandbox_client(store) as client:
        gid = await make_group(client, store, owner, [member])
        groups(store).groups[gid].ban_all_until = -1
        err = await call_error(client, "send_message", {"group_ids": [gid], "from_user_id": member, "content": "hi"})
        assert err["code"] == 20011
        sent = await call(client, "send_system_notice", {"group_ids": [gid], "content": "server restarts at 22:00"})
        assert sent["data"] is True and len(sent["msg_ids"]) == 1
        assert await unread(client, member) == {gid: 1}
        notice = await call(
            client, "send_system_notice", {"user_ids": [third], "content": "welcome", "transaction_id": 5}
        )
        again = await call(
            client, "send_system_notice", {"user_ids": [third], "content": "welcome", "transaction_id": 5}
        )
        assert notice["msg_ids"] == again["msg_ids"]
        assert await unread(client, third) == {0: 1}  # notices come from the system admin, conversation 0

        result = await call(client, "broadcast_message", {"content": "hello everyone"})
        assert result["data"] == {"send_num": 3, "success": True}
        assert await unread(client, third) == {0: 2}
        from_owner = await call(client, "broadcast_message", {"as_user_id": owner, "content": "from the boss"})
        assert from_owner["data"]["send_num"] == 2
        assert (await unread(client, member))[owner] == 1

    token = store.issue_user_token(member)
    async with sandbox_client(store, access_token=token) as as_user:
        err = await call_error(as_user, "broadcast_message", {"content": "spam"})
        assert err["code"] == 10010
        err = await call_error(as_user, "send_system_notice", {"user_ids": [third], "content": "fake notice"})
        assert err["code"] == 10010
        # with a user token the conversation tools act as that user without act-as headers
        await call(as_user, "pin_conversation", {"conversation_id": owner})
        assert (await call(as_user, "list_pinned_conversations"))["data"]["conversation_ids"] == [owner]


@pytest.mark.anyio
async def test_sandbox_answers_put_and_rejects_bad_history_arguments() -> None:
    store, (alice, bob) = ticking_store("alice", "bob")
    headers = {"app_id": SANDBOX_APP_ID, "access-token": store.admin_token, "user_id": str(alice)}
    transport = httpx2.ASGITransport(app=build_app(store))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as http:
        pinned = await http.put("/user/conversation/pin", json={"conversation_id": bob})
        assert pinned.json()["data"] is True
        bad = await http.get("/message/conversation", params={"opposite_id": bob, "msg_id_start": 0, "limit": 0})
        assert bad.json()["code"] == 10002
        sent = await http.put("/message/notify", json={"targets": [bob], "type": 1, "content": "x", "content_type": 0})
        assert sent.json()["code"] == 200
