"""Core group scenarios against the sandbox: info, settings, admins, ownership, leaving, per-member modes."""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
import pytest

from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.sandbox.groups import groups
from tests.helpers import call, call_error, sandbox_client


@dataclass
class Cast:
    """One group with a user in every role, plus someone outside it."""

    store: Store
    owner: int
    admin: int
    member: int
    other: int  # a second ordinary member
    outsider: int
    group: int = 0


def cast() -> Cast:
    store = Store()
    ids = [store.add_user(name, "pw").user_id for name in ("owner", "admin", "member", "other", "outsider")]
    return Cast(store, *ids)


async def setup(client, c: Cast) -> Cast:
    created = await call(
        client,
        "create_group",
        {"as_user_id": c.owner, "name": "team", "user_ids": [c.admin, c.member, c.other]},
    )
    c.group = created["data"]["group_id"]
    await call(client, "add_group_admins", {"as_user_id": c.owner, "group_id": c.group, "user_ids": [c.admin]})
    return c


def raw_client(store: Store) -> httpx2.AsyncClient:
    """Straight HTTP to the sandbox, for values the tools' schemas would refuse before sending."""
    headers = {"app_id": SANDBOX_APP_ID, "access-token": store.admin_token}
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=build_app(store)), base_url="http://sandbox.test", headers=headers
    )


@pytest.mark.anyio
async def test_reading_groups(mode: str) -> None:
    c = cast()
    async with sandbox_client(c.store, mode=mode) as client:
        await setup(client, c)
        info = (await call(client, "get_group_info", {"group_id": c.group}))["data"]
        assert info["owner_id"] == c.owner and info["count"] == 4 and info["name"] == "team"
        mine = (await call(client, "list_user_groups", {"as_user_id": c.member}))["data"]
        assert mine == [c.group]
        assert (await call(client, "list_user_groups", {"as_user_id": c.outsider})) == {"data": []}
        brief = (await call(client, "get_groups_info", {"group_ids": [c.group, 1], "as_user_id": c.member}))["data"]
        assert [b["group_id"] for b in brief] == [c.group] and brief[0]["owner"] == c.owner
        settings = (await call(client, "get_group_settings", {"group_id": c.group, "as_user_id": c.member}))["data"]
        assert settings["member_invite"] is True and settings["msg_push_mode"] == 0
        err = await call_error(client, "get_group_settings", {"group_id": c.group, "as_user_id": c.outsider})
        assert err["code"] == 20011
        err = await call_error(client, "get_group_info", {"group_id": 12345})
        assert err["code"] == 20001


@pytest.mark.anyio
async def test_info_changes_follow_member_modify() -> None:
    c = cast()
    async with sandbox_client(c.store) as client:
        await setup(client, c)
        g = c.group
        err = await call_error(client, "set_group_name", {"group_id": g, "value": "x", "as_user_id": c.member})
        assert err["code"] == 20012
        err = await call_error(client, "set_group_name", {"group_id": g, "value": "x", "as_user_id": c.outsider})
        assert err["code"] == 20011
        await call(client, "set_group_name", {"group_id": g, "value": "by admin", "as_user_id": c.admin})
        await call(client, "set_group_description", {"group_id": g, "value": "about", "as_group_id": g})
        err = await call_error(
            client, "set_group_member_modify", {"group_id": g, "value": True, "as_user_id": c.member}
        )
        assert err["code"] == 20012
        assert await call(client, "set_group_member_modify", {"group_id": g, "value": True, "as_user_id": c.admin})
        await call(client, "set_group_avatar", {"group_id": g, "value": "https://a/b.png", "as_user_id": c.member})
        await call(client, "set_group_ext", {"group_id": g, "value": '{"k":1}', "as_user_id": c.member})
        info = (await call(client, "get_group_info", {"group_id": g}))["data"]
        assert (info["name"], info["description"], info["avatar"], info["ext"]) == (
            "by admin",
            "about",
            "https://a/b.png",
            '{"k":1}',
        )
        assert info["member_modify"] is True
        err = await call_error(client, "set_group_ext", {"group_id": 99, "value": "x"})
        assert err["code"] == 20001


