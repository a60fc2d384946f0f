"""Finding by name and the three diagnostics, against the sandbox: each cause, present and absent."""

import pytest

from lanying_mcp.sandbox import Store
from lanying_mcp.sandbox import groups as sandbox_groups
from lanying_mcp.sandbox.devices import record_login
from tests.helpers import call, call_error, sandbox_client


def users(store: Store, *names: str, **nicks: str) -> list[int]:
    ids = []
    for name in names:
        user = store.add_user(name, "pw")
        user.nick_name = nicks.get(name, "")
        ids.append(user.user_id)
    return ids


def blocking(result: dict) -> dict[str, object]:
    """fact → value, for the facts that block."""
    return {f["fact"]: f["value"] for f in result["facts"] if f.get("blocks")}


def fact(result: dict, start: str) -> dict:
    (hit,) = [f for f in result["facts"] if f["fact"].startswith(start)]
    return hit


# --- find_by_name -------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_find_users_by_username_nickname_and_mobile(mode):
    store = Store()
    alice, bob, carol = users(store, "alice", "bob", "carol", alice="Ali", bob="Alice")
    store.users[carol].mobile = "13800000000"
    async with sandbox_client(store, mode=mode) as c:
        got = (await call(c, "find_by_name", {"text": "alice"}))["data"]
        assert got["outcome"] == "several"  # username alice and nickname Alice: never pick one
        assert [(m["user_id"], m["matched"]) for m in got["matches"]] == [(alice, ["username"]), (bob, ["nickname"])]
        got = (await call(c, "find_by_name", {"text": "13800000000"}))["data"]
        assert got["outcome"] == "one" and got["matches"][0]["user_id"] == carol
        assert got["matches"][0]["matched"] == ["mobile"] and got["matches"][0]["username"] == "carol"
        got = (await call(c, "find_by_name", {"text": "ali"}))["data"]
        assert got["outcome"] == "several"  # a nickname is never the one; bob's "Alice" matches partly
        assert got["matches"][0]["user_id"] == alice and got["matches"][0]["matched"] == ["nickname", "~username"]
        got = (await call(c, "find_by_name", {"text": "lic"}))["data"]
        assert got["outcome"] == "several"
        assert sorted(m["matched"] for m in got["matches"]) == [["~nickname"], ["~username"]]
        got = (await call(c, "find_by_name", {"text": "nobody"}))["data"]
        assert got["outcome"] == "none" and got["matches"] == [] and got["complete"] is True
        got = (await call(c, "find_by_name", {"text": "Alice", "max_scan": 0}))["data"]
        assert got["outcome"] == "none"  # exact username lookup only; nicknames not scanned


@pytest.mark.anyio
async def test_find_states_its_scan_bound():
    store = Store()
    users(store, *[f"user_{i}" for i in range(5)], **{f"user_{i}": "Sam" for i in range(5)})
    async with sandbox_client(store) as c:
        got = (await call(c, "find_by_name", {"text": "Sam", "max_scan": 3}))["data"]
        assert got["complete"] is False and got["scanned"] == 3
        assert got["outcome"] == "several" and len(got["matches"]) == 3
        assert "max_scan" in got["summary"]
        got = (await call(c, "find_by_name", {"text": "Sam", "max_scan": 10}))["data"]
        assert got["complete"] is True and got["scanned"] == 5 and len(got["matches"]) == 5


@pytest.mark.anyio
async def test_find_groups_among_a_members_groups(mode):
    store = Store()
    (owner,) = users(store, "owner")
    async with sandbox_client(store, mode=mode) as c:
        ops = (await call(c, "create_group", {"as_user_id": owner, "name": "Ops"}))["data"]["group_id"]
        war = (await call(c, "create_group", {"as_user_id": owner, "name": "Ops War Room"}))["data"]["group_id"]
        got = (await call(c, "find_by_name", {"text": "ops", "kind": "group", "member_id": owner}))["data"]
        assert got["outcome"] == "several"  # a group name is no identity: the partial match stays beside it
        assert got["matches"][0] == {"group_id": ops, "name": "Ops", "matched": ["name"]}
        assert got["matches"][1] == {"group_id": war, "name": "Ops War Room", "matched": ["~name"]}
        got = (await call(c, "find_by_name", {"text": "war", "kind": "group", "member_id": owner}))["data"]
        assert got["outcome"] == "unconfirmed" and got["matches"][0]["group_id"] == war
        got = (await call(c, "find_by_name", {"text": "ops war room", "kind": "group", "member_id": owner}))["data"]
        assert got["outcome"] == "one" and [m["group_id"] for m in got["matches"]] == [war]
        err = await call_error(c, "find_by_name", {"text": "ops", "kind": "group"})
        assert "member_id" in err["message"]


