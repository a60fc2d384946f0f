"""Per-operation cost of the state store: Redis (shared by replicas) against the embedded SQLite file.

    python tools/bench_state.py            # prints the table and writes it into BENCHMARKS.md (the state block)
    python tools/bench_state.py --quick    # a smoke run: prints the table, writes nothing
    python tools/bench_state.py --ops 2000 --rounds 9 --out F

Both backends run in this process against real stores: a `redis-server` started here on loopback
(Debian's package; stopped by its pid at the end) and a SQLite file in a temporary folder (WAL, as a
server uses it). Each operation is what the server does with the store: keeping a bulk result (a
bounded `put` of a 20 KiB text), reading it back, issuing and redeeming a confirmation nonce (`add` +
`take`), counting a rate-limit hit, appending a journal entry with tags, and a journal page (`scan`
of 20 by tag). Rounds alternate the two backends so drift hits both alike; each figure is the median
over rounds of the mean time per operation, and the ratio is Redis ÷ SQLite (lower is better).

The last row is a whole write call through the server (`set_user_nickname` over an in-process MCP
session, on the in-process sandbox): its before-read, its journal entry opened and closed, and the
result; the only difference between the two servers is the store (`LANYING_STATE_URL` against
`LANYING_STATE_FILE`). It runs `--calls` calls per round (a tenth of `--ops` by default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report_block import put_block  # noqa: E402

from lanying_mcp.engine.state import SQLiteState, State  # noqa: E402
from lanying_mcp.engine.state_redis import RedisState  # noqa: E402
from tests.redis_server import RedisServer, redis_binary  # noqa: E402

REPORT = ROOT / "BENCHMARKS.md"
START, END = "<!-- state:start -->", "<!-- state:end -->"
RESULT = "r" * 20 * 1024

Op = Callable[[State, int], Awaitable[object]]


async def put_result(s: State, i: int) -> object:
    return await s.put("results", f"owner/{i:08d}", RESULT, 900, max_items=64, max_bytes=64 * 1024 * 1024)


async def get_result(s: State, i: int) -> object:
    return await s.get("results", f"owner/{i % 64:08d}")


async def nonce(s: State, i: int) -> object:
    await s.add("grant", f"n{i}", '{"caller": "local:me", "call": "digest"}', 300)
    return await s.take("grant", f"n{i}")


async def hit(s: State, i: int) -> object:
    return await s.hit("rate", f"caller-{i % 10}", 60)


async def append(s: State, i: int) -> object:
    tags = (f"app:{i % 3}", f"tool:t{i % 7}", "user:42")
    return await s.append("journal", f"{time.time_ns()}-{i}", '{"tool": "update_user", "outcome": "ok"}', tags=tags)


async def scan(s: State, i: int) -> object:
    return await s.scan("journal", tags=(f"app:{i % 3}",), limit=20)


OPS: dict[str, tuple[str, Op]] = {
    "put": ("keep a bulk result (bounded put, 20 KiB)", put_result),
    "get": ("read a bulk result back (get)", get_result),
    "nonce": ("issue and redeem a nonce (add + take)", nonce),
    "hit": ("count a rate-limit hit (hit)", hit),
    "append": ("journal an entry with 3 tags (append)", append),
    "scan": ("a journal page by tag (scan, 20)", scan),
}


async def timed(state: State, op: Op, count: int, offset: int) -> float:
    """Mean seconds per operation over `count` sequential operations."""
    start = time.perf_counter()
    for i in range(offset, offset + count):
        await op(state, i)
    return (time.perf_counter() - start) / count


CALL = ("a write call through the server (set_user_nickname, journaled)", "call")


@contextlib.asynccontextmanager
async def write_clients(url: str, folder: Path) -> AsyncIterator[dict[str, Callable[[int], Awaitable[object]]]]:
    """Per backend, a function making one journaled write call through a server on that store."""
    import httpx2
    from mcp import Client

    from lanying_mcp.core.settings import Settings
    from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
    from lanying_mcp.serving.server import build_server

    for noisy in ("httpx2", "httpx", "mcp", "client", "lanying_mcp"):  # a line per request would drown the table
        logging.getLogger(noisy).setLevel(logging.WARNING)
    store = Store()
    user = store.add_user("bench-user", "pw-123456")
    base = Settings(
        endpoint="http://sandbox.bench", app_id=SANDBOX_APP_ID, access_token=store.admin_token, toolsets=("all",)
    )
    servers = {
        "sqlite": build_server(
            base.with_(state_file=str(folder / "calls.sqlite3")), transport=httpx2.ASGITransport(app=build_app(store))
        ),
        "redis": build_server(
            base.with_(state_url=url), transport=httpx2.ASGITransport(app=build_app(store))
        ),
    }  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        calls: dict[str, Callable[[int], Awaitable[object]]] = {}
        for kind, server in servers.items():
            client = await stack.enter_async_context(Client(server))

            async def one(i: int, client: Client = client) -> object:
                result = await client.call_tool("set_user_nickname", {"as_user_id": user.user_id, "nick_name": f"n{i}"})
                if result.is_error:
                    raise RuntimeError(f"the benchmark's write failed: {result.content}")
                return result

            calls[kind] = one
        yield calls
        for server in servers.values():
            await server.state.close()
            await server.lanying_client.aclose()


async def timed_calls(call: Callable[[int], Awaitable[object]], count: int, offset: int) -> float:
    start = time.perf_counter()
    for i in range(offset, offset + count):
        await call(i)
    return (time.perf_counter() - start) / count


async def measure(url: str, folder: Path, ops: int, rounds: int, calls: int) -> dict[str, dict[str, float]]:
    stores: dict[str, State] = {
        "sqlite": SQLiteState(folder / "state.sqlite3"),
        "redis": RedisState(url, prefix=f"bench-{time.time_ns()}"),
    }
    for s in stores.values():  # warm: connections, scripts, the file's schema, some journal to scan
        for i in range(200):
            await append(s, i)
            await put_result(s, i)
    times: dict[str, dict[str, list[float]]] = {name: {kind: [] for kind in stores} for name in OPS}
    for r in range(rounds):
        for name, (_, op) in OPS.items():
            order = list(stores) if r % 2 == 0 else list(reversed(stores))
            for kind in order:
                times[name][kind].append(await timed(stores[kind], op, ops, 1000 + r * ops))
    for s in stores.values():
        await s.close()
    times[CALL[1]] = {kind: [] for kind in stores}
    async with write_clients(url, folder) as writes:
        for kind in writes:  # warm: sessions, the schema, the first journal entries
            await timed_calls(writes[kind], 20, 0)
        for r in range(rounds):
            for kind in list(writes) if r % 2 == 0 else list(reversed(writes)):
                times[CALL[1]][kind].append(await timed_calls(writes[kind], calls, 100 + r * calls))
    return {name: {kind: statistics.median(v) for kind, v in per.items()} for name, per in times.items()}


def table(medians: dict[str, dict[str, float]]) -> str:
    lines = ["| operation | SQLite file | Redis | ratio Redis ÷ SQLite |", "|---|--:|--:|--:|"]
    for name, what in [*((n, w) for n, (w, _) in OPS.items()), (CALL[1], CALL[0])]:
        lite, red = medians[name]["sqlite"], medians[name]["redis"]
        lines.append(f"| {what} | {lite * 1e6:,.0f} µs | {red * 1e6:,.0f} µs | **{red / lite:.2f}×** |")
    return "\n".join(lines)


def block(command: str, ops: int, rounds: int, calls: int, version: str, text: str) -> str:
    machine = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    return (
        f"{START}\n- **command:** `{command}`\n- **date:** {time.strftime('%Y-%m-%d %H:%M %Z')}\n"
        f"- **machine:** {machine}; {version}, redis-py {metadata.version('redis')}, loopback\n"
        f"- **plan:** {rounds} rounds × {ops} sequential operations per backend and operation ({calls} for the "
        "write call), alternating; median of the per-round means\n\n"
        f"{text}\n{END}"
    )


def write(path: Path, section: str) -> None:
    put_block(path, START, END, section, "## The state store: Redis against the embedded file")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run; writes nothing unless --out is given")
    p.add_argument("--ops", type=int, help="operations per backend, operation and round (default 1000; quick 50)")
    p.add_argument("--rounds", type=int, help="rounds (default 7; quick 1)")
    p.add_argument("--calls", type=int, help="write calls per backend and round (default a tenth of --ops)")
    p.add_argument("--out", type=Path, help=f"where to write the state block (default {REPORT.name}, full runs)")
    ns = p.parse_args(argv)
    ops = ns.ops or (50 if ns.quick else 1000)
    rounds = ns.rounds or (1 if ns.quick else 7)
    calls = ns.calls or max(5, ops // 10)
    binary = redis_binary()
    if binary is None:
        print("bench_state: redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 2
    import subprocess

    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.split()[2]
    with tempfile.TemporaryDirectory(prefix="lanying-bench-state-") as tmp:
        server = RedisServer(Path(tmp) / "redis", binary).start()
        try:
            medians = asyncio.run(measure(server.url, Path(tmp), ops, rounds, calls))
        finally:
            server.stop()
    text = table(medians)
    print(text)
    out = ns.out or (None if ns.quick else REPORT)
    if out is not None:
        given = sys.argv[1:] if argv is None else argv
        command = " ".join(["python tools/bench_state.py", *given])
        write(out, block(command.strip(), ops, rounds, calls, f"Redis {version.removeprefix('v=')}", text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
