"""Sandbox devices and push preferences: `/user/device/*`, `/user/kick`, `/user/push*`, `/user/token/*`, ...

Devices come into being when a user logs in (`record_login`, called by the token handlers), so
the device list, kick and token binding have something real to act on. The plain preferences
(auto-download, push off, quiet hours, ...) are written into `User.settings`, the same dict
`GET /user/settings` answers with, so a change is visible there at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import cast

from ..core.json_values import as_array
from .core import Call, Fail, Reply, Routes, Store

ROUTES = Routes()

PLATFORMS = {1: "ios", 2: "android", 3: "windows", 4: "mac", 5: "linux", 6: "web"}


@dataclass
class Device:
    device_sn: int
    platform: int
    device_guid: str | None
    push_token: str = ""  # Lanying's own push token, handed out when the login names a device_guid
    online: bool = True
    device_token: str = ""  # vendor token (APNs, FCM, ...) bound through /user/token/bind
    notifier_name: str = ""

    def public(self, user_id: int) -> dict[str, object]:
        return {
            "device_sn": self.device_sn,
            "platform": self.platform,
            "user_agent": f"lanying-sandbox/{PLATFORMS[self.platform]}",
            "user_id": user_id,
        }


@dataclass
class PushProfile:
    """One user's devices and push targeting (tags, alias, badge)."""

    devices: dict[int, Device] = field(default_factory=dict[int, Device])
    last_sn: int = 0
    version: int = 0
    tags: list[str] = field(default_factory=list[str])
    alias: str = ""
    alias_push_token: str = ""
    badge: int = 0

    def device(self, sn: int) -> Device:
        dev = self.devices.get(sn)
        if dev is None:
            raise Fail(10002, f"device_sn {sn} is not a device of this user")
        return dev


@dataclass
class DeviceBook:
    profiles: dict[int, PushProfile] = field(default_factory=dict[int, PushProfile])


def profile(store: Store, user_id: int) -> PushProfile:
    return store.part(DeviceBook).profiles.setdefault(user_id, PushProfile())


def record_login(store: Store, user_id: int, device_guid: str | None, platform: int = 6) -> int:
    """The device a login happens on: the user's device with this guid, else a new one. Returns its device_sn."""
    if platform not in PLATFORMS:
        raise Fail(10002, f"platform must be 1-6, got {platform!r}")
    store.user(user_id)
    prof = profile(store, user_id)
    if device_guid:
        for dev in prof.devices.values():
            if dev.device_guid == device_guid:
                dev.online = True
                return dev.device_sn
    prof.last_sn += 1
    token = "pt-" + secrets.token_hex(12) if device_guid else ""
    prof.devices[prof.last_sn] = Device(prof.last_sn, platform, device_guid, push_token=token)
    prof.version += 1
    return prof.last_sn


def set_alias(store: Store, user_id: int, alias: str, push_token: str) -> None:
    """Bind a push alias as `/user/push/alias` does (used by registration with an alias)."""
    prof = profile(store, user_id)
    prof.alias, prof.alias_push_token = alias, push_token


def is_online(store: Store, user_id: int) -> bool:
    """Whether one of the user's devices is logged in."""
    prof = store.part(DeviceBook).profiles.get(user_id)
    return prof is not None and any(d.online for d in prof.devices.values())


def has_device(store: Store, user_id: int) -> bool:
    """Whether the user has logged in on at least one device (what a push needs to reach them)."""
    prof = store.part(DeviceBook).profiles.get(user_id)
    return prof is not None and bool(prof.devices)


def log_out(store: Store, user_id: int) -> None:
    """Every device of the user goes offline (a ban ends their sessions)."""
    for dev in profile(store, user_id).devices.values():
        dev.online = False


def forget_user(store: Store, user_id: int) -> None:
    """The devices area's part of deleting a user: their devices, tags, alias and badge."""
    store.part(DeviceBook).profiles.pop(user_id, None)


def device_push_token(store: Store, user_id: int, device_sn: int) -> str:
    """Lanying's push token of a device ("" when its login named no device_guid), for TokenDto.push_token."""
    dev = profile(store, user_id).devices.get(device_sn)
    return dev.push_token if dev else ""


def _actor_profile(call: Call) -> tuple[int, PushProfile]:
    uid = call.acting_user()
    assert uid is not None
    return uid, profile(call.store, uid)


def _set(call: Call, key: str, value: object) -> bool:
    uid = call.acting_user()
    call.store.user(uid).settings[key] = value
    return True


# --- devices --------------------------------------------------------------------------------


@ROUTES.route("GET", "/user/device/list")
def list_devices(call: Call) -> Reply:
    uid, prof = _actor_profile(call)
    return Reply([d.public(uid) for d in prof.devices.values()], {"version": prof.version})


@ROUTES.route("POST", "DELETE", "/user/device/remove")
def remove_device(call: Call) -> bool:
    _, prof = _actor_profile(call)
    sn = call.int("device_sn", "query")
    prof.device(sn)
    del prof.devices[sn]
    prof.version += 1
    return True


