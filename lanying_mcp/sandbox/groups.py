"""Sandbox groups: `/group/*` with the documented roles (owner > admin > member) and settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .core import Call, Fail, Reply, Routes, Store, page

ROUTES = Routes()

MEMBER, ADMIN, OWNER = 1, 2, 3
DEFAULT_CAPACITY = 2000  # undocumented: the sandbox's member limit of a new group, reported as `capacity`
KICK_LIMIT = 3  # undocumented: kicked this many times, a user may no longer join (20016)
GROUP_TYPES = (0, 2)  # group.md: 0 private group, 2 chatroom
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
    capacity: int = DEFAULT_CAPACITY
    ban_all_until: int = 0  # seconds epoch; -1 forever; 0 not muted
    created_at: int = 0
    updated_at: int = 0
    members: dict[int, Member] = field(default_factory=dict[int, Member])
    admins: set[int] = field(default_factory=set[int])
    blocked: dict[int, int] = field(default_factory=dict[int, int])  # user -> blocked at (ms)
    kicked: dict[int, int] = field(default_factory=dict[int, int])  # user -> times kicked
    invitations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    applications: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    announcements: dict[int, dict[str, Any]] = field(default_factory=dict[int, dict[str, Any]])
    files: dict[int, dict[str, Any]] = field(default_factory=dict[int, dict[str, Any]])

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
            "capacity": self.capacity,
            "count": len(self.members),
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
    groups: dict[int, Group] = field(default_factory=dict[int, Group])
    destroyed: set[int] = field(default_factory=set[int])  # IDs of destroyed groups: they answer 20001


def destroy_group(store: Store, group_id: int) -> None:
    """A destroyed group leaves its messages in the log but answers 20001 everywhere."""
    groups(store).groups.pop(group_id, None)
    groups(store).destroyed.add(group_id)


def was_destroyed(store: Store, group_id: int) -> bool:
    return group_id in groups(store).destroyed


def may_join(g: Group, uid: int) -> None:
    """The documented reasons a user cannot join: member already, blacklisted, kicked too often, full."""
    if uid in g.members:
        raise Fail(20017, "user is already a group member")
    if uid in g.blocked:
        raise Fail(20018, "user is in the group blacklist")
    if g.kicked.get(uid, 0) >= KICK_LIMIT:
        raise Fail(20016, f"user was kicked out of this group {g.kicked[uid]} times and cannot rejoin")
    if len(g.members) >= g.capacity:
        raise Fail(20010, f"group {g.group_id} is full ({g.capacity} members)")


def groups(store: Store) -> Groups:
    return store.part(Groups)


def all_groups(store: Store) -> list[Group]:
    return list(groups(store).groups.values())


def find_group(store: Store, group_id: int) -> Group | None:
    return groups(store).groups.get(group_id)


def forget_user(store: Store, user_id: int) -> None:
    """The groups area's part of deleting a user.

    Groups the user owns are destroyed with them: a group cannot be left without an owner, and the
    API offers no implicit ownership transfer, so the sandbox does not invent one. In other groups
    the user simply stops being a member or admin.
    """
    for gid, g in list(groups(store).groups.items()):
        if g.owner_id == user_id:
            destroy_group(store, gid)
        elif user_id in g.members:
            g.members.pop(user_id)
            g.admins.discard(user_id)
            g.updated_at = store.now_ms()


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


@ROUTES.route("POST", "/group/create")
def create(call: Call) -> dict[str, Any]:
    owner = call.acting_user()
    assert owner is not None
    name = call.str("name")
    gtype = call.int("type", required=False, default=0)
    if gtype not in GROUP_TYPES:
        raise Fail(10002, f"invalid group type {gtype}: 0 private group or 2 chatroom")
    invitees = [uid for uid in dict.fromkeys(call.ints("user_list", required=False)) if uid != owner]
    for uid in invitees:
        call.store.user(uid)
    capacity = call.store.group_capacity
    if 1 + len(invitees) > capacity:
        raise Fail(20010, f"a group holds at most {capacity} members, owner included")
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
        capacity=capacity,
    )
    add_member(call.store, g, owner)
    groups(call.store).groups[g.group_id] = g
    for uid in invitees:  # as /group/invite does: group_confirm=true leaves an invitation instead
        invite_one(call, g, owner, uid, "")
    return with_caller_modes(call, g, g.info())


def invite_one(call: Call, g: Group, inviter: int | None, uid: int, reason: str) -> dict[str, Any]:
    user = call.store.users.get(uid)
    if user is None:
        return relation(uid, False, "10000 user does not exist")
    try:
        may_join(g, uid)
    except Fail as exc:
        return relation(uid, False, f"{exc.code} {exc.message}")
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


@ROUTES.route("POST", "/group/invite")
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


def member_row(g: Group, uid: int, show_name: bool) -> dict[str, Any]:
    """One GroupMember as the API lists it; `expired_time` is the member's mute expiry (ms)."""
    m = g.members[uid]
    return {
        "user_id": uid,
        "display_name": m.display_name if show_name else "",
        "join_time": m.join_time,
        "expired_time": m.mute_until,  # 0 = not muted, -1 = muted for ever
    }


