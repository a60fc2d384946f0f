"""Benchmarks of the real server processes against baselines measured in the same run, as ratios.

    python tools/bench.py            # full run (a few minutes on 2 cores), prints the table, writes BENCHMARKS.md
    python tools/bench.py --quick    # smoke run (well under a minute): prints the table, writes nothing
    python tools/bench.py --out F    # write the report to F instead
    python tools/bench.py --only cold,bulk --runs 15   # some sections, more rounds; prints the table only

Everything runs on loopback: the sandbox API (`python -m lanying_mcp sandbox`), our server
(`python -m lanying_mcp`, LANYING_TOOLSETS=all) over stdio or streamable HTTP, and the baselines of
tools/bench_baselines.py. Absolute times depend on the machine, so each figure is compared with a
baseline measured in the same run, interleaved round by round so that drift hits both sides alike,
and every figure is the median of the per-round results.

The MCP client here is a deliberately thin one (JSON-RPC lines on a pipe; plain httpx2 POSTs with the
SSE body parsed by hand), so that the client's own cost dilutes the server-side differences as little
as possible. It speaks protocol 2025-11-25, the era most hosts speak today.

The hand-analysed part of BENCHMARKS.md (profiles, where the time goes) sits between the
`analysis:start`/`analysis:end` markers and is kept when the file is regenerated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx2
from bench_clients import APP_ID, ROOT, TOKEN, Api, HttpSession, StdioSession, http_client
from report_block import put_block

from tests.procs import free_port, rss_kib, server_env, start_sandbox, stop, wait_port

BASELINES = ROOT / "tools" / "bench_baselines.py"
REPORT = ROOT / "BENCHMARKS.md"
PY = sys.executable
BATCH = 500  # the API's per-call limit for invite_group_members, and our tool's batch size
ANALYSIS_START, ANALYSIS_END = "<!-- analysis:start -->", "<!-- analysis:end -->"
SOAK_START, SOAK_END = "<!-- soak:start -->", "<!-- soak:end -->"
STATE_START, STATE_END = "<!-- state:start -->", "<!-- state:end -->"  # written by tools/bench_state.py


@dataclass(frozen=True)
class Plan:
    """How much to measure. The full plan stays well under 10 minutes on 2 cores."""

    name: str
    cold_runs: int  # cold starts per server
    latency_rounds: int  # interleaved rounds per transport
    latency_calls: int  # sequential calls per server per round
    tp_levels: tuple[int, ...]  # concurrency levels
    tp_rounds: int
    tp_seconds: float  # duration of one throughput window
    bulk_users: int
    bulk_runs: int


FULL = Plan("full", 10, 7, 150, (1, 8, 32), 5, 2.0, 10_000, 9)
QUICK = Plan("quick", 2, 2, 20, (1, 8, 32), 1, 0.5, 1_000, 1)


# --- processes (start/stop helpers shared with the tests: tests/procs.py) ------------------------
@dataclass
class Env:
    """The running sandbox and how to start each server against it."""

    api: str
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def server_env(self) -> dict[str, str]:
        # One address stands in for many clients (concurrency 32): lift the per-client session bound.
        return server_env(self.api, TOKEN, APP_ID, LANYING_MAX_CLIENT_SESSIONS="100", LANYING_CALLS_PER_MINUTE="0")

    def command(self, kind: str, transport: str, port: int | None = None) -> list[str]:
        if kind == "ours":
            cmd = [PY, "-m", "lanying_mcp"]
            return cmd if transport == "stdio" else [*cmd, "--transport", "http", "--port", str(port)]
        cmd = [PY, str(BASELINES), kind]
        return [*cmd, "stdio"] if transport == "stdio" else [*cmd, "http", str(port)]

    def log(self, name: str) -> Any:
        return open(self.logs / f"{name}.log", "ab")

    def start_http(self, kind: str) -> str:
        port = free_port()
        proc = subprocess.Popen(
            self.command(kind, "http", port),
            env=self.server_env(),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self.log(f"{kind}-http"),
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        wait_port(port, proc, timeout=180.0)  # a shared, busy machine can take long to start a process
        return f"http://127.0.0.1:{port}/mcp"

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        self.procs.clear()


# --- measurements -------------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass
class Row:
    section: str
    metric: str
    ours: str
    baseline: str
    ratio: float | None
    target: str = ""
    met: bool | None = None
    base_name: str = ""
    spread: str = ""


def ratio_row(
    section: str,
    metric: str,
    ours: list[float],
    base: list[float],
    fmt: str,
    target: str,
    ok: Callable[[float], bool] | None,
    base_name: str = "",
) -> Row:
    """Medians of both sides; the ratio is the median of the per-round ratios (paired, so drift cancels)."""
    pairs = [o / b for o, b in zip(ours, base, strict=True) if b]
    r = median(pairs) if pairs else float("nan")
    spread = f"{min(pairs):.2f}–{max(pairs):.2f}" if len(pairs) > 1 else ""
    return Row(
        section,
        metric,
        fmt.format(median(ours)),
        fmt.format(median(base)),
        r,
        target,
        ok(r) if ok else None,
        base_name,
        spread,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc/PID/stat (clock ticks).

    Unlike wall time it hardly moves when other work shares the machine: the steadier cold-start figure.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cold_start(env: Env, plan: Plan) -> tuple[list[Row], dict[str, Any]]:
    """Spawn → initialize → tools/list answered, over stdio; RSS right after. Ours and minimal alternate."""
    samples: dict[str, list[tuple[float, int, int, float]]] = {"ours": [], "minimal": []}
    # One unmeasured start of each first, writing byte-code even where PYTHONDONTWRITEBYTECODE is set
    # (as pip does at install): the measured starts then load .pyc files and compile nothing.
    for kind in ("ours", "minimal"):
        warm_env = {k: v for k, v in env.server_env().items() if k != "PYTHONDONTWRITEBYTECODE"}
        session = StdioSession(env.command(kind, "stdio"), warm_env, env.log(f"{kind}-cold"))
        try:
            session.initialize()
            session.list_tools()
        finally:
            session.close()
    for _ in range(plan.cold_runs):
        for kind in ("ours", "minimal"):
            started = time.perf_counter()
            session = StdioSession(env.command(kind, "stdio"), env.server_env(), env.log(f"{kind}-cold"))
            try:
                session.initialize()
                tools = session.list_tools()
                elapsed = time.perf_counter() - started
                pid = session.proc.pid
                samples[kind].append((elapsed, rss_kib(pid), len(tools), cpu_seconds(pid)))
            finally:
                session.close()
    t = {k: [s[0] * 1000 for s in v] for k, v in samples.items()}
    m = {k: [s[1] / 1024 for s in v] for k, v in samples.items()}
    n = {k: v[0][2] for k, v in samples.items()}
    c = {k: [s[3] * 1000 for s in v] for k, v in samples.items()}
    rows = [
        ratio_row(
            "cold start",
            f"spawn → tools/list, stdio ({n['ours']} tools vs {n['minimal']})",
            t["ours"],
            t["minimal"],
            "{:,.0f} ms",
            "≤ 1.1×",
            lambda r: r <= 1.1,
        ),
        ratio_row(
            "cold start",
            "CPU time of the server process up to the tools/list answer (user + system)",
            c["ours"],
            c["minimal"],
            "{:,.0f} ms",
            "≤ 1.1×",
            lambda r: r <= 1.1,
        ),
        ratio_row(
            "memory",
            "RSS after tools/list (all toolsets vs minimal)",
            m["ours"],
            m["minimal"],
            "{:,.1f} MiB",
            "≤ 1.2×",
            lambda r: r <= 1.2,
        ),
    ]
    return rows, {"tools": n["ours"]}


def latency_stdio(env: Env, plan: Plan, group_id: int) -> list[Row]:
    """Sequential get_group_info calls over stdio: ours vs hand-written vs a direct httpx2 GET."""
    ours = StdioSession(env.command("ours", "stdio"), env.server_env(), env.log("ours-stdio"))
    hand = StdioSession(env.command("handwritten", "stdio"), env.server_env(), env.log("handwritten-stdio"))
    direct = httpx2.Client(base_url=env.api, headers={"app_id": APP_ID, "access-token": TOKEN})
    try:
        ours.initialize()
        hand.initialize()

        def call_ours() -> None:
            result = ours.call("get_group_info", {"group_id": group_id})
            assert result["structuredContent"]["data"]["group_id"] == group_id

        def call_hand() -> None:
            hand.call("get_group_info", {"group_id": group_id})

        def call_direct() -> None:
            body = direct.get("/group/info", params={"group_id": group_id}).json()
            assert body["code"] == 200

        fns = {"ours": call_ours, "handwritten": call_hand, "direct": call_direct}
        per_round: dict[str, list[float]] = {k: [] for k in fns}
        for fn in fns.values():  # warm-up: imports, connections, caches
            for _ in range(10):
                fn()
        for r in range(plan.latency_rounds):
            order = list(fns)[r % 3 :] + list(fns)[: r % 3]
            for name in order:
                times = []
                for _ in range(plan.latency_calls):
                    t0 = time.perf_counter()
                    fns[name]()
                    times.append(time.perf_counter() - t0)
                per_round[name].append(median(times))
    finally:
        ours.close()
        hand.close()
        direct.close()
    return latency_rows("stdio", per_round)


async def names_cost(env: Env, plan: Plan, owner: int) -> tuple[list[Row], list[str]]:
    """list_group_members, a page of 100, with names beside IDs (cache cold and warm) vs names off.

    Measured at the dispatcher against the loopback sandbox over HTTP, so the extra lookups cost a real
    round trip each; the three kinds of call alternate within each round, so drift cancels.
    """
    from lanying_mcp.core.cache import Cache
    from lanying_mcp.core.settings import Settings
    from lanying_mcp.engine.call import CallContext
    from lanying_mcp.engine.client import LanyingClient
    from lanying_mcp.engine.dispatch import execute
    from lanying_mcp.toolsets import CATALOGUE

    async with http_client() as http:
        api = Api(http, env.api)
        members = await api.register(99, "named")
        group_id = await api.create_group(owner, "names bench", members)
    counted = {"n": 0}

    class Counting(httpx2.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            counted["n"] += 1
            return await super().handle_async_request(request)

    settings = Settings(endpoint=env.api, app_id=APP_ID, access_token=TOKEN)
    client = LanyingClient(settings, transport=Counting())
    quiet = client.with_settings(settings.with_(names=False))

    cache = Cache()  # the server's cache, shared by its calls

    def context(kind: str) -> CallContext:
        # One context per call, as the server makes: its look-up count (and cap) belongs to that call.
        return CallContext(quiet if kind == "off" else client, catalogue=CATALOGUE, cache=cache)

    op, args = CATALOGUE["list_group_members"], {"group_id": group_id, "limit": 100}
    times: dict[str, list[float]] = {"off": [], "cold": [], "warm": []}
    calls: dict[str, int] = {"off": 0, "cold": 0, "warm": 0}
    per_round = max(5, plan.latency_calls // 10)
    async with client:
        await execute(op, args, context("on"))  # connections up, models built
        for _ in range(plan.latency_rounds):
            for kind in ("off", "cold", "warm"):
                before, started = counted["n"], time.perf_counter()
                for _ in range(per_round):
                    if kind == "cold":
                        cache.clear()
                    outcome = await execute(op, args, context(kind))
                    # names off: no map; on: the look-ups run, though a map is left out when every row already
                    # shows its names (members' usernames), so its presence is not the test
                    assert outcome.ok and (kind != "off" or "users" not in outcome.structured), kind
                times[kind].append((time.perf_counter() - started) * 1000 / per_round)
                calls[kind] += counted["n"] - before
    total = plan.latency_rounds * per_round
    rows = [
        ratio_row(
            "names",
            "list_group_members, page of 100: names on, cache warm vs names off",
            times["warm"],
            times["off"],
            "{:.2f} ms",
            "≤ 1.5×",
            lambda r: r <= 1.5,
        ),
        ratio_row(
            "names",
            "list_group_members, page of 100: names on, cache cold vs names off",
            times["cold"],
            times["off"],
            "{:.2f} ms",
            "",
            None,
        ),
    ]
    notes = [
        f"names: API calls per list_group_members call: {calls['off'] / total:.0f} with names off, "
        f"{calls['cold'] / total:.0f} with names on and a cold cache (users, group info, admins read at once), "
        f"{calls['warm'] / total:.0f} warm (60 s name cache, 30 s role cache, 10,000 entries, 4 lookups in flight)."
    ]
    return rows, notes


async def journal_cost(env: Env, plan: Plan, owner: int) -> tuple[list[Row], list[str]]:
    """A write (set_group_name) with the change journal on vs off, at the dispatcher (tools/bench_journal.py)."""
    import bench_journal

    async with http_client() as http:
        group_id = await Api(http, env.api).create_group(owner, "journal bench")
    cost = await bench_journal.measure(
        env.api, APP_ID, TOKEN, group_id, rounds=plan.latency_rounds, calls=max(10, plan.latency_calls // 3)
    )
    row = ratio_row(
        "journal",
        "set_group_name: change journal on vs off",
        cost.on_ms,
        cost.off_ms,
        "{:.2f} ms",
        "≤ 1 ms added",
        None,
    )
    row.met = cost.added_ms <= 1.0
    return [row], [bench_journal.report(cost)]


async def preview_cost(env: Env, plan: Plan, owner: int, group_id: int) -> list[Row]:
    """preview_call of set_group_name against the same call applied, at the dispatcher over loopback HTTP.

    A preview runs the call's path twice with writes recorded (to mark fresh values) and reads the group's
    size for the reach; the applied call sends the write. The two alternate within each round.
    """
    from lanying_mcp.core.settings import Settings
    from lanying_mcp.engine.call import CallContext
    from lanying_mcp.engine.client import LanyingClient
    from lanying_mcp.engine.dispatch import execute
    from lanying_mcp.review import preview
    from lanying_mcp.toolsets import CATALOGUE

    settings = Settings(endpoint=env.api, app_id=APP_ID, access_token=TOKEN)
    client = LanyingClient(settings)
    ctx = CallContext(client, catalogue=CATALOGUE)
    tool = preview.build(lambda: CATALOGUE, lambda name: None)
    op = CATALOGUE["set_group_name"]
    times: dict[str, list[float]] = {"preview": [], "apply": []}
    per_round = max(5, plan.latency_calls // 10)
    async with client:
        args = {"group_id": group_id, "value": "bench name", "as_user_id": owner}
        await execute(tool, {"name": op.name, "arguments": args}, ctx)  # connections up, models built
        for n in range(plan.latency_rounds):
            for kind in ("preview", "apply"):
                started = time.perf_counter()
                for i in range(per_round):
                    args = {"group_id": group_id, "value": f"bench name {n}.{i}", "as_user_id": owner}
                    if kind == "preview":
                        outcome = await execute(tool, {"name": op.name, "arguments": args}, ctx)
                    else:
                        outcome = await execute(op, args, ctx)
                    assert outcome.ok, outcome.text
                times[kind].append((time.perf_counter() - started) * 1000 / per_round)
    return [
        ratio_row(
            "preview",
            "set_group_name: preview_call vs the call applied",
            times["preview"],
            times["apply"],
            "{:.2f} ms",
            "",
            None,
        )
    ]


def latency_rows(transport: str, rounds: dict[str, list[float]]) -> list[Row]:
    o, h, d = ([t * 1000 for t in rounds[k]] for k in ("ours", "handwritten", "direct"))
    section = f"latency, {transport}"
    added_o = [a - b for a, b in zip(o, d, strict=True)]
    added_h = [a - b for a, b in zip(h, d, strict=True)]
    added = ratio_row(section, "added over direct: ours vs hand-written", added_o, added_h, "+{:.2f} ms", "", None)
    added.base_name = "hand-written"
    return [
        ratio_row(
            section, "get_group_info per call: ours vs hand-written", o, h, "{:.2f} ms", "≤ 1.1×", lambda r: r <= 1.1
        ),
        ratio_row(section, "ours vs direct httpx2 GET (no MCP)", o, d, "{:.2f} ms", "", None, "direct"),
        added,
    ]


async def latency_http(env: Env, plan: Plan, group_id: int, urls: dict[str, str]) -> list[Row]:
    async with http_client() as http:
        ours = await HttpSession(http, urls["ours"]).initialize()
        hand = await HttpSession(http, urls["handwritten"]).initialize()
        api = Api(http, env.api)

        async def call_ours() -> None:
            result = await ours.call("get_group_info", {"group_id": group_id})
            assert result["structuredContent"]["data"]["group_id"] == group_id

        async def call_hand() -> None:
            await hand.call("get_group_info", {"group_id": group_id})

        async def call_direct() -> None:
            await api.call("GET", "/group/info", params={"group_id": group_id})

        fns: dict[str, Callable[[], Awaitable[None]]] = {
            "ours": call_ours,
            "handwritten": call_hand,
            "direct": call_direct,
        }
        per_round: dict[str, list[float]] = {k: [] for k in fns}
        for fn in fns.values():
            for _ in range(10):
                await fn()
        for r in range(plan.latency_rounds):
            order = list(fns)[r % 3 :] + list(fns)[: r % 3]
            for name in order:
                times = []
                for _ in range(plan.latency_calls):
                    t0 = time.perf_counter()
                    await fns[name]()
                    times.append(time.perf_counter() - t0)
                per_round[name].append(median(times))
    return latency_rows("streamable HTTP", per_round)


async def throughput(env: Env, plan: Plan, group_id: int, urls: dict[str, str]) -> list[Row]:
    """Completed calls per second with N sessions calling back to back for a fixed window."""
    rows = []
    async with http_client() as http:
        for level in plan.tp_levels:
            sessions = {
                kind: [await HttpSession(http, urls[kind]).initialize() for _ in range(level)]
                for kind in ("ours", "handwritten")
            }
            for kind in sessions:  # warm-up at this concurrency
                await window(sessions[kind], group_id, 0.2)
            rates: dict[str, list[float]] = {k: [] for k in sessions}
            for r in range(plan.tp_rounds):
                for kind in ("ours", "handwritten") if r % 2 == 0 else ("handwritten", "ours"):
                    rates[kind].append(await window(sessions[kind], group_id, plan.tp_seconds))
            rows.append(
                ratio_row(
                    "throughput, streamable HTTP",
                    f"get_group_info calls/s at concurrency {level}",
                    rates["ours"],
                    rates["handwritten"],
                    "{:,.0f}/s",
                    "≥ 0.9×",
                    lambda r: r >= 0.9,
                )
            )
    return rows


async def window(sessions: list[HttpSession], group_id: int, seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    end = started + seconds

    async def worker(session: HttpSession) -> None:
        nonlocal done
        while time.perf_counter() < end:
            await session.call("get_group_info", {"group_id": group_id})
            done += 1

    await asyncio.gather(*(worker(s) for s in sessions))
    return done / (time.perf_counter() - started)


async def bulk(env: Env, plan: Plan, owner: int, users: list[int], url: str) -> tuple[list[Row], list[str]]:
    """Invite every user into a fresh group: one invite_group_members call vs batches of 500 sent directly."""
    notes: list[str] = []
    ours_t: list[float] = []
    direct_t: list[float] = []
    api_calls = -(-len(users) // BATCH)
    async with http_client(timeout=300.0) as http:
        api = Api(http, env.api)
        session = await HttpSession(http, url).initialize()
        looped = False
        response_bytes = 0
        for run in range(plan.bulk_runs):
            gid = await api.create_group(owner, f"bulk ours {run}")
            started = time.perf_counter()
            try:
                result = await session.call(
                    "invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": users}
                )
                summary = result["structuredContent"]["summary"]
                rows = [{"result": "success"}] * summary["succeeded"]  # the summary counts; rows are linked
                response_bytes = len(json.dumps(result))
            except RuntimeError as exc:
                if "invalid_arguments" not in str(exc) and "user_ids" not in str(exc):
                    raise
                looped = True  # the schema still caps the list: send batches of 500 ourselves
                rows = []
                for i in range(0, len(users), BATCH):
                    part = await session.call(
                        "invite_group_members",
                        {"as_user_id": owner, "group_id": gid, "user_ids": users[i : i + BATCH]},
                    )
                    got = part["structuredContent"]
                    rows += got.get("data") or [{"result": "success"}] * got["summary"]["succeeded"]
            ours_t.append(time.perf_counter() - started)
            assert len(rows) == len(users) and all(r["result"] == "success" for r in rows), "bulk invite incomplete"

            gid = await api.create_group(owner, f"bulk direct {run}")
            started = time.perf_counter()
            limiter = asyncio.Semaphore(4)  # the same bounded concurrency as our tool's batches

            async def one(
                part: list[int], gid: int = gid, limiter: asyncio.Semaphore = limiter
            ) -> list[dict[str, Any]]:
                async with limiter:
                    return await api.call(
                        "POST", "/group/invite", act_as=owner, json={"group_id": gid, "user_list": part}
                    )

            parts = await asyncio.gather(*(one(users[i : i + BATCH]) for i in range(0, len(users), BATCH)))
            direct_t.append(time.perf_counter() - started)
            assert sum(len(p) for p in parts) == len(users)
    if looped:
        notes.append(
            f"invite_group_members rejected {len(users):,} IDs in one call, so the bench looped over batches of {BATCH}."
        )
    else:
        notes.append(
            f"invite_group_members took all {len(users):,} IDs in one call and split them into {api_calls} API "
            f"calls itself; its result was {response_bytes:,} bytes of JSON-RPC."
        )
    o, d = median(ours_t), median(direct_t)
    rate = ratio_row(
        "bulk",
        "API calls per second",
        [api_calls / t for t in ours_t],
        [api_calls / t for t in direct_t],
        "{:,.1f}/s",
        "",
        None,
    )
    rate.ours += f" ({len(users) / o:,.0f} users/s)"
    rate.baseline += f" ({len(users) / d:,.0f} users/s)"
    rows = [
        ratio_row(
            "bulk",
            f"invite {len(users):,} users ({api_calls} API calls): total time",
            ours_t,
            direct_t,
            "{:.3f} s",
            "≤ 1.5×",
            lambda r: r <= 1.5,
        ),
        rate,
    ]
    return rows, notes


# --- report -------------------------------------------------------------------------------------
def table(rows: list[Row]) -> str:
    out = [
        "| section | measure | ours | baseline | ratio | per-round ratios | target | met |",
        "|---|---|--:|--:|--:|:-:|:-:|:-:|",
    ]
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        base = f"{row.baseline} ({row.base_name or BASELINE_NAMES.get(row.section, '')})".replace(" ()", "")
        out.append(
            f"| {row.section} | {row.metric} | {row.ours} | {base} | {ratio} | {row.spread} | {row.target} | {met} |"
        )
    return "\n".join(out)


BASELINE_NAMES = {
    "cold start": "minimal",
    "memory": "minimal",
    "latency, stdio": "hand-written",
    "latency, streamable HTTP": "hand-written",
    "throughput, streamable HTTP": "hand-written",
    "bulk": "direct batches",
}

MEANINGS = """\
Each row's *ratio* is the median of the per-round ratios (ours and the baseline measured back to back in
each round, so a slow moment hits both), so it can differ from the ratio of the two medians shown;
*per-round ratios* is their range, the honest error bar.