@ROUTES.route("POST", "PUT", "/user/kick")
def kick(call: Call) -> bool:
    _, prof = _actor_profile(call)
    sn = call.int("device_sn", "query", required=False)
    targets = [prof.device(sn)] if sn is not None else list(prof.devices.values())
    for dev in targets:
        dev.online = False
    return True


# --- preferences (kept in User.settings) ----------------------------------------------------


@ROUTES.route("POST", "PUT", "/user/download")
def set_auto_download(call: Call) -> bool:
    return _set(call, "auto_download", call.bool("value", "query"))


@ROUTES.route("POST", "PUT", "/user/push")
def set_push(call: Call) -> bool:
    return _set(call, "no_push", call.bool("value", "query"))


@ROUTES.route("POST", "PUT", "/user/push/detail")
def set_push_detail(call: Call) -> bool:
    return _set(call, "no_push_detail", call.bool("value", "query"))


@ROUTES.route("POST", "PUT", "/user/push/limit")
def set_quiet_hours(call: Call) -> bool:
    start = call.int("no_push_start_hour", "query")
    end = call.int("no_push_end_hour", "query")
    for name, hour in (("no_push_start_hour", start), ("no_push_end_hour", end)):
        if not 0 <= hour <= 23:
            raise Fail(10002, f"{name} must be an hour from 0 to 23, got {hour}")
    _set(call, "no_push_start_hour", start)
    return _set(call, "no_push_end_hour", end)


@ROUTES.route("POST", "PUT", "/user/push/nickname")
def set_push_nickname(call: Call) -> bool:
    return _set(call, "push_nick_name", call.str("value", "query"))


@ROUTES.route("POST", "PUT", "/user/sounds")
def set_sounds(call: Call) -> bool:
    return _set(call, "no_sounds", call.bool("value", "query"))


@ROUTES.route("POST", "PUT", "/user/vibratory")
def set_vibratory(call: Call) -> bool:
    return _set(call, "vibratory", call.bool("value", "query"))


# --- push targeting: alias, badge, tags -----------------------------------------------------


@ROUTES.route("POST", "/user/push/alias")
def bind_alias(call: Call) -> bool:
    _, prof = _actor_profile(call)
    alias = call.str("alias")
    token = call.str("push_token", required=False, default="")
    if token and not any(d.push_token == token for d in prof.devices.values()):
        raise Fail(10002, "push_token does not belong to a device of this user")
    prof.alias, prof.alias_push_token = alias, token
    return True


@ROUTES.route("POST", "/user/push/badge")
def set_badge(call: Call) -> bool:
    _, prof = _actor_profile(call)
    badge = call.int("badge")
    if badge < 0:
        raise Fail(10002, "badge must not be negative")
    prof.badge = badge
    return True


def _tags(call: Call) -> list[str]:
    tags = as_array(call.get("tags", required=True))
    if not tags or not all(isinstance(t, str) and t for t in tags):
        raise Fail(10002, "tags must be a non-empty list of non-empty strings")
    return cast(list[str], tags)  # every tag was just checked to be a string


@ROUTES.route("GET", "/user/push/tag")
def list_tags(call: Call) -> list[str]:
    return list(_actor_profile(call)[1].tags)


@ROUTES.route("POST", "/user/push/tag")
def add_tags(call: Call) -> bool:
    _, prof = _actor_profile(call)
    for tag in _tags(call):
        if tag not in prof.tags:
            prof.tags.append(tag)
    return True


@ROUTES.route("DELETE", "/user/push/tag")
def remove_tags(call: Call) -> bool:
    _, prof = _actor_profile(call)
    drop = set(_tags(call))
    prof.tags = [t for t in prof.tags if t not in drop]
    return True


@ROUTES.route("DELETE", "/user/push/tag/all")
def clear_tags(call: Call) -> bool:
    _actor_profile(call)[1].tags.clear()
    return True


# --- vendor push tokens ---------------------------------------------------------------------


@ROUTES.route("POST", "PUT", "/user/token/bind")
def bind_token(call: Call) -> bool:
    _, prof = _actor_profile(call)
    dev = prof.device(call.int("device_sn"))
    dev.device_token = call.str("device_token")
    dev.notifier_name = call.str("notifier_name")
    return True


@ROUTES.route("POST", "DELETE", "/user/token/unbind")
def unbind_token(call: Call) -> bool:
    _, prof = _actor_profile(call)
    dev = prof.device(call.int("deviceSn", "query"))
    dev.device_token = dev.notifier_name = ""
    return True


def audience(store: Store, kind: str, values: list[object]) -> set[int]:
    """Users a push audience reaches (`tag`, `alias`, `push_token`), for the push sandbox if it wants them."""
    wanted = {str(v) for v in values}
    out: set[int] = set()
    for uid, prof in store.part(DeviceBook).profiles.items():
        if (
            (kind == "tag" and wanted & set(prof.tags))
            or (kind == "alias" and prof.alias in wanted)
            or (kind == "push_token" and any(d.push_token in wanted for d in prof.devices.values()))
        ):
            out.add(uid)
    return out
