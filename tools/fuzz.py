"""Fuzz every tool at scale: generated arguments, both protocol eras, the sandbox and a hostile upstream.

    python tools/fuzz.py                 # 10,000 inputs (the default), seed 1
    python tools/fuzz.py --inputs 20000 --seed 7
    python tools/fuzz.py --quick         # 400 inputs: a smoke run

Inputs are drawn, from a seeded random generator, from each tool's own input schema: arguments that
fit it, and arguments with one targeted fault (a wrong type, a missing or unknown key, huge strings and
lists, out-of-range and enormous IDs, invisible and odd characters, deep nesting, nulls). They go
through a real MCP client (`mcp.Client`, in memory) in both protocol eras — the 2025 handshake
(`mode="legacy"`) and the default 2026-07-28 one — to a server whose API is either the sandbox or a
hostile upstream that answers most requests with something no API should send: bodies off the
documented shape, the access token echoed back (plain, upper-cased, spaced, JSON-escaped), HTML,
truncated and over-deep JSON, enormous numbers, bidi and tag characters, 5xx and 429 answers.

Counted, over every input: protocol errors (the call raised instead of returning a tool result),
malformed tool errors, internal errors (an unexpected failure inside the server), tracebacks in what
the client received, token leaks (the access token, or a long run of its characters, anywhere in what
the client received or in the server's log), unanswered requests, and whether each server still
answers afterwards. The figures are printed; the exit status is 1 when any of them is not zero.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import random
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mcp import Client  # noqa: E402
from mcp.types import ElicitResult  # noqa: E402

from lanying_mcp.core.schema import input_schema  # noqa: E402
from lanying_mcp.core.settings import Settings  # noqa: E402
from lanying_mcp.engine.client import LanyingClient, RetryPolicy  # noqa: E402
from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app  # noqa: E402
from lanying_mcp.serving.server import build_server  # noqa: E402
from lanying_mcp.toolsets import CATALOGUE  # noqa: E402
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS  # noqa: E402

TOKEN = "fz9Canary7TokenQ4xW2mK8vB5nR3"  # distinctive: any copy of it in the output is a leak
VERBOSE = False  # --verbose: full tracebacks of what failed
CALL_TIMEOUT = 60.0  # seconds: a call without an answer by then counts as unanswered
TOOLS = {op.name: input_schema(op.params) for op in [*CATALOGUE.values(), *LOCAL_OPERATIONS]}
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")
# A copy of the token, as the server promises to mask it (README, "Secret masking"): any 16 of its letters
# and digits in a row, in any case, with up to 8 separators or JSON escapes between them. An encoding that
# rewrites the characters themselves (base64, a JSON escape in place of a letter) is beyond any masking.
_ALNUM = re.sub(r"[^A-Za-z0-9]", "", TOKEN)
_BETWEEN = r"(?:[^0-9A-Za-z]|\\[nrtbf]|\\u00[0-7][0-9a-fA-F]){0,8}"
LEAK = re.compile(
    "|".join(_BETWEEN.join(map(re.escape, _ALNUM[i : i + 16])) for i in range(len(_ALNUM) - 15)),
    re.IGNORECASE,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ODD = [
    "",
    " ",
    "\x00",
    "a\nb",
    "\u202eevil",
    "\u200d\u200d",
    "\U000e0041\U000e0042",
    "😀" * 30,
    "蓝莺IM",
    "%s%n",
    "${x}",
]
BAD_INTS = [-1, 0, -(2**63), 2**63, 2**64 + 1, 10**30, 10**400]


# -- inputs --------------------------------------------------------------------------------------------


class Draw:
    """Arguments from a tool's input schema (the JSON Schema subset the tools use), seeded."""

    def __init__(self, rng: random.Random, known: list[int]) -> None:
        self.rng = rng
        self.known = known

    def text(self, lo: int = 0, hi: int = 24) -> str:
        r = self.rng
        if r.random() < 0.2:
            return r.choice(ODD)[: max(hi, 1)] if lo == 0 else "x" * lo
        n = r.randint(lo, max(lo, hi))
        pool = "abcXYZ019_-. 蓝莺\u200b😀"
        return "".join(r.choice(pool) for _ in range(n))

    def json_value(self, depth: int = 0) -> Any:
        r = self.rng
        pick = r.randrange(7 if depth < 3 else 5)
        if pick == 5:
            return [self.json_value(depth + 1) for _ in range(r.randrange(3))]
        if pick == 6:
            return {self.text(1, 8): self.json_value(depth + 1) for _ in range(r.randrange(3))}
        return (None, r.random() < 0.5, r.randint(-(10**6), 10**6), self.text(), r.uniform(-1e6, 1e6))[pick]

    def valid(self, schema: dict[str, Any]) -> Any:
        r = self.rng
        if "enum" in schema:
            return r.choice(schema["enum"])
        options = schema.get("anyOf") or schema.get("oneOf")
        if options:
            return self.valid(r.choice(options))
        kind = schema.get("type")
        if isinstance(kind, list):
            return self.valid({**schema, "type": r.choice(kind)})
        if kind == "integer":
            lo, hi = schema.get("minimum"), schema.get("maximum")
            fitting = [k for k in self.known if (lo is None or k >= lo) and (hi is None or k <= hi)]
            if fitting and r.random() < 0.6:
                return r.choice(fitting)
            low = lo if lo is not None else -5
            return r.randint(low, hi if hi is not None else max(low, 10**12))
        if kind == "number":
            return r.uniform(schema.get("minimum", -100.0), schema.get("maximum", 100.0))
        if kind == "boolean":
            return r.random() < 0.5
        if kind == "null":
            return None
        if kind == "string":
            lo = schema.get("minLength", 0)
            return self.text(lo, max(lo, min(schema.get("maxLength", 24), 24)))
        if kind == "array":
            lo = schema.get("minItems", 0)
            hi = max(lo, min(schema.get("maxItems", 4), 4))
            return [self.valid(schema.get("items", {})) for _ in range(r.randint(lo, hi))]
        if kind == "object" or "properties" in schema:
            props: dict[str, Any] = schema.get("properties", {})
            if not props:
                return {self.text(1, 8): self.json_value() for _ in range(r.randrange(3))}
            required = set(schema.get("required", []))
            return {k: self.valid(v) for k, v in props.items() if k in required or r.random() < 0.4}
        return self.json_value()

    def wrong_type(self, schema: dict[str, Any]) -> Any:
        kind = schema.get("type")
        options: list[Callable[[], Any]] = [
            lambda: None,
            lambda: "12",
            lambda: self.rng.randint(-5, 5),
            lambda: self.text(),
            lambda: self.rng.random() < 0.5,
            lambda: [1, 2],
            lambda: {"x": 1},
            lambda: 1.5,
        ]
        for _ in range(10):
            value = self.rng.choice(options)()
            if not _fits(kind, value):
                return value
        return None

    def invalid(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Valid arguments with one targeted fault (which may, by chance, still be valid)."""
        r = self.rng
        args = dict(self.valid(schema))
        props: dict[str, Any] = schema.get("properties", {})
        names = sorted(props)
        typed = {t: [n for n in names if props[n].get("type") == t] for t in ("integer", "string", "array")}
        how = r.choice(
            ["wrong_type", "drop", "extra", "huge_string", "huge_list", "bad_id", "odd", "deep", "null", "empty"]
        )
        if how == "drop" and schema.get("required"):
            args.pop(r.choice(sorted(schema["required"])), None)
        elif how == "extra":
            args[self.text(1, 12) + "_x"] = self.json_value()
        elif how == "huge_string" and names:
            args[r.choice(typed["string"] or names)] = r.choice(["x", "蓝", "😀"]) * r.choice([5_000, 100_000])
        elif how == "huge_list" and names:
            args[r.choice(typed["array"] or names)] = list(range(1, 1 + r.choice([501, 2_000])))
        elif how == "bad_id" and names:
            args[r.choice(typed["integer"] or names)] = r.choice(BAD_INTS)
        elif how == "odd" and names:
            args[r.choice(typed["string"] or names)] = r.choice(ODD)
        elif how == "deep" and names:
            args[r.choice(names)] = _nested(r.choice([20, 200]))
        elif how == "null" and names:
            args[r.choice(names)] = None
        elif how == "empty":
            args = {}
        elif names:
            key = r.choice(names)
            args[key] = self.wrong_type(props[key])
        else:
            args[self.text(1, 8)] = self.json_value()
        return args


def _fits(kind: Any, value: Any) -> bool:
    checks: dict[str, Callable[[Any], bool]] = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    return kind in checks and checks[kind](value)


def _nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


# -- the hostile upstream ------------------------------------------------------------------------------


def _deep(n: int) -> bytes:
    return b'{"code":200,"data":' + b"[" * n + b"]" * n + b"}"


HOSTILE: list[tuple[str, Callable[[random.Random], tuple[int, list[tuple[bytes, bytes]], bytes]]]] = []


def hostile(name: str) -> Callable[[Any], Any]:
    def register(fn: Any) -> Any:
        HOSTILE.append((name, fn))
        return fn

    return register


JSON_HEAD = [(b"content-type", b"application/json")]


def _ok(data: Any, **extra: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return 200, JSON_HEAD, json.dumps({"code": 200, "message": "", "data": data, **extra}).encode()


@hostile("token_echo")
def _token_echo(r: random.Random) -> Any:
    copies = [TOKEN, TOKEN.upper(), " ".join(TOKEN), TOKEN[1:], TOKEN[:12] + "\\n" + TOKEN[12:], f"Bearer {TOKEN}"]
    copy = r.choice(copies)
    return _ok(
        {"user_id": 1, "username": copy, "nick_name": copy, "token": copy, "app_secret": copy, "info": {"k": copy}}
    )


@hostile("token_in_error")
def _token_in_error(r: random.Random) -> Any:
    body = {"code": r.choice([10008, 10002, 20000, 402]), "message": f"invalid access-token {TOKEN} for app"}
    return 200, JSON_HEAD, json.dumps(body).encode()


@hostile("token_in_5xx")
def _token_in_5xx(r: random.Random) -> Any:
    return r.choice([500, 502, 503]), [(b"content-type", b"text/plain")], f"upstream failed for {TOKEN}".encode()


@hostile("off_shape")
def _off_shape(r: random.Random) -> Any:
    data = r.choice(
        [
            "a string",
            12345,
            [1, "two", None, {"x": []}],
            {"user_id": "not-a-number", "group_id": [1], "name": {"x": 1}},
            {"app_id": 123456, "app_secret": "vendor-secret-xyz", "private_key": "-----BEGIN KEY-----"},
            [{"user_id": i, "username": f"u{i}\u202e\u200b"} for i in range(r.randint(0, 30))],
            None,
            True,
        ]
    )
    return _ok(data)


@hostile("odd_names")
def _odd_names(r: random.Random) -> Any:
    rows = [
        {
            "user_id": 10 + i,
            "group_id": 20 + i,
            "username": f"\u202eevil{i}",
            "nick_name": "\U000e0049gnore",
            "name": "\x00\u200d",
        }
        for i in range(5)
    ]
    return _ok(r.choice([rows, rows[0]]), cursor="\u202e", total=-1)


@hostile("html")
def _html(r: random.Random) -> Any:
    page = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
    return r.choice([200, 502]), [(b"content-type", b"text/html")], page


@hostile("truncated")
def _truncated(r: random.Random) -> Any:
    body = json.dumps({"code": 200, "data": [{"user_id": 1, "username": "x" * 50}] * 5}).encode()
    return 200, JSON_HEAD, body[: r.randint(1, len(body) - 1)]


@hostile("deep")
def _deep_json(r: random.Random) -> Any:
    return 200, JSON_HEAD, _deep(r.choice([150, 5000]))


@hostile("huge_number")
def _huge_number(r: random.Random) -> Any:
    return 200, JSON_HEAD, b'{"code":200,"data":{"user_id":' + b"9" * r.choice([30, 5000]) + b"}}"


@hostile("odd_codes")
def _odd_codes(r: random.Random) -> Any:
    code = r.choice(['"200"', "200.0", "null", "true", "-1", "99999999999999999999", "[]"])
    return 200, JSON_HEAD, b'{"code":' + code.encode() + b',"message":{"x":1},"data":{}}'


@hostile("nan")
def _nan(r: random.Random) -> Any:
    return 200, JSON_HEAD, b'{"code":200,"data":{"count":NaN,"size":Infinity},"data":[1]}'


@hostile("rate_limited")
def _rate_limited(r: random.Random) -> Any:
    return 429, [(b"retry-after", r.choice([b"1", b"-5", b"soon", b"99999"]))], b""


@hostile("bad_gzip")
def _bad_gzip(r: random.Random) -> Any:
    good = gzip.compress(b'{"code":200,"data":true}')
    body = r.choice([b"not gzip at all", good[: len(good) // 2]])
    return 200, [*JSON_HEAD, (b"content-encoding", b"gzip")], body


@hostile("empty")
def _empty(r: random.Random) -> Any:
    return r.choice([200, 204]), JSON_HEAD, b""


@hostile("too_large")
def _too_large(r: random.Random) -> Any:
    return _ok("x" * 300_000)  # the hostile server reads at most 64 KiB of an answer


@hostile("redirect")
def _redirect(r: random.Random) -> Any:
    return 302, [(b"location", b"http://elsewhere.invalid/steal")], b""


class HostileUpstream:
    """An ASGI app that answers most requests with one of the answers above, the rest through the sandbox."""

    def __init__(self, sandbox: Any, rng: random.Random) -> None:
        self.sandbox = sandbox
        self.rng = rng
        self.served: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rng.random() < 0.25:
            self.served["sandbox"] += 1
            await self.sandbox(scope, receive, send)
            return
        while (await receive()).get("more_body"):
            pass
        name, make = self.rng.choice(HOSTILE)
        self.served[name] += 1
        status, headers, body = make(self.rng)
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# -- running -------------------------------------------------------------------------------------------


@dataclass
class Counts:
    inputs: int = 0
    valid: int = 0
    invalid: int = 0
    ok: int = 0
    tool_errors: int = 0
    protocol_errors: int = 0
    malformed_errors: int = 0
    internal_errors: int = 0
    tracebacks: int = 0
    token_leaks: int = 0
    unanswered: int = 0
    dead_servers: int = 0
    examples: list[str] = field(default_factory=list)
    tools: set[str] = field(default_factory=set)

    FAILURES = (
        "protocol_errors",
        "malformed_errors",
        "internal_errors",
        "tracebacks",
        "token_leaks",
        "unanswered",
        "dead_servers",
    )

    def note(self, kind: str, label: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {label}")


class LogTap(logging.Handler):
    """Every log line the server writes, formatted with its traceback, searched for the token."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is not ours to judge here
            return
        if LEAK.search(text):
            self.leaks.append(text[:300])


def _short(args: Any) -> str:
    text = json.dumps(args, ensure_ascii=False, default=str)
    return text if len(text) < 160 else text[:160] + f"… ({len(text)} chars)"


def _seen(result: Any) -> str:
    parts = [json.dumps(result.structured_content, ensure_ascii=False, default=str)]
    parts += [json.dumps(c.model_dump(mode="json"), ensure_ascii=False) for c in result.content]
    parts.append(json.dumps(result.meta or {}, ensure_ascii=False, default=str))
    return "\n".join(parts)


async def human(rng: random.Random) -> Callable[[Any, Any], Awaitable[ElicitResult]]:
    async def answer(context: Any, params: Any) -> ElicitResult:
        if LEAK.search(params.message or ""):
            raise AssertionError("the token in a confirmation question: " + params.message[:200])
        pick = rng.random()
        if pick < 0.5:
            return ElicitResult(action="accept", content={"confirm": True})
        if pick < 0.7:
            return ElicitResult(action="decline")
        if pick < 0.8:
            return ElicitResult(action="cancel")
        return ElicitResult(action="accept", content={"confirm": rng.choice(["yes", 1, "true", False, None])})

    return answer


def seed_sandbox(store: Store) -> list[int]:
    users = [store.add_user(f"fuzz_{i}", "pw-123456") for i in range(4)]
    for i, user in enumerate(users):
        user.nick_name = f"Fuzz {i}"
    return [u.user_id for u in users]


async def seed_group(store: Store, owner: int, members: list[int]) -> int | None:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=build_app(store)), base_url="http://s") as http:
        answer = await http.post(
            "/group/create",
            headers={"app_id": store.app_id, "access-token": store.admin_token, "user_id": str(owner)},
            json={"name": "fuzz group", "user_list": members},
        )
    data = answer.json().get("data") or {}
    return data.get("group_id")


