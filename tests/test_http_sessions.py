"""The session guard on its own: who counts as a client, and the session a client left behind."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from lanying_mcp.serving.http_sessions import STALE, SessionGuard, client_key

pytestmark = pytest.mark.anyio


class FakeApp:
    """Opens a session per POST without an id; a DELETE ends one (as the SDK's app does)."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.open: set[str] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        if scope["method"] == "POST":
            await receive()  # the body, as the SDK reads it
        sid = headers.get(b"mcp-session-id", b"").decode()
        status, out = 200, []
        if scope["method"] == "DELETE":
            self.open.discard(sid)
        elif not sid:
            sid = f"s{next(self.ids)}"
            self.open.add(sid)
            out = [(b"mcp-session-id", sid.encode())]
        elif sid not in self.open:
            status = 404
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": b"{}"})


def scope(method: str = "POST", sid: str | None = None, address: str = "127.0.0.1", **headers: str) -> dict:
    raw = [(b"host", b"127.0.0.1:8000")] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    if sid:
        raw.append((b"mcp-session-id", sid.encode()))
    return {"type": "http", "method": method, "path": "/mcp", "headers": raw, "client": (address, 5555)}


async def request(guard: SessionGuard, sc: dict, body: bytes = b"{}") -> tuple[int, dict[bytes, bytes]]:
    got: dict[str, Any] = {}

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            got["status"], got["headers"] = message["status"], dict(message.get("headers") or [])

    await guard(sc, receive, send)
    return got["status"], got["headers"]


def test_a_client_is_its_credentials_or_else_its_address():
    assert client_key(scope(authorization="Bearer a")) != client_key(scope(authorization="Bearer b"))
    assert client_key(scope(authorization="Bearer a", address="10.0.0.1")) == client_key(
        scope(authorization="Bearer a", address="10.0.0.2")
    )
    assert client_key(scope(x_lanying_app_id="1")) != client_key(scope(x_lanying_app_id="2"))
    assert client_key(scope(address="10.0.0.1")) != client_key(scope(address="10.0.0.2"))
    assert "Bearer" not in client_key(scope(authorization="Bearer secret-token"))  # a digest, never the value


async def test_a_session_left_behind_makes_room_for_the_same_clients_next():
    now = [1000.0]
    app = FakeApp()
    guard = SessionGuard(
        app,
        max_sessions=10,
        max_client_sessions=2,
        idle_timeout=600,
        init_timeout=10,
        legacy_versions=frozenset({"2025-11-25"}),
        clock=lambda: now[0],
    )
    ids = []
    for _ in range(2):
        status, headers = await request(guard, scope())
        ids.append(headers[b"mcp-session-id"].decode())
        await request(guard, scope(sid=ids[-1]), b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
    assert (await request(guard, scope()))[0] == 429  # fresh sessions are never taken away
    now[0] += STALE + 1
    await request(guard, scope(sid=ids[1]), b'{"jsonrpc":"2.0","id":3,"method":"ping"}')  # ids[1] is in use
    status, headers = await request(guard, scope())
    assert status == 200
    assert ids[0] not in app.open and ids[1] in app.open  # the one unused for a minute was closed
    assert len(guard.sessions) == 2
