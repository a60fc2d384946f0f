"""Roster scenarios against the sandbox: requests under each auth_mode, blacklists, lookups, paging."""

import pytest

from lanying_mcp.sandbox import Store
from tests.helpers import call, call_error, sandbox_client


def people(*names: str, **auth: dict) -> tuple[Store, list[int]]:
    store = Store()
    ids = []
    for name in names:
        user = store.add_user(name, "pw")
        user.settings.update(auth.get(name, {}))
        ids.append(user.user_id)
    return store, ids


@pytest.mark.anyio
async def test_request_needing_approval_then_accept(mode):
    store, (alice, bob) = people("alice", "bob", bob={"auth_mode": 1})
    async with sandbox_client(store, mode=mode) as c:
        sent = await call(c, "send_friend_request", {"as_user_id": alice, "user_id": bob, "reason": "hi", "alias": "B"})
        assert sent["data"] is True
        ids = await call(c, "list_friend_ids", {"as_user_id": alice})
        assert ids["data"] == []
        inbox = await call(c, "list_friend_requests", {"as_user_id": bob})
        assert [(r["user_id"], r["status"], r["reason"]) for r in inbox["data"]] == [(alice, 0, "hi")]
        assert inbox["data"][0]["expired_time"] > store.now_ms()
        await call(c, "accept_friend_request", {"as_user_id": bob, "user_id": alice})
        assert (await call(c, "list_friend_ids", {"as_user_id": alice}))["data"] == [bob]
        assert (await call(c, "list_friend_ids", {"as_user_id": bob}))["data"] == [alice]
        details = await call(c, "get_friend_details", {"as_user_id": alice, "user_ids": [bob]})
        assert details["data"][0]["alias"] == "B" and details["data"][0]["relation"] == 0
        inbox = await call(c, "list_friend_requests", {"as_user_id": bob})
        assert inbox["data"][0]["status"] == 1
        err = await call_error(c, "accept_friend_request", {"as_user_id": bob, "user_id": alice})
        assert err["code"] == 10007
        err = await call_error(c, "send_friend_request", {"as_user_id": alice, "user_id": bob})
        assert err["code"] == 10005


@pytest.mark.anyio
async def test_auth_modes_open_question_refuse():
    store, (a, open_, quiz, closed) = people(
        "a",
        "open_user",
        "quiz",
        "closed",
        quiz={"auth_mode": 2, "auth_question": "6x7?", "auth_answer": "42"},
        closed={"auth_mode": 3},
    )
    async with sandbox_client(store) as c:
        await call(c, "send_friend_request", {"as_user_id": a, "user_id": open_})
        assert (await call(c, "list_friend_ids", {"as_user_id": open_}))["data"] == [a]
        found = await call(c, "find_user_by_id", {"user_id": quiz})
        assert found["data"]["auth_question"] == "6x7?" and found["data"]["auth_mode"] == 2
        err = await call_error(c, "send_friend_request", {"as_user_id": a, "user_id": quiz, "auth_answer": "41"})
        assert err["code"] == 10002
        await call(c, "send_friend_request", {"as_user_id": a, "user_id": quiz, "auth_answer": "42"})
        err = await call_error(c, "send_friend_request", {"as_user_id": a, "user_id": closed})
        assert err["code"] == 10012
        ids = await call(c, "list_friend_ids", {"as_user_id": a})
        assert sorted(ids["data"]) == sorted([open_, quiz])
        err = await call_error(c, "send_friend_request", {"as_user_id": a, "user_id": 1})
        assert err["code"] == 10000


@pytest.mark.anyio
async def test_decline_and_missing_request():
    store, (a, b) = people("a", "b", b={"auth_mode": 1})
    async with sandbox_client(store) as c:
        err = await call_error(c, "decline_friend_request", {"as_user_id": b, "user_id": a})
        assert err["code"] == 10007
        await call(c, "send_friend_request", {"as_user_id": a, "user_id": b})
        await call(c, "decline_friend_request", {"as_user_id": b, "user_id": a, "reason": "no"})
        inbox = await call(c, "list_friend_requests", {"as_user_id": b})
        assert inbox["data"][0]["status"] == 2
        err = await call_error(c, "accept_friend_request", {"as_user_id": b, "user_id": a})
        assert err["code"] == 10007


@pytest.mark.anyio
async def test_expired_request_cannot_be_accepted():
    from lanying_mcp.sandbox.roster import rosters

    store, (a, b) = people("a", "b", b={"auth_mode": 1})
    async with sandbox_client(store) as c:
        await call(c, "send_friend_request", {"as_user_id": a, "user_id": b})
        rosters(store).inbox[b][a].expired_time = store.now_ms() - 1
        assert (await call(c, "list_friend_requests", {"as_user_id": b}))["data"] == []
        err = await call_error(c, "accept_friend_request", {"as_user_id": b, "user_id": a})
        assert err["code"] == 10007


