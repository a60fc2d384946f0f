"""State that must outlive one call: one small interface, and its embedded backend.

What is kept here is keyed by a namespace (what kind of state: `results`, later journal entries, grant
nonces, rate-limit counters) and a key, and every value has a time to live. The operations are the
few such state needs, each atomic on its own:

- `put` / `get` / `delete`: a value under a key, optionally bounding the namespace (the oldest values
  go first beyond `max_items` values or `max_bytes` of text);
- `take`: read and delete in one step, so a single-use value (a nonce) is used at most once, even by
  two processes racing for it;
- `add`: store only when the key is free (issue a nonce once);
- `hit`: count an event in a fixed time window (rate limits), returning the count so far;
- `keys`: a bounded listing of the live keys of a namespace, oldest first.

Beside those short-lived values, a namespace may hold a *log*: records kept in the order they were
appended (the change journal), each with a key, a time, a text value and a few tags (short strings
such as `app:<key>` that a scan filters on). A log has no time to live: it is bounded by `trim` and
emptied by `erase`. Its operations:

- `append` a record (its key unique in the namespace), `amend` its value and tags later, `record`
  reads one by key;
- `scan`: newest first, only records carrying every tag asked for, from a time on, below a sequence
  number (paging), at most `limit`;
- `erase` by age and/or by tag, and `trim` to at most `max_items` records and none older than a time.

`SQLiteState` is the default backend: one SQLite file in the user's state directory (WAL mode, short
transactions), so two server processes of the same user see the same state, and it survives a
restart. SQLite calls run in a worker thread, never on the event loop. `MemoryState` keeps the same
contract inside one process (tests, and `:memory:`). `state_redis.RedisState` keeps it on a Redis
server shared by replicas (`LANYING_STATE_URL`); every backend passes `tests/test_state.py`.
"""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread

from ..core.errors import StateError

SCHEMA_VERSION = 2  # 1: key/values only; 2: adds the logs (tables `log` and `log_tag`)
FILE_NAME = "state.sqlite3"
MEMORY = ":memory:"
MAX_LISTED = 1000  # `keys` never returns more than this, whatever the caller asks


def default_path() -> Path:
    """The state file in the user's state directory (XDG_STATE_HOME on Linux)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("lanying-mcp")) / FILE_NAME


class State(ABC):
    """Namespaced key → text values with a time to live; every method is one atomic step."""

    @abstractmethod
    async def put(
        self, ns: str, key: str, value: str, ttl: float, *, max_items: int | None = None, max_bytes: int | None = None
    ) -> bool:
        """Store `value`, replacing any; beyond the bounds the oldest values of `ns` go first.

        False (and nothing stored) when `value` alone is larger than `max_bytes`."""

    @abstractmethod
    async def get(self, ns: str, key: str) -> str | None:
        """The live value, or None when absent or expired."""

    @abstractmethod
    async def take(self, ns: str, key: str) -> str | None:
        """The live value, deleted in the same step: of two takers, only one gets it."""

    @abstractmethod
    async def add(self, ns: str, key: str, value: str, ttl: float) -> bool:
        """Store only when no live value has this key; True when stored."""

    @abstractmethod
    async def delete(self, ns: str, key: str) -> None: ...

    @abstractmethod
    async def hit(self, ns: str, key: str, window: float) -> int:
        """Count one event for `key` in its current window of `window` seconds; the count including this one."""

    @abstractmethod
    async def keys(self, ns: str, prefix: str = "", limit: int = 100) -> list[str]:
        """Live keys of `ns` starting with `prefix`, oldest first, at most `limit` (and at most MAX_LISTED)."""

    # --- logs: ordered records without a time to live -------------------------------------------

    @abstractmethod
    async def append(self, ns: str, key: str, value: str, *, tags: Collection[str] = ()) -> Record:
        """Add a record after every other of `ns`; StateError when `key` is already there."""

    @abstractmethod
    async def amend(self, ns: str, key: str, value: str, *, tags: Collection[str] | None = None) -> bool:
        """Replace a record's value (and its tags, when given), keeping its place and time; False when absent."""

    @abstractmethod
    async def record(self, ns: str, key: str) -> Record | None:
        """The record with this key, or None."""

    @abstractmethod
    async def scan(
        self,
        ns: str,
        *,
        tags: Collection[str] = (),
        since: float | None = None,
        below: int | None = None,
        limit: int = 100,
    ) -> list[Record]:
        """Records carrying every tag in `tags`, newest first: at or after `since`, with `seq` below `below`,
        at most `limit` (and at most MAX_LISTED)."""

    @abstractmethod
    async def erase(self, ns: str, *, before: float | None = None, tag: str | None = None) -> int:
        """Delete the records older than `before` and/or carrying `tag` (both: those with both); how many.

        With neither, nothing is deleted."""

    @abstractmethod
    async def trim(self, ns: str, *, max_items: int | None = None, before: float | None = None) -> int:
        """Delete the oldest records beyond `max_items`, and those older than `before`; how many."""

    async def ping(self) -> None:
        """Raise StateError unless the store can be used now (readiness)."""
        await self.get("ping", "ping")

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Record:
    """One log record: its place in the log (`seq`, growing), key, time appended (epoch seconds), value."""

    seq: int
    key: str
    time: float
    value: str
    tags: frozenset[str] = field(default_factory=frozenset[str])


