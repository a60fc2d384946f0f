"""File scenarios against the sandbox: avatar upload grants, forwarding a stored file, and the
download operations' 302 redirects to storage."""

from __future__ import annotations

import httpx2
import pytest

from lanying_mcp.sandbox import Store, build_app
from tests.helpers import call, call_error, sandbox_client


def http(store: Store) -> httpx2.AsyncClient:
    """Plain HTTP to the sandbox's storage side (upload form, stored files): no API credentials."""
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=build_app(store)), base_url="http://sandbox.test")


async def upload(store: Store, grant: dict, content: bytes, name: str = "f.bin") -> None:
    async with http(store) as h:
        sent = await h.post(grant["upload_url"], data=grant["oss_body_param"], files={"file": (name, content)})
        assert sent.status_code == 200, sent.text


async def fetch(store: Store, url: str) -> bytes:
    async with http(store) as h:
        got = await h.get(url)
        assert got.status_code == 200, got.text
        return got.content


@pytest.mark.anyio
async def test_avatar_upload_and_download(mode: str) -> None:
    store = Store()
    user = store.add_user("u", "pw").user_id
    async with sandbox_client(store, mode=mode) as client:
        grant = (await call(client, "get_user_avatar_upload_url", {"as_user_id": user}))["data"]
        assert grant["upload_method"] == "POST" and grant["oss_body_param"]["key"].startswith("avatar/user/")
        await upload(store, grant, b"\x89PNG avatar", "me.png")
        key = grant["oss_body_param"]["key"]
        link = (await call(client, "get_avatar_download_url", {"object_name": key, "image_type": 2}))["data"]
        assert link["location"].endswith(f"/_files/{key}")
        assert await fetch(store, link["location"]) == b"\x89PNG avatar"
        err = await call_error(client, "get_avatar_download_url", {"object_name": "avatar/user/missing"})
        assert err["code"] == 10002
        err = await call_error(client, "get_user_avatar_upload_url")
        assert err["code"] == 10002  # whose avatar? act as a user


@pytest.mark.anyio
async def test_group_avatar_needs_an_existing_group_and_membership() -> None:
    store = Store()
    owner, outsider = (store.add_user(n, "pw").user_id for n in ("owner", "outsider"))
    async with sandbox_client(store) as client:
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": "g"}))["data"]["group_id"]
        grant = (await call(client, "get_group_avatar_upload_url", {"as_user_id": owner, "group_id": gid}))["data"]
        assert grant["oss_body_param"]["key"].startswith("avatar/group/")
        err = await call_error(client, "get_group_avatar_upload_url", {"as_user_id": owner, "group_id": 777})
        assert err["code"] == 20001
        err = await call_error(client, "get_group_avatar_upload_url", {"as_user_id": outsider, "group_id": gid})
        assert err["code"] == 20011


@pytest.mark.anyio
async def test_forward_and_chat_download() -> None:
    store = Store()
    alice, bob = (store.add_user(n, "pw").user_id for n in ("alice", "bob"))
    async with sandbox_client(store) as client:
        grant = (await call(client, "get_chat_file_upload_url", {"as_user_id": alice, "file_type": 100, "to_id": bob}))[
            "data"
        ]
        await upload(store, grant, b"report body", "report.pdf")
        sign = grant["oss_body_param"]["key"]

        link = (await call(client, "get_chat_file_download_url", {"file_sign": sign, "format": "mp3"}))["data"]
        assert await fetch(store, link["location"]) == b"report body"

        forwarded = (
            await call(client, "get_forward_file_url", {"as_user_id": bob, "file_sign": sign, "to_id": alice})
        )["data"]
        assert isinstance(forwarded, str) and forwarded != grant["download_url"]
        assert await fetch(store, forwarded) == b"report body"
        # a download URL is accepted as the signature too
        again = await call(client, "get_forward_file_url", {"file_sign": forwarded, "to_id": alice})
        assert await fetch(store, again["data"]) == b"report body"

        err = await call_error(client, "get_forward_file_url", {"file_sign": "chat/nothing", "to_id": alice})
        assert err["code"] == 10002
        err = await call_error(client, "get_forward_file_url", {"file_sign": sign, "to_id": 5, "to_type": 2})
        assert err["code"] == 20001
        err = await call_error(client, "get_forward_file_url", {"file_sign": sign, "to_id": 5})
        assert err["code"] == 10000
        err = await call_error(client, "get_chat_file_download_url", {"file_sign": "chat/nothing"})
        assert err["code"] == 10002