@pytest.mark.anyio
async def test_settings_are_admin_only_and_take_effect() -> None:
    c = cast()
    async with sandbox_client(c.store) as client:
        await setup(client, c)
        g = c.group
        for tool in ("set_group_read_ack", "set_group_history_visible", "set_group_hide_member_info"):
            err = await call_error(client, tool, {"group_id": g, "value": True, "as_user_id": c.member})
            assert err["code"] == 20012, tool
            await call(client, tool, {"group_id": g, "value": True, "as_user_id": c.admin})
        err = await call_error(
            client, "set_group_apply_approval", {"group_id": g, "apply_approval": 0, "as_user_id": c.member}
        )
        assert err["code"] == 20012
        await call(client, "set_group_apply_approval", {"group_id": g, "apply_approval": 2, "as_user_id": c.owner})
        info = (await call(client, "get_group_settings", {"group_id": g}))["data"]
        assert info["read_ack"] and info["history_visible"] and info["hide_member_info"]
        assert info["apply_approval"] == 2

        # member_invite off: ordinary members may no longer invite, admins still may.
        await call(client, "set_group_member_invite", {"group_id": g, "value": False})
        err = await call_error(
            client, "invite_group_members", {"group_id": g, "user_ids": [c.outsider], "as_user_id": c.member}
        )
        assert err["code"] == 20012
        res = await call(
            client, "invite_group_members", {"group_id": g, "user_ids": [c.outsider], "as_user_id": c.admin}
        )
        assert res["data"][0]["result"] == "success"


@pytest.mark.anyio
async def test_admins_are_managed_by_the_owner() -> None:
    c = cast()
    async with sandbox_client(c.store) as client:
        await setup(client, c)
        g = c.group
        err = await call_error(
            client, "add_group_admins", {"group_id": g, "user_ids": [c.member], "as_user_id": c.admin}
        )
        assert err["code"] == 20013
        res = (
            await call(
                client, "add_group_admins", {"group_id": g, "user_ids": [c.member, c.outsider], "as_user_id": c.owner}
            )
        )["data"]
        assert res[0] == {"user_id": c.member, "result": "success"}
        assert res[1]["result"] == "fail" and res[1]["reason"].startswith("20002")
        admins = (await call(client, "list_group_admins", {"group_id": g, "as_user_id": c.other}))["data"]
        assert {a["user_id"] for a in admins} == {c.admin, c.member}
        err = await call_error(
            client, "remove_group_admins", {"group_id": g, "user_ids": [c.member], "as_user_id": c.admin}
        )
        assert err["code"] == 20013
        res = (await call(client, "remove_group_admins", {"group_id": g, "user_ids": [c.member, c.other]}))["data"]
        assert [r["result"] for r in res] == ["success", "fail"]
        admins = (await call(client, "list_group_admins", {"group_id": g}))["data"]
        assert [a["user_id"] for a in admins] == [c.admin]


@pytest.mark.anyio
async def test_transfer_and_leave() -> None:
    c = cast()
    async with sandbox_client(c.store) as client:
        await setup(client, c)
        g = c.group
        err = await call_error(client, "leave_group", {"group_id": g, "as_user_id": c.owner})
        assert err["code"] == 20004
        err = await call_error(
            client, "transfer_group_owner", {"group_id": g, "new_owner": c.admin, "as_user_id": c.admin}
        )
        assert err["code"] == 20013
        err = await call_error(
            client, "transfer_group_owner", {"group_id": g, "new_owner": c.outsider, "as_user_id": c.owner}
        )
        assert err["code"] == 20005
        res = await call(client, "transfer_group_owner", {"group_id": g, "new_owner": c.admin, "as_user_id": c.owner})
        assert res["data"] == {"user_id": c.admin, "result": "success"}
        info = (await call(client, "get_group_info", {"group_id": g}))["data"]
        assert info["owner_id"] == c.admin
        # The old owner is an ordinary member now: no more owner rights, and free to leave.
        err = await call_error(
            client, "add_group_admins", {"group_id": g, "user_ids": [c.member], "as_user_id": c.owner}
        )
        assert err["code"] == 20013
        assert (await call(client, "leave_group", {"group_id": g, "as_user_id": c.owner}))["data"] is True
        err = await call_error(client, "leave_group", {"group_id": g, "as_user_id": c.owner})
        assert err["code"] == 20002
        err = await call_error(client, "leave_group", {"group_id": g, "as_user_id": c.admin})
        assert err["code"] == 20004
        assert (await call(client, "list_user_groups", {"as_user_id": c.owner}))["data"] == []


