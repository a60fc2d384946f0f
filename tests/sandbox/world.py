"""A small populated sandbox app for the conformance table, built through the documented API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2

from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app


@dataclass
class World:
    store: Store
    http: httpx2.AsyncClient
    owner: int = 0  # owns the group; the default actor
    admin: int = 0  # a group admin
    member: int = 0  # a member of the group, and the owner's friend
    stranger: int = 0  # in no group, no one's friend
    applicant: int = 0  # has asked to befriend the owner (pending) and to join the group (pending)
    invitee: int = 0  # group_confirm on: holds a pending invitation to the group from the owner
    group: int = 0
    msg: int = 0  # owner -> member
    announcement: int = 0
    group_file: int = 0
    file_key: str = ""  # a stored chat file
    qr: str = ""
    task: int = 0
    device_sn: int = 0

    async def call(
        self,
        method: str,
        path: str,
        *,
        act: int | None = None,
        token: str | None = None,
        app_id: str = SANDBOX_APP_ID,
        **kw: Any,
    ) -> httpx2.Response:
        headers = {"app_id": app_id}
        if token != "":
            headers["access-token"] = token or self.store.admin_token
        if act is not None:
            headers["user_id"] = str(act)
        return await self.http.request(method, path, headers=headers, **kw)

    async def ok(self, method: str, path: str, *, act: int | None = None, **kw: Any) -> Any:
        body = (await self.call(method, path, act=act, **kw)).json()
        assert body["code"] == 200, f"world setup {method} {path}: {body}"
        return body["data"]


async def build(http: httpx2.AsyncClient, store: Store) -> World:
    w = World(store, http)
    for role in ("owner", "admin", "member", "stranger", "applicant", "invitee"):
        data = await w.ok("POST", "/user/register/v2", json={"username": role, "password": "pw"})
        setattr(w, role, data["user_id"])
    await w.ok("POST", "/user/settings", act=w.invitee, json={"user_id": w.invitee, "group_confirm": True})
    await w.ok("POST", "/user/settings", act=w.owner, json={"user_id": w.owner, "auth_mode": 1})
    w.store.users[w.member].mobile = "13800000000"
    w.group = (await w.ok("POST", "/group/create", act=w.owner, json={"name": "g", "user_list": [w.admin, w.member]}))[
        "group_id"
    ]
    await w.ok("POST", "/group/admin/add", act=w.owner, json={"group_id": w.group, "user_list": [w.admin]})
    await w.ok("POST", "/group/invite", act=w.owner, json={"group_id": w.group, "user_list": [w.invitee]})
    await w.ok("POST", "/group/apply", act=w.applicant, json={"group_id": w.group, "reason": "hi"})
    await w.ok("POST", "/roster/apply", act=w.applicant, json={"user_id": w.owner})
    await w.ok("POST", "/roster/accept", act=w.owner, params={"user_id": w.applicant})
    await w.ok("POST", "/roster/delete", act=w.owner, params={"user_id": w.applicant})
    await w.ok("POST", "/roster/apply", act=w.applicant, json={"user_id": w.owner})
    await w.ok("POST", "/user/settings", act=w.owner, json={"user_id": w.owner, "auth_mode": 0})
    await w.ok("POST", "/roster/apply", act=w.member, json={"user_id": w.owner})
    text = {"type": 1, "content": "hello", "content_type": 0, "targets": [w.member]}
    await w.ok("POST", "/message/send", act=w.owner, json=text)
    w.msg = w.store.next_id() - 1
    await w.ok("POST", "/message/send", act=w.owner, json={**text, "type": 2, "targets": [w.group]})
    w.announcement = (
        await w.ok(
            "POST", "/group/announcement/edit", act=w.owner, json={"group_id": w.group, "title": "t", "content": "c"}
        )
    )["id"]
    shared = {"group_id": w.group, "name": "f.txt", "size": 3, "url": "http://x/f.txt"}
    w.group_file = (await w.ok("POST", "/group/file/upload", act=w.owner, json=shared))["file_id"]
    grant = await w.ok("GET", "/file/upload/chat", act=w.owner, params={"file_type": 100, "to_id": w.member})
    form = grant["oss_body_param"]
    up = await w.http.post(grant["upload_url"], data=form, files={"file": ("a.txt", b"abc")})
    assert up.status_code == 200
    w.file_key = form["key"]
    w.qr = (await w.ok("GET", "/group/qrcode/sign", act=w.owner, params={"group_id": w.group}))["qr_info"]
    push = {"audience": {"user_id": [w.member]}, "message": {"title": "t", "body": "b"}}
    w.task = (await w.ok("POST", "/push/notify", json=push))["task_id"]
    login = await w.ok("POST", "/token/id", token="", json={"user_id": w.owner, "password": "pw", "device_guid": "d1"})
    devices = await w.ok("GET", "/user/device/list", act=w.owner)
    w.device_sn = devices[0]["device_sn"] if devices else 1
    assert login["token"]
    return w


def client_for(store: Store) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=build_app(store)), base_url="http://sandbox.test")