async def run_target(
    upstream: str, mode: str, n: int, seed: int, counts: Counts, served: Counter[str], start: int = 0
) -> None:
    """`n` inputs through one client and one server; then check that the server still answers."""
    rng = random.Random(f"{seed}/{upstream}/{mode}")
    store = Store(admin_token=TOKEN)
    known = seed_sandbox(store)
    group = await seed_group(store, known[0], known[1:])
    known += [group] if group else []
    app: Any = build_app(store)
    hostile_app: HostileUpstream | None = None
    if upstream == "hostile":
        hostile_app = HostileUpstream(app, rng)
        app = hostile_app
    settings = Settings(
        endpoint="http://sandbox.fuzz",
        app_id=SANDBOX_APP_ID,
        access_token=TOKEN,
        toolsets=("all",),
        max_response_bytes=64 * 1024,
        call_deadline=20.0,
        timeout=10.0,
    )
    no_wait = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0, total=5.0)  # retries, without the waiting
    client = LanyingClient(settings, transport=httpx2.ASGITransport(app=app), retry=no_wait)
    server = build_server(settings, client=client)
    draw = Draw(rng, known)
    names = sorted(TOOLS)
    label = f"{upstream}/{mode}"
    client_mode: dict[str, Any] = {"mode": "legacy"} if mode == "legacy" else {}
    last = ["(none yet)"]
    try:
        async with Client(server, elicitation_callback=await human(rng), **client_mode) as mcp:
            for i in range(n):
                # every tool in turn (each target starting where the last one stopped), then at random
                tool = names[(start + i) % len(names)] if i < len(names) else rng.choice(names)
                kind = "valid" if rng.random() < 0.5 else "invalid"
                args = draw.valid(TOOLS[tool]) if kind == "valid" else draw.invalid(TOOLS[tool])
                last[0] = f"{tool}({_short(args)})"
                await one_call(mcp, tool, args, kind, counts, f"{label} {last[0]}")
            if not await alive(mcp):
                counts.note("dead_servers", label)
    except Exception as exc:  # the session itself failed: the server is not answering any more
        counts.note("dead_servers", f"{label} after {last[0]}: {_innermost(exc)}")
        if VERBOSE:
            traceback.print_exception(exc)
    finally:
        await client.aclose()
    if hostile_app is not None:
        served.update(hostile_app.served)


