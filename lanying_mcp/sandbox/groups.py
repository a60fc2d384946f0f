"""Sandbox groups: `/group/*` with the documented roles (owner > admin > member) and settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .core import Call, Fail, Reply, Store, page, route

MEMBER, ADMIN, OWNER = 1, 2, 3
LEVEL_ERROR = {
    MEMBER: (20011, "operation requires group member permission"),
    ADMIN: (20012, "operation requires group admin permission"),
    OWNER: (20013, "operation requires group owner permission"),
}


@dataclass
class Member:
    join_time: int
    display_name: str = ""
    mute_until: int = 0  # ms; 0 = not muted, -1 = forever
    msg_mute_mode: int = 0
    msg_push_mode: int = 0


@dataclass
class Group:
    group_id: int
    name: str
    owner_id: int
    description: str = ""
    avatar: str = ""
    type: int = 0
    ext: str = ""
    member_invite: bool = True
    member_modify: bool = False
    apply_approval: int = 1  # 0 accept all, 1 admin approves, 2 reject all
    read_ack: bool = False
    history_visible: bool = False
    hide_member_info: bool = False
    ban_all_until: int = 0  # seconds epoch; -1 forever; 0 not muted
    created_at: int = 0
    updated_at: int = 0
    members: dict[int, Member] = field(default_factory=dict)
    admins: set[int] = field(default_factory=set)
    blocked: dict[int, int] = field(default_factory=dict)  # user -> blocked at (ms)
    kicked: dict[int, int] = field(default_factory=dict)  # user -> times kicked
    invitations: list[dict[str, Any]] = field(default_factory=list)
    applications: list[dict[str, Any]] = field(default_factory=list)
    announcements: dict[int, dict[str, Any]] = field(default_factory=dict)
    files: dict[int, dict[str, Any]] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "name": self.name,
            "description": self.description,
            "avatar": self.avatar,
            "owner_id": self.owner_id,
            "type": self.type,
            "status": 0,
            "ext": self.ext,
            "member_invite": self.member_invite,
            "member_modify": self.member_modify,
            "apply_approval": self.apply_approval,
            "read_ack": self.read_ack,
            "history_visible": self.history_visible,
            "hide_member_info": self.hide_member_info,
            "ban_expire_time": self.ban_all_until,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def role(self, user_id: int | None) -> int:
        if user_id is None or user_id not in self.members:
            return 0
        if user_id == self.owner_id:
            return OWNER
        return ADMIN if user_id in self.admins else MEMBER


@dataclass
class Groups:
    groups: dict[int, Group] = field(default_factory=dict)


def groups(store: Store) -> Groups:
    return store.part(Groups)


def get_group(call: Call, group_id: int) -> Group:
    g = groups(call.store).groups.get(group_id)
    if g is None:
        raise Fail(20001, f"group {group_id} does not exist")
    return g


def caller_level(call: Call, g: Group) -> int:
    """The caller's level in `g`: the app admin ranks as owner; admin token + group_id header as admin."""
    actor = call.actor
    if actor.is_app_admin:
        return OWNER
    if actor.admin and actor.user_id is None and actor.group_id == g.group_id:
        return ADMIN
    return g.role(actor.user_id)


def require(call: Call, g: Group, level: int) -> int:
    have = caller_level(call, g)
    if have < level:
        code, message = LEVEL_ERROR[level]
        raise Fail(code, message)
    return have


def add_member(store: Store, g: Group, user_id: int) -> None:
    g.members.setdefault(user_id, Member(join_time=store.now_ms()))
    g.updated_at = store.now_ms()


def relation(user_id: int, ok: bool, reason: str = "") -> dict[str, Any]:
    return {"user_id": user_id, "result": "success" if ok else "fail", "reason": reason or None}


@route("POST", "/group/create")
def create(call: Call) -> dict[str, Any]:
    owner = call.acting_user()
    assert owner is not None
    name = call.str("name")
    gtype = call.int("type", required=False, default=0)
    if gtype not in (0, 2, 3):
        raise Fail(10002, f"invalid group type {gtype}")
    now = call.store.now_ms()
    g = Group(
        call.store.next_id(),
        name,
        owner,
        description=call.str("description", required=False, default=""),
        avatar=call.str("avatar", required=False, default=""),
        type=gtype,
        created_at=now,
        updated_at=now,
    )
    add_member(call.store, g, owner)
    groups(call.store).groups[g.group_id] = g
    for uid in call.ints("user_list", required=False):
        if uid != owner and uid in call.store.users:
            add_member(call.store, g, uid)
    return g.info()


def invite_one(call: Call, g: Group, inviter: int | None, uid: int, reason: str) -> dict[str, Any]:
    user = call.store.users.get(uid)
    if user is None:
        return relation(uid, False, "10000 user does not exist")
    if uid in g.members:
        return relation(uid, False, "20017 user is already a group member")
    if uid in g.blocked:
        return relation(uid, False, "20018 user is in the group blacklist")
    if user.settings.get("group_confirm"):
        g.invitations.append(
            {
                "group_id": g.group_id,
                "inviter_id": inviter,
                "invitee_id": uid,
                "reason": reason,
                "status": 0,
                "expired_time": call.store.now_ms() + 7 * 86_400_000,
                "updated_at": call.store.now_ms(),
            }
        )
        return relation(uid, True, "invitation pending the user's consent")
    add_member(call.store, g, uid)
    return relation(uid, True)


@route("POST", "/group/invite")
def invite(call: Call) -> list[dict[str, Any]]:
    g = get_group(call, call.int("group_id"))
    level = require(call, g, MEMBER)
    if level < ADMIN and not g.member_invite:
        raise Fail(20012, "members may not invite in this group (member invitation is off)")
    ids = call.ints("user_list")
    if not ids:
        raise Fail(10002, "user_list must name at least one user")
    reason = call.str("reason", required=False, default="")
    return [invite_one(call, g, call.actor.user_id, uid, reason) for uid in ids]


@route("GET", "/group/member_list")
def member_list(call: Call) -> Reply:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    members = [
        {"user_id": uid, "display_name": m.display_name or None, "join_time": m.join_time}
        for uid, m in g.members.items()
    ]
    limit = call.int("limit", "query", required=False)
    chunk, cursor = page(members, call.str("cursor", "query", required=False), limit, 1000)
    return Reply(chunk, {"cursor": cursor, "total": len(members), "version": g.updated_at})


@route("POST", "DELETE", "/group/destroy")
def destroy(call: Call) -> bool:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, OWNER)
    del groups(call.store).groups[g.group_id]
    return True
