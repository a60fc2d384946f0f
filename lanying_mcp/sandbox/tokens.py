"""Sandbox tokens: `/token/user`, `/token/id`, `/token/login`.

These routes are open (app_id only), as the real ones are: they are how a user's client logs in.
The documented table has no "wrong password" code, so a wrong password is answered as bad
parameters (10002); an unknown user is 10000 and a disabled user (status 1) is 10010.

Every login is also a device login: the devices area records it (`record_login`) and, when the
client names its device_guid, that device's push token is handed back as `push_token`.
"""

from __future__ import annotations

import secrets
from typing import Any

from . import devices
from .core import Call, Fail, Routes, Store, User

ROUTES = Routes()

TOKEN_TTL_MS = 7 * 24 * 3600 * 1000


def _login(call: Call, user: User) -> dict[str, Any]:
    password = call.str("password")
    if password != user.password:
        raise Fail(10002, "the password is incorrect")
    if user.status == 1:
        raise Fail(10010, f"user {user.user_id} is disabled")
    device_guid = call.str("device_guid", required=False)
    return issue(call.store, user.user_id, device_guid)


def issue(store: Store, user_id: int, device_guid: str | None) -> dict[str, Any]:
    """A fresh `TokenDto` for the user, recording the login on their device list."""
    sn = devices.record_login(store, user_id, device_guid)
    push_token = None
    if device_guid:
        # Reuse the device's own push token so both areas agree; invent one if it keeps none.
        push_token = devices.device_push_token(store, user_id, sn) or "pt-" + secrets.token_hex(12)
    return {
        "token": store.issue_user_token(user_id),
        "user_id": user_id,
        "expire": store.now_ms() + TOKEN_TTL_MS,
        "push_token": push_token,
        "store_token": "st-" + secrets.token_urlsafe(12),
        "access_key_secret": secrets.token_hex(16),
        "public_key": "",
        "encrypt_type": 0,
    }


@ROUTES.route("POST", "/token/user", open=True)
def by_username(call: Call) -> dict[str, Any]:
    name = call.str("name")
    uid = call.store.by_username.get(name)
    if uid is None:
        raise Fail(10000, f"no user named {name!r}")
    return _login(call, call.store.user(uid))


@ROUTES.route("POST", "/token/id", open=True)
def by_id(call: Call) -> dict[str, Any]:
    return _login(call, call.store.user(call.int("user_id")))


@ROUTES.route("POST", "/token/login", open=True)
def by_login_name(call: Call) -> dict[str, Any]:
    login = call.str("login_name")
    uid = call.store.by_username.get(login)
    if uid is None:
        uid = next((u.user_id for u in call.store.users.values() if login in (u.mobile, u.email)), None)
    if uid is None:
        raise Fail(10000, f"no user with username, mobile or email {login!r}")
    return _login(call, call.store.user(uid))


def forget_user(store: Store, user_id: int) -> None:
    """Tokens keep no state of their own: the users area drops a deleted user's tokens."""
