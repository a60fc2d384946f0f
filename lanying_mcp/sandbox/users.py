"""Sandbox users: `/user/*` (registration, profile, settings, devices, push preferences, bans)."""

from __future__ import annotations

import re

from .core import Call, Fail, default_settings, route

_USERNAME = re.compile(r"^[A-Za-z0-9_]+$")


def check_username(name: str) -> None:
    if not _USERNAME.match(name) or name.isdigit() or name.lower().startswith(("maxim", "mta")):
        raise Fail(
            10002,
            f"invalid username {name!r}: letters, digits, underscore; not all digits; not starting with maxim or mta",
        )


@route("POST", "/user/register/v2", open=True)
def register(call: Call) -> dict:
    username = call.str("username")
    password = call.str("password")
    check_username(username)
    user = call.store.add_user(username, password)
    return dict(user.settings) if user.settings else default_settings(user.user_id)
