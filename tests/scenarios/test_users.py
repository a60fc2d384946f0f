"""Users area against the sandbox: registration, profiles, settings, bans, deletion, and their errors."""

import pytest

from lanying_mcp.sandbox import Store
from lanying_mcp.sandbox.devices import DeviceBook, profile, record_login
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.sandbox.roster import rosters
from tests.helpers import call, call_error, sandbox_client

pytestmark = pytest.mark.anyio


async def register(client, *names):
    out = await call(client, "register_users", {"users": [{"username": n, "password": "pw_" + n} for n in names]})
    assert all(r["success"] for r in out["data"]), out
    return [r["user_id"] for r in out["data"]]


async def test_batch_registration_reports_each_user(mode):
    async with sandbox_client(mode=mode) as client:
        await register(client, "taken")
        out = await call(
            client,
            "register_users",
            {"users": [{"username": "fresh", "password": "a"}, {"username": "taken", "password": "b"}]},
        )
        fresh, taken = out["data"]
        assert fresh["success"] and fresh["username"] == "fresh" and fresh["user_id"]
        assert not taken["success"] and taken["reason"].startswith("10004")
        listed = await call(client, "list_users", {})
        assert {u["username"] for u in listed["data"]} == {"taken", "fresh"}
        assert all(u["status"] == 0 for u in listed["data"])


async def test_list_users_pages_by_number():
    async with sandbox_client() as client:
        ids = await register(client, *(f"user_{i}" for i in range(5)))
        first = await call(client, "list_users", {"page_num": 1, "page_size": 2})
        third = await call(client, "list_users", {"page_num": 3, "page_size": 2})
        beyond = await call(client, "list_users", {"page_num": 4, "page_size": 2})
        assert [u["user_id"] for u in first["data"]] == sorted(ids)[:2]
        assert [u["user_id"] for u in third["data"]] == sorted(ids)[4:]
        assert beyond["data"] == []


async def test_push_user_registration_keeps_the_push_token():
    store = Store()
    async with sandbox_client(store) as client:
        out = await call(
            client, "register_push_user", {"username": "pushy", "password": "pw", "push_token": "t1", "alias": "al"}
        )
        uid = out["data"]["user_id"]
        settings = await call(client, "get_user_settings", {"as_user_id": uid})
        assert settings["data"]["push_token"] == "t1"
        assert profile(store, uid).alias == "al"
        err = await call_error(client, "register_push_user", {"username": "pushy", "password": "pw"})
        assert err["code"] == 10004


async def test_profile_fields_round_trip():
    async with sandbox_client() as client:
        (uid,) = await register(client, "alice")
        me = {"as_user_id": uid}
        await call(client, "update_user_profile", {**me, "nick_name": "Alice", "description": "hi"})
        await call(client, "update_user_profile", {**me, "public_info": "pub"})  # partial: the rest stays
        await call(client, "set_user_avatar", {**me, "avatar": "https://cdn.test/a.png"})
        await call(client, "set_user_mobile", {**me, "mobile": "13800000000"})
        await call(client, "set_user_private_info", {**me, "info": '{"vip":true}'})
        await call(client, "set_user_public_info", {**me, "info": "just text"})
        profile = (await call(client, "get_user_profile", me))["data"]
        assert profile == {
            "user_id": uid,
            "username": "alice",
            "nick_name": "Alice",
            "avatar": "https://cdn.test/a.png",
            "description": "hi",
            "mobile": "13800000000",
            "email": "",
            "public_info": "just text",
            "private_info": '{"vip":true}',
        }
        await call(client, "set_user_nickname", {**me, "nick_name": "小蓝"})
        assert (await call(client, "get_user_profile", me))["data"]["nick_name"] == "小蓝"