- **cold start** — wall time from spawning the process to the `tools/list` answer (initialize, then
  `notifications/initialized`, then `tools/list`) over stdio. Ours serves every toolset
  (LANYING_TOOLSETS=all); the baseline is a minimal MCPServer with one tool
  (`tools/bench_baselines.py minimal`). The ratio is ours ÷ minimal: what the catalogue costs on top of
  Python + the MCP SDK. Target ≤ 1.1×. Each server is started once unmeasured first, writing its
  byte-code as an install does, so no measured start compiles source. The second row is the CPU time
  (user + system, from `/proc/PID/stat`) the server process spent up to the same answer: on a machine
  shared with other work the wall time includes waiting for a CPU, the CPU time hardly does.
- **memory** — VmRSS of the server process (from `/proc/PID/status`) right after that `tools/list`.
  Ratio ours ÷ minimal. Target ≤ 1.2×.
- **latency** — median time of one `tools/call get_group_info` answered, calls made one after another
  on one session, against the sandbox on loopback. *Hand-written* is an MCPServer tool making the same
  `GET /group/info` with httpx2 and returning `data` (`tools/bench_baselines.py handwritten`): same SDK,
  same transport, same HTTP call, none of our layers. Ratio ours ÷ hand-written, target ≤ 1.1×.
  *Direct* is the same GET sent by the bench itself with httpx2, no MCP at all; "added over direct" is
  each server's per-call time minus that, and its ratio is ours' added time ÷ the hand-written one's.
