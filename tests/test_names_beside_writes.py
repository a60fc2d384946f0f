"""Names beside IDs after the writes that list users, on both sides of a conversation, and never twice."""

from __future__ import annotations

import pytest

from lanying_mcp.engine import names
from lanying_mcp.toolsets import CATALOGUE

from .helpers import call, sandbox_client

pytestmark = pytest.mark.anyio

# Writes whose per-user rows (`data[].user_id`) come back named: the declaration is data on each operation.
NAMED_WRITES = (
    "invite_group_members",
    "kick_group_members",
    "add_group_admins",
    "remove_group_admins",
    "mute_group_members",
    "unmute_group_members",
    "block_group_members",
    "unblock_group_members",
)


def test_the_per_user_writes_declare_their_ids_for_names() -> None:
    for name in NAMED_WRITES:
        ids = CATALOGUE[name].ids
        assert ids is not None and "data[].user_id" in ids.users and "data[].user_id" not in ids.plain, name
    history = CATALOGUE["list_conversation_messages"].ids
    assert history is not None and "data.messages[].to_xid.uid" in history.either


async def users(client, n: int, prefix: str = "m") -> list[int]:
    out = []
    for i in range(n):
        uid = (await call(client, "register_user", {"username": f"{prefix}_{i}", "password": "pw123456"}))["data"][
            "user_id"
        ]
        await call(client, "set_user_nickname", {"as_user_id": uid, "nick_name": f"Nick {prefix}{i}"})
        out.append(uid)
    return out


async def test_invite_kick_admins_and_mute_name_the_users() -> None:
    async with sandbox_client() as client:
        owner, a, b, c = await users(client, 4)
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "Ops"}))["data"]["group_id"]
        steps = [
            ("invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": [a, b, c]}, [a, b, c]),
            ("add_group_admins", {"as_user_id": owner, "group_id": gid, "user_ids": [a]}, [a]),
            ("mute_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": [b], "duration": 5}, [b]),
            ("kick_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": [c]}, [c]),
        ]
        for tool, args, expected in steps:
            result = await call(client, tool, args)
            assert [row["user_id"] for row in result["data"]] == expected, tool
            for uid in expected:
                i = [owner, a, b, c].index(uid)
                assert result["users"][str(uid)] == {"username": f"m_{i}", "nick_name": f"Nick m{i}"}, tool


async def test_a_split_invite_names_its_rows_when_they_stay_inline() -> None:
    async with sandbox_client() as client:
        owner, *rest = await users(client, 3, "s")
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "Small"}))["data"]["group_id"]
        result = await client.call_tool(
            "invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": rest}
        )
    structured = result.structured_content
    assert structured is not None and set(structured["users"]) == {str(u) for u in rest}
    line = result.content[0].text.split("\n")[0]  # type: ignore[union-attr]
    assert line == "2 items."  # the summary line survives the names


async def test_history_names_the_recipient_and_the_group() -> None:
    async with sandbox_client() as client:
        alice, bob, carol = await users(client, 3, "h")
        await call(client, "send_message", {"from_user_id": alice, "user_ids": [bob], "content": "hi bob"})
        await call(client, "send_message", {"from_user_id": bob, "user_ids": [alice], "content": "hi alice"})
        direct = await call(client, "list_conversation_messages", {"as_user_id": alice, "opposite_id": bob})
        gid = (await call(client, "create_group", {"as_user_id": alice, "name": "Trio", "user_ids": [bob, carol]}))[
            "data"
        ]["group_id"]
        await call(client, "send_message", {"from_user_id": carol, "group_ids": [gid], "content": "hello all"})
        group = await call(client, "list_conversation_messages", {"opposite_id": gid})
    recipients = {m["to_xid"]["uid"] for m in direct["data"]["messages"]}
    assert recipients == {alice, bob}
    assert {str(alice), str(bob)} <= set(direct["users"]) and "groups" not in direct
    assert group["groups"] == {str(gid): "Trio"}
    assert group["users"][str(carol)]["username"] == "h_2" and str(gid) not in group["users"]


async def test_list_users_map_keeps_only_what_the_rows_lack() -> None:
    async with sandbox_client() as client:
        named = await users(client, 2, "l")
        plain = (await call(client, "register_user", {"username": "no_nick", "password": "pw123456"}))["data"][
            "user_id"
        ]
        result = await call(client, "list_users", {})
    rows = {row["user_id"]: row for row in result["data"]}
    assert rows[named[0]]["username"] == "l_0"
    assert result["users"][str(named[0])] == {"nick_name": "Nick l0"}  # the username is in the row already
    assert str(plain) not in result["users"]  # nothing the row does not show
    assert all("username" not in entry for entry in result["users"].values())


def test_an_entry_stays_whole_where_any_row_lacks_the_name() -> None:
    structured = {"data": [{"user_id": 7, "username": "al"}, {"owner": 7}]}
    named = {7: {"username": "al", "nick_name": "Al"}}
    assert names._unshown(structured, ("data[].user_id",), named) == {7: {"nick_name": "Al"}}
    both = names._unshown(structured, ("data[].user_id", "data[].owner"), named)
    assert both == {7: {"username": "al", "nick_name": "Al"}}
