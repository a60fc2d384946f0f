"""The change journal: one entry per write, kept in the state store, readable per app.

An entry is appended BEFORE its write is sent, with the outcome `unknown` (a crash or a cut-off call
leaves it so: the write may have been applied), and closed after it with `applied`, `failed` or
`unknown`. The close is deferred (`close_later`): it runs once the answer is on its way, so a write's
answer does not wait for it. Until then the entry reads as `unknown` to another process, which is
true; this process's own reads (`page`, `get`, `last_change`, `export`, `erase`) first wait for the
closes under way (`flush`), and the server flushes at shutdown. It holds: id, time (UTC), caller (see
identity.py; with OAuth also `who`: the token's subject, email and name), app and app_key, tool, arguments
(secrets removed by the audit log's own `redact_arguments`, then the access token masked), the
targets by kind, ID and name, the `changes` (target, field, before, after), the outcome and error,
the inverse calls, the plan it belongs to and the change it undid.

Entries live in the state store's log namespace `journal` (the SQLite file in the user's state
directory by default, shared by every server process of the user). Each entry carries tags the store
filters on: `app:<app_key>` (a reader only ever asks with its own), `tool:<name>`, `target:<id>`,
`target:<kind>:<id>`, `target:<name, case-folded>`, `user:<id>` (every user the call names), and
`plan:<id>`. Retention: entries older than `days` and beyond `max_entries` are removed, at the first
write of a process and every `TRIM_EVERY` writes after.

A journal bound to a call (`bound(caller=, app=, app_key=)`) fills those fields in itself, so a
call site passes only what the call is.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, cast

from ..core import error_text, errors
from ..core.errors import StateError
from ..core.json_values import as_object
from ..safety.redact import Redactor, redact_arguments
from .state import Record, State

log = logging.getLogger("lanying_mcp")

NS = "journal"
ENTRY_VERSION = 1  # the shape of an entry's JSON; the store's schema has its own version (state.SCHEMA_VERSION)
OUTCOMES = ("applied", "failed", "unknown")
TRIM_EVERY = 200
PAGE_BYTES = 8 * 1024  # the most one page of list_changes may hold, as JSON
DAY = 86_400.0
_USER_KEYS = ("user_id", "user_ids", "as_user_id", "from_user_id", "to_user_id", "uid", "uids", "member_ids")


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str | float | int) -> float:
    """Epoch seconds from a number or an ISO date/time (a date alone is its midnight UTC; no zone is UTC)."""
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise errors.ArgumentError(
            f"{error_text.excerpt(text)} is not a time: give an ISO date or time in UTC, e.g. 2026-07-01 or "
            "2026-07-01T09:30:00Z",
            zh=f"{error_text.excerpt(text)}不是时间:请给出ISO日期或时间(UTC),如2026-07-01或2026-07-01T09:30:00Z",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _key(value: Any) -> str:
    return str(value).strip().casefold()


def _user_ids(value: Any, key: str = "") -> set[str]:
    """The user IDs an argument tree names (under keys like user_id, user_ids, from_user_id)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, item in cast(dict[Any, Any], value).items():
            found |= _user_ids(item, str(k))
    elif isinstance(value, list):
        items = cast(list[Any], value)[:1000]
        if key in _USER_KEYS and set(map(type, items)) <= {int}:  # a list of user IDs: one pass
            found.update(str(i) for i in items if i >= 0)
            return found
        for item in items:
            found |= _user_ids(item, key)
    elif key in _USER_KEYS and isinstance(value, int | str) and not isinstance(value, bool):
        if str(value).strip().isdigit():
            found.add(str(value).strip())
    return found


def tags_of(entry: dict[str, Any]) -> set[str]:
    """What a scan may filter an entry on: its app, tool, targets (ID, kind:ID, name), users and plan."""
    tags = {f"app:{entry.get('app_key') or ''}", f"tool:{entry.get('tool')}"}
    listed: list[Any] = entry.get("targets") or []
    targets: list[dict[str, Any]] = [obj for item in listed if (obj := as_object(item)) is not None]
    made: list[Any] = entry.get("changes") or []
    for item in made:
        change = as_object(item)
        if change is not None and isinstance(change.get("target"), dict):
            targets.append(cast(dict[str, Any], change["target"]))
    for target in targets:
        kind, tid, name = target.get("kind"), target.get("id"), target.get("name")
        if tid is not None and tid != "":
            tags |= {f"target:{_key(tid)}", f"target:{kind}:{_key(tid)}"}
            if kind == "user":
                tags.add(f"user:{_key(tid)}")
        if isinstance(name, str) and name.strip():
            tags.add(f"target:{_key(name)}")
    tags |= {f"user:{u}" for u in _user_ids(entry.get("arguments"))}
    if entry.get("plan_id"):
        tags.add(f"plan:{entry['plan_id']}")
    return {t[:200] for t in tags}