def _innermost(exc: BaseException) -> str:
    while inner := getattr(exc, "exceptions", None):  # an exception group: its first member
        exc = inner[0]
    return f"{type(exc).__name__}: {str(exc)[:300]}"


async def one_call(mcp: Client, tool: str, args: dict[str, Any], kind: str, counts: Counts, label: str) -> None:
    counts.inputs += 1
    setattr(counts, kind, getattr(counts, kind) + 1)
    counts.tools.add(tool)
    try:
        with anyio.fail_after(CALL_TIMEOUT):
            result = await mcp.call_tool(tool, args)
    except TimeoutError:
        counts.note("unanswered", label)
        return
    except Exception as exc:  # the call did not come back as a tool result
        counts.note("protocol_errors", f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
        return
    seen = _seen(result)
    if leak := LEAK.search(seen):
        around = seen[max(0, leak.start() - 80) : leak.end() + 40]
        counts.note("token_leaks", f"{label}: …{around}…")
    if TRACEBACK.search(seen):
        counts.note("tracebacks", label)
    if not result.is_error:
        counts.ok += 1
        return
    counts.tool_errors += 1
    err = (result.structured_content or {}).get("error")
    if not isinstance(err, dict) or not {"code", "message", "meaning", "hint", "retryable"} <= set(err):
        counts.note("malformed_errors", f"{label}: {seen[:200]}")
    elif err["code"] == "internal_error":
        counts.note("internal_errors", label)


async def alive(mcp: Client) -> bool:
    try:
        with anyio.fail_after(CALL_TIMEOUT):
            tools = await mcp.list_tools()
            answer = await mcp.call_tool("explain_error", {"code": 10008})
        return bool(tools.tools) and not answer.is_error
    except Exception:
        return False


async def fuzz(total: int, seed: int) -> tuple[Counts, Counter[str], list[str]]:
    counts = Counts()
    served: Counter[str] = Counter()
    tap = LogTap()
    root = logging.getLogger()
    root.addHandler(tap)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        targets = [(u, m) for u in ("sandbox", "hostile") for m in ("legacy", "default")]
        share = -(-total // len(targets))
        for k, (upstream, mode) in enumerate(targets):
            await run_target(upstream, mode, share, seed, counts, served, start=k * share)
    finally:
        root.removeHandler(tap)
        root.setLevel(level)
    return counts, served, tap.leaks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--inputs", type=int, default=10_000, help="inputs in all (default 10,000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same inputs)")
    p.add_argument("--quick", action="store_true", help="a smoke run of 400 inputs")
    p.add_argument("--verbose", action="store_true", help="print the full traceback of a session that failed")
    ns = p.parse_args(argv)
    global VERBOSE
    VERBOSE = ns.verbose
    total = 400 if ns.quick else ns.inputs
    # Only the tap sees the server's log lines; nothing is printed but the report.
    logging.getLogger("lanying_mcp").propagate = True
    for noisy in ("httpx2", "httpcore2", "mcp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    started = time.monotonic()
    counts, served, log_leaks = anyio.run(fuzz, total, ns.seed)
    elapsed = time.monotonic() - started
    counts.token_leaks += len(log_leaks)
    for line in log_leaks[:5]:
        counts.examples.append("token_leaks (log): " + line)
    print(
        f"fuzz: {counts.inputs} inputs ({counts.valid} schema-valid, {counts.invalid} with a fault) over "
        f"{len(counts.tools)} tools, 2 protocol eras × sandbox and hostile upstream, seed {ns.seed}, "
        f"{elapsed:.0f} s"
    )
    print(f"  results: {counts.ok} succeeded, {counts.tool_errors} structured tool errors")
    print("  hostile answers served: " + ", ".join(f"{k} {v}" for k, v in sorted(served.items())))
    for name in Counts.FAILURES:
        print(f"  {name}: {getattr(counts, name)}")
    missing = set(TOOLS) - counts.tools
    if missing:
        print(f"  tools never fuzzed: {', '.join(sorted(missing))}")
    for example in counts.examples:
        print("  - " + example)
    bad = any(getattr(counts, name) for name in Counts.FAILURES) or bool(missing)
    print("FAIL" if bad else "OK: every count is zero")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
