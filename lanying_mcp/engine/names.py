"""Names beside IDs: a result that carries user or group IDs also says who and what they are.

The Lanying API answers most lists with bare IDs (members, admins, blocked users, message senders,
a user's groups), which leaves a model one lookup per ID before it can answer "who is in this
group?". After a read, `enrich` adds two maps beside `data`:

    "users":  {"<user_id>": {"username": "...", "nick_name": "..."}}
    "groups": {"<group_id>": "<group name>"}

Maps rather than fields inline on each item: they fit every result shape (bare ID lists such as
`list_user_groups`, nested IDs such as a message's `from_xid.uid`), name each user once however
often a page mentions them, and leave `data` exactly as the API documents it, so turning names off
(`LANYING_NAMES=false`) gives the same `data`. `list_group_members` also gets each member's `role`
(owner, admin, member) and, while muted, `muted_until`, inline, because those describe the
membership rather than the user.

Which result paths hold IDs is declared on each operation (`Operation.ids`), never guessed.

Cost, bounded and stated: users are read 100 per call (`POST /roster/list`), groups 100 per call
(`POST /group/info/batch`), member roles with 2 calls (`GET /group/info`, `GET /group/admin_list`);
at most 4 lookups run at once and at most 1,000 IDs of each kind are named per result. Answers are
cached for 60 s (roles 30 s), at most 10,000 entries, per app (endpoint + app ID + connection
pool), so tenants never share; a write that names a user or group drops their entries. A lookup
that fails leaves the names out, never fails the call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import anyio

from ..core.cache import MISSING as _MISSING
from ..core.json_values import as_array, as_object, objects
from ..core.spec import Operation, Params
from ..safety import consent, untrusted
from . import roles as reads

if TYPE_CHECKING:
    from .call import CallContext

log = logging.getLogger("lanying_mcp.engine.names")

TTL = 60.0
ROLE_TTL = 30.0
MAX_ENTRIES = 10_000
MAX_IDS = 1_000
CHUNK = 100
CONCURRENCY = 4


def _tenant(ctx: CallContext) -> tuple[Any, ...]:
    """Whose data this is: one app at one endpoint, through one server's connection pool."""
    settings = ctx.client.settings
    return (settings.endpoint, settings.app_id, id(getattr(ctx.client, "_pool", ctx.client)))


tenant = _tenant


def _ops(ctx: CallContext) -> Mapping[str, Operation]:
    """Every operation, for the look-ups made here (the context carries the catalogue; none is imported)."""
    return ctx.operations


def ids_at(structured: Any, paths: Iterable[str]) -> list[int]:
    """The distinct integer IDs found at `paths`, in order of first appearance."""
    seen: dict[int, None] = {}
    for path in paths:
        for _, _, value in untrusted.slots(structured, path):
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                seen.setdefault(value, None)
    return list(seen)