def named_targets(
    targets: list[dict[str, Any]], result: dict[str, Any], arguments: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Targets completed from a write's result: the ID a create returned (named as its arguments named it),
    names from the result's name maps."""
    args = arguments or {}
    data = result.get("data")
    row = cast(dict[str, Any], data) if isinstance(data, dict) else {}
    users = as_object(result.get("users")) or {}
    groups = as_object(result.get("groups")) or {}
    out: list[dict[str, Any]] = []
    for target in targets:
        t = dict(target)
        kind = t.get("kind")
        if t.get("id") is None and isinstance(row.get(f"{kind}_id"), int | str):
            t["id"] = row[f"{kind}_id"]
            created = args.get("username" if kind == "user" else "name")
            t["name"] = t.get("name") or (created if isinstance(created, str) else None)
        if not t.get("name") and t.get("id") is not None:
            own = row.get(f"{kind}_id") == t["id"]
            if kind == "user":
                named = as_object(users.get(str(t["id"])))
                name = named.get("username") if named is not None else None
                t["name"] = name or (row.get("username") if own else None)
            elif kind == "group":
                name = groups.get(str(t["id"]))
                t["name"] = name if isinstance(name, str) else (row.get("name") if own else None)
        out.append(t)
    return out


def _entry(rec: Record) -> dict[str, Any]:
    entry = json.loads(rec.value)
    entry["time"] = iso(rec.time)
    return entry


class Journal:
    """The change journal over a state store; `bound` gives the view one call writes through."""

    def __init__(
        self,
        state: State,
        *,
        days: float = 90,
        max_entries: int = 100_000,
        redactor: Redactor | None = None,
        declared: Callable[[], frozenset[str]] = frozenset,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.declared = declared  # the arguments the catalogue declares secret (redact.secret_keys), at first use
        self.days = days
        self.max_entries = max_entries
        self.redactor = redactor
        self.clock = clock
        self.tags: dict[str, Any] = {}  # caller, app, app_key of the call this view is bound to
        self._writes = [0]  # shared by every bound view: when to trim next
        self._open: dict[str, dict[str, Any]] = {}  # entries opened here and not closed yet (shared by views)
        self._later: set[asyncio.Task[None]] = set()  # closes under way after their answers (shared by views)

    def bound(self, **tags: Any) -> Journal:
        """This journal, filling in `caller`, `app` and `app_key` for the call it is bound to."""
        view = copy.copy(self)
        view.tags = {**self.tags, **{k: v for k, v in tags.items() if v is not None}}
        return view

    @property
    def app_key(self) -> str:
        return str(self.tags.get("app_key") or "")

    def _clean(self, value: Any) -> Any:
        value = redact_arguments(value, self.declared())
        return self.redactor.clean(value) if self.redactor is not None else value

    async def open(
        self,
        *,
        tool: str,
        arguments: dict[str, Any] | None,
        targets: list[dict[str, Any]] | None = None,
        changes: list[dict[str, Any]] | None = None,
        inverse: list[dict[str, Any]] | None = None,
        plan_id: str | None = None,
        undoes: str | None = None,
        caller: str | None = None,
        app: dict[str, Any] | None = None,
        app_key: str | None = None,
    ) -> str:
        """Append the entry of a write about to be sent; its ID. JournalUnavailable when it cannot be written."""
        change_id = "ch_" + secrets.token_hex(8)
        entry: dict[str, Any] = {
            "v": ENTRY_VERSION,
            "id": change_id,
            "caller": caller if caller is not None else self.tags.get("caller"),
            "app": app if app is not None else self.tags.get("app"),
            "app_key": app_key if app_key is not None else self.app_key,
            "tool": tool,
            "arguments": self._clean(arguments or {}),
            "targets": self._clean(targets or []),
            "changes": self._clean(changes or []),
            "outcome": "unknown",  # until closed: a crash now leaves a write that may have been applied
            "error": None,
            "inverse": self._clean(inverse) if inverse else None,
            "plan_id": plan_id,
            "undoes": undoes,
        }
        if who := self.tags.get("who"):  # the OAuth principal: subject, and email and name when the token has them
            entry["who"] = who
        try:
            text = json.dumps(entry, ensure_ascii=False, default=str)
            tags = tags_of(entry)
            await self.state.append(NS, change_id, text, tags=tags)
        except (StateError, OSError, TypeError, ValueError) as exc:
            raise errors.JournalUnavailable(str(exc)) from None
        if len(self._open) < 10_000:  # closing then needs no read back (one store step, not two)
            self._open[change_id] = {"entry": entry, "tags": tags}
        self._writes[0] += 1
        if self._writes[0] % TRIM_EVERY == 1:
            await self.trim()
        return change_id

    async def close(
        self,
        change_id: str,
        *,
        outcome: str,
        changes: list[dict[str, Any]] | None = None,
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        """Record how the write ended. The write was made or tried: a failure here is logged, never raised.

        With `result` (the write's structured result), targets without an ID or a name get them from it:
        a created group's ID and name, the names shown beside IDs."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        try:
            held = self._open.pop(change_id, None)
            if held is not None:
                entry, old_tags = held["entry"], held["tags"]
            else:  # opened by another process, or before a restart
                rec = await self.state.record(NS, change_id)
                if rec is None:
                    return
                entry, old_tags = json.loads(rec.value), set(rec.tags)
            entry["outcome"] = outcome
            entry["error"] = self._clean(error) if error else None
            retag = None
            if changes is not None:
                entry["changes"] = self._clean(changes)
            if result is not None:
                entry["targets"] = self._clean(
                    named_targets(entry.get("targets") or [], result, entry.get("arguments"))
                )
            if changes is not None or result is not None:
                new_tags = tags_of(entry)
                retag = new_tags if new_tags != old_tags else None
            await self.state.amend(NS, change_id, json.dumps(entry, ensure_ascii=False, default=str), tags=retag)
        except (StateError, OSError, TypeError, ValueError) as exc:
            log.warning("the change journal could not close entry %s (%s): %s", change_id, outcome, exc)

    async def close_later(
        self,
        change_id: str,
        *,
        outcome: str,
        changes: list[dict[str, Any]] | None = None,
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        """`close`, once the answer is on its way: a task of its own on asyncio, at once on another loop.

        The write was sent before this: its entry already reads `unknown`, so a crash before the close
        leaves what is true (it may have been applied). `flush` waits for every close under way."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio (trio): no task outlives the call, so close now
            loop = None
        if loop is None:
            await self.close(change_id, outcome=outcome, changes=changes, error=error, result=result)
            return
        task = loop.create_task(self._closing(change_id, outcome=outcome, changes=changes, error=error, result=result))
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def _closing(self, change_id: str, **close: Any) -> None:
        try:
            await self.close(change_id, **close)
        except Exception:  # close logs what it expects; nothing else may escape a task nobody awaits
            log.exception("the change journal could not close entry %s", change_id)

    @property
    def pending(self) -> int:
        """Closes under way (deferred after their answers)."""
        return len(self._later)

    async def flush(self) -> None:
        """Wait until every deferred close of this process is written (before a read, and at shutdown)."""
        while self._later:
            await asyncio.wait(list(self._later))

    async def get(self, change_id: str, app_key: str) -> dict[str, Any] | None:
        """The entry, when it belongs to this app; None otherwise (another app's entry is never given)."""
        await self.flush()
        rec = await self.state.record(NS, change_id)
        if rec is None:
            return None
        entry = _entry(rec)
        return entry if entry.get("app_key") == app_key and app_key else None

    async def page(
        self,
        app_key: str,
        *,
        target: str | int | None = None,
        tool: str | None = None,
        since: str | float | None = None,
        limit: int = 20,
        cursor: str | None = None,
        max_bytes: int | None = None,
        plan: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """This app's entries, newest first, and the cursor of the next page (None on the last).

        `target` matches a target's ID or name (any case); `since` is an ISO time or epoch seconds. With
        `max_bytes`, the page stops before the entry that would take its JSON past it (at least one entry
        is given, cut to fit by `view`)."""
        if not app_key:
            return [], None
        await self.flush()
        tags = [f"app:{app_key}"]
        if target is not None and str(target).strip():
            tags.append(f"target:{_key(target)}")
        if tool:
            tags.append(f"tool:{tool}")
        if plan:
            tags.append(f"plan:{plan}")
        below: int | None = None
        if cursor:
            try:
                below = int(cursor)
            except ValueError:
                raise errors.ArgumentError(
                    "cursor is not one list_changes gave: pass back the `cursor` of the previous page, or leave it "
                    "out for the newest entries",
                    zh="cursor无效:请传回上一页返回的cursor,或不填以获取最新记录",
                ) from None
        limit = max(1, min(limit, 100))
        since_s = parse_time(since) if since is not None and since != "" else None
        recs = await self.state.scan(NS, tags=tags, since=since_s, below=below, limit=limit + 1)
        more = len(recs) > limit
        recs = recs[:limit]
        out: list[dict[str, Any]] = []
        used = 2
        for i, rec in enumerate(recs):
            entry = _entry(rec)
            if max_bytes is not None:
                entry = view(entry, max_bytes - 200)
                size = len(json.dumps(entry, ensure_ascii=False).encode()) + 1
                if out and used + size > max_bytes - 200:
                    return out, str(recs[i - 1].seq)
                used += size
            out.append(entry)
        return out, (str(recs[-1].seq) if more and recs else None)

    async def last_change(self, app_key: str, kind: str, id: Any) -> dict[str, Any] | None:  # noqa: A002
        """The newest applied entry of this app that touched this target."""
        if not app_key:
            return None
        await self.flush()
        below: int | None = None
        for _ in range(10):  # a bounded look back: 10 pages of 100 entries
            recs = await self.state.scan(
                NS, tags=[f"app:{app_key}", f"target:{kind}:{_key(id)}"], below=below, limit=100
            )
            for rec in recs:
                entry = _entry(rec)
                if entry.get("outcome") == "applied":
                    return entry
            if len(recs) < 100:
                return None
            below = recs[-1].seq
        return None

    async def export(self, *, since: str | float | None = None, app_key: str | None = None) -> AsyncIterator[str]:
        """Every entry (of one app, or all), oldest first, as JSON lines (the operator's export)."""
        await self.flush()
        since_s = parse_time(since) if since is not None and since != "" else None
        tags = [f"app:{app_key}"] if app_key else []
        below: int | None = None
        pages: list[list[Record]] = []
        while True:  # scans go newest first; collect the record places, then write oldest first
            recs = await self.state.scan(NS, tags=tags, since=since_s, below=below, limit=1000)
            if not recs:
                break
            pages.append(recs)
            below = recs[-1].seq
        for recs in reversed(pages):
            for rec in reversed(recs):
                yield json.dumps(_entry(rec), ensure_ascii=False)

    async def erase(self, *, before: str | float | None = None, user: str | int | None = None) -> int:
        """Delete the entries older than `before`, and/or those naming user `user` (a target or an argument)."""
        before_s = parse_time(before) if before is not None and before != "" else None
        tag = f"user:{_key(user)}" if user is not None and str(user).strip() else None
        if before_s is None and tag is None:
            return 0
        await self.flush()
        return await self.state.erase(NS, before=before_s, tag=tag)

    async def trim(self) -> int:
        """Apply the retention bounds now; how many entries went. A failure is logged, never raised."""
        try:
            return await self.state.trim(NS, max_items=self.max_entries, before=self.clock() - self.days * DAY)
        except StateError as exc:
            log.warning("the change journal could not be trimmed: %s", exc)
            return 0


def view(entry: dict[str, Any], max_bytes: int = PAGE_BYTES) -> dict[str, Any]:
    """An entry as list_changes shows it: no app_key (the reader's own), and cut to `max_bytes` of JSON."""
    shown = {k: v for k, v in entry.items() if k not in ("app_key", "v") and v not in (None, [], {})}
    if len(json.dumps(shown, ensure_ascii=False).encode()) <= max_bytes:
        return shown
    for key in ("arguments", "inverse"):  # the largest and least needed first
        if key in shown:
            shown[key] = "[left out: too large for one page]"
            if len(json.dumps(shown, ensure_ascii=False).encode()) <= max_bytes:
                return shown
    for key in ("changes", "targets"):
        items = shown.get(key)
        if isinstance(items, list):
            listed = cast(list[Any], items)
            while len(listed) > 1 and len(json.dumps(shown, ensure_ascii=False).encode()) > max_bytes:
                listed = listed[: len(listed) // 2]
                shown[key] = [*listed, f"... {len(cast(list[Any], items)) - len(listed)} more"]
    if len(json.dumps(shown, ensure_ascii=False).encode()) > max_bytes:
        shown = {k: shown[k] for k in ("id", "time", "tool", "outcome") if k in shown}
        shown["note"] = "entry too large to show"
    return shown
