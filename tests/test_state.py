"""The state store's contract, run against every backend; then what only the SQLite file promises.

A backend joins `BACKENDS` with a factory that returns a fresh, empty store and a way to move its
clock forward (a backend with its own clock may sleep instead); every contract test then runs on it.
The Redis backend runs against a real `redis-server` on loopback (`tests/redis_server.py`), each test
under its own key prefix; its clock is the test's, passed to the server's scripts.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from lanying_mcp.engine.state import (
    MAX_LISTED,
    SCHEMA_VERSION,
    MemoryState,
    SQLiteState,
    State,
    StateError,
    default_path,
)
from lanying_mcp.engine.state_redis import RedisState
from lanying_mcp.engine.stores import open_state
from tests.redis_server import RedisServer, unique_prefix


@dataclass
class Backend:
    state: State
    advance: Callable[[float], None]


def _clocked(make: Callable[[Callable[[], float]], State]) -> Backend:
    now = [1_000_000.0]

    def advance(seconds: float) -> None:
        now[0] += seconds

    return Backend(make(lambda: now[0]), advance)


def _redis(request: pytest.FixtureRequest) -> Backend:
    server: RedisServer = request.getfixturevalue("redis_server")  # started only when a Redis test runs
    return _clocked(lambda clock: RedisState(server.url, clock=clock, prefix=unique_prefix()))


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Backend]] = {
    "memory": lambda request, tmp: _clocked(lambda clock: MemoryState(clock=clock)),
    "sqlite-memory": lambda request, tmp: _clocked(lambda clock: SQLiteState(":memory:", clock=clock)),
    "sqlite-file": lambda request, tmp: _clocked(lambda clock: SQLiteState(tmp / "state.sqlite3", clock=clock)),
    "redis": lambda request, tmp: _redis(request),
}


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request, tmp_path) -> AsyncIterator[Backend]:
    made = BACKENDS[request.param](request, tmp_path)
    yield made
    await made.state.close()


# --- the contract ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_put_get_delete_and_namespaces_are_apart(backend: Backend):
    s = backend.state
    assert await s.get("a", "k") is None
    assert await s.put("a", "k", "one", ttl=60)
    assert await s.get("a", "k") == "one"
    assert await s.get("b", "k") is None  # another namespace
    assert await s.put("a", "k", "two", ttl=60)  # replaces
    assert await s.get("a", "k") == "two"
    await s.delete("a", "k")
    assert await s.get("a", "k") is None
    await s.delete("a", "never-there")  # deleting nothing is not an error


@pytest.mark.anyio
async def test_values_are_text_of_any_kind(backend: Backend):
    text = "名字 \x00 \U0001f600 " + "x" * 100_000
    await backend.state.put("a", "k/with:odd chars%_", text, ttl=60)
    assert await backend.state.get("a", "k/with:odd chars%_") == text


@pytest.mark.anyio
async def test_values_expire(backend: Backend):
    s = backend.state
    await s.put("a", "short", "x", ttl=10)
    await s.put("a", "long", "y", ttl=100)
    backend.advance(11)
    assert await s.get("a", "short") is None
    assert await s.get("a", "long") == "y"
    assert await s.keys("a") == ["long"]


@pytest.mark.anyio
async def test_a_bounded_namespace_drops_its_oldest_first(backend: Backend):
    s = backend.state
    for i in range(3):
        assert await s.put("r", f"k{i}", "x" * 10, ttl=60, max_items=2, max_bytes=100)
        backend.advance(1)
    assert await s.keys("r") == ["k1", "k2"]  # the oldest went
    assert await s.put("r", "big", "y" * 90, ttl=60, max_items=10, max_bytes=100)
    assert await s.keys("r") == ["k2", "big"]  # bytes: the oldest go until it fits (10 + 90 = 100)
    assert not await s.put("r", "huge", "z" * 101, ttl=60, max_bytes=100)  # alone larger than the bound
    assert await s.get("r", "huge") is None and await s.keys("r") == ["k2", "big"]
    assert await s.put("other", "k", "w" * 100, ttl=60, max_bytes=100)  # bounds are per namespace
    assert await s.get("r", "big") == "y" * 90


@pytest.mark.anyio
async def test_take_gives_a_value_once_even_to_racing_takers(backend: Backend):
    s = backend.state
    await s.put("nonce", "n1", "grant", ttl=60)
    got: list[str | None] = []

    async def taker() -> None:
        got.append(await s.take("nonce", "n1"))

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(taker)
    assert got.count("grant") == 1 and got.count(None) == 19
    assert await s.get("nonce", "n1") is None
    await s.put("nonce", "n2", "old", ttl=5)
    backend.advance(6)
    assert await s.take("nonce", "n2") is None  # expired: nothing to take


@pytest.mark.anyio
async def test_add_stores_only_when_the_key_is_free(backend: Backend):
    s = backend.state
    assert await s.add("nonce", "n", "first", ttl=10)
    assert not await s.add("nonce", "n", "second", ttl=10)
    assert await s.get("nonce", "n") == "first"
    backend.advance(11)
    assert await s.add("nonce", "n", "third", ttl=10)  # the old one expired
    assert await s.get("nonce", "n") == "third"


@pytest.mark.anyio
async def test_hit_counts_within_a_window_then_starts_again(backend: Backend):
    s = backend.state
    assert [await s.hit("rate", "caller-a", window=60) for _ in range(3)] == [1, 2, 3]
    assert await s.hit("rate", "caller-b", window=60) == 1  # counters are per key
    backend.advance(30)
    assert await s.hit("rate", "caller-a", window=60) == 4  # same window
    backend.advance(31)
    assert await s.hit("rate", "caller-a", window=60) == 1  # a new window


@pytest.mark.anyio
async def test_hits_from_racing_tasks_are_all_counted(backend: Backend):
    async def one() -> None:
        await backend.state.hit("rate", "k", window=60)

    async with anyio.create_task_group() as tg:
        for _ in range(25):
            tg.start_soon(one)
    assert await backend.state.hit("rate", "k", window=60) == 26


@pytest.mark.anyio
async def test_keys_lists_live_keys_by_prefix_oldest_first_and_bounded(backend: Backend):
    s = backend.state
    for key in ("u1/a", "u2/b", "u1/c", "u1%x", "U1/d"):
        await s.put("ns", key, "v", ttl=60)
        backend.advance(1)
    assert await s.keys("ns", "u1/") == ["u1/a", "u1/c"]  # a prefix is literal and case-sensitive
    assert await s.keys("ns", "u1%") == ["u1%x"]
    assert await s.keys("ns", limit=2) == ["u1/a", "u2/b"]
    assert await s.keys("ns", limit=-1) == []
    for i in range(MAX_LISTED + 5):
        await s.put("many", f"k{i:05d}", "v", ttl=60)
    assert len(await s.keys("many", limit=10**6)) == MAX_LISTED


@pytest.mark.anyio
async def test_a_log_appends_in_order_and_amends_in_place(backend: Backend):
    s = backend.state
    first = await s.append("log", "c1", "名字 one", tags=("app:a", "user:1"))
    backend.advance(1)
    second = await s.append("log", "c2", "two", tags=())
    assert second.seq > first.seq and second.time == first.time + 1
    assert await s.record("log", "c1") == first
    assert first.tags == frozenset({"app:a", "user:1"}) and first.value == "名字 one"
    with pytest.raises(StateError, match="already"):
        await s.append("log", "c1", "again")
    assert await s.amend("log", "c1", "one, done")
    got = await s.record("log", "c1")
    assert got is not None and (got.seq, got.time, got.value, got.tags) == (
        first.seq,
        first.time,
        "one, done",
        first.tags,
    )
    assert await s.amend("log", "c2", "two, tagged", tags=("app:b",))
    assert [r.key for r in await s.scan("log", tags=("app:b",))] == ["c2"]
    assert await s.amend("log", "c2", "two, untagged", tags=())
    assert await s.scan("log", tags=("app:b",)) == []
    assert not await s.amend("log", "missing", "x")
    assert await s.record("log", "missing") is None
    assert await s.record("other", "c1") is None  # logs are per namespace
    assert await s.get("log", "c1") is None  # and apart from the values


@pytest.mark.anyio
async def test_a_log_scan_filters_and_pages_newest_first(backend: Backend):
    s = backend.state
    for i in range(6):
        await s.append("log", f"c{i}", f"v{i}", tags=(f"app:{i % 2}", "all") + (("odd3",) if i % 3 == 0 else ()))
        backend.advance(10)
    assert [r.key for r in await s.scan("log")] == ["c5", "c4", "c3", "c2", "c1", "c0"]
    assert [r.key for r in await s.scan("log", tags=("app:1",))] == ["c5", "c3", "c1"]
    assert [r.key for r in await s.scan("log", tags=("app:1", "odd3"))] == ["c3"]  # every tag asked for
    assert await s.scan("log", tags=("app:9",)) == []
    start = (await s.record("log", "c0")).time  # type: ignore[union-attr]
    assert [r.key for r in await s.scan("log", since=start + 20)] == ["c5", "c4", "c3", "c2"]
    page = await s.scan("log", limit=2)
    assert [r.key for r in page] == ["c5", "c4"]
    assert [r.key for r in await s.scan("log", below=page[-1].seq, limit=2)] == ["c3", "c2"]
    assert await s.scan("log", limit=0) == [] and await s.scan("log", limit=-3) == []
    for i in range(MAX_LISTED + 2):
        await s.append("big", f"k{i}", "v", tags=("t",))
    assert len(await s.scan("big", limit=10**6)) == MAX_LISTED
    assert len(await s.scan("big", tags=("t",), limit=10**6)) == MAX_LISTED


@pytest.mark.anyio
async def test_a_log_is_erased_by_age_or_tag_and_trimmed(backend: Backend):
    s = backend.state
    for i in range(6):
        await s.append("log", f"c{i}", "v", tags=("user:a",) if i % 2 else ("user:b",))
        backend.advance(10)
    start = (await s.record("log", "c0")).time  # type: ignore[union-attr]
    assert await s.erase("log") == 0  # neither an age nor a tag: nothing
    assert await s.erase("log", tag="user:a", before=start + 35) == 2  # c1, c3: both conditions
    assert [r.key for r in await s.scan("log")] == ["c5", "c4", "c2", "c0"]
    assert await s.erase("log", tag="user:b") == 3
    assert [r.key for r in await s.scan("log")] == ["c5"]
    assert await s.scan("log", tags=("user:b",)) == []
    for i in range(6, 10):
        await s.append("log", f"c{i}", "v", tags=("user:c",))
        backend.advance(10)
    assert await s.erase("log", before=start + 65) == 2  # c5, c6
    assert [r.key for r in await s.scan("log")] == ["c9", "c8", "c7"]
    assert await s.trim("log", max_items=2) == 1
    assert [r.key for r in await s.scan("log")] == ["c9", "c8"]
    assert await s.trim("log", before=start + 85) == 1
    assert [r.key for r in await s.scan("log")] == ["c9"]
    assert await s.trim("log", max_items=0) == 1 and await s.scan("log") == []
    assert await s.trim("log", max_items=5) == 0 and await s.trim("log") == 0
    later = await s.append("log", "c10", "v")
    assert later.seq > 0 and await s.record("log", "c0") is None  # an erased key is gone for good
    assert (await s.append("log", "c1", "reused key")).seq > later.seq  # a key may come back, at the end


# --- the embedded file ---------------------------------------------------------------------------


# --- logs: ordered records without a time to live -------------------------------------------------


@pytest.mark.anyio
async def test_a_log_keeps_records_in_order_by_key_and_amends_them_in_place(backend: Backend):
    s = backend.state
    first = await s.append("log", "a", "one", tags=["app:x", "tool:t"])
    backend.advance(1)
    second = await s.append("log", "b", "two 名字", tags=["app:y"])
    assert second.seq > first.seq and second.time > first.time
    got = await s.record("log", "a")
    assert got is not None and (got.value, got.tags) == ("one", frozenset({"app:x", "tool:t"}))
    assert await s.record("log", "zzz") is None
    assert await s.record("other-log", "a") is None  # namespaces are apart
    with pytest.raises(StateError, match="already"):
        await s.append("log", "a", "again")
    assert await s.amend("log", "a", "one, closed")
    amended = await s.record("log", "a")
    assert amended is not None
    assert (amended.seq, amended.time, amended.value, amended.tags) == (
        first.seq,
        first.time,
        "one, closed",
        first.tags,
    )
    assert await s.amend("log", "a", "retagged", tags=["app:z"])
    assert [r.key for r in await s.scan("log", tags=["app:z"])] == ["a"]
    assert await s.scan("log", tags=["app:x"]) == []
    assert not await s.amend("log", "missing", "x")
    backend.advance(10 * 365 * 86400)  # no time to live: a log record stays until trimmed or erased
    assert await s.record("log", "b") is not None


@pytest.mark.anyio
async def test_a_log_scan_filters_by_every_tag_time_and_place_newest_first(backend: Backend):
    s = backend.state
    for i in range(12):
        await s.append("log", f"k{i}", f"v{i}", tags=[f"app:{'a' if i % 2 else 'b'}", f"n:{i % 3}"])
        backend.advance(10)
    everything = await s.scan("log")
    assert [r.key for r in everything] == [f"k{i}" for i in reversed(range(12))]
    assert [r.key for r in await s.scan("log", tags=["app:a"])] == ["k11", "k9", "k7", "k5", "k3", "k1"]
    assert [r.key for r in await s.scan("log", tags=["app:a", "n:0"])] == ["k9", "k3"]
    assert await s.scan("log", tags=["app:a", "nope"]) == []
    since = everything[3].time  # k8
    assert [r.key for r in await s.scan("log", since=since)] == ["k11", "k10", "k9", "k8"]
    page = await s.scan("log", tags=["app:a"], limit=2)
    assert [r.key for r in page] == ["k11", "k9"]
    rest = await s.scan("log", tags=["app:a"], below=page[-1].seq, limit=100)
    assert [r.key for r in rest] == ["k7", "k5", "k3", "k1"]
    assert len(await s.scan("log", limit=MAX_LISTED + 50)) == 12
    assert await s.scan("log", limit=0) == []


@pytest.mark.anyio
async def test_a_log_is_erased_by_age_by_tag_or_both_and_trimmed_to_its_bounds(backend: Backend):
    s = backend.state
    for i in range(10):
        await s.append("log", f"k{i}", "v", tags=["user:7"] if i in (1, 5, 8) else ["user:9"])
        backend.advance(10)
    middle = (await s.record("log", "k5")).time  # type: ignore[union-attr]
    assert await s.erase("log") == 0  # neither bound: nothing
    assert await s.erase("log", before=middle, tag="user:7") == 1  # k1 only
    assert await s.erase("log", tag="user:7") == 2  # k5, k8
    assert await s.erase("log", before=(await s.record("log", "k2")).time) == 1  # type: ignore[union-attr]  # k0
    assert [r.key for r in await s.scan("log")] == ["k9", "k7", "k6", "k4", "k3", "k2"]
    assert await s.scan("log", tags=["user:7"]) == []
    assert await s.trim("log", max_items=4) == 2  # the oldest go: k2, k3
    assert [r.key for r in await s.scan("log")] == ["k9", "k7", "k6", "k4"]
    assert await s.trim("log", before=(await s.record("log", "k7")).time) == 2  # type: ignore[union-attr]
    assert [r.key for r in await s.scan("log")] == ["k9", "k7"]
    assert await s.trim("log", max_items=10) == 0
    assert await s.trim("log") == 0


@pytest.mark.anyio
async def test_two_stores_on_one_file_share_one_log(tmp_path):
    path = tmp_path / "shared.sqlite3"
    one, two = SQLiteState(path), SQLiteState(path)

    async def write(s: State, who: str) -> None:
        for i in range(20):
            await s.append("log", f"{who}{i}", who, tags=[f"by:{who}"])

    async with anyio.create_task_group() as tg:
        tg.start_soon(write, one, "one")
        tg.start_soon(write, two, "two")
    assert len(await one.scan("log", limit=100)) == len(await two.scan("log", limit=100)) == 40
    assert len(await two.scan("log", tags=["by:one"])) == 20
    seqs = [r.seq for r in await one.scan("log")]
    assert seqs == sorted(set(seqs), reverse=True)  # one order for both writers
    await one.close()
    await two.close()


@pytest.mark.anyio
async def test_a_log_write_waits_off_the_event_loop_while_another_process_holds_the_file(tmp_path):
    import sqlite3

    path = tmp_path / "shared.sqlite3"
    s = SQLiteState(path)
    await s.append("log", "first", "x")  # connected: later steps try at once first
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    other.execute("INSERT INTO kv VALUES ('a', 'b', 'c', 1, 0, 9e12)")
    ticks = 0
    appended = anyio.Event()

    async def append() -> None:
        await s.append("log", "second", "y")
        appended.set()

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(append)
            while ticks < 20:  # the loop keeps running while the append waits for the file
                await anyio.sleep(0.01)
                ticks += 1
            assert not appended.is_set()
            other.execute("COMMIT")
            await appended.wait()
    other.close()
    assert [r.key for r in await s.scan("log")] == ["second", "first"]
    await s.close()


@pytest.mark.anyio
async def test_a_schema_1_file_is_migrated_and_keeps_its_values(tmp_path):
    import sqlite3

    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as db:  # a file as version 1 wrote it: key/values only
        db.executescript(
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, size INTEGER NOT NULL,"
            " created REAL NOT NULL, expires REAL NOT NULL, PRIMARY KEY (ns, key));"
            "INSERT INTO meta VALUES ('schema_version', '1');"
            "INSERT INTO kv VALUES ('results', 'old', 'kept across the upgrade', 23, 1, 9e12);"
        )
    db.close()
    s = SQLiteState(path)
    assert await s.get("results", "old") == "kept across the upgrade"
    await s.append("journal", "e1", "{}", tags=["app:x"])
    assert [r.key for r in await s.scan("journal", tags=["app:x"])] == ["e1"]
    await s.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    db.close()
    assert SCHEMA_VERSION == 2
    again = SQLiteState(path)  # opening a migrated file again changes nothing
    assert [r.key for r in await again.scan("journal")] == ["e1"]
    await again.close()


@pytest.mark.anyio
async def test_two_stores_on_one_file_see_each_other_and_take_once(tmp_path):
    path = tmp_path / "shared.sqlite3"
    one, two = SQLiteState(path), SQLiteState(path)
    await one.put("results", "k", "from one", ttl=60)
    assert await two.get("results", "k") == "from one"
    await two.put("nonce", "n", "grant", ttl=60)
    got: list[str | None] = []

    async def take(s: State) -> None:
        got.append(await s.take("nonce", "n"))

    async with anyio.create_task_group() as tg:
        for s in (one, two) * 5:
            tg.start_soon(take, s)
    assert got.count("grant") == 1
    await one.close()
    await two.close()


@pytest.mark.anyio
async def test_another_process_sees_the_same_file(tmp_path):
    path = tmp_path / "shared.sqlite3"
    mine = SQLiteState(path)
    await mine.put("results", "mine", "written here", ttl=600)
    script = (
        "import anyio, sys\n"
        "from lanying_mcp.engine.state import SQLiteState\n"
        "async def main():\n"
        "    s = SQLiteState(sys.argv[1])\n"
        "    print(await s.get('results', 'mine'))\n"
        "    await s.put('results', 'theirs', 'written there', ttl=600)\n"
        "    await s.close()\n"
        "anyio.run(main)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "written here"
    assert await mine.get("results", "theirs") == "written there"
    await mine.close()


@pytest.mark.anyio
async def test_the_file_survives_a_restart_and_is_private(tmp_path):
    path = tmp_path / "private" / "state.sqlite3"
    first = SQLiteState(path)
    await first.put("results", "k", "kept", ttl=600)
    await first.close()
    again = SQLiteState(path)
    assert await again.get("results", "k") == "kept"
    await again.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


@pytest.mark.anyio
async def test_a_state_file_from_a_newer_version_is_refused_with_a_reason(tmp_path):
    import sqlite3

    path = tmp_path / "state.sqlite3"
    await SQLiteState(path).put("a", "k", "v", ttl=60)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '999' WHERE name = 'schema_version'")
    with pytest.raises(StateError, match="newer lanying-mcp"):
        await SQLiteState(path).get("a", "k")


@pytest.mark.anyio
async def test_an_unusable_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StateError, match="cannot use the state file"):
        await SQLiteState(blocker / "state.sqlite3").get("a", "k")


def test_the_default_file_is_in_the_users_state_directory(private_state_dir):
    assert default_path() == Path(private_state_dir) / "lanying-mcp" / "state.sqlite3"
    assert isinstance(open_state(":memory:"), MemoryState)
    assert isinstance(open_state(""), SQLiteState) and open_state("").path == str(default_path())
    assert open_state("~/x.sqlite3").path == str(Path("~/x.sqlite3").expanduser())


@pytest.mark.anyio
async def test_opening_a_file_another_connection_is_setting_up_is_retried(tmp_path, monkeypatch):
    """A "database is locked" while another process turns on WAL or writes the schema: retried, not failed."""
    import sqlite3

    real = sqlite3.connect
    calls = {"n": 0}

    class Locked:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def execute(self, sql: str, *args: object) -> object:
            if sql.startswith("PRAGMA journal_mode"):
                raise sqlite3.OperationalError("database is locked")
            return self.db.execute(sql, *args)

        def close(self) -> None:
            self.db.close()

    def connect(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        db = real(*args, **kwargs)  # type: ignore[arg-type]
        return Locked(db) if calls["n"] <= 2 else db

    monkeypatch.setattr(sqlite3, "connect", connect)
    s = SQLiteState(tmp_path / "new.sqlite3")
    await s.append("log", "k", "v")
    assert calls["n"] == 3 and [r.key for r in await s.scan("log")] == ["k"]
    await s.close()


@pytest.mark.anyio
async def test_a_file_that_stays_locked_while_opening_gives_a_clear_error(tmp_path, monkeypatch):
    import sqlite3

    def connect(*args: object, **kwargs: object) -> object:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(sqlite3, "connect", connect)
    s = SQLiteState(tmp_path / "new.sqlite3", busy_timeout=0.1)
    with pytest.raises(StateError, match="stayed locked"):
        await s.append("log", "k", "v")
