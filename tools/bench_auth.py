"""Per-request cost of checking an OAuth access token (JWT, warm JWKS) against the static bearer token.

    python tools/bench_auth.py            # prints the table and writes it into BENCHMARKS.md (the auth block)
    python tools/bench_auth.py --quick    # a smoke run: prints the table, writes nothing
    python tools/bench_auth.py --requests 2000 --rounds 9 --out F

Each guard runs in this process in front of an ASGI app that answers at once, so the figure is what
the guard adds to one HTTP request: the static `BearerAuth` (a constant-time compare), and the
`OAuthGuard` validating an RS256 and an ES256 JWT with PyJWT against a JWKS already read (the keys
come from a key pair made here, served through an in-process transport; the first request reads
them, the timed ones do not). Every request carries a token signed afresh, so no result is reused.
Rounds alternate the guards so drift hits them alike; each figure is the median over rounds of the
mean time per request, and the ratio is OAuth ÷ static bearer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report_block import put_block  # noqa: E402

from lanying_mcp.serving.http_auth import BearerAuth  # noqa: E402
from lanying_mcp.serving.oauth import OAuthGuard, Verifier  # noqa: E402
from tests.oauth_issuer import READ, Issuer, oauth_settings  # noqa: E402

REPORT = ROOT / "BENCHMARKS.md"
INTRO = (
    "What the HTTP guard adds to each request (`tools/bench_auth.py`): the static bearer is a constant-time "
    "compare; OAuth verifies the JWT's signature (with the issuer's keys already read) and its claims, on "
    "every request. It is a fixed cost per request, whatever the request holds. Ratios "
    "are OAuth ÷ static bearer in the same run; on a loaded machine (see the load average) every absolute "
    "figure grows."
)
START, END = "<!-- auth:start -->", "<!-- auth:end -->"
STATIC = "bench-static-bearer-token-0123456789"


async def answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def timed(guard: Any, tokens: list[str]) -> float:
    """Mean seconds per request through `guard`, one request per token; each must be let through."""
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scopes = [
        {"type": "http", "method": "POST", "path": "/mcp", "headers": [(b"authorization", f"Bearer {t}".encode())]}
        for t in tokens
    ]
    start = time.perf_counter()
    for scope in scopes:
        await guard(scope, receive, send)
    elapsed = time.perf_counter() - start
    assert statuses == [200] * len(tokens), f"a request was refused: {set(statuses)}"
    return elapsed / len(tokens)


async def measure(requests: int, rounds: int) -> dict[str, float]:
    issuer = Issuer()
    conf = oauth_settings()
    guards: dict[str, Any] = {
        "bearer": BearerAuth(answer, STATIC),
        "rs256": OAuthGuard(answer, conf, Verifier(conf, issuer.client())),
        "es256": OAuthGuard(answer, conf, Verifier(conf, issuer.client())),
    }
    key = {"rs256": "rsa", "es256": "ec"}
    for name in ("rs256", "es256"):  # warm: the JWKS is read once here, never in a timed request
        await timed(guards[name], [issuer.token(READ, key=key[name])])
    times: dict[str, list[float]] = {name: [] for name in guards}
    for r in range(rounds):
        order = list(guards) if r % 2 == 0 else list(reversed(guards))
        for name in order:
            tokens = (
                [STATIC] * requests
                if name == "bearer"
                else [issuer.token(READ, key=key[name], jti=f"{r}-{i}") for i in range(requests)]
            )
            times[name].append(await timed(guards[name], tokens))
    assert issuer.jwks_reads == 2, issuer.jwks_reads  # one per OAuth guard: the timed requests read no keys
    return {name: statistics.median(v) for name, v in times.items()}


def table(medians: dict[str, float]) -> str:
    base = medians["bearer"]
    rows = [
        ("static bearer token (`LANYING_AUTH_TOKEN`)", "bearer"),
        ("OAuth, RS256 JWT (2048-bit key), warm JWKS", "rs256"),
        ("OAuth, ES256 JWT (P-256), warm JWKS", "es256"),
    ]
    lines = ["| guard | per request | ratio ÷ static bearer |", "|---|--:|--:|"]
    for what, name in rows:
        lines.append(f"| {what} | {medians[name] * 1e6:,.1f} µs | **{medians[name] / base:,.1f}×** |")
    return "\n".join(lines)


def block(command: str, requests: int, rounds: int, text: str, load: tuple[float, float]) -> str:
    machine = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    machine += f", {os.cpu_count()} CPUs, load average {load[0]:.1f} before and {load[1]:.1f} after"
    return (
        f"{START}\n- **command:** `{command}`\n- **date:** {time.strftime('%Y-%m-%d %H:%M %Z')}\n"
        f"- **machine:** {machine}; PyJWT {metadata.version('pyjwt')}, cryptography {metadata.version('cryptography')}\n"
        f"- **plan:** {rounds} rounds × {requests} requests per guard, alternating; median of the per-round means\n\n"
        f"{text}\n{END}"
    )


def write(path: Path, section: str) -> None:
    put_block(path, START, END, section, f"## OAuth token checks against the static bearer\n\n{INTRO}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run; writes nothing unless --out is given")
    p.add_argument("--requests", type=int, help="requests per guard and round (default 2000; quick 100)")
    p.add_argument("--rounds", type=int, help="rounds (default 7; quick 1)")
    p.add_argument("--out", type=Path, help=f"where to write the auth block (default {REPORT.name}, full runs)")
    ns = p.parse_args(argv)
    requests = ns.requests or (100 if ns.quick else 2000)
    rounds = ns.rounds or (1 if ns.quick else 7)
    before = os.getloadavg()[0]
    medians = asyncio.run(measure(requests, rounds))
    load = (before, os.getloadavg()[0])
    text = table(medians)
    print(text)
    out = ns.out or (None if ns.quick else REPORT)
    if out is not None:
        given = sys.argv[1:] if argv is None else argv
        command = " ".join(["python tools/bench_auth.py", *given])
        write(out, block(command.strip(), requests, rounds, text, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
