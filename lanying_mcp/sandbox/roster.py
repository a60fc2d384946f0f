"""Sandbox friends: `/roster/*` and the legacy `/user/add_roster`, `/user/rosters`.

Friend requests follow the target's `auth_mode` setting the way the documentation describes it:
0 befriends at once, 1 leaves a pending application for the target to accept or decline, 2 asks
for the right `auth_answer` and then befriends at once, 3 refuses every request (10012). A
blacklist on either side stops requests and messages (10006).

Error codes where the documentation names none: a wrong `auth_answer`, acting on someone who is
not a friend, and befriending oneself are bad parameters (10002).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, cast

from ..core import facts
from .core import Call, Fail, Reply, Routes, Store, User, page, page_extras

ROUTES = Routes()

APPLICATION_TTL_MS = 7 * 24 * 3600 * 1000
PENDING, ACCEPTED, DECLINED = 0, 1, 2
FRIEND, DELETED_FRIEND, STRANGER, BLACKLISTED = 0, 1, 2, 3
DEFAULT_PAGE = 100


@dataclass
class RosterItem:
    alias: str = ""
    ext: str = ""
    mute_notification: bool = False


@dataclass
class Application:
    user_id: int  # the applicant
    reason: str
    alias: str  # the applicant's remark name for the target, applied on acceptance
    expired_time: int
    status: int = PENDING


@dataclass
class Rosters:
    friends: dict[int, dict[int, RosterItem]] = field(
        default_factory=dict[int, dict[int, RosterItem]]
    )  # owner -> friend -> item
    blocked: dict[int, set[int]] = field(default_factory=dict[int, set[int]])  # owner -> users they blocked
    removed: dict[int, set[int]] = field(default_factory=dict[int, set[int]])  # owner -> former friends (relation 1)
    inbox: dict[int, dict[int, Application]] = field(
        default_factory=dict[int, dict[int, Application]]
    )  # target -> applicant -> request
    versions: dict[int, int] = field(default_factory=dict[int, int])  # owner -> roster/inbox version

    def of(self, uid: int) -> dict[int, RosterItem]:
        return self.friends.setdefault(uid, {})

    def is_blocked(self, owner: int, other: int) -> bool:
        return other in self.blocked.get(owner, set())

    def either_blocked(self, a: int, b: int) -> bool:
        return self.is_blocked(a, b) or self.is_blocked(b, a)

    def bump(self, *uids: int) -> None:
        for uid in uids:
            self.versions[uid] = self.versions.get(uid, 0) + 1

    def befriend(self, a: int, b: int, alias_of_b: str = "") -> None:
        self.of(a).setdefault(b, RosterItem(alias=alias_of_b))
        self.of(b).setdefault(a, RosterItem())
        self.removed.get(a, set()).discard(b)
        self.removed.get(b, set()).discard(a)
        self.bump(a, b)

    def unfriend(self, a: int, b: int) -> None:
        for x, y in ((a, b), (b, a)):
            if self.of(x).pop(y, None) is not None:
                self.removed.setdefault(x, set()).add(y)
        self.bump(a, b)

    def relation(self, owner: int, other: int) -> int:
        if self.is_blocked(owner, other):
            return BLACKLISTED
        if other in self.of(owner):
            return FRIEND
        if other in self.removed.get(owner, set()):
            return DELETED_FRIEND
        return STRANGER


def rosters(store: Store) -> Rosters:
    return store.part(Rosters)


def forget_user(store: Store, user_id: int) -> None:
    """The roster area's part of deleting a user: friend lists, blacklists and requests, on both sides."""
    r = rosters(store)
    for per_owner in (r.friends, r.blocked, r.removed, r.inbox):
        per_owner.pop(user_id, None)
        for others in per_owner.values():
            if isinstance(others, set):
                others.discard(user_id)
            else:
                others.pop(user_id, None)
    r.versions.pop(user_id, None)


def separated(store: Store, a: int, b: int) -> bool:
    """Whether a blacklist stands between two users, either way: `/roster/may_message` answers
    false and a message between them is refused with 10006."""
    return rosters(store).either_blocked(a, b)


def entry(store: Store, viewer: int | None, user: User) -> dict[str, Any]:
    """`RosterItemDto`: the public profile, plus what the viewer keeps about this user."""
    out: dict[str, Any] = {
        "user_id": user.user_id,
        "username": user.username,
        "nick_name": user.nick_name,
        "avatar": user.avatar,
        "description": user.description,
        "public_info": user.public_info,
        "auth_mode": user.settings.get("auth_mode", 0),
        "auth_question": user.settings.get("auth_question", ""),
    }
    if viewer is not None:
        r = rosters(store)
        item = r.of(viewer).get(user.user_id) or RosterItem()  # a non-friend: the empty remarks
        out["relation"] = r.relation(viewer, user.user_id)
        out.update(alias=item.alias, ext=item.ext, mute_notification=item.mute_notification)
    return out