async def test_batch_profile_and_avatar_edits_report_unknown_users():
    async with sandbox_client() as client:
        a, b = await register(client, "a_user", "b_user")
        out = await call(
            client,
            "update_user_profiles",
            {"changes": [{"user_id": a, "nick_name": "A"}, {"user_id": 42, "nick_name": "ghost"}]},
        )
        assert out["data"][0]["success"] and not out["data"][1]["success"]
        assert out["data"][1]["reason"].startswith("10000")
        out = await call(client, "set_user_avatars", {"avatars": [{"user_id": b, "avatar": "https://x/b.png"}]})
        assert out["data"] == [{"user_id": b, "success": True}]
        assert (await call(client, "get_user_profile", {"as_user_id": a}))["data"]["nick_name"] == "A"
        assert (await call(client, "get_user_profile", {"as_user_id": b}))["data"]["avatar"] == "https://x/b.png"


async def test_settings_update_partially_and_auth_mode():
    async with sandbox_client() as client:
        (uid,) = await register(client, "carol")
        me = {"as_user_id": uid}
        await call(client, "update_user_settings", {**me, "group_confirm": True, "no_push_start_hour": 22})
        await call(client, "set_user_auth_mode", {**me, "value": 3})
        data = (await call(client, "get_user_settings", me))["data"]
        assert data["group_confirm"] is True and data["no_push_start_hour"] == 22 and data["auth_mode"] == 3
        assert data["no_sounds"] is False  # untouched


async def test_group_confirm_setting_changes_invitations():
    async with sandbox_client() as client:
        owner, guest = await register(client, "owner_1", "guest_1")
        await call(client, "update_user_settings", {"as_user_id": guest, "group_confirm": True})
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "g"}))["data"]["group_id"]
        await call(client, "invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": [guest]})
        members = await call(client, "list_group_members", {"group_id": gid})
        assert [m["user_id"] for m in members["data"]] == [owner]  # waits for the guest's consent


async def test_set_username_keeps_names_unique():
    async with sandbox_client() as client:
        a, _ = await register(client, "first", "second")
        err = await call_error(client, "set_username", {"as_user_id": a, "username": "second"})
        assert err["code"] == 10004
        await call(client, "set_username", {"as_user_id": a, "username": "first"})  # own name: no change
        await call(client, "set_username", {"as_user_id": a, "username": "renamed"})
        names = {u["username"] for u in (await call(client, "list_users", {}))["data"]}
        assert names == {"renamed", "second"}
        await register(client, "first")  # the old name is free again


async def test_passwords_change_with_proof_or_by_admin():
    store = Store()
    async with sandbox_client(store) as client:
        (uid,) = await register(client, "dave")
        me = {"as_user_id": uid}
        err = await call_error(client, "change_user_password", {**me, "old_password": "wrong", "new_password": "x"})
        assert err["code"] == 10002
        await call(client, "change_user_password", {**me, "old_password": "pw_dave", "new_password": "n1"})
        assert store.users[uid].password == "n1"
        await call(client, "reset_user_password", {**me, "password": "n2"})
        assert store.users[uid].password == "n2"


async def test_user_token_cannot_do_admin_work():
    store = Store()
    async with sandbox_client(store) as admin:
        (uid,) = await register(admin, "erin")
    token = store.issue_user_token(uid)
    async with sandbox_client(store, access_token=token) as user:
        for tool, args in [
            ("list_users", {}),
            ("register_users", {"users": [{"username": "x1", "password": "p"}]}),
            ("disable_users", {"user_ids": [uid]}),
            ("reset_user_password", {"as_user_id": uid, "password": "p"}),
        ]:
            assert (await call_error(user, tool, args))["code"] == 10010, tool
        # A user token acts as its owner: own profile works, someone else's settings do not.
        await call(user, "update_user_profile", {"as_user_id": uid, "nick_name": "me"})
    other = store.add_user("frank", "pw").user_id
    async with sandbox_client(store, access_token=token) as user:
        err = await call_error(user, "update_user_settings", {"as_user_id": other, "no_sounds": True})
        assert err["code"] == 10010


