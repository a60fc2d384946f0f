"""Sandbox users: `/user/*` (registration, profile, settings, devices, push preferences, bans).

Who may do what: app-wide operations (batch registration and edits, listing, bans, password
reset) need the admin token; the act-as header does not change that. Operations on one user's
own data act as the user named by the token or by the admin token's `user_id` header.
"""

from __future__ import annotations

import re
from typing import Any, cast

from ..core import facts
from ..core.json_values import as_array
from . import devices
from .core import Call, Fail, Routes, Store, User, default_settings

ROUTES = Routes()

AUTH_MODES = (0, 1, 2, 3)
PROFILE_FIELDS = ("nick_name", "description", "public_info", "private_info")
_SETTING_TYPES: dict[str, type] = {
    "auth_mode": int,
    "auth_question": str,
    "auth_answer": str,
    "auto_download": bool,
    "group_confirm": bool,
    "no_push": bool,
    "no_push_detail": bool,
    "no_push_start_hour": int,
    "no_push_end_hour": int,
    "no_sounds": bool,
    "push_nick_name": str,
    "push_token": str,
    "vibratory": bool,
    "silence_start_time": int,
    "silence_end_time": int,
}
_HOURS = ("no_push_start_hour", "no_push_end_hour", "silence_start_time", "silence_end_time")


def check_username(name: str) -> None:
    if problem := facts.username_problem(name):
        raise Fail(10002, f"invalid username {name!r}: {problem}")


def require_admin(call: Call) -> None:
    if not call.actor.admin:
        raise Fail(10010, "this operation needs the admin token")


def me(call: Call) -> User:
    """The user the call acts as: the user token's owner, or the admin token's `user_id` header."""
    return call.store.user(call.acting_user())


def items(call: Call) -> list[dict[str, Any]]:
    """The `{list:[{...}]}` body of the batch endpoints."""
    rows = as_array(call.get("list", required=True))
    if rows is None or not all(isinstance(v, dict) for v in rows):
        raise Fail(10002, "list must be an array of objects")
    return cast(list[dict[str, Any]], rows)  # every row was just checked to be a JSON object


def outcome(user_id: Any, fail: Fail | None = None, **more: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        **more,
        "success": fail is None,
        "reason": f"{fail.code} {fail.message}" if fail else None,
    }


def profile(user: User) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "username": user.username,
        "nick_name": user.nick_name,
        "avatar": user.avatar,
        "description": user.description,
        "mobile": user.mobile,
        "email": user.email,
        "public_info": user.public_info,
        "private_info": user.private_info,
    }


def set_profile(user: User, values: dict[str, Any]) -> None:
    """A partial update: only the fields present change; every value is checked before any is applied."""
    changes = {k: values[k] for k in PROFILE_FIELDS if values.get(k) is not None}
    for key, value in changes.items():
        if not isinstance(value, str):
            raise Fail(10002, f"{key} must be a string")
    for key, value in changes.items():
        setattr(user, key, value)


def forget_user(store: Store, user_id: int) -> None:
    """The users area's part of deleting a user: the record, the username and the user tokens.

    `Store.forget_user` runs every area's part first, then this one.
    """
    user = store.users.pop(user_id, None)
    drop_tokens(store, user_id)
    if user is not None:
        store.by_username.pop(user.username, None)


def drop_tokens(store: Store, uid: int) -> None:
    for token in [t for t, owner in store.user_tokens.items() if owner == uid]:
        del store.user_tokens[token]


# --- registration ---------------------------------------------------------------------------


@ROUTES.route("POST", "/user/register/v2", open=True)
def register(call: Call) -> dict[str, Any]:
    username = call.str("username")
    password = call.str("password")
    check_username(username)
    user = call.store.add_user(username, password)
    return dict(user.settings) if user.settings else default_settings(user.user_id)


@ROUTES.route("POST", "/user/register/batch")
def register_batch(call: Call) -> list[dict[str, Any]]:
    require_admin(call)
    out: list[dict[str, Any]] = []
    for item in items(call):
        username = item.get("username")
        try:
            password = item.get("password")
            if not isinstance(username, str) or not isinstance(password, str) or not password:
                raise Fail(10002, "username and password are required strings")
            check_username(username)
            user = call.store.add_user(username, password)
        except Fail as exc:
            out.append(outcome(None, exc, username=username))
        else:
            out.append(outcome(user.user_id, username=username))
    return out


