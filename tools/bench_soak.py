"""Memory soak: does the server's RSS stay flat over many calls?

    python tools/bench.py --soak                 # 20,000 mixed calls over stdio, then over streamable HTTP
    python tools/bench.py --soak --calls 4000    # shorter

Each transport gets its own server process (`python -m lanying_mcp`, every toolset, an audit log on)
against one sandbox on loopback. The calls cycle through reads, writes (audited), a local tool and a
failing call; over HTTP a fresh session is also opened and closed every 500 calls, as hosts do. The
server's VmRSS is sampled every 1,000 calls; the slope is the least-squares fit of RSS over calls
after the first 2,000 (warm-up: imports, pools and caches filling), in KiB per call.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_clients import APP_ID, PY, ROOT, TOKEN, Api, HttpSession, StdioSession, http_client

from tests.procs import free_port, rss_kib, server_env, start_sandbox, stop, wait_port

SAMPLE_EVERY = 1_000
WARM_UP = 2_000
TARGET = 1.0  # KiB per call after warm-up


@dataclass
class Curve:
    transport: str
    samples: list[tuple[int, int]]  # (calls done, RSS KiB)
    seconds: float

    @property
    def slope(self) -> float:
        """KiB per call after warm-up (least squares)."""
        pts = [(n, r) for n, r in self.samples if n >= WARM_UP]
        if len(pts) < 2:
            return float("nan")
        mx = sum(n for n, _ in pts) / len(pts)
        my = sum(r for _, r in pts) / len(pts)
        den = sum((n - mx) ** 2 for n, _ in pts)
        return sum((n - mx) * (r - my) for n, r in pts) / den


def mix(owner: int, member: int, group_id: int) -> list[tuple[str, dict[str, Any], bool]]:
    """One cycle of the soak: (tool, arguments, whether it must succeed)."""
    return [
        ("get_group_info", {"group_id": group_id}, True),
        ("list_group_members", {"group_id": group_id, "limit": 20}, True),
        ("get_user_profile", {"as_user_id": member}, True),
        ("list_users", {"page_num": 1, "page_size": 20}, True),
        ("send_message", {"from_user_id": owner, "user_ids": [member], "content": "soak"}, True),
        ("set_user_nickname", {"as_user_id": member, "nick_name": "soak"}, True),
        ("explain_error", {"code": 20013}, True),
        ("get_group_info", {"group_id": 1}, False),  # an error answer: code 20001
    ]


def check(result: dict[str, Any], tool: str, must_succeed: bool) -> None:
    if bool(result.get("isError")) == must_succeed:
        raise RuntimeError(f"{tool}: unexpected {'error' if must_succeed else 'success'}: {str(result)[:300]}")


async def setup(api_url: str) -> tuple[int, int, int]:
    async with http_client() as http:
        api = Api(http, api_url)
        owner, member = await api.register(2, "soak")
        group_id = await api.create_group(owner, "soak group", [member])
    return owner, member, group_id


def soak_stdio(env: dict[str, str], calls: int, cycle: list[tuple[str, dict[str, Any], bool]], log: Any) -> Curve:
    session = StdioSession([PY, "-m", "lanying_mcp"], env, log)
    try:
        session.initialize()
        samples = [(0, rss_kib(session.proc.pid))]
        started = time.perf_counter()
        for i in range(1, calls + 1):
            tool, args, ok = cycle[i % len(cycle)]
            check(session.request("tools/call", {"name": tool, "arguments": args}), tool, ok)
            if i % SAMPLE_EVERY == 0:
                samples.append((i, rss_kib(session.proc.pid)))
                progress("stdio", i, samples[-1][1])
        return Curve("stdio", samples, time.perf_counter() - started)
    finally:
        session.close()


async def soak_http(env: dict[str, str], calls: int, cycle: list[tuple[str, dict[str, Any], bool]], log: Any) -> Curve:
    port = free_port()
    proc = subprocess.Popen(
        [PY, "-m", "lanying_mcp", "--transport", "http", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_port(port, proc)
        async with http_client() as http:
            session = await HttpSession(http, url).initialize()
            samples = [(0, rss_kib(proc.pid))]
            started = time.perf_counter()
            for i in range(1, calls + 1):
                tool, args, ok = cycle[i % len(cycle)]
                check(await session.request("tools/call", {"name": tool, "arguments": args}), tool, ok)
                if i % 500 == 0:  # a host that connects, calls once and leaves
                    other = await HttpSession(http, url).initialize()
                    await other.request("tools/list")
                    await http.delete(url, headers=other.headers)
                if i % SAMPLE_EVERY == 0:
                    samples.append((i, rss_kib(proc.pid)))
                    progress("http", i, samples[-1][1])
        return Curve("streamable HTTP", samples, time.perf_counter() - started)
    finally:
        stop(proc)


def progress(transport: str, done: int, rss: int) -> None:
    print(f"soak {transport}: {done:,} calls, RSS {rss / 1024:.1f} MiB", file=sys.stderr, flush=True)


def run(calls: int) -> tuple[list[Curve], Path]:
    logs = Path(tempfile.mkdtemp(prefix="lanying-soak-"))
    with open(logs / "sandbox.log", "ab") as sandbox_log, open(logs / "servers.log", "ab") as log:
        sandbox, api = start_sandbox(TOKEN, sandbox_log)
        try:
            owner, member, group_id = asyncio.run(setup(api))
            cycle = mix(owner, member, group_id)
            env = server_env(
                api,
                TOKEN,
                APP_ID,
                LANYING_AUDIT_LOG=str(logs / "audit.jsonl"),
                LANYING_CONFIRM="false",
                LANYING_MAX_CLIENT_SESSIONS="100",  # one address stands in for many clients
                LANYING_CALLS_PER_MINUTE="0",  # and makes far more calls a minute than one caller would
            )
            curves = [soak_stdio(env, calls, cycle, log), asyncio.run(soak_http(env, calls, cycle, log))]
        finally:
            stop(sandbox)
    return curves, logs


def table(curves: list[Curve]) -> str:
    """RSS in MiB at each sample, one column per transport, then the slopes."""
    head = "| calls | " + " | ".join(f"RSS, {c.transport}" for c in curves) + " |"
    out = [head, "|--:|" + "--:|" * len(curves)]
    for i, (n, _) in enumerate(curves[0].samples):
        out.append(f"| {n:,} | " + " | ".join(f"{c.samples[i][1] / 1024:.1f} MiB" for c in curves) + " |")
    out.append(
        f"| **slope after {WARM_UP:,}** | "
        + " | ".join(
            f"**{c.slope:+.3f} KiB/call**" + (" (met)" if abs(c.slope) < TARGET else " (**not met**)") for c in curves
        )
        + " |"
    )
    growth = [
        f"{c.transport}: {(c.samples[-1][1] - c.samples[0][1]) / 1024:+.1f} MiB in {c.seconds:.0f} s" for c in curves
    ]
    return "\n".join(out) + "\n\nTotal growth from the first call: " + "; ".join(growth) + "."
