"""Bounds on stateful streamable-HTTP sessions (an ASGI middleware in front of the MCP app).

A stateful session costs memory and a task for as long as it lives. Left to itself, one client could
open thousands and hold them, and every other client would be refused. Here:

- at most `max_sessions` sessions are open in all, and at most `max_client_sessions` per client;
  a client past its share gets HTTP 429 saying so, while other clients still get in. A client at its
  share that left a session unused (nothing in flight) for a minute gets that one closed instead, so
  a host that reconnects without ending its old sessions is not locked out;
- a session whose client has not finished the handshake (`notifications/initialized`) within
  `session_init_timeout` seconds is closed;
- a session with no request in flight (an open GET stream counts as one) for `session_idle_timeout`
  seconds is closed (the SDK enforces the same timeout itself as well).

A client is told apart by its OAuth subject when the resource server validated a token (the principal
it leaves in the ASGI scope), so one person's sessions count together over every token they hold;
else by a digest of the credentials it sends (the bearer token and the Lanying headers); a client that
sends none — the default loopback bind, where only local processes can connect — is told apart by its
address, so all local processes without credentials share one share.
Lanying credentials are checked only when a call reaches the API, so a client that varies them gets
a new share each time: `max_sessions` and the reaping below still bound what it can hold.

A session is closed the way a client closes it: a DELETE with its session ID, sent through the MCP
app, so the SDK ends the session's task and forgets it exactly as on a client's request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio

from .limits import principal_subject

log = logging.getLogger("lanying_mcp.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_HEADER = b"mcp-session-id"
VERSION_HEADER = b"mcp-protocol-version"
CREDENTIAL_HEADERS = (b"authorization", b"x-lanying-app-id", b"x-lanying-access-token", b"x-lanying-endpoint")
INITIALIZED = b"notifications/initialized"
PEEK = 64 * 1024  # bytes of a request body searched for the handshake's end
STALE = 60.0  # seconds unused after which a client's own session may be closed to admit its next one


@dataclass
class _Session:
    client: str
    opened: float
    last: float
    scope: Scope  # the opening request's, to address the session's own DELETE
    initialized: bool = False
    in_flight: int = 0


def _headers(event: Scope) -> list[tuple[bytes, bytes]]:
    """An ASGI scope's or message's headers: (name, value) byte pairs, as the ASGI spec gives them."""
    return event.get("headers") or []


def client_key(scope: Scope) -> str:
    """Who is asking: the OAuth subject, else a digest of the credentials sent, else the address."""
    subject = principal_subject(scope)
    if subject is not None:  # one person's sessions count together, whatever token or app they use
        return "oauth:" + subject
    headers = _headers(scope)
    found = [(k, v) for k, v in headers if k.lower() in CREDENTIAL_HEADERS]
    if found:
        digest = hashlib.sha256()
        for key, value in sorted(found):
            digest.update(key.lower() + b"\0" + value + b"\0")
        return "credentials:" + digest.hexdigest()[:24]
    client = scope.get("client")
    return "address:" + (str(client[0]) if client else "unknown")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in _headers(scope):
        if key.lower() == name:
            return value
    return None


def _refusal(status: int, message: str, retry_after: float) -> tuple[Message, Message]:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(max(1, round(retry_after))).encode()),
        ],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


class SessionGuard:
    """Admits, counts and reaps stateful sessions of the wrapped streamable-HTTP app."""

    def __init__(
        self,
        app: App,
        *,
        max_sessions: int,
        max_client_sessions: int,
        idle_timeout: float,
        init_timeout: float,
        legacy_versions: frozenset[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.max_sessions = max_sessions
        self.max_client_sessions = max_client_sessions
        self.idle_timeout = idle_timeout
        self.init_timeout = init_timeout
        self.legacy_versions = legacy_versions
        self.clock = clock
        self.sessions: dict[str, _Session] = {}
        self._opening: dict[str, int] = {}  # admitted, waiting for the answer that names the session

    # -- counting -----------------------------------------------------------------------------------

    def held(self, client: str) -> int:
        return sum(1 for s in self.sessions.values() if s.client == client) + self._opening.get(client, 0)

    def _total(self) -> int:
        return len(self.sessions) + sum(self._opening.values())

    def _due(self, now: float) -> list[str]:
        """Sessions to close now: a handshake left unfinished, or idle too long."""
        due: list[str] = []
        for sid, s in self.sessions.items():
            if not s.initialized and now - s.opened >= self.init_timeout:
                due.append(sid)
            elif s.in_flight == 0 and now - s.last >= self.idle_timeout:
                due.append(sid)
        return due

    def _stalest(self, client: str) -> str | None:
        """The client's session unused longest, when it has nothing in flight and was unused for `STALE` s."""
        now = self.clock()
        idle = [
            (s.last, sid)
            for sid, s in self.sessions.items()
            if s.client == client and s.in_flight == 0 and now - s.last >= STALE
        ]
        return min(idle)[1] if idle else None

    async def reap(self) -> int:
        """Close every session that is due; how many were closed."""
        due = self._due(self.clock())
        for sid in due:
            await self._close(sid)
        return len(due)

    async def _close(self, sid: str) -> None:
        session = self.sessions.pop(sid, None)
        if session is None:
            return
        why = "its handshake was not finished" if not session.initialized else "it was idle"
        log.info("closing HTTP session %s…: %s", sid[:8], why)
        keep = (b"host", *CREDENTIAL_HEADERS)
        headers = [(k, v) for k, v in _headers(session.scope) if k.lower() in keep]
        scope = {**session.scope, "method": "DELETE", "headers": [*headers, (SESSION_HEADER, sid.encode())]}
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await anyio.sleep_forever()
            raise AssertionError("unreachable")  # pragma: no cover

        async def discard(message: Message) -> None:
            return None

        try:
            with anyio.fail_after(10):
                await self.app(scope, receive, discard)
        except Exception as exc:  # the session may be gone already; it is forgotten here either way
            log.warning("closing HTTP session %s… failed: %s", sid[:8], type(exc).__name__)

    async def _reap_forever(self) -> None:
        period = max(0.05, min(1.0, self.init_timeout / 4, self.idle_timeout / 4))
        while True:
            await anyio.sleep(period)
            try:
                await self.reap()
            except Exception:  # the reaper never dies; the next round tries again
                log.exception("reaping HTTP sessions failed")

    # -- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._reap_forever)
                try:
                    await self.app(scope, receive, send)
                finally:
                    tg.cancel_scope.cancel()
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sid_raw = _header(scope, SESSION_HEADER)
        if sid_raw is not None:
            await self._in_session(sid_raw.decode("latin-1"), scope, receive, send)
            return
        version = _header(scope, VERSION_HEADER)
        opens = scope.get("method") == "POST" and (version is None or version.decode("latin-1") in self.legacy_versions)
        if not opens:  # a stateless request of the 2026 era, or one the app refuses on its own
            await self.app(scope, receive, send)
            return
        await self._open(scope, receive, send)

    async def _open(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.reap()
        client = client_key(scope)
        if self.held(client) >= self.max_client_sessions and (stale := self._stalest(client)) is not None:
            await self._close(stale)  # a session this client left behind makes room for its new one
        refusal = self._admission(client)
        if refusal is not None:
            start, body = refusal
            await send(start)
            await send(body)
            return
        self._opening[client] = self._opening.get(client, 0) + 1
        named: list[str] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status", 500) < 400:
                for key, value in _headers(message):
                    if key.lower() == SESSION_HEADER:
                        named.append(value.decode("latin-1"))
            if named and named[0] not in self.sessions:
                now = self.clock()
                self.sessions[named[0]] = _Session(client, now, now, dict(scope))
                self._release(client)
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not named:
                self._release(client)

    def _release(self, client: str) -> None:
        left = self._opening.get(client, 0) - 1
        if left > 0:
            self._opening[client] = left
        else:
            self._opening.pop(client, None)

    def _admission(self, client: str) -> tuple[Message, Message] | None:
        later = (
            f"Idle sessions close after {self.idle_timeout:g} s, and sessions whose handshake is not finished "
            f"after {self.init_timeout:g} s."
        )
        if self.held(client) >= self.max_client_sessions:
            log.warning("refused a new HTTP session: the client holds %d", self.max_client_sessions)
            message = (
                f"Too many open sessions for this client: it already holds {self.max_client_sessions}, the most "
                "one client may (LANYING_MAX_CLIENT_SESSIONS). Reuse an open session (send its Mcp-Session-Id), "
                f"or end one with an HTTP DELETE carrying its Mcp-Session-Id. {later}"
            )
            return _refusal(429, message, min(self.init_timeout, self.idle_timeout))
        if self._total() >= self.max_sessions:
            log.warning("refused a new HTTP session: %d sessions are open", self.max_sessions)
            message = (
                f"The server holds its most open sessions ({self.max_sessions}, LANYING_MAX_SESSIONS); try again "
                f"later. {later}"
            )
            return _refusal(503, message, min(self.init_timeout, self.idle_timeout))
        return None

    async def _in_session(self, sid: str, scope: Scope, receive: Receive, send: Send) -> None:
        session = self.sessions.get(sid)
        if session is None:  # unknown to us: the app answers for it (404 for an ended session)
            await self.app(scope, receive, send)
            return
        session.in_flight += 1
        session.last = self.clock()
        seen = bytearray()
        status: list[int] = []

        async def peek() -> Message:
            message = await receive()
            if not session.initialized and message.get("type") == "http.request" and len(seen) < PEEK:
                seen.extend(message.get("body", b"")[: PEEK - len(seen)])
                if INITIALIZED in seen:
                    session.initialized = True
            return message

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message.get("status", 500))
            await send(message)

        try:
            await self.app(scope, peek if scope.get("method") == "POST" else receive, watch)
        finally:
            session.in_flight -= 1
            session.last = self.clock()
            ended = status and (status[0] == 404 or (scope.get("method") == "DELETE" and status[0] < 300))
            if ended and self.sessions.get(sid) is session:
                del self.sessions[sid]