def _other(call: Call, me: int, uid: int) -> User:
    user = call.store.user(uid)
    if uid == me:
        raise Fail(10002, "a user cannot do this with themselves")
    return user


def apply(store: Store, applicant: int, target: User, reason: str, alias: str, answer: str | None) -> None:
    """One friend request, judged by the target's auth_mode; shared by single and batch apply."""
    r = rosters(store)
    tid = target.user_id
    if tid in r.of(applicant):
        raise Fail(10005, f"user {tid} is already a friend")
    if r.either_blocked(applicant, tid):
        raise Fail(10006, f"users {applicant} and {tid} are separated by a blacklist")
    mode = int(target.settings.get("auth_mode", 0))
    if mode == 3:
        raise Fail(10012, f"user {tid} refuses all friend requests")
    if mode == 2:
        expected = target.settings.get("auth_answer", "")
        if answer is None or answer != expected:
            raise Fail(10002, f"auth_answer does not answer user {tid}'s verification question")
    if mode in (0, 2):
        r.befriend(applicant, tid, alias)
        return
    r.inbox.setdefault(tid, {})[applicant] = Application(applicant, reason, alias, store.now_ms() + APPLICATION_TTL_MS)
    r.bump(tid)


def _pending(call: Call, me: int, applicant: int) -> Application:
    app = rosters(call.store).inbox.get(me, {}).get(applicant)
    if app is None or app.status != PENDING or app.expired_time < call.store.now_ms():
        raise Fail(10007, f"no pending friend request from user {applicant}")
    return app


# --- legacy ------------------------------------------------------------------------------------
@ROUTES.route("POST", "/user/add_roster")
def add_roster(call: Call) -> bool:
    owner = call.acting_user()
    assert owner is not None
    ids = call.ints("list")
    if not ids:
        raise Fail(10002, "list must name at least one user")
    r = rosters(call.store)
    for uid in ids:
        _other(call, owner, uid)
        if r.either_blocked(owner, uid):
            raise Fail(10006, f"user {uid} and {owner} are blocked")
    for uid in ids:
        r.befriend(owner, uid)
    return True


@ROUTES.route("GET", "/user/rosters")
def list_rosters(call: Call) -> list[dict[str, Any]]:
    owner = call.acting_user()
    assert owner is not None
    out: list[dict[str, Any]] = []
    for uid in rosters(call.store).of(owner):
        user = call.store.users.get(uid)
        if user is not None:
            out.append({"user_id": uid, "name": user.nick_name or user.username})
    return out


# --- requests ----------------------------------------------------------------------------------
@ROUTES.route("POST", "/roster/apply")
def apply_one(call: Call) -> bool:
    me = call.acting_user()
    assert me is not None
    target = _other(call, me, call.int("user_id"))
    apply(
        call.store,
        me,
        target,
        call.str("reason", required=False, default=""),
        call.str("alias", required=False, default=""),
        call.str("auth_answer", required=False),
    )
    return True


@ROUTES.route("POST", "/roster/apply/batch")
def apply_batch(call: Call) -> dict[str, Any]:
    me = call.acting_user()
    assert me is not None
    items = call.body_list()
    if not items:
        raise Fail(10002, "the body must list at least one application")
    success: list[int] = []
    fails: list[dict[str, Any]] = []
    for raw in items:
        if not isinstance(raw, dict) or "user_id" not in raw:
            raise Fail(10002, "each application needs a user_id")
        item = cast(dict[str, Any], raw)  # a JSON object
        uid = item["user_id"]
        try:
            target = _other(call, me, uid)
            apply(call.store, me, target, str(item.get("reason") or ""), str(item.get("alias") or ""), None)
        except Fail as exc:
            fails.append({"user_id": uid, "reason": exc.message})
        else:
            success.append(target.user_id)
    return {"success": success, "fails": fails}


@ROUTES.route("GET", "/roster/apply/list")
def apply_list(call: Call) -> Reply:
    me = call.acting_user()
    assert me is not None
    r = rosters(call.store)
    now = call.store.now_ms()
    apps = [a for a in r.inbox.get(me, {}).values() if a.status != PENDING or a.expired_time >= now]
    chunk, cursor = page(apps, call.str("cursor", "query", False), call.int("limit", "query", False), DEFAULT_PAGE)
    data = [
        {"user_id": a.user_id, "reason": a.reason, "status": a.status, "expired_time": a.expired_time} for a in chunk
    ]
    return Reply(data, page_extras(cursor, version=r.versions.get(me, 0)))