- **throughput** — completed `get_group_info` calls per second over streamable HTTP with 1, 8 or 32
  sessions calling back to back for a fixed window. Ratio ours ÷ hand-written, target ≥ 0.9×. On 2 cores
  the client, the server and the sandbox share the CPU, so this measures the whole loop, not the server
  alone.
- **bulk** — one `invite_group_members` call over streamable HTTP inviting every registered user into
  a fresh group (our tool splits the list into API calls of 500 with at most 4 in flight), against the
  bench sending the same batches of 500 straight to the sandbox with the same bound of 4. Ratio ours ÷
  direct for the time (lower is better) and for the rate (higher is better).
"""


def keep_section(path: Path, start: str, end: str, empty: str) -> str:
    """A block of the existing report that another run (or a human) wrote; kept when the rest is regenerated."""
    if path.exists():
        text = path.read_text()
        if start in text and end in text:
            return text[text.index(start) : text.index(end) + len(end)]
    return f"{start}\n{empty}\n{end}"


def write_soak(path: Path, command: str, block: str) -> None:
    """Replace only the soak block of the report (the rest comes from a full run)."""
    section = f"{SOAK_START}\n- **command:** `{command}`\n- **date:** {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n{block}\n{SOAK_END}"
    put_block(path, SOAK_START, SOAK_END, section, "## Memory over many calls (soak)")


def report(path: Path, command: str, plan: Plan, rows: list[Row], notes: list[str], seconds: float) -> str:
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("mcp", "pydantic", "httpx2", "uvicorn"))
    machine = (
        f"{platform.system()} {platform.machine()}, nproc {os.cpu_count()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), {versions}"
    )
    body = f"""# Benchmarks