@dataclass
class _Row:
    value: str
    expires: float
    created: float
    seq: int


class MemoryState(State):
    """The contract inside one process: nothing outlives it."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._rows: dict[tuple[str, str], _Row] = {}
        self._logs: dict[str, dict[str, Record]] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def _live(self, ns: str, key: str) -> _Row | None:
        row = self._rows.get((ns, key))
        if row is not None and row.expires <= self.clock():
            del self._rows[(ns, key)]
            return None
        return row

    def _purge(self, ns: str) -> None:
        now = self.clock()
        for k in [k for k, row in self._rows.items() if k[0] == ns and row.expires <= now]:
            del self._rows[k]

    def _insert(self, ns: str, key: str, value: str, ttl: float) -> None:
        self._seq += 1
        now = self.clock()
        self._rows[(ns, key)] = _Row(value, now + ttl, now, self._seq)

    async def put(
        self, ns: str, key: str, value: str, ttl: float, *, max_items: int | None = None, max_bytes: int | None = None
    ) -> bool:
        size = len(value.encode())
        if max_bytes is not None and size > max_bytes:
            return False
        with self._lock:
            self._purge(ns)
            self._rows.pop((ns, key), None)
            rows = sorted(((k, r) for k, r in self._rows.items() if k[0] == ns), key=lambda kr: kr[1].seq)
            count, total = len(rows), sum(len(r.value.encode()) for _, r in rows)
            for k, row in rows:
                if (max_items is None or count < max_items) and (max_bytes is None or total + size <= max_bytes):
                    break
                del self._rows[k]
                count, total = count - 1, total - len(row.value.encode())
            self._insert(ns, key, value, ttl)
        return True

    async def get(self, ns: str, key: str) -> str | None:
        with self._lock:
            row = self._live(ns, key)
            return row.value if row is not None else None

    async def take(self, ns: str, key: str) -> str | None:
        with self._lock:
            row = self._live(ns, key)
            if row is None:
                return None
            del self._rows[(ns, key)]
            return row.value

    async def add(self, ns: str, key: str, value: str, ttl: float) -> bool:
        with self._lock:
            if self._live(ns, key) is not None:
                return False
            self._insert(ns, key, value, ttl)
            return True

    async def delete(self, ns: str, key: str) -> None:
        with self._lock:
            self._rows.pop((ns, key), None)

    async def hit(self, ns: str, key: str, window: float) -> int:
        with self._lock:
            row = self._live(ns, key)
            if row is None:
                self._insert(ns, key, "1", window)
                return 1
            row.value = str(int(row.value) + 1)
            return int(row.value)

    async def keys(self, ns: str, prefix: str = "", limit: int = 100) -> list[str]:
        with self._lock:
            self._purge(ns)
            rows = sorted(
                ((k[1], r.seq) for k, r in self._rows.items() if k[0] == ns and k[1].startswith(prefix)),
                key=lambda kr: kr[1],
            )
            return [k for k, _ in rows[: max(0, min(limit, MAX_LISTED))]]

    async def append(self, ns: str, key: str, value: str, *, tags: Collection[str] = ()) -> Record:
        with self._lock:
            log = self._logs.setdefault(ns, {})
            if key in log:
                raise StateError(f"a record with key {key!r} is already in {ns}")
            self._seq += 1
            rec = Record(self._seq, key, self.clock(), value, frozenset(tags))
            log[key] = rec
            return rec

    async def amend(self, ns: str, key: str, value: str, *, tags: Collection[str] | None = None) -> bool:
        with self._lock:
            log = self._logs.get(ns, {})
            rec = log.get(key)
            if rec is None:
                return False
            log[key] = Record(rec.seq, key, rec.time, value, rec.tags if tags is None else frozenset(tags))
            return True

    async def record(self, ns: str, key: str) -> Record | None:
        with self._lock:
            return self._logs.get(ns, {}).get(key)

    async def scan(
        self,
        ns: str,
        *,
        tags: Collection[str] = (),
        since: float | None = None,
        below: int | None = None,
        limit: int = 100,
    ) -> list[Record]:
        wanted = frozenset(tags)
        limit = max(0, min(limit, MAX_LISTED))
        with self._lock:
            found = [
                r
                for r in self._logs.get(ns, {}).values()
                if wanted <= r.tags and (since is None or r.time >= since) and (below is None or r.seq < below)
            ]
        found.sort(key=lambda r: r.seq, reverse=True)
        return found[:limit]

    async def erase(self, ns: str, *, before: float | None = None, tag: str | None = None) -> int:
        if before is None and tag is None:
            return 0
        with self._lock:
            log = self._logs.get(ns, {})
            gone = [k for k, r in log.items() if (before is None or r.time < before) and (tag is None or tag in r.tags)]
            for k in gone:
                del log[k]
            return len(gone)

    async def trim(self, ns: str, *, max_items: int | None = None, before: float | None = None) -> int:
        with self._lock:
            log = self._logs.get(ns, {})
            ordered = sorted(log.values(), key=lambda r: r.seq)
            excess = max(0, len(ordered) - max_items) if max_items is not None else 0
            gone = [r.key for i, r in enumerate(ordered) if i < excess or (before is not None and r.time < before)]
            for k in gone:
                del log[k]
            return len(gone)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (ns, key)
);
CREATE INDEX IF NOT EXISTS kv_age ON kv (ns, created);
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires);
"""

