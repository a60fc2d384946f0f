"""Sandbox files: signed upload URLs, the upload endpoint (like OSS), and serving stored files.

A stored file's storage key (`chat/…`, `avatar/user/…`) doubles as its `file_sign` / `object_name`:
the download operations answer 302 to `/_files/<key>`, as the real ones redirect to object storage.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from . import groups as G
from .core import Call, Fail, Routes, Store

ROUTES = Routes()

CHAT_FILE_TYPES = {100, 101, 102, 103, 104, 200, 201, 202, 203}
BASE = "http://sandbox.local"  # replaced by the request's own base URL when known


@dataclass
class StoredFile:
    name: str
    content: bytes
    owner: int | None


@dataclass
class Files:
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    pending: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])  # key -> upload grant
    stored: dict[str, StoredFile] = field(default_factory=dict[str, StoredFile])


def files(store: Store) -> Files:
    return store.part(Files)


def base_url(call: Call) -> str:
    host = call.headers.get("host")
    return f"http://{host}" if host else BASE


def grant(call: Call, kind: str) -> dict[str, Any]:
    """An upload grant in the OSS style: a form with key, policy and signature, and the download URL."""
    f = files(call.store)
    key = f"{kind}/{secrets.token_hex(8)}"
    signature = hmac.new(f.secret, key.encode(), hashlib.sha256).hexdigest()
    f.pending[key] = {"owner": call.actor.user_id}
    base = base_url(call)
    return {
        "upload_url": f"{base}/_upload/{key}",
        "upload_method": "POST",
        "oss_body_param": {"key": key, "policy": "sandbox", "signature": signature, "OSSAccessKeyId": "sandbox"},
        "download_url": f"{base}/_files/{key}",
    }


@ROUTES.route("GET", "/file/upload/chat")
def upload_chat(call: Call) -> dict[str, Any]:
    file_type = call.int("file_type", "query")
    to_id = call.int("to_id", "query")
    to_type = call.int("to_type", "query", required=False, default=1)
    if file_type not in CHAT_FILE_TYPES or to_type not in (1, 2):
        raise Fail(10002, "file_type or to_type has an undocumented value")
    if to_type == 1:
        call.store.user(to_id)
    else:
        G.get_group(call, to_id)
    return grant(call, "chat")


async def receive_upload(store: Store, request: Request) -> Response:
    key = request.path_params["key"]
    form = await request.form()
    f = files(store)
    signature = hmac.new(f.secret, key.encode(), hashlib.sha256).hexdigest()
    if form.get("key") != key or not hmac.compare_digest(str(form.get("signature", "")), signature):
        return JSONResponse({"error": "signature mismatch"}, status_code=403)
    grant_info = f.pending.pop(key, None)
    if grant_info is None:
        return JSONResponse({"error": "unknown or used upload key"}, status_code=403)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return JSONResponse({"error": "the form has no file part"}, status_code=400)
    content = await upload.read()
    f.stored[key] = StoredFile(upload.filename or "file", content, grant_info["owner"])
    return JSONResponse({"Status": "OK"})


async def serve(store: Store, request: Request, path: str) -> Response:
    stored = files(store).stored.get(path.removeprefix("/_files/"))
    if stored is None:
        return JSONResponse({"error": "Not Found"}, status_code=404)
    return Response(
        stored.content,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{stored.name}"'},
    )


def _storage_key(sign: str) -> str:
    """The sandbox signs a file with its storage key; a whole download URL is accepted too."""
    if "/_files/" in sign:
        sign = sign.split("/_files/", 1)[1]
    return sign.split("?", 1)[0]


def _stored(call: Call, sign: str) -> tuple[str, StoredFile]:
    key = _storage_key(sign)
    stored = files(call.store).stored.get(key)
    if stored is None:
        raise Fail(10002, f"no stored file {sign!r}")
    return key, stored


@ROUTES.route("GET", "/file/upload/avatar/user")
def upload_user_avatar(call: Call) -> dict[str, Any]:
    call.acting_user()
    return grant(call, "avatar/user")


@ROUTES.route("GET", "/file/upload/avatar/group")
def upload_group_avatar(call: Call) -> dict[str, Any]:
    g = G.get_group(call, call.int("group_id", "query"))
    G.require(call, g, G.MEMBER)
    return grant(call, "avatar/group")


@ROUTES.route("GET", "/file/upload/forward")
def forward(call: Call) -> str:
    """A forward copies the stored file under a new key for the new conversation; data is its URL."""
    _, stored = _stored(call, call.str("file_sign", "query"))
    to_id = call.int("to_id", "query")
    to_type = call.int("to_type", "query", required=False, default=1)
    if to_type == 1:
        call.store.user(to_id)
    elif to_type == 2:
        G.get_group(call, to_id)
    else:
        raise Fail(10002, "to_type must be 1 (user) or 2 (group)")
    key = f"chat/{secrets.token_hex(8)}"
    files(call.store).stored[key] = StoredFile(stored.name, stored.content, call.actor.user_id)
    return f"{base_url(call)}/_files/{key}"


def _redirect(call: Call, sign: str) -> Response:
    key, _ = _stored(call, sign)
    return RedirectResponse(f"{base_url(call)}/_files/{key}", status_code=302)


@ROUTES.route("GET", "/file/download/avatar")
def download_avatar(call: Call) -> Response:
    return _redirect(call, call.str("object_name", "query"))


@ROUTES.route("GET", "/file/download/chat")
def download_chat(call: Call) -> Response:
    if call.str("format", "query", required=False) not in (None, "amr", "mp3"):
        raise Fail(10002, "format must be amr or mp3")
    return _redirect(call, call.str("file_sign", "query"))


def forget_user(store: Store, user_id: int) -> None:
    """Stored files outlive their uploader, as shared content does."""
