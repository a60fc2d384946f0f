"""What a write changed: the target's declared fields read before it, and their values after it.

Each write declares its `Effect` (spec.py): the kind of target, the fields it changes, and the
inverse that sets them back. This module turns the declaration into values:

- `read_before` makes the one read of those fields before the write (the group's info for a rename,
  the admin list for an admin change, the mute list for a mute, the user's settings for a settings
  key...). Creates and sends have nothing to read. The read is cached on the call context, so the
  confirmation question and the journal use it without reading again. It never fails the write: a
  read that fails leaves the before-values unknown and says why.
- `diff` pairs them with the after-values: from the answer where the API returns them, else from the
  request. A mute's value is its end in UTC and the minutes left.
- `undo_info` says whether and how the change can be taken back; `inverse_calls` builds the calls
  that do it from the forward arguments, the before-values and the answer.

The cost is stated in the README ("Changes: preview, journal, undo"): at most one read request per
write for most tools, two for an owner transfer (the group and its admins), and for the few bulk
writes that take a list of users' own values (profiles, avatars) one read per user up to `BULK_READS`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import anyio

from ..core import errors
from ..core.json_values import as_object
from ..core.spec import Operation, Params, Target
from ..safety.consent import fingerprint
from . import changes_table as table
from . import effects

if TYPE_CHECKING:
    from .call import CallContext

__all__ = [
    "Before",
    "Change",
    "State",
    "diff",
    "inverse_calls",
    "read_before",
    "summary",
    "undo_info",
    "with_effects",
]

BULK_READS = 20  # per-user reads a bulk write makes at most before it runs
SHOWN = 20  # changes listed in a result; the rest are counted
BULK_SHOWN = 5  # for a write split in batches (its per-item rows are behind the result's full_result link)
PAGE = 1000  # rows of one member, mute or block list read before a write (one request)
ABSENT_KEPT = 5 * SHOWN  # users missing from that list kept as before-states (the shown changes' and spares)


@dataclass(frozen=True)
class Change:
    """One field of one target, before and after the write."""

    kind: str
    id: str | int | None
    name: str | None
    field: str
    before: Any
    after: Any
    known: bool = True  # False: the value before was not read (the API cannot read it back, or the read failed)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "target": {"kind": self.kind, "id": self.id, "name": self.name},
            "field": self.field,
            "before": self.before,
            "after": self.after,
        }
        if not self.known:
            out["before_unknown"] = True
        return out


@dataclass
class State:
    """One target as read before the write: its kind, ID, name where the read gave one, and field values."""

    kind: str
    id: str | int | None
    name: str | None = None
    fields: dict[str, Any] = field(default_factory=dict[str, Any])


@dataclass
class Before:
    """The targets of one write as read before it; `note` says what was not read (bounded, failed)."""

    targets: list[State] = field(default_factory=list[State])
    note: str | None = None
    reads: int = 0  # read requests made
    complete: bool = True  # every target the write names was read
    unknown: set[str] = field(default_factory=set[str])  # fields whose before-value is known not to be known
    key: str = ""  # the call it was read for (consent.fingerprint): the context's cache holds one call's read
    # (kind, id) → the first target of that kind and ID, built at the first look-up (a bulk write has thousands)
    _index: dict[tuple[str, Any], State] | None = field(default=None, repr=False, compare=False)
    _indexed: int = field(default=-1, repr=False, compare=False)

    def find(self, kind: str, id: Any) -> State | None:
        if self._index is None or self._indexed != len(self.targets):
            index: dict[tuple[str, Any], State] = {}
            for state in self.targets:
                index.setdefault((state.kind, state.id), state)
            self._index, self._indexed = index, len(self.targets)
        try:
            return self._index.get((kind, id))
        except TypeError:  # an ID that cannot be a key (a list from an off-shape answer): compare one by one
            return next((s for s in self.targets if s.kind == kind and s.id == id), None)

    def values(self, id: Any = None) -> dict[str, Any]:
        """Field values of the target `id` (or of the first target): what `before.x` sources read."""
        for state in self.targets:
            if id is None or state.id == id:
                return state.fields
        return {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "targets": [{"kind": s.kind, "id": s.id, "name": s.name, "fields": s.fields} for s in self.targets],
            "note": self.note,
            "complete": self.complete,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Before:
        listed: list[Any] = raw.get("targets") or []
        targets = [
            State(t.get("kind", ""), t.get("id"), t.get("name"), dict(t.get("fields") or {}))
            for item in listed
            if (t := as_object(item)) is not None
        ]
        return cls(targets, raw.get("note"), 0, bool(raw.get("complete", True)))

    @classmethod
    def from_changes(cls, changes: list[dict[str, Any]]) -> Before:
        """The before-state a journal entry keeps, rebuilt from its `changes` (for an undo)."""
        out = cls()
        for change in changes:
            target: dict[str, Any] = change.get("target") or {}
            kind, id_ = target.get("kind", ""), target.get("id")
            state = out.find(kind, id_)
            if state is None:
                state = State(kind, id_, target.get("name"))
                out.targets.append(state)
            if change.get("before_unknown"):
                out.unknown.add(str(change.get("field")))
                continue
            if change.get("field") == "group_id" and change.get("before") is None:  # the group a member joined
                state.fields["group_id"] = change.get("after")
                continue
            state.fields[change.get("field", "")] = change.get("before")
            value = change.get("before")
            if change.get("field") in ("mute_end", "ban_expire_time"):
                mute = as_object(value)
                state.fields["mute_minutes"] = mute.get("minutes") if mute is not None else None
        return out


# --- values ------------------------------------------------------------------------------------


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mute_value(end: Any, unit_ms: bool, now: float | None = None) -> dict[str, Any] | None:
    """A mute's end as `{"until": UTC time, "minutes": left}`; None when not muted; forever has no minutes."""
    if not isinstance(end, (int, float)) or isinstance(end, bool) or end == 0:
        return None
    if end < 0:
        return {"until": "forever", "minutes": None}
    seconds = end / 1000 if unit_ms else float(end)
    now = time.time() if now is None else now
    if seconds <= now:
        return None
    return {"until": _iso(seconds), "minutes": max(1, round((seconds - now) / 60))}