@ROUTES.route("POST", "PUT", "/roster/accept")
def accept(call: Call) -> bool:
    me = call.acting_user()
    assert me is not None
    applicant = call.int("user_id", "query")
    app = _pending(call, me, applicant)
    r = rosters(call.store)
    if r.either_blocked(me, applicant):
        raise Fail(10006, f"users {me} and {applicant} are separated by a blacklist")
    app.status = ACCEPTED
    r.befriend(applicant, me, app.alias)
    return True


@ROUTES.route("POST", "PUT", "/roster/decline")
def decline(call: Call) -> bool:
    me = call.acting_user()
    assert me is not None
    _pending(call, me, call.int("user_id")).status = DECLINED
    rosters(call.store).bump(me)
    return True


# --- friends -----------------------------------------------------------------------------------
@ROUTES.route("POST", "DELETE", "/roster/delete")
def delete(call: Call) -> bool:
    me = call.acting_user()
    assert me is not None
    other = _other(call, me, call.int("user_id", "query"))
    rosters(call.store).unfriend(me, other.user_id)
    return True


@ROUTES.route("POST", "PUT", "/roster/ext")
def ext(call: Call) -> bool:
    me = call.acting_user()
    assert me is not None
    uid = call.int("user_id")
    call.store.user(uid)
    item = rosters(call.store).of(me).get(uid)
    if item is None:
        raise Fail(10002, f"user {uid} is not a friend of user {me}")
    item.alias = call.str("alias", required=False, default=item.alias)
    item.ext = call.str("ext", required=False, default=item.ext)
    item.mute_notification = call.bool("mute_notification", required=False, default=item.mute_notification)
    rosters(call.store).bump(me)
    return True


@ROUTES.route("GET", "/roster/list")
def friend_ids(call: Call) -> Reply:
    me = call.acting_user()
    assert me is not None
    r = rosters(call.store)
    ids = list(r.of(me))
    chunk, cursor = page(ids, call.str("cursor", "query", False), call.int("limit", "query", False), DEFAULT_PAGE)
    return Reply(chunk, page_extras(cursor, version=r.versions.get(me, 0)))


@ROUTES.route("POST", "/roster/list")
def friend_details(call: Call) -> list[dict[str, Any]]:
    me = call.acting_user()
    assert me is not None
    ids = call.ints("list")
    return [entry(call.store, me, call.store.users[uid]) for uid in ids if uid in call.store.users]


# --- blacklist ---------------------------------------------------------------------------------
@ROUTES.route("POST", "PUT", "/roster/block")
def block(call: Call) -> bool:
    me = call.acting_user()
    assert me is not None
    other = _other(call, me, call.int("user_id", "query"))
    r = rosters(call.store)
    r.blocked.setdefault(me, set()).add(other.user_id)
    r.bump(me)
    return True


@ROUTES.route("POST", "DELETE", "/roster/unblock")
def unblock(call: Call) -> bool:
    me = call.acting_user()
    assert me is not None
    other = call.store.user(call.int("user_id", "query"))
    r = rosters(call.store)
    r.blocked.get(me, set()).discard(other.user_id)
    r.bump(me)
    return True


@ROUTES.route("GET", "/roster/blocked_list")
def blocked_list(call: Call) -> list[int]:
    me = call.acting_user()
    assert me is not None
    return sorted(rosters(call.store).blocked.get(me, set()))


# --- lookups -----------------------------------------------------------------------------------
@ROUTES.route("GET", "/roster/id")
def find_id(call: Call) -> dict[str, Any]:
    user = call.store.user(call.int("user_id", "query"))
    return entry(call.store, call.acting_user(required=False), user)


def _find(call: Call, attr: str, value: str) -> dict[str, Any]:
    for user in call.store.users.values():
        if getattr(user, attr) == value:
            return entry(call.store, call.acting_user(required=False), user)
    raise Fail(10000, f"no user with {attr} {value!r}")


@ROUTES.route("GET", "/roster/mobile")
def find_mobile(call: Call) -> dict[str, Any]:
    number = call.str("mobile", "query")
    if not re.match(facts.MOBILE_PATTERN, number):
        raise Fail(10002, f"mobile {number!r} does not match the documented pattern")
    return _find(call, "mobile", number)


@ROUTES.route("GET", "/roster/name")
def find_name(call: Call) -> dict[str, Any]:
    return _find(call, "username", call.str("username", "query"))


@ROUTES.route("GET", "/roster/may_message")
def may_message(call: Call) -> bool:
    sender = call.store.user(call.int("user_id", "query")).user_id
    recipient = call.store.user(call.int("roster_id", "query")).user_id
    return not separated(call.store, sender, recipient)