# Schema 2: the logs. A record's tags live in their own table, one row per tag, so a scan for a tag
# (an app's entries, a target's, a user's) reads that tag's rows only, newest first.
_LOGS = """
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    time REAL NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (ns, key)
);
CREATE INDEX IF NOT EXISTS log_time ON log (ns, time);
CREATE TABLE IF NOT EXISTS log_tag (
    ns TEXT NOT NULL,
    tag TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (ns, tag, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_tag_seq ON log_tag (seq);
"""

# What turns a file of one schema version into the next, in order: MIGRATIONS[v] upgrades v to v + 1.
MIGRATIONS: dict[int, str] = {1: _LOGS}


class _Contended(Exception):
    """Opening the state file met another connection's lock at a moment the busy wait does not cover."""


class SQLiteState(State):
    """The embedded backend: one SQLite file (WAL), shared by every server process of the user.

    The file is opened at first use, so a server that never keeps state never creates it. Its folder
    is created private (0700) and the file is readable by its owner only (0600): results hold app data.
    """

    def __init__(
        self, path: str | Path | Callable[[], Path], clock: Callable[[], float] = time.time, busy_timeout: float = 10.0
    ) -> None:
        # A function (default_path) is asked at first use: finding the user's state folder imports platformdirs,
        # which a server that never keeps state, or not yet, need not pay for at start-up.
        self._path: str | Callable[[], Path] = path if callable(path) else str(path)
        self.clock = clock
        self.busy_timeout = busy_timeout
        self._db: Any = None
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        if not isinstance(self._path, str):
            self._path = str(self._path())
        return self._path

    def _connect(self) -> Any:
        """The connection, opened at first use (in a worker thread). Two processes opening a new file at the
        same instant can see "database is locked" while one of them turns on WAL or writes the schema, a
        moment SQLite's busy wait does not cover: that is retried until `busy_timeout` has passed."""

        if self._db is not None:
            return self._db
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                return self._open()
            except _Contended:
                if time.monotonic() >= deadline:
                    raise StateError(f"cannot use the state file {self.path}: it stayed locked") from None
                time.sleep(0.02)

    def _open(self) -> Any:
        import sqlite3

        db: Any = None
        try:
            if self.path != MEMORY:
                folder = Path(self.path).parent
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                os.close(fd)
            db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
            if self.path != MEMORY:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._migrate(db)
        except sqlite3.OperationalError as exc:
            if db is not None:
                db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise _Contended from None
            raise StateError(f"cannot use the state file {self.path}: {exc}") from None
        except (OSError, sqlite3.Error) as exc:
            if db is not None:
                db.close()
            raise StateError(f"cannot use the state file {self.path}: {exc}") from None
        self._db = db
        return db

    def _migrate(self, db: Any) -> None:
        """Bring the file to SCHEMA_VERSION, one step at a time, each in one transaction (another process
        opening the same file at the same moment waits, then finds it done)."""
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            version = SCHEMA_VERSION if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"the state file {self.path} was written by a newer lanying-mcp (schema {version}); "
                    "upgrade, or point LANYING_STATE_FILE at another file"
                )
            if row is None:  # a new file: everything at once
                for step in sorted(MIGRATIONS):
                    _script(db, MIGRATIONS[step])
            else:
                while version < SCHEMA_VERSION:
                    _script(db, MIGRATIONS[version])
                    version += 1
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except BaseException:
            db.execute("ROLLBACK")
            db.close()
            raise
        db.execute("COMMIT")

    async def _run(self, fn: Callable[..., Any], *args: Any, quick: bool = False) -> Any:
        """`fn(db, *args)` under the store's lock, in a worker thread. `quick` steps (one short statement or
        transaction: a log record appended, amended or read) first try at once, see `_at_once`."""

        def work() -> Any:
            import sqlite3

            with self._lock:
                db = self._connect()
                try:
                    return fn(db, *args)
                except sqlite3.Error as exc:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise StateError(f"the state file {self.path} failed: {exc}") from None

        if quick and self._db is not None:
            done, value = self._at_once(fn, *args)
            if done:
                return value
        return await anyio.to_thread.run_sync(work)

    def _at_once(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """Run a short step right here, when the file is free this instant: (True, its value). (False, None)
        when the store is in use by another task, or the file is locked by another process: the caller then
        waits for it in a worker thread, never on the event loop."""
        import sqlite3

        if not self._lock.acquire(blocking=False):
            return False, None
        db = self._db
        try:
            db.execute("PRAGMA busy_timeout = 0")
            try:
                return True, fn(db, *args)
            except sqlite3.OperationalError as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if "locked" in str(exc) or "busy" in str(exc):
                    return False, None
                raise StateError(f"the state file {self.path} failed: {exc}") from None
            except sqlite3.Error as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise StateError(f"the state file {self.path} failed: {exc}") from None
            finally:
                db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        finally:
            self._lock.release()

    def _tx(self, db: Any, body: Callable[[], Any]) -> Any:
        db.execute("BEGIN IMMEDIATE")
        try:
            out = body()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return out

    async def put(
        self, ns: str, key: str, value: str, ttl: float, *, max_items: int | None = None, max_bytes: int | None = None
    ) -> bool:
        size = len(value.encode())
        if max_bytes is not None and size > max_bytes:
            return False
        now = self.clock()

        def body(db: Any) -> bool:
            def step() -> bool:
                db.execute("DELETE FROM kv WHERE ns = ? AND (expires <= ? OR key = ?)", (ns, now, key))
                if max_items is not None or max_bytes is not None:
                    count, total = db.execute(
                        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM kv WHERE ns = ?", (ns,)
                    ).fetchone()
                    gone: list[str] = []
                    for old, old_size in db.execute(
                        "SELECT key, size FROM kv WHERE ns = ? ORDER BY created, rowid", (ns,)
                    ):
                        if (max_items is None or count < max_items) and (
                            max_bytes is None or total + size <= max_bytes
                        ):
                            break
                        gone.append(old)
                        count, total = count - 1, total - old_size
                    db.executemany("DELETE FROM kv WHERE ns = ? AND key = ?", [(ns, k) for k in gone])
                db.execute("INSERT INTO kv VALUES (?, ?, ?, ?, ?, ?)", (ns, key, value, size, now, now + ttl))
                return True

            return self._tx(db, step)

        return await self._run(body)

    async def get(self, ns: str, key: str) -> str | None:
        now = self.clock()

        def body(db: Any) -> str | None:
            row = db.execute("SELECT value FROM kv WHERE ns = ? AND key = ? AND expires > ?", (ns, key, now)).fetchone()
            return row[0] if row else None

        return await self._run(body)

    async def take(self, ns: str, key: str) -> str | None:
        now = self.clock()

        def body(db: Any) -> str | None:
            row = db.execute("DELETE FROM kv WHERE ns = ? AND key = ? RETURNING value, expires", (ns, key)).fetchone()
            return row[0] if row and row[1] > now else None

        return await self._run(body)

    async def add(self, ns: str, key: str, value: str, ttl: float) -> bool:
        now = self.clock()

        def body(db: Any) -> bool:
            def step() -> bool:
                db.execute("DELETE FROM kv WHERE ns = ? AND key = ? AND expires <= ?", (ns, key, now))
                cur = db.execute(
                    "INSERT OR IGNORE INTO kv VALUES (?, ?, ?, ?, ?, ?)",
                    (ns, key, value, len(value.encode()), now, now + ttl),
                )
                return cur.rowcount == 1

            return self._tx(db, step)

        return await self._run(body)

    async def delete(self, ns: str, key: str) -> None:
        def body(db: Any) -> None:
            db.execute("DELETE FROM kv WHERE ns = ? AND key = ?", (ns, key))

        await self._run(body)

    async def hit(self, ns: str, key: str, window: float) -> int:
        now = self.clock()

        def body(db: Any) -> int:
            row = db.execute(
                "INSERT INTO kv VALUES (?, ?, '1', 1, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET "
                "value = CASE WHEN expires <= ? THEN '1' ELSE CAST(CAST(value AS INTEGER) + 1 AS TEXT) END, "
                "created = CASE WHEN expires <= ? THEN ? ELSE created END, "
                "expires = CASE WHEN expires <= ? THEN ? ELSE expires END "
                "RETURNING value",
                (ns, key, now, now + window, now, now, now, now, now + window),
            ).fetchone()
            return int(row[0])

        return await self._run(body)

    async def keys(self, ns: str, prefix: str = "", limit: int = 100) -> list[str]:
        now = self.clock()
        limit = max(0, min(limit, MAX_LISTED))

        def body(db: Any) -> list[str]:
            rows = db.execute(
                "SELECT key FROM kv WHERE ns = ? AND expires > ? AND substr(key, 1, ?) = ? "
                "ORDER BY created, rowid LIMIT ?",
                (ns, now, len(prefix), prefix, limit),
            ).fetchall()
            return [r[0] for r in rows]

        return await self._run(body)

    async def append(self, ns: str, key: str, value: str, *, tags: Collection[str] = ()) -> Record:
        now = self.clock()
        tagged = frozenset(tags)

        def body(db: Any) -> Record:
            import sqlite3

            def step() -> Record:
                try:
                    seq = db.execute(
                        "INSERT INTO log (ns, key, time, value) VALUES (?, ?, ?, ?) RETURNING seq",
                        (ns, key, now, value),
                    ).fetchone()[0]
                except sqlite3.IntegrityError:
                    raise StateError(f"a record with key {key!r} is already in {ns}") from None
                db.executemany("INSERT OR IGNORE INTO log_tag VALUES (?, ?, ?)", [(ns, t, seq) for t in tagged])
                return Record(seq, key, now, value, tagged)

            return self._tx(db, step)

        return await self._run(body, quick=True)

    async def amend(self, ns: str, key: str, value: str, *, tags: Collection[str] | None = None) -> bool:
        def body(db: Any) -> bool:
            def step() -> bool:
                row = db.execute(
                    "UPDATE log SET value = ? WHERE ns = ? AND key = ? RETURNING seq", (value, ns, key)
                ).fetchone()
                if row is None:
                    return False
                if tags is not None:  # only the tags that differ are written (a bulk write's entry has 1,000)
                    seq, new = row[0], set(tags)
                    old = {t for (t,) in db.execute("SELECT tag FROM log_tag WHERE seq = ?", (seq,))}
                    db.executemany(
                        "DELETE FROM log_tag WHERE ns = ? AND tag = ? AND seq = ?", [(ns, t, seq) for t in old - new]
                    )
                    db.executemany("INSERT OR IGNORE INTO log_tag VALUES (?, ?, ?)", [(ns, t, seq) for t in new - old])
                return True

            return self._tx(db, step)

        return await self._run(body, quick=True)

    async def record(self, ns: str, key: str) -> Record | None:
        def body(db: Any) -> Record | None:
            row = db.execute("SELECT seq, key, time, value FROM log WHERE ns = ? AND key = ?", (ns, key)).fetchone()
            return _record(db, row) if row else None

        return await self._run(body, quick=True)

    async def scan(
        self,
        ns: str,
        *,
        tags: Collection[str] = (),
        since: float | None = None,
        below: int | None = None,
        limit: int = 100,
    ) -> list[Record]:
        limit = max(0, min(limit, MAX_LISTED))
        wanted = sorted(set(tags))

        def body(db: Any) -> list[Record]:
            where = ["l.ns = ?"]
            args: list[Any] = [ns]
            if since is not None:
                where.append("l.time >= ?")
                args.append(since)
            if below is not None:
                where.append("l.seq < ?")
                args.append(below)
            for tag in wanted:  # each tag: an indexed look-up of (ns, tag, seq)
                where.append("EXISTS (SELECT 1 FROM log_tag t WHERE t.ns = l.ns AND t.tag = ? AND t.seq = l.seq)")
                args.append(tag)
            rows = db.execute(
                f"SELECT l.seq, l.key, l.time, l.value FROM log l WHERE {' AND '.join(where)} "
                "ORDER BY l.seq DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
            return [_record(db, row) for row in rows]

        return await self._run(body)

    async def erase(self, ns: str, *, before: float | None = None, tag: str | None = None) -> int:
        if before is None and tag is None:
            return 0

        def body(db: Any) -> int:
            where: list[str] = ["ns = ?"]
            args: list[Any] = [ns]
            if before is not None:
                where.append("time < ?")
                args.append(before)
            if tag is not None:
                where.append("seq IN (SELECT seq FROM log_tag WHERE ns = ? AND tag = ?)")
                args += [ns, tag]
            return self._tx(db, lambda: _delete(db, " AND ".join(where), args))

        return await self._run(body)

    async def trim(self, ns: str, *, max_items: int | None = None, before: float | None = None) -> int:
        def body(db: Any) -> int:
            def step() -> int:
                gone = 0
                if before is not None:
                    gone += _delete(db, "ns = ? AND time < ?", [ns, before])
                if max_items is not None:
                    # The newest kept record's place; everything before it goes.
                    row = db.execute(
                        "SELECT seq FROM log WHERE ns = ? ORDER BY seq DESC LIMIT 1 OFFSET ?", (ns, max(0, max_items))
                    ).fetchone()
                    if row is not None:
                        gone += _delete(db, "ns = ? AND seq <= ?", [ns, row[0]])
                return gone

            return self._tx(db, step)

        return await self._run(body)

    async def close(self) -> None:
        def body() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await anyio.to_thread.run_sync(body)


def _script(db: Any, script: str) -> None:
    """Run a migration's statements inside the caller's transaction (executescript would commit it)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _record(db: Any, row: Any) -> Record:
    tags = frozenset(t for (t,) in db.execute("SELECT tag FROM log_tag WHERE seq = ?", (row[0],)))
    return Record(row[0], row[1], row[2], row[3], tags)


def _delete(db: Any, where: str, args: list[Any]) -> int:
    """Delete the log records matching `where`, and their tags."""
    seqs = [(seq,) for (seq,) in db.execute(f"SELECT seq FROM log WHERE {where}", args)]
    db.executemany("DELETE FROM log_tag WHERE seq = ?", seqs)
    db.executemany("DELETE FROM log WHERE seq = ?", seqs)
    return len(seqs)