def _mute_after(minutes: int, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    return {"until": _iso(now + minutes * 60), "minutes": minutes}


def same(a: Any, b: Any) -> bool:
    """Whether a current value is still the recorded one (a mute's end within two minutes)."""
    if isinstance(a, dict) and isinstance(b, dict) and "until" in a and "until" in b:
        ua, ub = cast(dict[str, Any], a)["until"], cast(dict[str, Any], b)["until"]
        if ua == ub:
            return True
        try:
            ta = datetime.strptime(ua, "%Y-%m-%dT%H:%M:%SZ").timestamp()
            tb = datetime.strptime(ub, "%Y-%m-%dT%H:%M:%SZ").timestamp()
        except (TypeError, ValueError):
            return False
        return abs(ta - tb) <= 120
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, cast(list[Any], a))) == sorted(map(str, cast(list[Any], b)))
    if a in (None, "") and b in (None, ""):
        return True
    return a == b


# --- reading before ----------------------------------------------------------------------------

Reader = Callable[[Operation, Params, "CallContext", "_Reads"], Awaitable[list[State]]]


class _Reads:
    """The read requests of one before-read, counted; a failure is remembered, never raised."""

    def __init__(self, ctx: CallContext) -> None:
        self.ctx = ctx
        self.count = 0
        self.failed: list[str] = []
        self.partial: list[str] = []

    async def get(self, tool: str, args: dict[str, Any]) -> Any:
        cache: dict[tuple[str, str], Any] = _cache(self.ctx)
        key = (tool, repr(sorted(args.items())))
        if key in cache:
            return cache[key]
        self.count += 1
        try:
            envelope = await self.ctx.call(self.ctx.operations[tool], {k: v for k, v in args.items() if v is not None})
        except errors.LanyingError as exc:
            self.failed.append(f"{tool}: {exc.message}")
            return None
        except Exception as exc:  # noqa: BLE001 - a read before a write never fails the write
            self.failed.append(f"{tool}: {type(exc).__name__}")
            return None
        cache[key] = envelope.data
        if envelope.extras.get("cursor"):
            self.partial.append(tool)
        return envelope.data


def _cache(ctx: CallContext) -> dict[tuple[str, str], Any]:
    found = getattr(ctx, "reads", None)
    if found is None:
        found = {}
        try:
            ctx.reads = found  # type: ignore[attr-defined]
        except AttributeError:
            pass
    return cast(dict[tuple[str, str], Any], found)


def _get(params: Params, name: str) -> Any:
    return getattr(params, name, None)


def _rows(data: Any) -> list[dict[str, Any]]:
    return (
        [cast(dict[str, Any], r) for r in cast(list[Any], data) if isinstance(r, dict)]
        if isinstance(data, list)
        else []
    )