Generated by `tools/bench.py`; do not edit by hand except between the analysis markers below.

- **command:** `{command}` ({plan.name} plan, {seconds:.0f} s)
- **machine:** {machine}
- **date:** {time.strftime("%Y-%m-%d %H:%M %Z")}
- **plan:** {plan.cold_runs} cold starts per server; latency {plan.latency_rounds} rounds × {plan.latency_calls}
  calls per server; throughput {plan.tp_rounds} windows × {plan.tp_seconds:g} s per server and level;
  bulk {plan.bulk_runs} runs of {plan.bulk_users:,} users. Every figure is the median over its rounds;
  ours and its baseline alternate within the same run.

{table(rows)}

{chr(10).join(f"- {n}" for n in notes)}

## What each ratio means

{MEANINGS}
## Memory over many calls (soak)

{keep_section(path, SOAK_START, SOAK_END, "_Not measured yet: run `python tools/bench.py --soak`._")}

## The state store: Redis against the embedded file

{keep_section(path, STATE_START, STATE_END, "_Not measured yet: run `python tools/bench_state.py`._")}

## Where the time goes

{keep_section(path, ANALYSIS_START, ANALYSIS_END, "_No profile notes yet._")}
"""
    path.write_text(body)
    return body


# --- main ---------------------------------------------------------------------------------------
async def setup(env: Env, plan: Plan) -> tuple[int, int, list[int]]:
    async with http_client() as http:
        api = Api(http, env.api)
        owner = (await api.register(1, "owner"))[0]
        members = await api.register(50, "member")
        group_id = await api.create_group(owner, "bench group", members)
        users = await api.register(plan.bulk_users, "bulk")
    return owner, group_id, users


SECTIONS = ("cold", "latency", "throughput", "names", "bulk", "journal", "preview")


def run(plan: Plan, only: tuple[str, ...] = SECTIONS) -> tuple[list[Row], list[str]]:
    logs = Path(tempfile.mkdtemp(prefix="lanying-bench-"))
    sandbox_log = open(logs / "sandbox.log", "ab")
    sandbox, api = start_sandbox(TOKEN, sandbox_log, None, "--group-capacity", "100000")
    env = Env(api, logs)
    rows: list[Row] = []
    notes: list[str] = [f"process logs: {logs}"]
    try:
        owner, group_id, users = asyncio.run(setup(env, plan))
        if "cold" in only:
            step("cold start and memory")
            cold_rows, _ = cold_start(env, plan)
            rows += cold_rows
        if "latency" in only:
            step("latency over stdio")
            rows += latency_stdio(env, plan, group_id)
        kinds = ("ours", "handwritten") if {"latency", "throughput"} & set(only) else ("ours",)
        urls = {kind: env.start_http(kind) for kind in kinds} if set(only) - {"cold"} else {}
        if "latency" in only:
            step("latency over streamable HTTP")
            rows += asyncio.run(latency_http(env, plan, group_id, urls))
        if "throughput" in only:
            step("throughput")
            rows += asyncio.run(throughput(env, plan, group_id, urls))
        if "names" in only:
            step("names beside IDs")
            names_rows, names_notes = asyncio.run(names_cost(env, plan, owner))
            rows += names_rows
            notes = names_notes + notes
        if "journal" in only:
            step("change journal")
            journal_rows, journal_notes = asyncio.run(journal_cost(env, plan, owner))
            rows += journal_rows
            notes = journal_notes + notes
        if "preview" in only:
            step("preview")
            rows += asyncio.run(preview_cost(env, plan, owner, group_id))
        if "bulk" in only:
            step("bulk invite")
            bulk_rows, bulk_notes = asyncio.run(bulk(env, plan, owner, users, urls["ours"]))
            rows += bulk_rows
            notes = bulk_notes + notes
    finally:
        env.stop_all()
        stop(sandbox)
        sandbox_log.close()
    return rows, notes


def step(what: str) -> None:
    print(f"bench: {what} …", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a fast smoke run; writes no report unless --out is given")
    p.add_argument("--out", type=Path, help=f"where to write the report (default {REPORT.name} for a full run)")
    p.add_argument("--soak", action="store_true", help="the memory soak instead: RSS over many calls per transport")
    p.add_argument("--calls", type=int, default=20_000, help="calls per transport in the soak (default 20,000)")
    p.add_argument(
        "--only",
        help=f"comma-separated sections to run ({', '.join(SECTIONS)}); writes no report unless --out is given",
    )
    p.add_argument("--runs", type=int, help="rounds of the cold-start and bulk sections (default: the plan's)")
    ns = p.parse_args(argv)
    if ns.soak:
        return soak(ns)
    plan = QUICK if ns.quick else FULL
    only = tuple(x.strip() for x in ns.only.split(",")) if ns.only else SECTIONS
    if unknown := set(only) - set(SECTIONS):
        p.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if ns.runs:
        plan = replace(plan, cold_runs=ns.runs, bulk_runs=ns.runs)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    rows, notes = run(plan, only)
    seconds = time.perf_counter() - started
    notes.append(
        f"1-minute load average {load_before:.2f} at the start and {os.getloadavg()[0]:.2f} at the end "
        f"on {os.cpu_count()} CPUs: the bench itself keeps about 2 busy; more means other work shared the machine "
        "and the per-round ratio range widens."
    )
    print(table(rows))
    for note in notes:
        print(f"- {note}")
    print(f"({plan.name} plan, {seconds:.0f} s)")
    out = ns.out or (None if ns.quick or ns.only else REPORT)
    if out is not None:
        command = "python tools/bench.py" + (" --quick" if ns.quick else "") + (f" --out {ns.out}" if ns.out else "")
        command += (f" --only {ns.only}" if ns.only else "") + (f" --runs {ns.runs}" if ns.runs else "")
        report(out, command, plan, rows, notes, seconds)
        print(f"wrote {out}")
    return 0


def soak(ns: argparse.Namespace) -> int:
    import bench_soak

    curves, logs = bench_soak.run(ns.calls)
    block = bench_soak.table(curves) + f"\n\nprocess logs and the audit file: {logs}"
    print(block)
    out = ns.out or (None if ns.quick else REPORT)
    if out is not None:
        write_soak(out, "python tools/bench.py --soak" + (f" --calls {ns.calls}" if ns.calls != 20_000 else ""), block)
        print(f"wrote the soak section of {out}")
    judged = [c for c in curves if len([n for n, _ in c.samples if n >= bench_soak.WARM_UP]) >= 3]
    return 0 if all(abs(c.slope) < bench_soak.TARGET for c in judged) else 1  # a short smoke run judges nothing


if __name__ == "__main__":
    sys.exit(main())
