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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread

SCHEMA_VERSION = 1
FILE_NAME = "state.sqlite3"
MEMORY = ":memory:"
MAX_LISTED = 1000  # `keys` never returns more than this, whatever the caller asks


class StateError(RuntimeError):
    """The state store cannot be used (unreadable file, a newer schema); the message says what to do."""


def default_path() -> Path:
    """The state file in the user's state directory (XDG_STATE_HOME on Linux)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("lanying-mcp")) / FILE_NAME


def open_state(setting: str = "", url: str = "") -> State:
    """The store a server uses: a Redis server when `url` is set (shared by replicas), else the setting's
    path, `:memory:` for this process only, or the default file."""
    if url.strip():
        from .state_redis import RedisState

        return RedisState(url.strip())
    if setting.strip() == MEMORY:
        return MemoryState()
    return SQLiteState(Path(setting).expanduser() if setting.strip() else default_path())


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

    async def ping(self) -> None:
        """Raise StateError unless the store can be used now (readiness)."""
        await self.get("ping", "ping")

    async def close(self) -> None:
        return None


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


class SQLiteState(State):
    """The embedded backend: one SQLite file (WAL), shared by every server process of the user.

    The file is opened at first use, so a server that never keeps state never creates it. Its folder
    is created private (0700) and the file is readable by its owner only (0600): results hold app data.
    """

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time, busy_timeout: float = 10.0) -> None:
        self.path = str(path)
        self.clock = clock
        self.busy_timeout = busy_timeout
        self._db: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        import sqlite3

        if self._db is not None:
            return self._db
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
            row = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is None:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                db.close()
                raise StateError(
                    f"the state file {self.path} was written by a newer lanying-mcp (schema {row[0]}); "
                    "upgrade, or point LANYING_STATE_FILE at another file"
                )
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot use the state file {self.path}: {exc}") from None
        self._db = db
        return db

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
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

        return await anyio.to_thread.run_sync(work)

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

    async def close(self) -> None:
        def body() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await anyio.to_thread.run_sync(body)