@ROUTES.route("POST", "/user/register/push")
def register_push(call: Call) -> dict[str, Any]:
    require_admin(call)
    username = call.str("username")
    password = call.str("password")
    check_username(username)
    alias = call.str("alias", required=False, default="")
    push_token = call.str("push_token", required=False, default="")
    call.str("device_guid", required=False)
    call.str("sign", required=False)  # the sandbox cannot verify the app's signature, so any is accepted
    user = call.store.add_user(username, password)
    user.settings["push_token"] = push_token
    if alias:  # as /user/push/alias would bind it, so a push to this alias reaches the new user
        devices.set_alias(call.store, user.user_id, alias, push_token)
    return dict(user.settings)


# --- listing and profiles -------------------------------------------------------------------


@ROUTES.route("GET", "/user/list")
def list_users(call: Call) -> list[dict[str, Any]]:
    require_admin(call)
    num = call.int("page_num", "query", required=False, default=1)
    size = call.int("page_size", "query", required=False, default=50)
    if num < facts.USER_LIST_PAGE_MIN or not facts.USER_LIST_PAGE_MIN <= size <= facts.USER_LIST_PAGE_SIZE_MAX:
        # The Swagger states minimum/maximum and no clamping: a value outside them is a bad parameter.
        raise Fail(10002, f"page_num must be at least 1 and page_size from 1 to {facts.USER_LIST_PAGE_SIZE_MAX}")
    users = sorted(call.store.users.values(), key=lambda u: u.user_id)
    chunk = users[(num - 1) * size : num * size]
    return [{"user_id": u.user_id, "username": u.username, "status": u.status} for u in chunk]


@ROUTES.route("GET", "/user/profile")
def get_profile(call: Call) -> dict[str, Any]:
    return profile(me(call))


@ROUTES.route("POST", "PUT", "/user/profile")
def update_profile(call: Call) -> bool:
    user = me(call)
    if not isinstance(call.body, dict):
        raise Fail(10002, "the body must be a JSON object")
    set_profile(user, call.body_fields())
    return True


@ROUTES.route("POST", "PUT", "/user/profile/batch")
def update_profiles(call: Call) -> list[dict[str, Any]]:
    require_admin(call)
    out: list[dict[str, Any]] = []
    for item in items(call):
        uid = item.get("user_id")
        try:
            set_profile(call.store.user(uid), item)
        except Fail as exc:
            out.append(outcome(uid, exc))
        else:
            out.append(outcome(uid))
    return out


# --- settings -------------------------------------------------------------------------------


@ROUTES.route("GET", "/user/settings")
def get_settings(call: Call) -> dict[str, Any]:
    user = me(call)
    return {**default_settings(user.user_id), **user.settings}


@ROUTES.route("POST", "PUT", "/user/settings")
def update_settings(call: Call) -> bool:
    # The body's required user_id names the user; an acting user may only change their own.
    target = call.int("user_id")
    acting = call.acting_user(required=False)
    if acting is not None and acting != target:
        raise Fail(10010, f"user {acting} may not change the settings of user {target}")
    if acting is None and not call.actor.admin:
        raise Fail(10010, "this operation needs the admin token or the user's own token")
    user = call.store.user(target)
    changes: dict[str, Any] = {}
    for key, kind in _SETTING_TYPES.items():
        value = call.body_fields().get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Fail(10002, f"setting {key} must be of type {kind.__name__}")
        changes[key] = value
    if "auth_mode" in changes and changes["auth_mode"] not in AUTH_MODES:
        raise Fail(10002, "auth_mode must be 0, 1, 2 or 3")
    for key in _HOURS:
        if key in changes and not facts.HOUR_MIN <= changes[key] <= facts.HOUR_MAX:
            raise Fail(10002, f"{key} must be an hour from {facts.HOUR_MIN} to {facts.HOUR_MAX}")
    user.settings.update(changes)
    return True


@ROUTES.route("POST", "PUT", "/user/authmode")
def auth_mode(call: Call) -> bool:
    user = me(call)
    value = call.int("value", "query")
    if value not in AUTH_MODES:
        raise Fail(10002, "value must be 0, 1, 2 or 3")
    user.settings["auth_mode"] = value
    return True


# --- single fields --------------------------------------------------------------------------


