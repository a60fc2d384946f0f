"""Group announcements and shared files against the sandbox: who may publish, read, rename and delete."""

from __future__ import annotations

import pytest

from lanying_mcp.sandbox import Store
from lanying_mcp.sandbox.groups import groups
from tests.helpers import call, call_error, sandbox_client


async def setup(client, store: Store) -> tuple[int, int, int, int, int]:
    owner, admin, m1, m2, outsider = (store.add_user(n, "pw").user_id for n in ("o", "a", "m1", "m2", "x"))
    info = await call(client, "create_group", {"as_user_id": owner, "name": "g", "user_ids": [admin, m1, m2]})
    gid = info["data"]["group_id"]
    groups(store).groups[gid].admins.add(admin)
    return gid, admin, m1, m2, outsider


@pytest.mark.anyio
async def test_announcements(mode: str) -> None:
    store = Store()
    async with sandbox_client(store, mode=mode) as client:
        gid, admin, m1, _, outsider = await setup(client, store)
        latest = await call(client, "get_latest_group_announcement", {"as_user_id": m1, "group_id": gid})
        assert latest.get("data") is None

        new = {"group_id": gid, "title": "Rules", "content": "Be kind."}
        err = await call_error(client, "create_group_announcement", {**new, "as_user_id": m1})
        assert err["code"] == 20012
        first = (await call(client, "create_group_announcement", {**new, "as_user_id": admin}))["data"]
        assert first["author"] == admin and first["title"] == "Rules"
        second = (await call(client, "create_group_announcement", {**new, "as_group_id": gid, "title": "News"}))["data"]

        got = await call(
            client, "get_group_announcement", {"as_user_id": m1, "group_id": gid, "announcement_id": first["id"]}
        )
        assert got["data"]["content"] == "Be kind."
        latest = await call(client, "get_latest_group_announcement", {"as_user_id": m1, "group_id": gid})
        assert latest["data"]["id"] == second["id"]
        listed = await call(client, "list_group_announcements", {"as_user_id": m1, "group_id": gid})
        assert [a["id"] for a in listed["data"]] == [second["id"], first["id"]]
        err = await call_error(client, "list_group_announcements", {"as_user_id": outsider, "group_id": gid})
        assert err["code"] == 20011

        target = {"group_id": gid, "announcement_id": second["id"]}
        err = await call_error(client, "delete_group_announcement", {**target, "as_user_id": m1})
        assert err["code"] == 20012
        await call(client, "delete_group_announcement", {**target, "as_user_id": admin})
        err = await call_error(client, "delete_group_announcement", {**target, "as_user_id": admin})
        assert err["code"] == 20020
        err = await call_error(client, "get_group_announcement", {**target, "as_user_id": m1})
        assert err["code"] == 20020
        latest = await call(client, "get_latest_group_announcement", {"group_id": gid})
        assert latest["data"]["id"] == first["id"]


@pytest.mark.anyio
async def test_shared_files() -> None:
    store = Store()
    async with sandbox_client(store) as client:
        gid, admin, m1, m2, outsider = await setup(client, store)
        doc = {"group_id": gid, "name": "a.pdf", "size": 1234, "url": "https://files.example/a.pdf", "type": "pdf"}
        err = await call_error(client, "add_group_file", {**doc, "as_user_id": outsider})
        assert err["code"] == 20011
        a = (await call(client, "add_group_file", {**doc, "as_user_id": m1}))["data"]
        b = (await call(client, "add_group_file", {**doc, "as_user_id": m1, "name": "b.pdf"}))["data"]
        c = (await call(client, "add_group_file", {**doc, "as_user_id": m2, "name": "c.pdf"}))["data"]
        assert a["uploader"] == m1 and a["size"] == 1234

        got = await call(client, "get_group_file", {"as_user_id": m2, "group_id": gid, "file_id": a["file_id"]})
        assert got["data"]["url"] == doc["url"]
        err = await call_error(client, "get_group_file", {"as_user_id": m2, "group_id": gid, "file_id": 1})
        assert err["code"] == 20022
        listed = await call(client, "list_group_files", {"as_user_id": m2, "group_id": gid})
        assert [f["name"] for f in listed["data"]] == ["a.pdf", "b.pdf", "c.pdf"]

        rename = {"group_id": gid, "file_id": a["file_id"], "name": "renamed.pdf"}
        err = await call_error(client, "rename_group_file", {**rename, "as_user_id": m2})
        assert err["code"] == 20023
        err = await call_error(client, "rename_group_file", {**rename, "file_id": 1, "as_user_id": m1})
        assert err["code"] == 20022
        assert (await call(client, "rename_group_file", {**rename, "as_user_id": m1}))["data"] is True
        await call(client, "rename_group_file", {**rename, "name": "by-admin.pdf", "as_user_id": admin})
        assert groups(store).groups[gid].files[a["file_id"]]["name"] == "by-admin.pdf"

        out = await call(
            client,
            "delete_group_files",
            {"as_user_id": m2, "group_id": gid, "file_ids": [a["file_id"], c["file_id"], 1]},
        )
        assert [(r["file_id"], r["result"]) for r in out["data"]] == [
            (a["file_id"], "fail"),
            (c["file_id"], "success"),
            (1, "fail"),
        ]
        out = await call(
            client, "delete_group_files", {"as_group_id": gid, "group_id": gid, "file_ids": [a["file_id"]]}
        )
        assert out["data"][0]["result"] == "success"
        listed = await call(client, "list_group_files", {"group_id": gid})
        assert [f["file_id"] for f in listed["data"]] == [b["file_id"]]
