"""find_by_name cannot be shadowed: a copied nickname or group name never becomes the one match."""

import pytest

from lanying_mcp.sandbox import Store
from tests.helpers import call, sandbox_client

pytestmark = pytest.mark.anyio


def user(store: Store, username: str, nick: str = "") -> int:
    u = store.add_user(username, "pw")
    u.nick_name = nick
    return u.user_id


async def test_an_impostor_nickname_does_not_hide_the_real_account(mode):
    store = Store()
    real = user(store, "alice.wang", "Alice Wang")
    impostor = user(store, "mallory", "Alice")
    user(store, "bob", "Bob")
    async with sandbox_client(store, mode=mode) as c:
        got = (await call(c, "find_by_name", {"text": "Alice"}))["data"]
    assert got["outcome"] == "several"  # before: "one", the impostor, with the real account dropped
    matched = {m["user_id"]: m["matched"] for m in got["matches"]}
    assert matched == {impostor: ["nickname"], real: ["~nickname", "~username"]}
    assert "prove nothing" in got["summary"] and "1 by nickname" in got["summary"]


async def test_a_nickname_alone_is_never_the_one(mode):
    store = Store()
    only = user(store, "u_1001", "Alice")
    async with sandbox_client(store, mode=mode) as c:
        got = (await call(c, "find_by_name", {"text": "alice"}))["data"]
    assert got["outcome"] == "unconfirmed"
    assert got["matches"] == [{"user_id": only, "username": "u_1001", "nick_name": "Alice", "matched": ["nickname"]}]


async def test_a_username_is_the_one_and_partial_matches_stay_listed_after_it():
    store = Store()
    alice = user(store, "alice", "A.")
    alice2 = user(store, "alice2")
    async with sandbox_client(store) as c:
        got = (await call(c, "find_by_name", {"text": "alice"}))["data"]
        assert got["outcome"] == "one"
        assert [(m["user_id"], m["matched"]) for m in got["matches"]] == [
            (alice, ["username"]),
            (alice2, ["~username"]),
        ]
        assert "1 more match only partly" in got["summary"]
        impostor = user(store, "eve", "alice")  # copies alice's username as her nickname
        got = (await call(c, "find_by_name", {"text": "alice"}))["data"]
    assert got["outcome"] == "several"
    assert [m["user_id"] for m in got["matches"]][:2] == [alice, impostor]  # the username first


async def test_a_group_named_like_another_is_not_the_one(mode):
    store = Store()
    owner = user(store, "owner")
    async with sandbox_client(store, mode=mode) as c:
        real = (await call(c, "create_group", {"as_user_id": owner, "name": "Finance"}))["data"]["group_id"]
        copy = (await call(c, "create_group", {"as_user_id": owner, "name": "finance"}))["data"]["group_id"]
        got = (await call(c, "find_by_name", {"text": "Finance", "kind": "group", "member_id": owner}))["data"]
    assert got["outcome"] == "several"
    assert {m["group_id"] for m in got["matches"]} == {real, copy}
    assert all(m["matched"] == ["name"] for m in got["matches"])


async def test_the_summary_says_what_matched_in_chinese():
    store = Store()
    user(store, "alice.wang", "Alice Wang")
    user(store, "mallory", "Alice")
    async with sandbox_client(store, lang="zh") as c:
        got = (await call(c, "find_by_name", {"text": "Alice"}))["data"]
    assert got["outcome"] == "several" and "昵称1个" in got["summary"] and "部分匹配1个" in got["summary"]
    assert "请确认" in got["summary"]