@ROUTES.route("POST", "PUT", "/user/avatar")
def avatar(call: Call) -> bool:
    user = me(call)
    user.avatar = call.str("avatar")
    return True


@ROUTES.route("POST", "PUT", "/user/avatar/batch")
def avatars(call: Call) -> list[dict[str, Any]]:
    require_admin(call)
    out: list[dict[str, Any]] = []
    for item in items(call):
        uid = item.get("user_id")
        try:
            user = call.store.user(uid)
            url = item.get("avatar")
            if not isinstance(url, str) or not url:
                raise Fail(10002, "avatar is a required URL")
            user.avatar = url
        except Fail as exc:
            out.append(outcome(uid, exc))
        else:
            out.append(outcome(uid))
    return out


@ROUTES.route("POST", "PUT", "/user/mobile")
def mobile(call: Call) -> bool:
    user = me(call)
    number = call.str("mobile", "query")
    if not re.match(facts.MOBILE_PATTERN, number):
        raise Fail(10002, f"mobile {number!r} does not match the documented pattern")
    user.mobile = number
    return True


@ROUTES.route("POST", "PUT", "/user/nickname")
def nickname(call: Call) -> bool:
    user = me(call)
    user.nick_name = call.str("nick_name", "query")
    return True


@ROUTES.route("POST", "PUT", "/user/username")
def rename(call: Call) -> bool:
    user = me(call)
    name = call.str("username", "query")
    check_username(name)
    owner = call.store.by_username.get(name)
    if owner is not None and owner != user.user_id:
        raise Fail(10004, f"username {name!r} already exists")
    del call.store.by_username[user.username]
    user.username = name
    call.store.by_username[name] = user.user_id
    return True


def raw_info(call: Call) -> str:
    """The body is the info itself: raw text, or a JSON-encoded string that is unwrapped once."""
    text = call.body if isinstance(call.body, str) else call.raw_body
    if not text:
        raise Fail(10002, "the body must carry the info text")
    return text


@ROUTES.route("POST", "PUT", "/user/private")
def private_info(call: Call) -> bool:
    user = me(call)
    user.private_info = raw_info(call)
    return True


@ROUTES.route("POST", "PUT", "/user/public")
def public_info(call: Call) -> bool:
    user = me(call)
    user.public_info = raw_info(call)
    return True


@ROUTES.route("GET", "/user/online_status")
def online_status(call: Call) -> dict[str, bool]:
    # Online = a device of the user's is logged in (devices area: login, kick); a ban logs out.
    user = me(call)
    return {"online": user.status == 0 and devices.is_online(call.store, user.user_id)}


# --- passwords, deletion, bans --------------------------------------------------------------


@ROUTES.route("POST", "/user/change_password")
def change_password(call: Call) -> bool:
    user = me(call)
    old = call.str("old_password")
    new = call.str("new_password")
    if old != user.password:
        # 10002 (bad parameter) rather than 10010: the call is allowed, its old_password is wrong.
        raise Fail(10002, "old_password does not match the current password")
    user.password = new
    return True


@ROUTES.route("POST", "/user/change_password_admin")
def reset_password(call: Call) -> bool:
    require_admin(call)
    user = me(call)
    user.password = call.str("password")
    return True


@ROUTES.route("POST", "DELETE", "/user/delete")
def delete(call: Call) -> bool:
    # Deletes the acting user. The admin token names them with the user_id header and needs no
    # password; a user deleting themselves with their own token must give their password.
    user = me(call)
    if not call.actor.admin:
        password = call.str("password")
        if password != user.password:
            raise Fail(10002, "password does not match")
    call.store.forget_user(user.user_id)
    return True


def set_status(call: Call, status: int) -> bool:
    require_admin(call)
    ids = call.ints("list")
    if not ids:
        raise Fail(10002, "list must name at least one user")
    users = [call.store.user(uid) for uid in ids]  # all must exist before any changes
    for user in users:
        user.status = status
        if status == 1:  # a ban ends the user's sessions as well as future logins
            drop_tokens(call.store, user.user_id)
            devices.log_out(call.store, user.user_id)
    return True


@ROUTES.route("PUT", "/user/disable")
def disable(call: Call) -> bool:
    return set_status(call, 1)


@ROUTES.route("PUT", "/user/enable")
def enable(call: Call) -> bool:
    return set_status(call, 0)