# --- check_push_delivery ------------------------------------------------------------------------
@pytest.mark.anyio
async def test_push_diagnosis_devices_push_off_and_quiet_hours(mode):
    store = Store()
    (u,) = users(store, "pushee")
    async with sandbox_client(store, mode=mode) as c:
        out = await call(c, "check_push_delivery", {"user_id": u})
        got = out["data"]
        assert got["ok"] is False and f"user {u} " in got["verdict"] and out["users"][str(u)]["username"] == "pushee"
        assert list(blocking(got)) == ["devices logged in (platforms)"] and "log in" in got["next_step"]
        record_login(store, u, "phone-1", platform=2)
        got = (await call(c, "check_push_delivery", {"user_id": u}))["data"]
        assert got["ok"] is True and blocking(got) == {}
        assert fact(got, "devices")["value"] == [2] and fact(got, "devices")["tool"] == "list_user_devices"
        assert fact(got, "quiet hours")["value"] == "0-0 (off)"
        assert "tool" not in fact(got, "vendor")  # the API offers no read: said, not guessed
        await call(c, "set_user_push_disabled", {"as_user_id": u, "disabled": True})
        got = (await call(c, "check_push_delivery", {"user_id": u}))["data"]
        assert got["ok"] is False and list(blocking(got)) == ["push turned off (no_push)"]
        assert "set_user_push_disabled" in got["next_step"]
        await call(c, "set_user_push_disabled", {"as_user_id": u, "disabled": False})
        await call(c, "set_user_quiet_hours", {"as_user_id": u, "no_push_start_hour": 22, "no_push_end_hour": 7})
        got = (await call(c, "check_push_delivery", {"user_id": u}))["data"]
        assert got["ok"] is True and fact(got, "quiet hours")["value"] == "22-7"
        assert "22:00-7:00" in got["next_step"]


@pytest.mark.anyio
async def test_push_diagnosis_in_chinese_and_for_unknown_user():
    store = Store()
    (u,) = users(store, "pushee")
    async with sandbox_client(store, lang="zh") as c:
        got = (await call(c, "check_push_delivery", {"user_id": u}))["data"]
        assert "收不到推送" in got["verdict"] and "登录" in got["next_step"]
        err = await call_error(c, "check_push_delivery", {"user_id": 1})
        assert err["code"] == 10000


# --- check_messaging ----------------------------------------------------------------------------
@pytest.mark.anyio
async def test_messaging_diagnosis_between_users(mode):
    store = Store()
    a, b = users(store, "sender", "peer")
    store.users[b].settings["auth_mode"] = 1
    async with sandbox_client(store, mode=mode) as c:
        got = (await call(c, "check_messaging", {"from_user_id": a, "to_user_id": b}))["data"]
        assert got["ok"] is True and blocking(got) == {}
        assert fact(got, "friends")["value"] is False and "needs approval" in got["next_step"]
        assert fact(got, "disabled app-wide")["value"] is False
        await call(c, "block_user", {"as_user_id": b, "user_id": a})
        got = (await call(c, "check_messaging", {"from_user_id": a, "to_user_id": b}))["data"]
        assert got["ok"] is False and "recipient blocked the sender" in blocking(got)
        assert "sender blocked the recipient" not in blocking(got)
        assert f"unblock_user as_user_id={b} user_id={a}" in got["next_step"]
        await call(c, "unblock_user", {"as_user_id": b, "user_id": a})
        await call(c, "disable_users", {"user_ids": [a]})
        got = (await call(c, "check_messaging", {"from_user_id": a, "to_user_id": b}))["data"]
        assert list(blocking(got)) == ["disabled app-wide"] and "enable_users" in got["next_step"]
        err = await call_error(c, "check_messaging", {"from_user_id": a, "to_user_id": b, "to_group_id": 1})
        assert "exactly one" in err["message"]


