"""Fault injection around the sandbox app: the failures a real network and a real service produce.

`FaultInjector(app)` is ASGI middleware. Tests arm it from Python with `plan()`; the next matching
requests then fail in the chosen way, and every request is recorded in `requests` so a test can
count how often our client really called (retries) and what the service applied.

Where a fault strikes matters as much as what it is:

- `when="before"`: the real handler never runs, so the request is NOT applied. A retry is harmless.
- `when="after"`: the handler runs and changes state, then the answer is lost or garbled. This is
  how a naive retry of a non-idempotent write applies it twice, so it is the case the tests care
  about most.

Fault kinds:

    latency     sleep `delay` seconds, then answer normally (before: before the handler runs)
    http_500 / http_502 / http_503
                an HTTP error status with a small plain-text body (no Lanying envelope)
    http_429    HTTP 429 with a `Retry-After: <retry_after>` header
    drop        the connection closes without a response: raises httpx2.RemoteProtocolError,
                which httpx2.ASGITransport passes to the client unchanged (exactly what httpx2
                raises when a server hangs up mid-request)
    refuse      the connection is refused: httpx2.ConnectError (only meaningful `before`)
    timeout     the read times out: httpx2.ReadTimeout
    truncated   HTTP 200, JSON content type, the body cut in half
    html        HTTP 200 (or `status`), an HTML error page instead of JSON
    api_error   HTTP 200 with a Lanying error envelope `{code: <code>, message}`

`drop`, `refuse` and `timeout` raise inside the app, so they are only faithful in-process (through
`httpx2.ASGITransport`, which re-raises app exceptions). Behind a real ASGI server they degrade
to the server's own 500 answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KINDS = (
    "latency",
    "http_500",
    "http_502",
    "http_503",
    "http_429",
    "drop",
    "refuse",
    "timeout",
    "truncated",
    "html",
    "api_error",
)
WHEN = ("before", "after")

HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>"
)


@dataclass
class Plan:
    """One armed fault: `kind` on the next `times` requests to `path` (None: any path)."""

    kind: str
    when: str = "before"
    times: int = 1
    path: str | None = None
    delay: float = 0.05  # latency
    retry_after: str = "1"  # http_429
    code: int = 20000  # api_error
    status: int = 200  # html
    fired: int = 0

    def matches(self, path: str) -> bool:
        return self.fired < self.times and (self.path is None or self.path == path)


@dataclass
class Seen:
    """One request that reached the injector, and what was done to it."""

    method: str
    path: str
    at: float
    fault: str | None = None  # "kind/when", or None when it passed untouched
    applied: bool = True  # whether the real handler ran


@dataclass
class FaultInjector:
    """ASGI middleware that fails chosen requests to the wrapped app; see the module docstring."""

    app: ASGIApp
    plans: list[Plan] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)

    def plan(
        self,
        fault: str,
        *,
        path: str | None = None,
        when: str = "before",
        times: int = 1,
        delay: float = 0.05,
        retry_after: str = "1",
        code: int = 20000,
        status: int = 200,
    ) -> Plan:
        """Arm `fault` for the next `times` requests to `path` (every path when None)."""
        if fault not in KINDS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(KINDS)}")
        if when not in WHEN:
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        if times < 1:
            raise ValueError("times must be at least 1")
        p = Plan(fault, when, times, path, delay, retry_after, code, status)
        self.plans.append(p)
        return p

    def clear(self) -> None:
        """Disarm every plan and forget the recorded requests."""
        self.plans.clear()
        self.requests.clear()

    def calls(self, path: str | None = None) -> list[Seen]:
        """Recorded requests, optionally only those to `path`."""
        return [r for r in self.requests if path is None or r.path == path]

    def pending(self) -> int:
        """How many armed faults have not fired yet."""
        return sum(p.times - p.fired for p in self.plans)

    def _take(self, path: str) -> Plan | None:
        for p in self.plans:
            if p.matches(path):
                p.fired += 1
                return p
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        seen = Seen(scope.get("method", ""), path, time.monotonic())
        self.requests.append(seen)
        plan = self._take(path)
        if plan is None:
            await self.app(scope, receive, send)
            return
        seen.fault = f"{plan.kind}/{plan.when}"
        if plan.when == "before":
            seen.applied = plan.kind == "latency"
            if plan.kind == "latency":
                await anyio.sleep(plan.delay)
                await self.app(scope, receive, send)
                return
            await _drain(receive)
            await self._fail(plan, send, None)
            return
        # after: let the real handler run to completion, keep its answer, then spoil it
        status, headers, body = await _run(self.app, scope, receive)
        if plan.kind == "latency":
            await anyio.sleep(plan.delay)
            await _respond(send, status, headers, body)
            return
        await self._fail(plan, send, body)

    async def _fail(self, plan: Plan, send: Send, real_body: bytes | None) -> None:
        kind = plan.kind
        if kind == "drop":
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        if kind == "refuse":
            raise httpx2.ConnectError("[Errno 111] Connection refused")
        if kind == "timeout":
            raise httpx2.ReadTimeout("timed out")
        if kind.startswith("http_"):
            status = int(kind.removeprefix("http_"))
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            if status == 429:
                headers.append((b"retry-after", plan.retry_after.encode()))
            text = {429: b"Too Many Requests", 500: b"Internal Server Error", 502: b"Bad Gateway"}
            await _respond(send, status, headers, text.get(status, b"Service Unavailable"))
            return
        if kind == "truncated":
            body = real_body if real_body else b'{"code": 200, "message": null, "data": {"group_id": 1, "name": "x"}}'
            await _respond(send, 200, [(b"content-type", b"application/json")], body[: max(1, len(body) // 2)])
            return
        if kind == "html":
            await _respond(send, plan.status, [(b"content-type", b"text/html; charset=utf-8")], HTML_PAGE)
            return
        if kind == "api_error":
            body = b'{"code": %d, "message": "injected fault", "data": null}' % plan.code
            await _respond(send, 200, [(b"content-type", b"application/json")], body)
            return
        raise AssertionError(f"unhandled fault {kind}")  # pragma: no cover - KINDS is checked in plan()


async def _drain(receive: Receive) -> None:
    """Read the request body to the end, as a server that rejects a request still does."""
    for _ in range(100_000):  # bounded: a body arrives in a finite number of chunks
        message = await receive()
        if message.get("type") != "http.request" or not message.get("more_body", False):
            return


async def _run(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run `app` with a recording `send`; return its status, headers and whole body."""
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def record(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, record)
    return status, headers, b"".join(chunks)


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