def names_visible(call: Call, g: Group, level: int) -> Callable[[int], bool]:
    """Whose display name the caller may see.

    With hide_member_info on, members below admin see only their own display name; admins, the
    owner and the app admin see everyone's. This is the sandbox's reading of "hide member details".
    """
    if not g.hide_member_info or level >= ADMIN:
        return lambda uid: True
    me = call.actor.user_id
    return lambda uid: uid == me


@ROUTES.route("GET", "/group/member_list")
def member_list(call: Call) -> Reply:
    g = get_group(call, call.int("group_id", "query"))
    visible = names_visible(call, g, require(call, g, MEMBER))
    members = [member_row(g, uid, visible(uid)) for uid in g.members]
    limit = call.int("limit", "query", required=False)
    chunk, cursor = page(members, call.str("cursor", "query", required=False), limit, 1000)
    return Reply(chunk, {"cursor": cursor, "total": len(members), "version": g.updated_at})


@ROUTES.route("POST", "DELETE", "/group/destroy")
def destroy(call: Call) -> bool:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, OWNER)
    destroy_group(call.store, g.group_id)
    return True


# --- reading groups ---------------------------------------------------------------------------
def touch(call: Call, g: Group) -> None:
    g.updated_at = call.store.now_ms()


def with_caller_modes(call: Call, g: Group, data: dict[str, Any]) -> dict[str, Any]:
    """Info answers carry the reader's own per-group modes; a reader who is not a member (the app
    admin, say) gets the defaults (0, 0) a member starts with."""
    m = g.members.get(call.actor.user_id) if call.actor.user_id is not None else None
    mute, push = (m.msg_mute_mode, m.msg_push_mode) if m is not None else (0, 0)
    return {**data, "msg_mute_mode": mute, "msg_push_mode": push}


@ROUTES.route("GET", "/group/info")
def get_info(call: Call) -> dict[str, Any]:
    # Anyone may read a group's public face (people look a group up before applying to it).
    g = get_group(call, call.int("group_id", "query"))
    return with_caller_modes(call, g, g.info())


@ROUTES.route("GET", "/group/settings")
def get_settings(call: Call) -> dict[str, Any]:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    return with_caller_modes(call, g, g.info())


@ROUTES.route("POST", "/group/info/batch")
def info_batch(call: Call) -> list[dict[str, Any]]:
    """Brief info of each known group; unknown IDs are left out rather than failing the batch."""
    ids = call.ints("group_list")
    if not ids:
        raise Fail(10002, "group_list must name at least one group")
    table = groups(call.store).groups
    out: list[dict[str, Any]] = []
    for gid in ids:
        g = table.get(gid)
        if g is None:
            continue
        brief = {
            "group_id": g.group_id,
            "name": g.name,
            "avatar": g.avatar,
            "owner": g.owner_id,
            "type": g.type,
            "status": 0,
            "apply_approval": g.apply_approval,
            "capacity": g.capacity,
            "count": len(g.members),
        }
        out.append(with_caller_modes(call, g, brief))
    return out


@ROUTES.route("GET", "/group/public_list")
def public_list(call: Call) -> list[int]:
    # The API never says what makes a group "public"; the sandbox answers with its chatrooms (type 2).
    return [gid for gid, g in groups(call.store).groups.items() if g.type == 2]


@ROUTES.route("GET", "/group/user_joined")
def user_joined(call: Call) -> list[int]:
    uid = call.acting_user()
    return [gid for gid, g in groups(call.store).groups.items() if uid in g.members]