async def _gather(jobs: list[Callable[[], Coroutine[Any, Any, None]]]) -> None:
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def run(job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        async with limiter:
            try:
                await job()
            except Exception as exc:  # a lookup never fails the call: its names are left out
                log.warning("name lookup failed: %s", type(exc).__name__)

    async with anyio.create_task_group() as tg:
        for job in jobs:
            tg.start_soon(run, job)


def _user_entry(item: dict[str, Any]) -> dict[str, str]:
    """Cleaned once here, as cached, so a warm result need not clean it again."""
    return {k: untrusted.clean(item[k]) for k in ("username", "nick_name") if isinstance(item.get(k), str) and item[k]}


async def _user_chunk(ctx: CallContext, tenant: tuple[Any, ...], chunk: list[int]) -> None:
    """One `POST /roster/list`; it needs someone to act as, and any user in the chunk will do."""
    op = _ops(ctx)[reads.USERS_BY_ID]
    found: dict[int, dict[str, str]] = {}
    for actor in chunk[:2]:  # a deleted or banned actor fails the call: the next one is tried
        try:
            env = await ctx.call(op, {"as_user_id": actor, "user_ids": chunk})
        except Exception:
            continue
        for item in objects(env.data):
            if isinstance(item.get("user_id"), int):
                found[item["user_id"]] = _user_entry(item)
        break
    else:
        return  # not cached: the next call tries again
    for uid in chunk:
        ctx.cache.put(("u", tenant, uid), found.get(uid))


async def _group_chunk(ctx: CallContext, tenant: tuple[Any, ...], chunk: list[int]) -> None:
    env = await ctx.call(_ops(ctx)[reads.GROUPS_BY_ID], {"group_ids": chunk})
    found: dict[int, str] = {}
    for item in objects(env.data):
        if isinstance(item.get("group_id"), int) and isinstance(item.get("name"), str):
            found[item["group_id"]] = untrusted.clean(item["name"])
    for gid in chunk:
        ctx.cache.put(("g", tenant, gid), found.get(gid))


def _plan(kind: str, ctx: CallContext, ids: list[int], fetch: Any) -> list[Callable[[], Coroutine[Any, Any, None]]]:
    tenant = _tenant(ctx)
    missing = [i for i in ids[:MAX_IDS] if ctx.cache.get((kind, tenant, i)) is _MISSING]
    return [partial(fetch, ctx, tenant, missing[i : i + CHUNK]) for i in range(0, len(missing), CHUNK)]


def _collect(kind: str, ctx: CallContext, ids: list[int]) -> dict[int, Any]:
    tenant = _tenant(ctx)
    out: dict[int, Any] = {}
    for i in ids[:MAX_IDS]:
        value = ctx.cache.get((kind, tenant, i))
        if value is not _MISSING and value:
            out[i] = value
    return out


def known(ctx: CallContext, kind: str, ids: Iterable[int]) -> dict[int, Any]:
    """What the cache already holds for these IDs, without a request: `u` → {username, nick_name}, `g` → name."""
    return _collect(kind, ctx, list(dict.fromkeys(ids)))


def _drop(kind: str, ctx: CallContext, ids: list[int]) -> None:
    tenant = _tenant(ctx)
    for i in ids:
        ctx.cache.drop((kind, tenant, i))


async def users(ctx: CallContext, ids: Iterable[int], fresh: bool = False) -> dict[int, dict[str, str]]:
    """{user_id: {username, nick_name}} for the users that exist; unknown or failed ones are left out.

    `fresh` reads them from the API whatever the cache holds (a confirmation question names people as
    they are now), and caches what it read."""
    wanted = list(dict.fromkeys(ids))
    if fresh:
        _drop("u", ctx, wanted)
    if jobs := _plan("u", ctx, wanted, _user_chunk):
        await _gather(jobs)
    return _collect("u", ctx, wanted)


async def groups(ctx: CallContext, ids: Iterable[int], fresh: bool = False) -> dict[int, str]:
    """{group_id: name} for the groups that exist; unknown or failed ones are left out (`fresh`: as `users`)."""
    wanted = list(dict.fromkeys(ids))
    if fresh:
        _drop("g", ctx, wanted)
    if jobs := _plan("g", ctx, wanted, _group_chunk):
        await _gather(jobs)
    return _collect("g", ctx, wanted)


async def roles(ctx: CallContext, group_id: int, as_user_id: int | None = None) -> dict[int, str] | None:
    """{user_id: "owner" | "admin"} of a group (everyone else is a member), or None when unreadable."""
    key = ("r", _tenant(ctx), group_id)
    if ctx.cache.get(key) is _MISSING:
        await _gather([partial(_role_fetch, ctx, group_id, as_user_id)])
    cached = ctx.cache.get(key)
    return None if cached is _MISSING else cached


async def _role_fetch(ctx: CallContext, group_id: int, as_user_id: int | None) -> None:
    """Two calls at once: the owner from the group's info, the admins from their list."""
    ops = _ops(ctx)
    args: dict[str, Any] = {"group_id": group_id}
    if as_user_id is not None:
        args["as_user_id"] = as_user_id
    got: dict[str, Any] = {}

    async def info() -> None:
        got["info"] = (await ctx.call(ops[reads.GROUP_INFO], args)).data

    async def admins() -> None:
        got["admins"] = (await ctx.call(ops[reads.GROUP_ADMINS], args)).data

    await _gather([info, admins])
    owner = got["info"].get("owner_id") if isinstance(got.get("info"), dict) else None
    admin_rows = as_array(got.get("admins"))
    if not isinstance(owner, int) or admin_rows is None:
        return
    table: dict[int, str] = {row["user_id"]: "admin" for row in objects(admin_rows) if "user_id" in row}
    table[owner] = "owner"
    ctx.cache.put(("r", _tenant(ctx), group_id), table, ROLE_TTL)


def forget(ctx: CallContext, params: Params | None) -> None:
    """After a write: drop what it may have changed (names of the users and groups it names, roles)."""
    if params is None:
        return
    tenant = _tenant(ctx)
    for name in ("as_user_id", "user_id", "new_owner"):
        value = getattr(params, name, None)
        if isinstance(value, int):
            ctx.cache.drop(("u", tenant, value))
    for value in getattr(params, "user_ids", None) or ():
        if isinstance(value, int):
            ctx.cache.drop(("u", tenant, value))
    for value in getattr(params, "changes", None) or ():  # update_user_profiles: one entry per user
        uid = getattr(value, "user_id", None)
        if isinstance(uid, int):
            ctx.cache.drop(("u", tenant, uid))
    group_id = getattr(params, "group_id", None)
    if isinstance(group_id, int):
        ctx.cache.drop(("g", tenant, group_id))
        ctx.cache.drop(("r", tenant, group_id))


async def _add(op: Operation, structured: dict[str, Any], ctx: CallContext, params: Params | None) -> None:
    """One round of lookups for whatever the cache lacks, all at once; a warm cache makes no call.

    An ID that may be a user or a group (`IdPaths.either`) is looked up as both, and named in the
    map of what it turns out to be (user and group IDs never share a number).
    """
    assert op.ids is not None
    either = ids_at(structured, op.ids.either)
    user_ids = list(dict.fromkeys(ids_at(structured, op.ids.users) + either))
    group_ids = list(dict.fromkeys(ids_at(structured, op.ids.groups) + either))
    members = op.ids.members
    group_id = getattr(params, "group_id", None) if members else None
    jobs = _plan("u", ctx, user_ids, _user_chunk) + _plan("g", ctx, group_ids, _group_chunk)
    role_key = ("r", _tenant(ctx), group_id)
    if isinstance(group_id, int) and ctx.cache.get(role_key) is _MISSING:
        jobs.append(partial(_role_fetch, ctx, group_id, getattr(params, "as_user_id", None)))
    if jobs:
        await _gather(jobs)
    named = _unshown(structured, op.ids.users, _collect("u", ctx, user_ids))
    if named:
        structured["users"] = {str(k): v for k, v in named.items()}
    if named_groups := _collect("g", ctx, group_ids):
        structured["groups"] = {str(k): v for k, v in named_groups.items()}
    if members:
        table = ctx.cache.get(role_key) if isinstance(group_id, int) else None
        # What _role_fetch cached: {user_id: role}.
        _mark_members(structured, cast(dict[int, str], table) if isinstance(table, dict) else None)


def _unshown(
    structured: dict[str, Any], paths: Iterable[str], named: dict[int, dict[str, str]]
) -> dict[int, dict[str, str]]:
    """The map without what `data` already says: a name equal in every row that holds the ID is left out.

    `list_users` rows carry each username: its map keeps only the nicknames, and no entry at all
    for a user without one.
    """
    shown: dict[int, set[str]] = {}
    for path in paths:
        for row, _, value in untrusted.slots(structured, path):
            entry = named.get(value) if isinstance(value, int) else None
            if entry is None:
                continue
            fields = as_object(row)
            same = {k for k, v in entry.items() if fields is not None and fields.get(k) == v}
            shown[value] = shown[value] & same if value in shown else same
    out: dict[int, dict[str, str]] = {}
    for uid, entry in named.items():
        rest = {k: v for k, v in entry.items() if k not in shown.get(uid, ())}
        if rest:
            out[uid] = rest
    return out


def _mark_members(structured: dict[str, Any], table: dict[int, str] | None) -> None:
    now_ms = int(time.time() * 1000)
    for item in objects(structured.get("data")):
        if table is not None and isinstance(item.get("user_id"), int):
            item["role"] = table.get(item["user_id"], "member")
        until = item.get("expired_time")  # the member list's mute expiry (ms; -1 = until unmuted)
        if isinstance(until, int) and (until == -1 or until > now_ms):
            item["muted_until"] = until


async def enrich(
    op: Operation, structured: dict[str, Any], ctx: CallContext, params: Params | None = None
) -> dict[str, Any]:
    """The structured result with names beside its IDs (when `settings.names`) and end-user text cleaned."""
    if not op.hints.read_only:
        forget(ctx, params)
    ids = op.ids
    if ids is not None and ctx.client.settings.names and (ids.users or ids.groups or ids.either or ids.members):
        try:
            await _add(op, structured, ctx, params)
        except Exception as exc:  # names are a convenience: the call's own answer stands without them
            log.warning("names for %s left out: %s", op.name, type(exc).__name__)
    return untrusted.sanitise(op, structured)


SIZE_TTL = 10.0  # a group's member count, as read for one decision, serves the next few (gate, then call)


async def group_sizes(op: Operation, params: Params, ctx: CallContext) -> dict[int, int]:
    """{group_id: member count} of the groups a delivery names, read from the API (100 per request).

    A group whose read fails is left out: `consent.recipients` then counts it as UNBOUNDED, so the call
    asks rather than passing unasked. A group a successful read does not describe does not exist: it
    reaches nobody (0), and the call fails on its own. Counts are kept `SIZE_TTL` seconds per app.
    """
    assert op.audience is not None
    wanted = consent.group_ids(op.audience, params)[: consent.threshold(ctx.policy) + 1]  # a member each at least
    tenant = _tenant(ctx)
    out: dict[int, int] = {}
    for gid in wanted:
        hit = ctx.cache.get(("s", tenant, gid))
        if hit is not _MISSING:
            out[gid] = hit
    missing = [g for g in wanted if g not in out]
    for start in range(0, len(missing), 100):
        chunk = missing[start : start + 100]
        try:
            envelope = await ctx.call(_ops(ctx)[reads.GROUPS_BY_ID], {"group_ids": chunk})
        except Exception:  # unread: those groups count as unbounded
            continue
        out.update(dict.fromkeys(chunk, 0))  # answered, and not described: no such group
        for item in objects(envelope.data):
            gid, count = item.get("group_id"), item.get("count")
            if isinstance(gid, int) and isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                out[gid] = count
                ctx.cache.put(("s", tenant, gid), count, SIZE_TTL)
    return out