async def test_user_deletes_self_with_password():
    store = Store()
    async with sandbox_client(store) as admin:
        (uid,) = await register(admin, "gina")
    token = store.issue_user_token(uid)
    async with sandbox_client(store, access_token=token) as user:
        assert (await call_error(user, "delete_user", {"as_user_id": uid}))["code"] == 10002
        assert (await call_error(user, "delete_user", {"as_user_id": uid, "password": "no"}))["code"] == 10002
        await call(user, "delete_user", {"as_user_id": uid, "password": "pw_gina"})
    assert uid not in store.users and "gina" not in store.by_username and token not in store.user_tokens


async def test_delete_user_cleans_groups_and_friends(mode):
    store = Store()
    async with sandbox_client(store, mode=mode) as client:
        doomed, friend, owner = await register(client, "doomed", "friendly", "owner_2")
        await call(client, "add_friends", {"as_user_id": friend, "user_ids": [doomed]})
        kept = (await call(client, "create_group", {"as_user_id": owner, "name": "kept", "user_ids": [doomed]}))[
            "data"
        ]["group_id"]
        owned = (await call(client, "create_group", {"as_user_id": doomed, "name": "gone", "user_ids": [owner]}))[
            "data"
        ]["group_id"]
        await call(client, "delete_user", {"as_user_id": doomed})
        assert (await call_error(client, "get_user_profile", {"as_user_id": doomed}))["code"] == 10000
        assert (await call_error(client, "delete_user", {"as_user_id": doomed}))["code"] == 10000
        friends = await call(client, "list_friends", {"as_user_id": friend})
        assert friends["data"] == []
        members = await call(client, "list_group_members", {"group_id": kept})
        assert [m["user_id"] for m in members["data"]] == [owner]
        assert owned not in groups(store).groups  # groups the user owned are destroyed with them
        assert doomed not in rosters(store).friends
        await register(client, "doomed")  # the username is free again


async def test_disabled_users_cannot_send_until_enabled():
    store = Store()
    async with sandbox_client(store) as client:
        sender, target = await register(client, "loud", "quiet")
        token = store.issue_user_token(sender)
        await call(client, "disable_users", {"user_ids": [sender]})
        assert token not in store.user_tokens  # the ban ends existing sessions
        statuses = {u["user_id"]: u["status"] for u in (await call(client, "list_users", {}))["data"]}
        assert statuses == {sender: 1, target: 0}
        msg = {"user_ids": [target], "content": "hi", "from_user_id": sender}
        assert (await call_error(client, "send_message", msg))["code"] == 10010
        await call(client, "enable_users", {"user_ids": [sender]})
        await call(client, "send_message", msg)
        err = await call_error(client, "disable_users", {"user_ids": [sender, 123]})
        assert err["code"] == 10000
        assert store.users[sender].status == 0  # nothing changed when one ID was unknown


async def test_online_status_follows_presence_and_bans():
    store = Store()
    async with sandbox_client(store) as client:
        (uid,) = await register(client, "henry")
        me = {"as_user_id": uid}
        assert (await call(client, "get_user_online_status", me))["data"] == {"online": False}
        record_login(store, uid, "phone-1")
        assert (await call(client, "get_user_online_status", me))["data"] == {"online": True}
        await call(client, "disable_users", {"user_ids": [uid]})
        assert (await call(client, "get_user_online_status", me))["data"] == {"online": False}
        await call(client, "delete_user", me)
        assert uid not in store.part(DeviceBook).profiles


async def test_unknown_user_and_missing_actor():
    async with sandbox_client() as client:
        assert (await call_error(client, "get_user_profile", {"as_user_id": 999}))["code"] == 10000
        assert (await call_error(client, "reset_user_password", {"as_user_id": 999, "password": "p"}))["code"] == 10000
        assert (await call_error(client, "enable_users", {"user_ids": [999]}))["code"] == 10000
