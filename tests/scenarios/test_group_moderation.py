"""Group moderation against the sandbox: who may mute, block and admit whom, and what each refusal says."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.sandbox.group_moderation import sign_qr_info
from lanying_mcp.sandbox.groups import Group, groups
from tests.helpers import call, call_error, sandbox_client


class World:
    """A group with an owner, an admin and two members, plus two outsiders."""

    def __init__(self) -> None:
        self.store = Store()
        add = self.store.add_user
        self.owner, self.admin, self.m1, self.m2, self.out1, self.out2 = (
            add(name, "pw").user_id for name in ("owner", "admin", "m1", "m2", "out1", "out2")
        )

    async def make_group(self, client: Any) -> Group:
        info = await call(
            client,
            "create_group",
            {"as_user_id": self.owner, "name": "g", "user_ids": [self.admin, self.m1, self.m2]},
        )
        g = groups(self.store).groups[info["data"]["group_id"]]
        g.admins.add(self.admin)
        return g


def results(out: dict[str, Any]) -> dict[int, str]:
    return {r["user_id"]: r["result"] for r in out["data"]}


async def send(client: Any, sender: int, gid: int) -> dict[str, Any]:
    return await client.call_tool("send_message", {"from_user_id": sender, "group_ids": [gid], "content": "hi"})


@pytest.mark.anyio
async def test_mute_members_and_whole_group(mode: str) -> None:
    w = World()
    async with sandbox_client(w.store, mode=mode) as client:
        g = await w.make_group(client)
        gid = g.group_id
        args = {"group_id": gid, "duration": 10}
        # a plain member may not mute
        err = await call_error(client, "mute_group_members", {**args, "as_user_id": w.m1, "user_ids": [w.m2]})
        assert err["code"] == 20012
        # an admin mutes a member, but not the owner nor another admin
        out = await call(
            client, "mute_group_members", {**args, "as_user_id": w.admin, "user_ids": [w.m1, w.owner, w.out1]}
        )
        assert results(out) == {w.m1: "success", w.owner: "fail", w.out1: "fail"}
        out = await call(client, "mute_group_members", {**args, "as_group_id": gid, "user_ids": [w.admin]})
        assert results(out) == {w.admin: "fail"}
        # the owner may mute an admin
        out = await call(client, "mute_group_members", {**args, "as_user_id": w.owner, "user_ids": [w.admin]})
        assert results(out) == {w.admin: "success"}

        muted = await call(client, "list_muted_group_members", {"as_user_id": w.m2, "group_id": gid})
        assert {m["user_id"] for m in muted["data"]} == {w.m1, w.admin}
        assert muted["total"] == 2 and all(m["expired_time"] > 0 for m in muted["data"])

        assert (await send(client, w.m1, gid)).is_error
        assert not (await send(client, w.m2, gid)).is_error
        await call(client, "unmute_group_members", {"group_id": gid, "user_ids": [w.m1, w.admin]})
        assert not (await send(client, w.m1, gid)).is_error

        # mute-all: members are silent, admins may speak
        err = await call_error(client, "mute_group", {**args, "as_user_id": w.m2})
        assert err["code"] == 20012
        out = await call(client, "mute_group", {**args, "as_user_id": w.admin})
        assert out["data"]["ban_expire_time"] == g.ban_all_until > 0
        assert (await send(client, w.m2, gid)).is_error
        assert not (await send(client, w.admin, gid)).is_error
        await call(client, "unmute_group", {"group_id": gid, "as_user_id": w.owner})
        assert not (await send(client, w.m2, gid)).is_error


@pytest.mark.anyio
async def test_blacklist_removes_and_keeps_out() -> None:
    w = World()
    async with sandbox_client(w.store) as client:
        g = await w.make_group(client)
        gid = g.group_id
        err = await call_error(client, "block_group_members", {"as_user_id": w.m1, "group_id": gid, "user_ids": [w.m2]})
        assert err["code"] == 20012
        out = await call(
            client, "block_group_members", {"as_user_id": w.admin, "group_id": gid, "user_ids": [w.m2, w.owner, w.out1]}
        )
        assert results(out) == {w.m2: "success", w.owner: "fail", w.out1: "success"}
        assert w.m2 not in g.members and w.owner in g.members

        listed = await call(client, "list_group_blocked_users", {"group_id": gid, "limit": 1})
        assert listed["total"] == 2 and len(listed["data"]) == 1 and listed["cursor"]
        nxt = await call(client, "list_group_blocked_users", {"group_id": gid, "cursor": listed["cursor"]})
        assert {listed["data"][0]["user_id"], nxt["data"][0]["user_id"]} == {w.m2, w.out1}
        assert not nxt.get("cursor")

        err = await call_error(client, "apply_to_join_group", {"as_user_id": w.m2, "group_id": gid})
        assert err["code"] == 20018
        invited = await call(client, "invite_group_members", {"group_id": gid, "user_ids": [w.m2]})
        assert invited["data"][0]["result"] == "fail"

        out = await call(client, "unblock_group_members", {"group_id": gid, "user_ids": [w.m2, w.m1]})
        assert results(out) == {w.m2: "success", w.m1: "fail"}
        g.apply_approval = 0
        joined = await call(client, "apply_to_join_group", {"as_user_id": w.m2, "group_id": gid})
        assert joined["data"]["result"] == "success" and w.m2 in g.members


@pytest.mark.anyio
async def test_applications_follow_the_group_setting() -> None:
    w = World()
    async with sandbox_client(w.store) as client:
        g = await w.make_group(client)
        gid = g.group_id
        err = await call_error(client, "apply_to_join_group", {"as_user_id": w.m1, "group_id": gid})
        assert err["code"] == 20017
        g.kicked[w.out2] = 3
        err = await call_error(client, "apply_to_join_group", {"as_user_id": w.out2, "group_id": gid})
        assert err["code"] == 20016
        err = await call_error(client, "apply_to_join_group", {"as_user_id": w.out1, "group_id": 1})
        assert err["code"] == 20001

        # 2: reject all
        g.apply_approval = 2
        err = await call_error(client, "apply_to_join_group", {"as_user_id": w.out1, "group_id": gid})
        assert err["code"] == 20012

        # 1: an admin decides
        g.apply_approval = 1
        out = await call(client, "apply_to_join_group", {"as_user_id": w.out1, "group_id": gid, "reason": "pls"})
        assert out["data"]["result"] == "success" and w.out1 not in g.members
        err = await call_error(client, "list_group_applications", {"as_user_id": w.m1, "group_ids": [gid]})
        assert err["code"] == 20012
        apps = await call(client, "list_group_applications", {"as_user_id": w.admin, "group_ids": [gid]})
        assert apps["data"] == [
            {
                "group_id": gid,
                "applicant_id": w.out1,
                "reason": "pls",
                "status": 0,
                "expired_time": apps["data"][0]["expired_time"],
            }
        ]
        handle = {"group_id": gid, "user_id": w.out1, "approval": True}
        err = await call_error(client, "handle_group_application", {**handle, "as_user_id": w.m1})
        assert err["code"] == 20012
        out = await call(client, "handle_group_application", {**handle, "as_user_id": w.admin})
        assert out["data"]["result"] == "success" and w.out1 in g.members
        err = await call_error(client, "handle_group_application", {**handle, "as_user_id": w.admin})
        assert err["code"] == 20014

        # a rejected application leaves the user outside
        g.kicked.clear()
        await call(client, "apply_to_join_group", {"as_user_id": w.out2, "group_id": gid})
        await call(client, "handle_group_application", {"group_id": gid, "user_id": w.out2, "approval": False})
        assert w.out2 not in g.members
        apps = await call(client, "list_group_applications", {"as_group_id": gid, "group_ids": [gid]})
        assert sorted(a["status"] for a in apps["data"]) == [1, 2]

        # 0: accept all
        g.apply_approval = 0
        out = await call(client, "apply_to_join_group", {"as_user_id": w.out2, "group_id": gid})
        assert w.out2 in g.members


@pytest.mark.anyio
async def test_invitations_need_the_invitee(mode: str) -> None:
    w = World()
    async with sandbox_client(w.store, mode=mode) as client:
        g = await w.make_group(client)
        gid = g.group_id
        for uid in (w.out1, w.out2):
            w.store.users[uid].settings["group_confirm"] = True
        await call(client, "invite_group_members", {"as_user_id": w.m1, "group_id": gid, "user_ids": [w.out1, w.out2]})
        assert w.out1 not in g.members

        mine = await call(client, "list_group_invitations", {"as_user_id": w.out1})
        assert [(i["group_id"], i["inviter_id"], i["status"]) for i in mine["data"]] == [(gid, w.m1, 0)]
        assert isinstance(mine["data"][0]["updated_at"], str)

        answer = {"as_user_id": w.out1, "group_id": gid, "user_id": w.m1}
        err = await call_error(client, "handle_group_invitation", {**answer, "user_id": w.m2, "approval": True})
        assert err["code"] == 20015
        assert (await call(client, "handle_group_invitation", {**answer, "approval": True}))["data"] is True
        assert w.out1 in g.members
        err = await call_error(client, "handle_group_invitation", {**answer, "approval": True})
        assert err["code"] == 20015

        await call(
            client,
            "handle_group_invitation",
            {"as_user_id": w.out2, "group_id": gid, "user_id": w.m1, "approval": False},
        )
        assert w.out2 not in g.members
        mine = await call(client, "list_group_invitations", {"as_user_id": w.out2})
        assert mine["data"][0]["status"] == 2


@pytest.mark.anyio
async def test_qrcode_join() -> None:
    w = World()
    async with sandbox_client(w.store) as client:
        g = await w.make_group(client)
        gid = g.group_id
        err = await call_error(client, "get_group_qrcode", {"as_user_id": w.out1, "group_id": gid})
        assert err["code"] == 20011
        qr = (await call(client, "get_group_qrcode", {"as_user_id": w.m1, "group_id": gid}))["data"]
        assert qr["expire_at"] > qr["create_at"]

        out = await call(client, "join_group_by_qrcode", {"as_user_id": w.out1, "qr_info": qr["qr_info"]})
        assert out["data"]["result"] == "success" and w.out1 in g.members
        err = await call_error(client, "join_group_by_qrcode", {"as_user_id": w.out1, "qr_info": qr["qr_info"]})
        assert err["code"] == 20017

        forged = sign_qr_info(Store(), gid, w.m1, qr["expire_at"])  # signed by another sandbox
        for bad in (forged, "not-a-code", qr["qr_info"][:-2]):
            err = await call_error(client, "join_group_by_qrcode", {"as_user_id": w.out2, "qr_info": bad})
            assert err["code"] == 20024, bad
        expired = sign_qr_info(w.store, gid, w.m1, w.store.now_ms() - 1)
        err = await call_error(client, "join_group_by_qrcode", {"as_user_id": w.out2, "qr_info": expired})
        assert err["code"] == 20025

        await call(client, "block_group_members", {"group_id": gid, "user_ids": [w.out2]})
        err = await call_error(client, "join_group_by_qrcode", {"as_user_id": w.out2, "qr_info": qr["qr_info"]})
        assert err["code"] == 20018


@pytest.mark.anyio
async def test_method_aliases_reach_the_same_handlers() -> None:
    """The DELETE/PUT variants the Swagger lists work too, with the body or query it documents."""
    w = World()
    async with sandbox_client(w.store) as client:
        g = await w.make_group(client)
    g.blocked[w.out1] = 1
    g.applications.append(
        {"group_id": g.group_id, "applicant_id": w.out2, "reason": "", "status": 0, "expired_time": 2**62}
    )
    headers = {"app_id": SANDBOX_APP_ID, "access-token": w.store.admin_token}
    transport = httpx2.ASGITransport(app=build_app(w.store))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as http:
        r = await http.request("DELETE", "/group/unblock", json={"group_id": g.group_id, "user_list": [w.out1]})
        assert r.json()["data"][0]["result"] == "success" and w.out1 not in g.blocked
        r = await http.put("/group/apply/handle", json={"group_id": g.group_id, "user_id": w.out2, "approval": True})
        assert r.json()["code"] == 200 and w.out2 in g.members