# --- group info and settings ------------------------------------------------------------------
def change_info(call: Call, attr: str, allow_empty: bool) -> bool:
    g = get_group(call, call.int("group_id"))
    if require(call, g, MEMBER) < ADMIN and not g.member_modify:
        raise Fail(20012, "only admins may change group info (member modification is off)")
    value = call.body_fields().get("value")
    if not isinstance(value, str) or (not value and not allow_empty):
        raise Fail(10002, "value must be a non-empty string" if not allow_empty else "value must be a string")
    setattr(g, attr, value)
    touch(call, g)
    return True


@ROUTES.route("POST", "PUT", "/group/info/name")
def set_name(call: Call) -> bool:
    return change_info(call, "name", allow_empty=False)


@ROUTES.route("POST", "PUT", "/group/info/description")
def set_description(call: Call) -> bool:
    return change_info(call, "description", allow_empty=True)


@ROUTES.route("POST", "PUT", "/group/info/avatar")
def set_avatar(call: Call) -> bool:
    return change_info(call, "avatar", allow_empty=True)


@ROUTES.route("POST", "PUT", "/group/info/ext")
def set_ext(call: Call) -> bool:
    return change_info(call, "ext", allow_empty=True)


def change_setting(call: Call, attr: str) -> bool:
    g = get_group(call, call.int("group_id"))
    require(call, g, ADMIN)
    setattr(g, attr, call.bool("value"))
    touch(call, g)
    return True


@ROUTES.route("POST", "PUT", "/group/settings/allow_member_invitation")
def set_member_invite(call: Call) -> bool:
    return change_setting(call, "member_invite")


@ROUTES.route("POST", "PUT", "/group/settings/allow_member_modify")
def set_member_modify(call: Call) -> bool:
    return change_setting(call, "member_modify")


@ROUTES.route("POST", "PUT", "/group/settings/enable_read_ack")
def set_read_ack(call: Call) -> bool:
    return change_setting(call, "read_ack")


@ROUTES.route("POST", "PUT", "/group/settings/hide_member_info")
def set_hide_member_info(call: Call) -> bool:
    return change_setting(call, "hide_member_info")


@ROUTES.route("POST", "PUT", "/group/settings/history_visible")
def set_history_visible(call: Call) -> bool:
    return change_setting(call, "history_visible")


@ROUTES.route("POST", "PUT", "/group/settings/require_admin_approval")
def set_apply_approval(call: Call) -> bool:
    g = get_group(call, call.int("group_id"))
    require(call, g, ADMIN)
    mode = call.int("apply_approval")
    if mode not in (0, 1, 2):
        raise Fail(10002, f"apply_approval must be 0, 1 or 2, got {mode}")
    g.apply_approval = mode
    touch(call, g)
    return True


# --- admins and ownership ---------------------------------------------------------------------
def target_ids(call: Call) -> list[int]:
    ids = call.ints("user_list")
    if not ids:
        raise Fail(10002, "user_list must name at least one user")
    return ids


@ROUTES.route("POST", "/group/admin/add")
def admin_add(call: Call) -> list[dict[str, Any]]:
    g = get_group(call, call.int("group_id"))
    require(call, g, OWNER)
    out: list[dict[str, Any]] = []
    for uid in target_ids(call):
        if uid not in g.members:
            out.append(relation(uid, False, "20002 user is not a group member"))
        elif uid == g.owner_id:
            out.append(relation(uid, False, "the owner cannot also be an admin"))
        else:
            g.admins.add(uid)
            out.append(relation(uid, True))
    touch(call, g)
    return out


@ROUTES.route("POST", "DELETE", "/group/admin/remove")
def admin_remove(call: Call) -> list[dict[str, Any]]:
    g = get_group(call, call.int("group_id"))
    require(call, g, OWNER)
    out: list[dict[str, Any]] = []
    for uid in target_ids(call):
        if uid not in g.members:
            out.append(relation(uid, False, "20002 user is not a group member"))
        elif uid not in g.admins:
            out.append(relation(uid, False, "user is not an admin"))
        else:
            g.admins.discard(uid)
            out.append(relation(uid, True))
    touch(call, g)
    return out


