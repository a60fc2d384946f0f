"""What the change journal costs a write call, and what an entry costs on disk.

    python tools/bench_journal.py            # against a fresh loopback sandbox; prints the figures
    python tools/bench.py --only journal     # the same, as a section of the benchmark report

A write (`set_group_name`) is sent through the dispatcher to the loopback sandbox over HTTP, with the
journal on (the default: an entry appended to a SQLite state file while the before-read is in flight,
closed in a task of its own once the answer is returned, as the server does) and off, alternating within each round so drift hits both alike. The figure is the median over rounds
of the per-round median call time; the ratio is the median of the per-round ratios. Storage: the state
file's pages in use (after a WAL checkpoint) per entry, over entries like the ones measured.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]


@dataclass
class JournalCost:
    on_ms: list[float]  # per round: median ms of a write with the journal on
    off_ms: list[float]  # the same with the journal off
    entries: int
    bytes_per_entry: float
    value_bytes_per_entry: float  # the entry's JSON alone

    @property
    def added_ms(self) -> float:
        return statistics.median(self.on_ms) - statistics.median(self.off_ms)

    @property
    def ratio(self) -> float:
        return statistics.median([a / b for a, b in zip(self.on_ms, self.off_ms, strict=True) if b])


async def measure(api: str, app_id: str, token: str, group_id: int, rounds: int, calls: int) -> JournalCost:
    from lanying_mcp.core.settings import Settings
    from lanying_mcp.engine.call import CallContext
    from lanying_mcp.engine.client import LanyingClient
    from lanying_mcp.engine.dispatch import execute
    from lanying_mcp.engine.journal import NS, Journal
    from lanying_mcp.engine.state import SQLiteState
    from lanying_mcp.toolsets import CATALOGUE

    folder = Path(tempfile.mkdtemp(prefix="lanying-bench-journal-"))
    path = folder / "state.sqlite3"
    state = SQLiteState(path)
    journal = Journal(state).bound(app={"id": app_id, "endpoint": api}, app_key="0" * 32, caller="local:bench")
    settings = Settings(endpoint=api, app_id=app_id, access_token=token)
    client = LanyingClient(settings)
    op = CATALOGUE["set_group_name"]
    on_ms: list[float] = []
    off_ms: list[float] = []

    def context(on: bool) -> CallContext:
        ctx = CallContext(client, catalogue=CATALOGUE)
        ctx.journal = journal if on else None
        return ctx

    async with client:
        for i in range(10):  # warm-up: connections, models, the state file
            for on in (True, False):
                assert (await execute(op, {"group_id": group_id, "value": f"warm {i}"}, context(on))).ok
        for r in range(rounds):
            for on in (r % 2 == 0, r % 2 == 1):
                times: list[float] = []
                for c in range(calls):
                    args: dict[str, Any] = {"group_id": group_id, "value": f"bench group {r}-{c}"}
                    t0 = time.perf_counter()
                    outcome = await execute(op, args, context(on))
                    times.append((time.perf_counter() - t0) * 1000)
                    assert outcome.ok and (("change_id" in outcome.structured) == on), outcome.text
                (on_ms if on else off_ms).append(statistics.median(times))
    await journal.flush()  # the closes still under way (the server flushes at shutdown)
    entries = len(await state.scan(NS, limit=1000))
    values = sum(len(r.value.encode()) for r in await state.scan(NS, limit=1000))
    await state.close()
    empty = await _empty_pages(folder)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        pages, free = db.execute("PRAGMA page_count").fetchone()[0], db.execute("PRAGMA freelist_count").fetchone()[0]
    db.close()
    used = (pages - free - empty) * page_size
    return JournalCost(on_ms, off_ms, entries, used / entries if entries else 0.0, values / entries if entries else 0.0)


async def _empty_pages(folder: Path) -> int:
    """The pages a state file holds with no entry (its tables and indexes): subtracted from the cost."""
    from lanying_mcp.engine.state import SQLiteState

    path = folder / "empty.sqlite3"
    s = SQLiteState(path)
    await s.get("x", "y")
    await s.close()
    with sqlite3.connect(path) as db:
        count = db.execute("PRAGMA page_count").fetchone()[0]
    db.close()
    return count


def main() -> int:
    from bench_clients import APP_ID, TOKEN, Api, http_client

    from tests.procs import start_sandbox, stop

    log = open(Path(tempfile.mkdtemp(prefix="lanying-bench-")) / "sandbox.log", "ab")
    sandbox, api = start_sandbox(TOKEN, log, None)

    async def run() -> JournalCost:
        async with http_client() as http:
            owner = (await Api(http, api).register(1, "owner"))[0]
            group_id = await Api(http, api).create_group(owner, "journal bench", [])
        return await measure(api, APP_ID, TOKEN, group_id, rounds=9, calls=60)

    try:
        cost = asyncio.run(run())
    finally:
        stop(sandbox)
        log.close()
    print(report(cost))
    return 0


def report(cost: JournalCost) -> str:
    on, off = statistics.median(cost.on_ms), statistics.median(cost.off_ms)
    return (
        f"set_group_name over loopback HTTP: p50 {on:.2f} ms journal on, {off:.2f} ms off; added {cost.added_ms:.2f} ms "
        f"(ratio {cost.ratio:.2f}, rounds {min(a / b for a, b in zip(cost.on_ms, cost.off_ms, strict=True)):.2f}–"
        f"{max(a / b for a, b in zip(cost.on_ms, cost.off_ms, strict=True)):.2f}); storage {cost.bytes_per_entry:.0f} B "
        f"per entry on disk ({cost.value_bytes_per_entry:.0f} B of it the entry's JSON), over {cost.entries} entries"
    )


if __name__ == "__main__":
    sys.exit(main())