@pytest.mark.anyio
async def test_kick_respects_rank(mode: str) -> None:
    c = cast()
    async with sandbox_client(c.store, mode=mode) as client:
        await setup(client, c)
        g = c.group
        err = await call_error(
            client, "kick_group_members", {"group_id": g, "user_ids": [c.other], "as_user_id": c.member}
        )
        assert err["code"] == 20012
        await call(client, "add_group_admins", {"group_id": g, "user_ids": [c.other]})
        err = await call_error(
            client, "kick_group_members", {"group_id": g, "user_ids": [c.other], "as_user_id": c.admin}
        )
        assert err["code"] == 20013
        err = await call_error(
            client, "kick_group_members", {"group_id": g, "user_ids": [c.owner], "as_user_id": c.admin}
        )
        assert err["code"] == 20013
        err = await call_error(client, "kick_group_members", {"group_id": g, "user_ids": [c.owner]})
        assert err["code"] == 20004
        res = (
            await call(
                client, "kick_group_members", {"group_id": g, "user_ids": [c.member, c.outsider], "as_user_id": c.admin}
            )
        )["data"]
        assert res[0] == {"user_id": c.member, "result": "success"}
        assert res[1]["result"] == "fail" and res[1]["reason"].startswith("20002")
        # The owner may kick an admin; the acting group admin (group_id header) may kick members.
        res = (await call(client, "kick_group_members", {"group_id": g, "user_ids": [c.other], "as_user_id": c.owner}))[
            "data"
        ]
        assert res == [{"user_id": c.other, "result": "success"}]
        group = groups(c.store).groups[g]
        assert group.kicked == {c.member: 1, c.other: 1} and c.other not in group.admins
        info = (await call(client, "get_group_info", {"group_id": g}))["data"]
        assert info["count"] == 2


@pytest.mark.anyio
async def test_display_names_and_hidden_member_info() -> None:
    c = cast()
    async with sandbox_client(c.store) as client:
        await setup(client, c)
        g = c.group
        await call(client, "set_group_display_name", {"group_id": g, "value": "Mem", "as_user_id": c.member})
        await call(client, "set_group_display_name", {"group_id": g, "value": "Oth", "as_user_id": c.other})
        err = await call_error(
            client, "set_group_display_name", {"group_id": g, "value": "x", "as_user_id": c.outsider}
        )
        assert err["code"] == 20002
        args = {"group_id": g, "user_ids": [c.member, c.other, c.outsider]}
        names = (await call(client, "get_group_display_names", {**args, "as_user_id": c.member}))["data"]
        assert [(n["user_id"], n.get("display_name")) for n in names] == [(c.member, "Mem"), (c.other, "Oth")]

        await call(client, "set_group_hide_member_info", {"group_id": g, "value": True, "as_user_id": c.admin})
        names = (await call(client, "get_group_display_names", {**args, "as_user_id": c.member}))["data"]
        assert [n.get("display_name") for n in names] == ["Mem", ""]  # only their own
        listed = (await call(client, "list_group_members", {"group_id": g, "as_user_id": c.other}))["data"]
        assert {m["user_id"]: m.get("display_name") for m in listed}[c.member] == ""
        names = (await call(client, "get_group_display_names", {**args, "as_user_id": c.admin}))["data"]
        assert [n.get("display_name") for n in names] == ["Mem", "Oth"]


@pytest.mark.anyio
async def test_per_member_modes_and_raw_errors() -> None:
    c = cast()
    async with sandbox_client(c.store) as client:
        await setup(client, c)
        g = c.group
        await call(client, "set_group_msg_mute_mode", {"group_id": g, "msg_mute_mode": 1, "as_user_id": c.member})
        await call(client, "set_group_msg_push_mode", {"group_id": g, "msg_push_mode": 3, "as_user_id": c.member})
        info = (await call(client, "get_group_info", {"group_id": g, "as_user_id": c.member}))["data"]
        assert (info["msg_mute_mode"], info["msg_push_mode"]) == (1, 3)
        brief = (await call(client, "get_groups_info", {"group_ids": [g], "as_user_id": c.other}))["data"][0]
        assert (brief["msg_mute_mode"], brief["msg_push_mode"]) == (0, 0)
        err = await call_error(
            client, "set_group_msg_push_mode", {"group_id": g, "msg_push_mode": 1, "as_user_id": c.outsider}
        )
        assert err["code"] == 20002

    async with raw_client(c.store) as http:
        bad = await http.post(
            "/group/msg/push_mode", json={"group_id": g, "msg_push_mode": 7}, headers={"user_id": str(c.member)}
        )
        assert bad.json()["code"] == 20003
        # DELETE variants carry a JSON body, as the Swagger documents.
        kicked = await http.request("DELETE", "/group/kick", json={"group_id": g, "user_list": [c.other]})
        assert kicked.json()["data"] == [{"user_id": c.other, "result": "success", "reason": None}]
        left = await http.delete("/group/leave", params={"group_id": g}, headers={"user_id": str(c.member)})
        assert left.json()["data"] is True


@pytest.mark.anyio
async def test_public_groups_are_the_chatrooms() -> None:
    c = cast()
    async with sandbox_client(c.store) as client:
        await setup(client, c)
        room = (await call(client, "create_group", {"as_user_id": c.owner, "name": "room", "type": 2}))["data"]
        assert (await call(client, "list_public_groups"))["data"] == [room["group_id"]]