@ROUTES.route("GET", "/group/admin_list")
def admin_list(call: Call) -> list[dict[str, Any]]:
    """The admins in join order; the owner is not listed (it is `owner_id` in the group info)."""
    g = get_group(call, call.int("group_id", "query"))
    visible = names_visible(call, g, require(call, g, MEMBER))
    return [member_row(g, uid, visible(uid)) for uid in g.members if uid in g.admins]


@ROUTES.route("POST", "PUT", "/group/transfer")
def transfer(call: Call) -> dict[str, Any]:
    g = get_group(call, call.int("group_id"))
    require(call, g, OWNER)
    new_owner = call.int("new_owner")
    if new_owner not in g.members:
        raise Fail(20005, f"user {new_owner} is not a member of group {g.group_id}")
    g.owner_id = new_owner  # the old owner stays, as an ordinary member
    g.admins.discard(new_owner)
    touch(call, g)
    return relation(new_owner, True)


# --- members leaving ----------------------------------------------------------------------------
def remove_member(g: Group, uid: int) -> None:
    del g.members[uid]
    g.admins.discard(uid)


@ROUTES.route("POST", "DELETE", "/group/kick")
def kick(call: Call) -> list[dict[str, Any]]:
    """Checked as a whole before anyone leaves: one target above the caller's rank fails the call."""
    g = get_group(call, call.int("group_id"))
    level = require(call, g, ADMIN)
    ids = target_ids(call)
    for uid in ids:
        if uid == g.owner_id:
            if level < OWNER:
                raise Fail(20013, "admins cannot kick the owner")
            raise Fail(20004, "the owner cannot be removed: transfer ownership or destroy the group")
        if uid in g.admins and level < OWNER:
            raise Fail(20013, f"user {uid} is an admin: only the owner may kick admins")
    out: list[dict[str, Any]] = []
    for uid in ids:
        if uid not in g.members:
            out.append(relation(uid, False, "20002 user is not a group member"))
            continue
        remove_member(g, uid)
        g.kicked[uid] = g.kicked.get(uid, 0) + 1
        out.append(relation(uid, True))
    touch(call, g)
    return out


def own_membership(call: Call, g: Group) -> tuple[int, Member]:
    """The acting user and their membership, for calls about the caller's own place in a group."""
    uid = call.acting_user()
    assert uid is not None
    m = g.members.get(uid)
    if m is None:
        raise Fail(20002, f"user {uid} is not a member of group {g.group_id}")
    return uid, m


@ROUTES.route("POST", "DELETE", "/group/leave")
def leave(call: Call) -> bool:
    g = get_group(call, call.int("group_id", "query"))
    uid, _ = own_membership(call, g)
    if uid == g.owner_id:
        raise Fail(20004, "the owner cannot leave: transfer ownership or destroy the group")
    remove_member(g, uid)
    touch(call, g)
    return True


# --- each member's own view of the group --------------------------------------------------------
@ROUTES.route("POST", "PUT", "/group/display_name")
def set_display_name(call: Call) -> bool:
    g = get_group(call, call.int("group_id"))
    _, m = own_membership(call, g)
    value = call.body_fields().get("value")
    if not isinstance(value, str):
        raise Fail(10002, "value must be a string")
    m.display_name = value
    touch(call, g)
    return True


@ROUTES.route("POST", "/group/members/display_name")
def display_names(call: Call) -> list[dict[str, Any]]:
    g = get_group(call, call.int("group_id"))
    visible = names_visible(call, g, require(call, g, MEMBER))
    return [member_row(g, uid, visible(uid)) for uid in target_ids(call) if uid in g.members]


@ROUTES.route("POST", "PUT", "/group/msg/mute_mode")
def set_mute_mode(call: Call) -> None:
    g = get_group(call, call.int("group_id"))
    _, m = own_membership(call, g)
    mode = call.int("msg_mute_mode")
    if mode not in (0, 1, 2):
        raise Fail(10002, f"msg_mute_mode must be 0, 1 or 2, got {mode}")
    m.msg_mute_mode = mode


@ROUTES.route("POST", "PUT", "/group/msg/push_mode")
def set_push_mode(call: Call) -> None:
    g = get_group(call, call.int("group_id"))
    _, m = own_membership(call, g)
    mode = call.int("msg_push_mode")
    if mode not in range(5):
        raise Fail(20003, f"invalid msg_push_mode {mode}: use 0 to 4")
    m.msg_push_mode = mode
