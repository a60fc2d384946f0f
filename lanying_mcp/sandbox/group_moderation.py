"""Sandbox group moderation: mutes, mute-all, blacklist, invitations, join applications and QR codes.

State lives on the `Group` records of `groups.py`; this module only adds the rules. Moderating
someone needs the admin level, and nobody may moderate the owner, nor may a plain admin moderate
another admin: those targets come back as a per-user `fail`, as the API's result lists allow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .core import Call, Fail, Reply, Routes, Store, page
from .groups import ADMIN, MEMBER, OWNER, Group, add_member, all_groups, get_group, may_join, relation, require

ROUTES = Routes()

DAY_MS = 86_400_000
APPLICATION_TTL_MS = 7 * DAY_MS
QR_TTL_MS = 7 * DAY_MS


def forget_user(store: Store, user_id: int) -> None:
    """The moderation part of deleting a user: group blacklists, kick counts, invitations, applications."""
    for g in all_groups(store):
        g.blocked.pop(user_id, None)
        g.kicked.pop(user_id, None)
        g.invitations[:] = [r for r in g.invitations if user_id not in (r["invitee_id"], r["inviter_id"])]
        g.applications[:] = [a for a in g.applications if a["applicant_id"] != user_id]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _protected(g: Group, level: int, uid: int, verb: str) -> str:
    """Why the caller may not `verb` this member, or '' when allowed."""
    if uid == g.owner_id:
        return f"20013 the group owner cannot be {verb}"
    if uid in g.admins and level < OWNER:
        return f"20013 only the owner may have an admin {verb}"
    return ""


def _minutes(call: Call) -> int:
    duration = call.int("duration")
    if duration < 1:
        raise Fail(10002, "duration is in minutes and must be at least 1")
    return duration


def _admin_group(call: Call) -> tuple[Group, int]:
    g = get_group(call, call.int("group_id"))
    return g, require(call, g, ADMIN)


# --- muting members ---------------------------------------------------------------------


@ROUTES.route("POST", "/group/ban")
def ban(call: Call) -> list[dict[str, Any]]:
    g, level = _admin_group(call)
    until = call.store.now_ms() + _minutes(call) * 60_000
    out: list[dict[str, Any]] = []
    for uid in call.ints("user_list"):
        member = g.members.get(uid)
        if member is None:
            out.append(relation(uid, False, "20002 user is not a group member"))
        elif why := _protected(g, level, uid, "muted"):
            out.append(relation(uid, False, why))
        else:
            member.mute_until = until
            out.append(relation(uid, True))
    return out


@ROUTES.route("POST", "/group/unban")
def unban(call: Call) -> list[dict[str, Any]]:
    g, _ = _admin_group(call)
    out: list[dict[str, Any]] = []
    for uid in call.ints("user_list"):
        member = g.members.get(uid)
        if member is None:
            out.append(relation(uid, False, "20002 user is not a group member"))
        else:
            member.mute_until = 0
            out.append(relation(uid, True))
    return out


@ROUTES.route("GET", "/group/banned_list")
def banned_list(call: Call) -> Reply:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    now = call.store.now_ms()
    muted = [
        {"user_id": uid, "display_name": m.display_name, "join_time": m.join_time, "expired_time": m.mute_until}
        for uid, m in g.members.items()
        if m.mute_until == -1 or m.mute_until > now
    ]
    chunk, cursor = page(muted, call.str("cursor", "query", required=False), call.int("limit", "query", False), 1000)
    return Reply(chunk, {"cursor": cursor, "total": len(muted), "version": g.updated_at})


# --- muting the whole group -------------------------------------------------------------


@ROUTES.route("POST", "/group/settings/ban_all")
def ban_all(call: Call) -> dict[str, int]:
    g, _ = _admin_group(call)
    g.ban_all_until = call.store.now_ms() // 1000 + _minutes(call) * 60
    g.updated_at = call.store.now_ms()
    return {"ban_expire_time": g.ban_all_until}


@ROUTES.route("POST", "/group/settings/unban_all")
def unban_all(call: Call) -> bool:
    g, _ = _admin_group(call)
    g.ban_all_until = 0
    g.updated_at = call.store.now_ms()
    return True


# --- blacklist --------------------------------------------------------------------------


@ROUTES.route("POST", "/group/block")
def block(call: Call) -> list[dict[str, Any]]:
    g, level = _admin_group(call)
    now = call.store.now_ms()
    out: list[dict[str, Any]] = []
    for uid in call.ints("user_list"):
        if uid not in call.store.users:
            out.append(relation(uid, False, "10000 user does not exist"))
        elif uid in g.members and (why := _protected(g, level, uid, "blocked")):
            out.append(relation(uid, False, why))
        else:
            g.blocked.setdefault(uid, now)
            g.members.pop(uid, None)
            g.admins.discard(uid)
            g.updated_at = now
            out.append(relation(uid, True))
    return out


@ROUTES.route("POST", "DELETE", "/group/unblock")
def unblock(call: Call) -> list[dict[str, Any]]:
    g, _ = _admin_group(call)
    out: list[dict[str, Any]] = []
    for uid in call.ints("user_list"):
        if g.blocked.pop(uid, None) is None:
            out.append(relation(uid, False, "user is not in the group blacklist"))
        else:
            out.append(relation(uid, True))
    return out


@ROUTES.route("GET", "/group/blocked_list")
def blocked_list(call: Call) -> Reply:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    items = [{"group_id": g.group_id, "user_id": uid, "created_at": _iso(at)} for uid, at in g.blocked.items()]
    chunk, cursor = page(items, call.str("cursor", "query", required=False), call.int("limit", "query", False), 1000)
    return Reply(chunk, {"cursor": cursor, "total": len(items), "version": g.updated_at})


# --- invitations (created by /group/invite when the invitee's group_confirm is on) --------


@ROUTES.route("GET", "/group/invitation_list")
def invitation_list(call: Call) -> Reply:
    """The acting user's received invitations; with only a group_id header, that group's."""
    actor = call.actor
    records = [rec for g in all_groups(call.store) for rec in g.invitations]
    if actor.user_id is not None:
        records = [r for r in records if r["invitee_id"] == actor.user_id]
    elif actor.group_id is not None:
        records = [r for r in records if r["group_id"] == actor.group_id]
    items = [{**r, "updated_at": _iso(r["updated_at"])} for r in records]
    chunk, cursor = page(items, call.str("cursor", "query", required=False), call.int("limit", "query", False), 100)
    return Reply(chunk, {"cursor": cursor, "total": len(items), "version": len(items)})


@ROUTES.route("POST", "PUT", "/group/invite/handle")
def handle_invitation(call: Call) -> bool:
    invitee = call.acting_user()
    assert invitee is not None  # acting_user() raises 10002 when there is none
    g = get_group(call, call.int("group_id"))
    inviter = call.int("user_id")
    approval = call.bool("approval")
    now = call.store.now_ms()
    for rec in g.invitations:
        if (
            rec["invitee_id"] == invitee
            and rec["status"] == 0
            and rec["inviter_id"] in (inviter, None)  # None: the app admin invited
            and rec["expired_time"] > now
        ):
            break
    else:
        raise Fail(20015, "no pending invitation from this inviter (expired or already handled)")
    if approval and invitee not in g.members:
        may_join(g, invitee)
        add_member(call.store, g, invitee)
    rec["status"] = 1 if approval else 2
    rec["updated_at"] = now
    return True


# --- applications -----------------------------------------------------------------------


@ROUTES.route("POST", "/group/apply")
def apply(call: Call) -> dict[str, Any]:
    applicant = call.acting_user()
    assert applicant is not None
    g = get_group(call, call.int("group_id"))
    may_join(g, applicant)
    if g.apply_approval == 0:
        add_member(call.store, g, applicant)
        return relation(applicant, True)
    if g.apply_approval == 2:
        # No dedicated code exists for "this group refuses applications"; 20012 says what is missing:
        # only an admin can bring the user in now (by invitation).
        raise Fail(20012, "this group rejects all join applications; an admin must invite the user")
    now = call.store.now_ms()
    g.applications[:] = [
        a for a in g.applications if not (a["applicant_id"] == applicant and a["status"] == 0)
    ]  # a new application replaces a pending one
    g.applications.append(
        {
            "group_id": g.group_id,
            "applicant_id": applicant,
            "reason": call.str("reason", required=False, default=""),
            "status": 0,
            "expired_time": now + APPLICATION_TTL_MS,
        }
    )
    return relation(applicant, True, "application pending admin approval")


@ROUTES.route("POST", "PUT", "/group/apply/handle")
def handle_application(call: Call) -> dict[str, Any]:
    g, _ = _admin_group(call)
    uid = call.int("user_id")
    approval = call.bool("approval")
    now = call.store.now_ms()
    pending = [a for a in g.applications if a["applicant_id"] == uid and a["status"] == 0 and a["expired_time"] > now]
    if not pending:
        raise Fail(20014, f"no pending application from user {uid} (expired or already handled)")
    app = pending[-1]
    if not approval:
        app["status"] = 2
        return relation(uid, True, "application rejected")
    if uid in g.members:
        app["status"] = 1
        return relation(uid, True, "already a member")
    try:
        may_join(g, uid)
    except Fail as exc:
        return relation(uid, False, f"{exc.code} {exc.message}")
    app["status"] = 1
    add_member(call.store, g, uid)
    return relation(uid, True)


@ROUTES.route("POST", "/group/application_list")
def application_list(call: Call) -> Reply:
    items: list[dict[str, Any]] = []
    version = 0
    for gid in call.ints("group_list"):
        g = get_group(call, gid)
        require(call, g, ADMIN)
        items += [dict(a) for a in g.applications]
        version = max(version, g.updated_at)
    chunk, cursor = page(items, call.str("cursor", "query", required=False), call.int("limit", "query", False), 100)
    return Reply(chunk, {"cursor": cursor, "total": len(items), "version": version})


# --- QR codes -----------------------------------------------------------------------------


@dataclass
class QrKey:
    """Per-store signing key, so a code from one sandbox is invalid in another."""

    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))


def sign_qr_info(store: Store, group_id: int, inviter: int, expire_at: int) -> str:
    payload = f"{group_id}.{inviter}.{expire_at}"
    mac = hmac.new(store.part(QrKey).secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
    return base64.urlsafe_b64encode(f"{payload}.{mac}".encode()).decode().rstrip("=")


def _read_qr_info(store: Store, qr_info: str) -> tuple[int, int, int]:
    try:
        text = base64.urlsafe_b64decode(qr_info + "=" * (-len(qr_info) % 4)).decode()
        gid, inviter, expire_at, _mac = text.split(".")
        parsed = int(gid), int(inviter), int(expire_at)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        raise Fail(20024, "invalid group invitation QR code") from None
    if not hmac.compare_digest(sign_qr_info(store, *parsed), qr_info.rstrip("=")):
        raise Fail(20024, "invalid group invitation QR code")
    return parsed


@ROUTES.route("GET", "/group/qrcode/sign")
def qrcode_sign(call: Call) -> dict[str, Any]:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    now = call.store.now_ms()
    expire_at = now + QR_TTL_MS
    inviter = call.actor.user_id or 0
    return {
        "qr_info": sign_qr_info(call.store, g.group_id, inviter, expire_at),
        "create_at": now,
        "expire_at": expire_at,
    }


@ROUTES.route("POST", "/group/qrcode/invite")
def qrcode_invite(call: Call) -> dict[str, Any]:
    user = call.acting_user()
    assert user is not None
    gid, _, expire_at = _read_qr_info(call.store, call.str("qr_info"))
    if expire_at <= call.store.now_ms():
        raise Fail(20025, "the group invitation QR code has expired")
    g = get_group(call, gid)
    may_join(g, user)
    add_member(call.store, g, user)
    return relation(user, True)
