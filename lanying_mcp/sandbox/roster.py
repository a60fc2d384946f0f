"""Sandbox friends: `/roster/*` and the legacy `/user/add_roster`, `/user/rosters`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .core import Call, Fail, Store, route


@dataclass
class RosterItem:
    alias: str = ""
    ext: str = ""
    mute_notification: bool = False


@dataclass
class Rosters:
    friends: dict[int, dict[int, RosterItem]] = field(default_factory=dict)  # owner -> friend -> item
    blocked: dict[int, set[int]] = field(default_factory=dict)  # owner -> users they blocked

    def of(self, uid: int) -> dict[int, RosterItem]:
        return self.friends.setdefault(uid, {})

    def is_blocked(self, owner: int, other: int) -> bool:
        return other in self.blocked.get(owner, set())

    def befriend(self, a: int, b: int) -> None:
        self.of(a).setdefault(b, RosterItem())
        self.of(b).setdefault(a, RosterItem())


def rosters(store: Store) -> Rosters:
    return store.part(Rosters)


@route("POST", "/user/add_roster")
def add_roster(call: Call) -> bool:
    owner = call.acting_user()
    assert owner is not None
    ids = call.ints("list")
    if not ids:
        raise Fail(10002, "list must name at least one user")
    r = rosters(call.store)
    for uid in ids:
        call.store.user(uid)
        if uid == owner:
            raise Fail(10002, "a user cannot befriend themselves")
        if r.is_blocked(uid, owner) or r.is_blocked(owner, uid):
            raise Fail(10006, f"user {uid} and {owner} are blocked")
    for uid in ids:
        r.befriend(owner, uid)
    return True


@route("GET", "/user/rosters")
def list_rosters(call: Call) -> list[dict[str, Any]]:
    owner = call.acting_user()
    assert owner is not None
    out = []
    for uid in rosters(call.store).of(owner):
        user = call.store.users.get(uid)
        if user is not None:
            out.append({"user_id": uid, "name": user.nick_name or user.username})
    return out