@pytest.mark.anyio
async def test_messaging_diagnosis_to_a_group(mode):
    store = Store()
    owner, a, outsider = users(store, "owner", "member", "outsider")
    async with sandbox_client(store, mode=mode) as c:
        g = (await call(c, "create_group", {"as_user_id": owner, "name": "Ops", "user_ids": [a]}))["data"]["group_id"]
        got = (await call(c, "check_messaging", {"from_user_id": a, "to_group_id": g}))["data"]
        assert got["ok"] is True and f"group {g}" in got["verdict"]
        assert fact(got, "sender's blocking")["value"] == 0
        await call(c, "mute_group_members", {"group_id": g, "user_ids": [a], "duration": 10})
        got = (await call(c, "check_messaging", {"from_user_id": a, "to_group_id": g}))["data"]
        assert list(blocking(got)) == ["sender muted in the group (until, ms)"]
        assert blocking(got)["sender muted in the group (until, ms)"] > store.now_ms()
        await call(c, "unmute_group_members", {"group_id": g, "user_ids": [a]})
        await call(c, "mute_group", {"group_id": g, "duration": 10})
        got = (await call(c, "check_messaging", {"from_user_id": a, "to_group_id": g}))["data"]
        assert got["ok"] is False and "unmute_group" in got["next_step"]
        got = (await call(c, "check_messaging", {"from_user_id": owner, "to_group_id": g}))["data"]
        assert got["ok"] is True  # the owner is exempt from a mute-all
        got = (await call(c, "check_messaging", {"from_user_id": outsider, "to_group_id": g}))["data"]
        assert list(blocking(got)) == ["sender is a member"] and "invite_group_members" in got["next_step"]


# --- check_group_join ---------------------------------------------------------------------------
@pytest.mark.anyio
async def test_join_diagnosis_member_blacklist_capacity(mode, monkeypatch):
    store = Store()
    owner, u, v = users(store, "owner", "joiner", "other")
    async with sandbox_client(store, mode=mode) as c:
        g = (await call(c, "create_group", {"as_user_id": owner, "name": "Ops", "user_ids": [v]}))["data"]["group_id"]
        await call(c, "set_group_apply_approval", {"group_id": g, "apply_approval": 0})
        got = (await call(c, "check_group_join", {"user_id": u, "group_id": g}))["data"]
        assert got["ok"] is True and "apply_to_join_group joins at once" in got["verdict"]
        assert "tool" not in fact(got, "times kicked")
        got = (await call(c, "check_group_join", {"user_id": v, "group_id": g}))["data"]
        assert list(blocking(got)) == ["already a member"]
        await call(c, "block_group_members", {"group_id": g, "user_ids": [u]})
        got = (await call(c, "check_group_join", {"user_id": u, "group_id": g}))["data"]
        assert list(blocking(got)) == ["on the group blacklist"] and "unblock_group_members" in got["next_step"]
        await call(c, "unblock_group_members", {"group_id": g, "user_ids": [u]})
        sandbox_groups.find_group(store, g).capacity = 2  # type: ignore[union-attr]
        got = (await call(c, "check_group_join", {"user_id": u, "group_id": g}))["data"]
        assert blocking(got) == {"members / capacity": "2/2"}


@pytest.mark.anyio
async def test_join_diagnosis_approval_invitations_and_pending(mode):
    store = Store()
    owner, u = users(store, "owner", "joiner")
    store.users[u].settings["group_confirm"] = True
    async with sandbox_client(store, mode=mode) as c:
        g = (await call(c, "create_group", {"as_user_id": owner, "name": "Ops"}))["data"]["group_id"]
        await call(c, "set_group_apply_approval", {"group_id": g, "apply_approval": 2})
        got = (await call(c, "check_group_join", {"user_id": u, "group_id": g}))["data"]
        assert got["ok"] is True and "only an invitation" in got["verdict"] and "consent" in got["verdict"]
        assert fact(got, "invitations need")["value"] is True
        await call(c, "set_group_apply_approval", {"group_id": g, "apply_approval": 1})
        await call(c, "apply_to_join_group", {"as_user_id": u, "group_id": g})
        got = (await call(c, "check_group_join", {"user_id": u, "group_id": g}))["data"]
        assert fact(got, "pending application")["value"] is True
        assert "handle_group_application" in got["next_step"]
        await call(c, "invite_group_members", {"group_id": g, "user_ids": [u]})
        got = (await call(c, "check_group_join", {"user_id": u, "group_id": g}))["data"]
        assert fact(got, "pending invitation")["value"] is True
        assert "handle_group_invitation" in got["next_step"]