def _group_fields(info: dict[str, Any], fields: Collection[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        if name == "mute_minutes":
            continue
        if name == "ban_expire_time":
            mute = mute_value(info.get("ban_expire_time"), unit_ms=False)
            out[name] = mute
            out["mute_minutes"] = (mute or {}).get("minutes")
        else:
            out[name] = info.get(name)
    return out


async def _group(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    """Group fields (name, settings, owner, mute-all), and a member's own modes: `GET /group/info`."""
    assert op.effect is not None
    gid = _get(params, "group_id")
    if not isinstance(gid, int):
        return []
    info = await reads.get(table.GROUP_INFO, {"group_id": gid, "as_user_id": _get(params, "as_user_id")})
    if not isinstance(info, dict):
        return []
    info = cast(dict[str, Any], info)
    name = info.get("name") if isinstance(info.get("name"), str) else None
    fields = _group_fields(info, op.effect.fields)
    if op.effect.target is Target.MEMBER:  # the acting member's own view of the group
        return [State("member", _get(params, "as_user_id"), None, {**fields, "group_id": gid, "group": name})]
    return [State("group", gid, name, fields)]


async def _display_name(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    gid, uid = _get(params, "group_id"), _get(params, "as_user_id")
    if not isinstance(gid, int) or not isinstance(uid, int):
        return []
    rows = _rows(await reads.get(table.DISPLAY_NAMES, {"group_id": gid, "user_ids": [uid], "as_user_id": uid}))
    row = next((r for r in rows if r.get("user_id") == uid), None)
    if row is None:
        return []
    return [State("member", uid, None, {"display_name": row.get("display_name"), "group_id": gid})]


async def _member_list(
    tool: str, value: Callable[[dict[str, Any] | None], Any], fld: str, params: Params, reads: _Reads
) -> list[State]:
    gid = _get(params, "group_id")
    ids: list[Any] = _get(params, "user_ids") or []
    if not isinstance(gid, int):
        return []
    args: dict[str, Any] = {"group_id": gid, "as_user_id": _get(params, "as_user_id")}
    if tool != table.GROUP_ADMINS:
        args["limit"] = PAGE
    data = await reads.get(tool, args)
    if data is None:
        return []
    rows = {r.get("user_id"): r for r in _rows(data)}
    partial = tool in reads.partial
    out: list[State] = []
    absent = 0
    if len(ids) > ABSENT_KEPT:  # thousands of users: past the first absent ones, only those in the list
        cut = len(ids)
        for i, uid in enumerate(ids):
            if uid not in rows:
                absent += 1
                if absent > ABSENT_KEPT:
                    cut = i
                    break
        ids = [*ids[:cut], *(u for u in ids[cut:] if u in rows)]
        absent = 0
    for uid in ids:
        row = rows.get(uid)
        if row is None and partial:
            continue  # not on the page read: unknown
        if row is None:
            # Not in the list: its value is the same for every such user. A result lists the first
            # changes and counts the rest (diff's cap), so only the first ones are kept as states
            # (10,000 invited users would otherwise cost more than all their API calls).
            absent += 1
            if absent > ABSENT_KEPT:
                continue
        name = row.get("display_name") if row and isinstance(row.get("display_name"), str) else None
        out.append(State("member", uid, name or None, {fld: value(row), "group_id": gid}))
    return out


async def _roles(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    return await _member_list(
        table.GROUP_ADMINS, lambda row: "admin" if row is not None else "member", "role", params, reads
    )


async def _mutes(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    states = await _member_list(
        table.MUTED,
        lambda row: mute_value(row.get("expired_time"), unit_ms=True) if row else None,
        "mute_end",
        params,
        reads,
    )
    for s in states:
        mute: dict[str, Any] | None = s.fields["mute_end"]
        s.fields["mute_minutes"] = (mute or {}).get("minutes")
    return states


async def _blocks(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    return await _member_list(table.GROUP_BLOCKED, lambda row: row is not None, "blocked", params, reads)


async def _membership(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    return await _member_list(table.MEMBERS, lambda row: row is not None, "membership", params, reads)


async def _owner(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    """An owner transfer: the owner, and the roles of the old and the new owner (two reads, at once)."""
    gid, new = _get(params, "group_id"), _get(params, "new_owner")
    if not isinstance(gid, int):
        return []
    got: dict[str, Any] = {}

    async def info() -> None:
        got["info"] = await reads.get(table.GROUP_INFO, {"group_id": gid, "as_user_id": _get(params, "as_user_id")})

    async def admins() -> None:
        got["admins"] = await reads.get(table.GROUP_ADMINS, {"group_id": gid, "as_user_id": _get(params, "as_user_id")})

    async with anyio.create_task_group() as tg:
        tg.start_soon(info)
        tg.start_soon(admins)
    data = got.get("info")
    if not isinstance(data, dict):
        return []
    data = cast(dict[str, Any], data)
    owner = data.get("owner_id")
    out = [State("group", gid, data.get("name") if isinstance(data.get("name"), str) else None, {"owner_id": owner})]
    if got.get("admins") is not None:
        admin_ids = {r.get("user_id") for r in _rows(got["admins"])}
        for uid in dict.fromkeys((owner, new)):
            if isinstance(uid, int):
                role = "owner" if uid == owner else "admin" if uid in admin_ids else "member"
                out.append(State("member", uid, None, {"role": role, "group_id": gid}))
    return out


async def _profile(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    assert op.effect is not None
    uid = _get(params, "as_user_id")
    if not isinstance(uid, int):
        return []
    data = await reads.get(table.PROFILE, {"as_user_id": uid})
    if not isinstance(data, dict):
        return []
    data = cast(dict[str, Any], data)
    return [State("user", uid, _username(data), {k: data.get(k) for k in op.effect.fields})]


def _username(data: dict[str, Any]) -> str | None:
    name = data.get("username") or data.get("nick_name")
    return name if isinstance(name, str) and name else None


async def _settings(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    assert op.effect is not None
    uid = _get(params, "as_user_id")
    if not isinstance(uid, int):
        return []
    data = await reads.get(table.SETTINGS, {"as_user_id": uid})
    if not isinstance(data, dict):
        return []
    data = cast(dict[str, Any], data)
    return [State("settings", uid, None, {k: data.get(k) for k in op.effect.fields})]


async def _bulk_profiles(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    """Per-user profile reads for a bulk profile or avatar change, at most `BULK_READS` of them."""
    items: list[Any] | None = (
        _get(params, "changes") if table.RULE.get(op.name) == "profiles" else _get(params, "avatars")
    )
    rows: list[dict[str, Any]] = [
        i.model_dump(exclude_none=True) if hasattr(i, "model_dump") else dict(i) for i in items or []
    ]
    ids: list[int] = [r["user_id"] for r in rows if isinstance(r.get("user_id"), int)]
    keep = list(ids[: min(BULK_READS, ctx.lookups_left())])
    if len(keep) < len(ids):
        reads.partial.append(f"{len(ids) - len(keep)} of {len(ids)} users")
    got: dict[int, Any] = {}

    async def one(uid: int) -> None:
        got[uid] = await reads.get(table.PROFILE, {"as_user_id": uid})

    async with anyio.create_task_group() as tg:
        for uid in keep:
            tg.start_soon(one, uid)
    out: list[State] = []
    for r in rows:
        uid = r.get("user_id")
        data = got.get(uid) if isinstance(uid, int) else None
        if not isinstance(data, dict):
            continue
        data = cast(dict[str, Any], data)
        keys = [k for k in r if k != "user_id"]
        values = {k: data.get(k) for k in keys}
        out.append(State("user", uid, _username(data), values))
    return out


async def _friend(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    """A roster entry (friendship, alias, ext, mute): `POST /roster/list` for the named users, one request."""
    assert op.effect is not None
    acting = _get(params, "as_user_id")
    ids = _get(params, "user_ids") or ([_get(params, "user_id")] if _get(params, "user_id") is not None else [])
    ids = [u for u in ids if isinstance(u, int)][:100]
    if not isinstance(acting, int) or not ids:
        return []
    data = await reads.get(table.FRIENDS, {"as_user_id": acting, "user_ids": ids})
    if data is None:
        return []
    rows = {r.get("user_id"): r for r in _rows(data)}
    out: list[State] = []
    for uid in ids:
        row = rows.get(uid) or {}
        fields: dict[str, Any] = {}
        for name in op.effect.fields:
            if name == "friendship":
                fields[name] = row.get("relation") == 0 if "relation" in row else False
            elif name == "blocked":
                continue
            else:
                fields[name] = row.get(name)
        out.append(State("friendship", uid, _username(row), fields))
    return out


async def _blocked(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    acting, uid = _get(params, "as_user_id"), _get(params, "user_id")
    if not isinstance(acting, int) or not isinstance(uid, int):
        return []
    data = await reads.get(table.BLOCKED, {"as_user_id": acting})
    if not isinstance(data, list):
        return []
    return [State("friendship", uid, None, {"blocked": uid in cast(list[Any], data)})]


async def _tags(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    uid = _get(params, "as_user_id")
    if not isinstance(uid, int):
        return []
    data = await reads.get(table.TAGS, {"as_user_id": uid})
    if not isinstance(data, list):
        return []
    return [State("device binding", uid, None, {"tags": sorted(str(t) for t in cast(list[Any], data))})]


async def _pinned(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    uid, cid = _get(params, "as_user_id"), _get(params, "conversation_id")
    data = await reads.get(table.PINNED, {"as_user_id": uid})
    if not isinstance(data, dict):
        return []
    pinned: list[Any] = cast(dict[str, Any], data).get("conversation_ids") or []
    return [State("conversation", cid, None, {"pinned": cid in pinned})]


async def _file(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    gid, fid = _get(params, "group_id"), _get(params, "file_id")
    data = await reads.get(table.FILE, {"group_id": gid, "file_id": fid, "as_user_id": _get(params, "as_user_id")})
    if not isinstance(data, dict):
        return []
    name = cast(dict[str, Any], data).get("name")
    return [State("file", fid, name if isinstance(name, str) else None, {"name": name})]


async def revealed(op: Operation, params: Params, ctx: CallContext, before: Before | None) -> dict[str, Any]:
    """Values the answer does not carry and the inverse needs: the group a QR code joined (one read after)."""
    if table.RULE.get(op.name) != "join" or before is None:
        return {}
    state = before.find("member", _get(params, "as_user_id"))
    if state is None:
        return {}
    reads = _Reads(ctx)
    now = await reads.get(table.USER_GROUPS, {"as_user_id": _get(params, "as_user_id")})
    ctx.reads.clear()
    known: list[Any] = state.fields.get("groups") or []
    new = [g for g in cast(list[Any], now) if g not in known] if isinstance(now, list) else []
    return {"group_id": new[0]} if len(new) == 1 else {}


async def _joined(op: Operation, params: Params, ctx: CallContext, reads: _Reads) -> list[State]:
    """The groups of the user who joins by QR code, so the group joined is found after the write."""
    uid = _get(params, "as_user_id")
    if not isinstance(uid, int):
        return []
    data = await reads.get(table.USER_GROUPS, {"as_user_id": uid})
    if not isinstance(data, list):
        return []
    return [State("member", uid, None, {"groups": list(cast(list[Any], data))})]


READERS: dict[str, Reader] = {
    "group": _group,
    "display name": _display_name,
    "owner": _owner,
    "roles": _roles,
    "mutes": _mutes,
    "group blocks": _blocks,
    "membership": _membership,
    "profile": _profile,
    "settings": _settings,
    "profiles": _bulk_profiles,
    "friend": _friend,
    "blocked": _blocked,
    "tags": _tags,
    "pinned": _pinned,
    "file": _file,
    "joined": _joined,
}


def reader_of(op: Operation) -> Reader | None:
    return READERS.get(table.READ.get(op.name, ""))


def reads_of(op: Operation, params: Params | None = None) -> int:
    """Read requests the effects of one call of `op` make: the before-read, and for a QR join one read after.

    A bulk profile or avatar change reads each user's profile, up to `BULK_READS` (that many without `params`)."""
    reader = reader_of(op)
    if reader is None:
        return 0
    if reader in (_owner, _joined):
        return 2
    if reader is _bulk_profiles:
        items = getattr(params, "changes", None) or getattr(params, "avatars", None) if params is not None else None
        return min(BULK_READS, len(items)) if items is not None else BULK_READS
    return 1


async def read_before(op: Operation, params: Params, ctx: CallContext) -> Before | None:
    """The one read of the declared fields of the write's targets; None when it has none to read."""
    key = fingerprint(op, params)
    cached = getattr(ctx, "before", None)
    if isinstance(cached, Before) and cached.key == key:
        return cached
    reader = reader_of(op)
    if reader is None or op.effect is None or op.hints.read_only:
        return None
    reads = _Reads(ctx)
    try:
        states = await reader(op, params, ctx, reads)
    except errors.LanyingError as exc:
        states = []
        reads.failed.append(exc.message)
    before = Before(states, None, reads.count, key=key)
    notes: list[str] = []
    if reads.failed:
        before.complete = False
        notes.append("the read before the write failed (" + "; ".join(reads.failed)[:300] + "): before-values unknown")
    if reads.partial:
        before.complete = False
        notes.append("read in part (" + ", ".join(reads.partial) + "): some before-values are unknown")
    before.note = "; ".join(notes) or None
    try:
        ctx.before = before  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return before


# --- after -------------------------------------------------------------------------------------


class _AllBut(dict[Any, bool]):
    """Per-user outcomes where only the failures are known."""

    def __init__(self, failed: set[Any]) -> None:
        super().__init__()
        self.failed = failed

    def get(self, key: Any, default: Any = None) -> bool:  # type: ignore[override]
        return key not in self.failed


def _succeeded(structured: dict[str, Any] | None) -> dict[Any, bool] | None:
    """Per-user outcome of a list answer (`[{user_id, result|success}]`); None when the answer is not such a list."""
    data = (structured or {}).get("data")
    bulk = (structured or {}).get("summary")
    if isinstance(bulk, dict):  # a bulk answer summarised: every item succeeded but those listed as failed
        failures: list[Any] = cast(dict[str, Any], bulk).get("failures") or []
        failed = {u for f in failures for u in cast(list[Any], f.get("user_ids") or [])}
        return _AllBut(failed)
    if not isinstance(data, list):
        return None
    out: dict[Any, bool] = {}
    for row in _rows(data):
        ok = row.get("result", row.get("success"))
        out[row.get("user_id")] = ok in (True, "success", "ok", 1, "true")
    return out


def _requested(op: Operation, params: Params) -> dict[str, Any]:
    """After-values a setter's request carries: its own inverse sets `arg ← before.field`, so `arg` is the field."""
    effect = op.effect
    if effect is None or effect.inverse is None or effect.inverse.tool != op.name:
        return {}
    out: dict[str, Any] = {}
    for arg, source in effect.inverse.args:
        if isinstance(source, str) and source.startswith("before."):
            value = getattr(params, arg, None)
            if value is not None:
                out[source[len("before.") :]] = value
    return out


def diff(
    op: Operation,
    params: Params,
    before: Before | None,
    structured: dict[str, Any] | None,
    extra: dict[str, Any] | None = None,
    *,
    cap: int | None = None,
    tail: dict[str, int] | None = None,
) -> list[Change]:
    """The changes of an applied write: before-values from `before`, after-values from the answer or the request.

    `extra` holds what only a read after the write reveals (`revealed`: the group a QR code joined). With
    `cap`, a write of many users builds its first `cap` changes only and counts the rest by field into
    `tail` (a result lists a few and counts the rest: 10,000 invited users need no 10,000 objects)."""
    effect = op.effect
    if effect is None or op.hints.read_only:
        return []
    data = (structured or {}).get("data")
    ok = _succeeded(structured)
    b = before or Before()

    def user_ok(uid: Any) -> bool:
        return ok is None or ok.get(uid, False)

    def one(state: State | None, kind: str, id_: Any, fld: str, after: Any) -> Change:
        known = state is not None and fld in state.fields
        value = state.fields.get(fld) if state is not None else None
        return Change(kind, id_, state.name if state else None, fld, value, after, known)

    out: list[Change] = []
    counted = tail if tail is not None else {}

    def add(kind: str, id_: Any, fld: str, after: Any) -> None:
        """One change of a write of many: built while under the cap, counted past it."""
        if cap is not None and len(out) >= cap:
            counted[fld] = counted.get(fld, 0) + 1
        else:
            out.append(one(b.find(kind, id_), kind, id_, fld, after))

    def each(kind: str, ids: list[Any], fld: str, after: Any, filtered: bool = True) -> None:
        """`add` for every user of a list whose per-user outcome succeeded, in one pass for thousands."""
        if not filtered or ok is None:
            kept = list(ids)
        elif isinstance(ok, _AllBut):
            kept = [u for u in ids if u not in ok.failed] if ok.failed else list(ids)
        else:
            kept = [u for u in ids if ok.get(u, False)]
        room = len(kept) if cap is None else max(0, cap - len(out))
        out.extend(one(b.find(kind, u), kind, u, fld, after) for u in kept[:room])
        if len(kept) > room:
            counted[fld] = counted.get(fld, 0) + len(kept) - room

    name = table.RULE.get(op.name, "")
    if name in ("mute members", "unmute members"):
        minutes = _get(params, "duration")
        after = _mute_after(minutes) if name == "mute members" and isinstance(minutes, int) else None
        each("member", _get(params, "user_ids") or [], "mute_end", after)
        return out
    if name in ("mute all", "unmute all"):
        gid = _get(params, "group_id")
        after = None
        if name == "mute all":
            end = (as_object(data) or {}).get("ban_expire_time")
            after = mute_value(end, unit_ms=False) if end else _mute_after(_get(params, "duration") or 0)
        return [one(b.find("group", gid), "group", gid, "ban_expire_time", after)]
    if name == "transfer":
        gid, new = _get(params, "group_id"), _get(params, "new_owner")
        group = b.find("group", gid)
        out.append(one(group, "group", gid, "owner_id", new))
        old = group.fields.get("owner_id") if group else None
        for uid, role in ((old, "member"), (new, "owner")):
            state = b.find("member", uid)
            if state is not None and state.fields.get("role") != role:
                out.append(one(state, "member", uid, "role", role))
        return out
    if name in ("add admins", "remove admins"):
        role = "admin" if name == "add admins" else "member"
        each("member", _get(params, "user_ids") or [], "role", role)
        return out
    if name in ("invite", "kick", "block members", "unblock members"):
        fld = "blocked" if "block" in name else "membership"
        value = name in ("invite", "block members")
        each("member", _get(params, "user_ids") or [], fld, value)
        return out
    if name in ("leave", "join"):
        uid = _get(params, "as_user_id")
        gid = _get(params, "group_id") if name == "leave" else (extra or {}).get("group_id")
        joined = name == "join"
        out.append(Change("member", uid, None, "membership", not joined, joined))
        if joined:
            out.append(Change("member", uid, None, "group_id", None, gid))
        return out
    if name in ("add friends", "accept friend", "remove friend"):
        ids = _get(params, "user_ids") or [_get(params, "user_id")]
        each("friendship", ids, "friendship", name != "remove friend", filtered=False)
        return out
    if name in ("block user", "unblock user"):
        uid = _get(params, "user_id")
        return [one(b.find("friendship", uid), "friendship", uid, "blocked", name == "block user")]
    if name in ("disable", "enable"):
        return [
            Change("user", uid, None, "disabled", None, name == "disable", False) for uid in _get(params, "user_ids")
        ]
    if name in ("add tags", "remove tags", "clear tags"):
        uid = _get(params, "as_user_id")
        state = b.find("device binding", uid)
        now = set(state.fields.get("tags") or []) if state else set[str]()
        tags = set(_get(params, "tags") or [])
        after = sorted(now | tags) if name == "add tags" else [] if name == "clear tags" else sorted(now - tags)
        if state is None:
            after = sorted(tags) if name == "add tags" else []
        return [one(state, "device binding", uid, "tags", after)]
    if name in ("pin", "unpin"):
        cid = _get(params, "conversation_id")
        return [one(b.find("conversation", cid), "conversation", cid, "pinned", name == "pin")]
    if name in ("profiles", "avatars"):
        items: list[Any] | None = _get(params, "changes") if name == "profiles" else _get(params, "avatars")
        for item in items or []:
            row: dict[str, Any] = item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else dict(item)
            uid = row.pop("user_id", None)
            if not user_ok(uid):
                continue
            for key, value in row.items():
                add("user", uid, key, value)
        return out
    if name in ("bind token", "unbind token"):
        sn = _get(params, "device_sn")
        bound = name == "bind token"
        return [Change("device binding", sn, None, "device_token", None, "[bound]" if bound else None, False)]
    created = _created(op, params, data)
    if created is not None:
        return [created]
    # A setter: its request names the new values.
    requested = _requested(op, params)
    if requested:
        state = b.targets[0] if b.targets else None
        kind = state.kind if state else effect.target.value
        id_ = state.id if state else _target_id(op, params)
        return [one(state, kind, id_, fld, value) for fld, value in requested.items()]
    # Anything else (a send, a delete, a request): the target and what became of it.
    state = b.targets[0] if b.targets else None
    id_ = state.id if state else _target_id(op, params)
    gone = effect.irreversible is not None and effect.inverse is None
    return [
        Change(
            effect.target.value,
            id_,
            state.name if state else None,
            effect.fields[0],
            state.fields.get(effect.fields[0]) if state else None,
            _outcome_word(op) if gone else None,
        )
    ]


def _outcome_word(op: Operation) -> str:
    """What became of the target of an irreversible write, in one word."""
    verb = op.name.split("_", 1)[0]
    return {
        "delete": "deleted",
        "destroy": "destroyed",
        "send": "sent",
        "broadcast": "sent",
        "recall": "recalled",
        "remove": "removed",
        "kick": "signed out",
        "get": "issued",
        "handle": "answered",
        "decline": "declined",
        "apply": "sent",
        "reset": "reset",
        "register": "created",
        "upload": "uploaded",
    }.get(verb, "done")


def _target_id(op: Operation, params: Params) -> Any:
    for name in (
        "group_id",
        "user_id",
        "conversation_id",
        "file_id",
        "announcement_id",
        "msg_id",
        "device_sn",
        "chatbot_id",
        "as_user_id",
    ):
        value = getattr(params, name, None)
        if value is not None:
            return value
    return None


CREATED_ID = table.CREATED


def _created(op: Operation, params: Params, data: Any) -> Change | None:
    spec = CREATED_ID.get(op.name)
    if spec is None or op.effect is None:
        return None
    key, label = spec
    row = cast(dict[str, Any], data) if isinstance(data, dict) else {}
    name = row.get(label) if isinstance(row.get(label), str) else getattr(params, label, None)
    return Change(op.effect.target.value, row.get(key), name, op.effect.fields[0], None, "created")


# --- undo --------------------------------------------------------------------------------------


def undo_info(
    op: Operation,
    lang: str,
    reachable: Collection[str] | None = None,
    before: Before | None = None,
    journaled: bool = True,
    result: Any = None,
) -> dict[str, Any]:
    """`{"possible": true, "how": ...}` or `{"possible": false, "why": ...}`, in the declaration's words."""
    effect = op.effect
    said = " ".join(effects.undo_sentences(effect, lang, reachable))
    if effect is None or effect.inverse is None:
        return {"possible": False, "why": said}
    missing = missing_before(op, before, result)
    if missing:
        why = (
            f"撤销需要写入前的{'、'.join(missing)},而它们未能读取。"
            if lang == "zh"
            else f"taking it back needs the value(s) before the write ({', '.join(missing)}), which could not be read"
        )
        return {"possible": False, "why": why}
    tool = effect.inverse.tool
    note = effect.inverse.note[1 if lang == "zh" else 0] if effect.inverse.note else ""
    if reachable and tool not in reachable:
        return {"possible": False, "why": said}
    if journaled:
        how = (
            f"用undo_change(传入此结果的change_id)以写入前的值执行{tool}。"
            if lang == "zh"
            else f"undo_change with this result's change_id runs {tool} with the values before."
        )
    else:
        how = (
            f"以changes中写入前的值调用{tool}(变更日志未开启,undo_change不可用)。"
            if lang == "zh"
            else f"{tool} with the before-values in changes (the change journal is off, so undo_change cannot)."
        )
    return {"possible": True, "how": f"{how} {note}".strip()}


def missing_before(
    op: Operation, before: Before | None, result: Any = None, *, from_journal: bool = False
) -> list[str]:
    """The `before.x` fields the inverse needs that were not read.

    Live (`from_journal` False): each needed field must be in the before-read, or in the answer (`result`,
    e.g. the group a QR code joined). From a journal entry: only the changed fields are set back, so a
    field is missing when its change says its before-value is unknown.
    """
    effect = op.effect
    if effect is None or effect.inverse is None:
        return []
    needed = {
        s[len("before.") :]
        for _, value in effect.inverse.args
        for s in [value.strip("[]") if isinstance(value, str) else ""]
        if s.startswith("before.")
    }
    if not needed:
        return []
    if table.RULE.get(op.name) in BULK_OWN_VALUES:
        return [] if before is not None and before.targets else sorted(needed)
    if from_journal:
        return sorted(needed & (before.unknown if before is not None else needed))
    have = {n for s in (before.targets if before is not None else []) for n in s.fields}
    if isinstance(result, dict):
        have |= {str(k) for k, v in cast(dict[Any, Any], result).items() if v is not None}
    return sorted(needed - have)


BULK_OWN_VALUES = ("profiles", "avatars")  # rules of writes that take a list of users' own values


def _resolve(source: Any, arguments: dict[str, Any], before: Before, result: Any, item: Any, key: Any) -> Any:
    if not isinstance(source, str):
        return source
    if source.startswith("[") and source.endswith("]"):
        return [_resolve(source[1:-1], arguments, before, result, item, key)]
    if source == "item":
        return item
    if source.startswith("before."):
        values, name = before.values(key), source[len("before.") :]
        if name not in values and isinstance(result, dict):  # known only after the write (the group a QR code joined)
            return cast(dict[str, Any], result).get(name)
        return values.get(name)
    if source == "result":
        return result
    if source.startswith("result."):
        answer = as_object(result)
        return answer.get(source[len("result.") :]) if answer is not None else None
    return arguments.get(source)


def inverse_calls(
    op: Operation, arguments: dict[str, Any], before: Before | dict[str, Any] | None, result: Any
) -> list[tuple[str, dict[str, Any]]]:
    """The calls that take the write back: (tool, arguments), from the forward arguments, before-values and answer.

    `result` is the forward answer's `data`. Arguments that come out None are left out (the tool's default).
    """
    effect = op.effect
    if effect is None or effect.inverse is None:
        return []
    inverse = effect.inverse
    b = before if isinstance(before, Before) else Before.from_dict(before) if isinstance(before, dict) else Before()
    if table.RULE.get(op.name) in BULK_OWN_VALUES:
        return _bulk_inverse(op, arguments, b)
    items: list[Any] = list(arguments.get(inverse.each) or []) if inverse.each else [None]
    calls: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        args: dict[str, Any] = {}
        for name, source in inverse.args:
            value = _resolve(source, arguments, b, result, item, item)
            if value is not None and value != [None]:
                args[name] = value
        calls.append((inverse.tool, args))
    return calls


def _bulk_inverse(op: Operation, arguments: dict[str, Any], before: Before) -> list[tuple[str, dict[str, Any]]]:
    """A bulk profile or avatar change is taken back by the same call with each user's old values."""
    key = "changes" if table.RULE.get(op.name) == "profiles" else "avatars"
    rows: list[dict[str, Any]] = []
    listed: list[Any] = arguments.get(key) or []
    for item in listed:
        if not isinstance(item, dict):
            continue
        uid = cast(dict[str, Any], item).get("user_id")
        state = before.find("user", uid)
        if state is None:
            continue
        old = {k: state.fields.get(k) for k in cast(dict[str, Any], item) if k != "user_id"}
        rows.append({"user_id": uid, **{k: ("" if v is None else v) for k, v in old.items()}})
    return [(op.name, {key: rows})] if rows else []


# --- the result --------------------------------------------------------------------------------


def summary(
    changes: list[Change], lang: str = "en", shown: int = SHOWN, tail: dict[str, int] | None = None
) -> dict[str, Any] | None:
    """For a bulk write: how many changes, and the fields; None when all are listed.

    `tail` counts, by field, the changes past `changes` that `diff` did not build."""
    total = len(changes) + sum((tail or {}).values())
    if total <= shown:
        return None
    fields: dict[str, int] = {}
    for c in changes:
        fields[c.field] = fields.get(c.field, 0) + 1
    for fld, count in (tail or {}).items():
        fields[fld] = fields.get(fld, 0) + count
    rest = total - shown
    more = (
        f"另有{rest}项变更未列出(逐项结果见full_result)"
        if lang == "zh"
        else f"{rest} more not listed (per-item rows at full_result, where given)"
    )
    return {"count": total, "by_field": fields, "more": more}


def _answer_values(structured: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    """What the inverse may take from the answer: its data's fields, and what a read after the write revealed."""
    data = structured.get("data")
    out: dict[str, Any] = dict(cast(dict[str, Any], data)) if isinstance(data, dict) else {}
    return {**out, **(extra or {})}


def _named(change: Change, structured: dict[str, Any]) -> Change:
    """A target the before-read did not name gets the name the result's own names map gives (no extra read)."""
    if change.name is not None or change.id is None:
        return change
    kind = change.kind
    if kind in ("user", "member", "friendship", "settings"):
        users: dict[str, Any] = structured.get("users") or {}
        entry = as_object(users.get(str(change.id)))
        name = entry.get("username") or entry.get("nick_name") if entry is not None else None
    elif kind == "group":
        groups: dict[str, Any] = structured.get("groups") or {}
        name = groups.get(str(change.id))
    else:
        name = None
    return replace(change, name=name) if isinstance(name, str) and name else change


def with_effects(
    op: Operation,
    params: Params,
    before: Before | None,
    structured: dict[str, Any],
    lang: str,
    reachable: Collection[str] | None = None,
    journaled: bool = True,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An applied write's result with `changes` (bulk: the first ones and a count) and `undo`."""
    shown = BULK_SHOWN if op.batch is not None else SHOWN
    tail: dict[str, int] = {}
    found = diff(op, params, before, structured, extra, cap=shown, tail=tail)
    out = dict(structured)
    out["changes"] = [_named(c, structured).as_dict() for c in found[:shown]]
    if (counted := summary(found, lang, shown, tail)) is not None:
        out["changes_summary"] = counted
    info = undo_info(op, lang, reachable, before, journaled, _answer_values(structured, extra))
    if before is not None and before.note:
        info = {**info, "note": before.note}
    out["undo"] = info
    return out