@pytest.mark.anyio
async def test_blacklist_stops_requests_and_messages(mode):
    store, (a, b) = people("a", "b")
    async with sandbox_client(store, mode=mode) as c:
        await call(c, "add_friends", {"as_user_id": a, "user_ids": [b]})
        assert (await call(c, "check_may_message", {"user_id": a, "roster_id": b}))["data"] is True
        await call(c, "block_user", {"as_user_id": b, "user_id": a})
        await call(c, "block_user", {"as_user_id": b, "user_id": a})  # idempotent
        assert (await call(c, "list_blocked_users", {"as_user_id": b}))["data"] == [a]
        assert (await call(c, "check_may_message", {"user_id": a, "roster_id": b}))["data"] is False
        seen = await call(c, "find_user_by_id", {"as_user_id": b, "user_id": a})
        assert seen["data"]["relation"] == 3
        await call(c, "remove_friend", {"as_user_id": a, "user_id": b})
        err = await call_error(c, "send_friend_request", {"as_user_id": a, "user_id": b})
        assert err["code"] == 10006
        res = await call(c, "send_friend_requests", {"as_user_id": a, "requests": [{"user_id": b}]})
        assert res["data"]["success"] == [] and res["data"]["fails"][0]["user_id"] == b
        await call(c, "unblock_user", {"as_user_id": b, "user_id": a})
        assert (await call(c, "list_blocked_users", {"as_user_id": b}))["data"] == []
        seen = await call(c, "find_user_by_id", {"as_user_id": b, "user_id": a})
        assert seen["data"]["relation"] == 1  # a former friend
        await call(c, "send_friend_request", {"as_user_id": a, "user_id": b})
        assert (await call(c, "list_friends", {"as_user_id": b}))["data"] == [{"user_id": a, "name": "a"}]


@pytest.mark.anyio
async def test_batch_requests_mixed_outcomes():
    store, (a, b, c_, d) = people("a", "b", "c", "d", c={"auth_mode": 1}, d={"auth_mode": 3})
    async with sandbox_client(store) as c:
        reqs = [{"user_id": b, "alias": "bee"}, {"user_id": c_, "reason": "hello"}, {"user_id": d}, {"user_id": 5}]
        res = await call(c, "send_friend_requests", {"as_user_id": a, "requests": reqs})
        assert res["data"]["success"] == [b, c_]
        assert [f["user_id"] for f in res["data"]["fails"]] == [d, 5]
        assert (await call(c, "list_friend_ids", {"as_user_id": a}))["data"] == [b]
        inbox = await call(c, "list_friend_requests", {"as_user_id": c_})
        assert inbox["data"][0]["reason"] == "hello"


@pytest.mark.anyio
async def test_update_friend_and_errors():
    store, (a, b, x) = people("a", "b", "x")
    async with sandbox_client(store) as c:
        await call(c, "add_friends", {"as_user_id": a, "user_ids": [b]})
        await call(c, "update_friend", {"as_user_id": a, "user_id": b, "alias": "Bee", "mute_notification": True})
        await call(c, "update_friend", {"as_user_id": a, "user_id": b, "ext": '{"k":1}'})
        item = (await call(c, "get_friend_details", {"as_user_id": a, "user_ids": [b]}))["data"][0]
        assert (item["alias"], item["ext"], item["mute_notification"]) == ("Bee", '{"k":1}', True)
        err = await call_error(c, "update_friend", {"as_user_id": a, "user_id": x, "alias": "n"})
        assert err["code"] == 10002
        err = await call_error(c, "block_user", {"as_user_id": a, "user_id": a})
        assert err["code"] == 10002
        err = await call_error(c, "remove_friend", {"as_user_id": a, "user_id": 3})
        assert err["code"] == 10000


@pytest.mark.anyio
async def test_lookups_and_actor_required():
    store, (a, b) = people("alice", "bob")
    store.users[b].mobile = "13800000000"
    store.users[b].nick_name = "Bobby"
    async with sandbox_client(store) as c:
        found = await call(c, "find_user_by_mobile", {"mobile": "13800000000"})
        assert found["data"]["user_id"] == b and "relation" not in found["data"]
        found = await call(c, "find_user_by_name", {"as_user_id": a, "username": "bob"})
        assert found["data"]["nick_name"] == "Bobby" and found["data"]["relation"] == 2
        err = await call_error(c, "find_user_by_name", {"username": "nobody"})
        assert err["code"] == 10000
        err = await call_error(c, "find_user_by_mobile", {"mobile": "13700000000"})
        assert err["code"] == 10000
        # The schema requires an actor; a call without one is refused before it reaches the API.
        err = await call_error(c, "list_friend_ids", {})
        assert "as_user_id" in err["message"]


@pytest.mark.anyio
async def test_friend_id_paging():
    store, ids = people("owner", *[f"f{i}" for i in range(5)])
    owner, friends = ids[0], ids[1:]
    async with sandbox_client(store) as c:
        await call(c, "add_friends", {"as_user_id": owner, "user_ids": friends})
        got, cursor = [], None
        while True:
            args = {"as_user_id": owner, "limit": 2} | ({"cursor": cursor} if cursor else {})
            res = await call(c, "list_friend_ids", args)
            got += res["data"]
            assert res["version"] >= 1
            cursor = res.get("cursor")
            if not cursor:
                break
        assert got == friends
