"""Stateful streamable-HTTP sessions are bounded: in all, per client, idle, and half-open handshakes.

A real `lanying-mcp --transport http` process on loopback, driven with raw HTTP so each test controls
exactly which sessions are opened, finished and left behind.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import Api
from tests.helpers import call

pytestmark = pytest.mark.anyio

VERSION = "2025-11-25"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}


def creds(n: int) -> dict[str, str]:
    """Lanying credentials headers: another client, as a multi-tenant server tells them apart."""
    return {"X-Lanying-App-Id": f"app-{n}", "X-Lanying-Access-Token": f"token-{n}-abcdefghijkl"}


async def open_session(http: httpx2.AsyncClient, url: str, extra: dict[str, str], finish: bool = True) -> Any:
    """Initialize a session (and finish the handshake); its id, or the refusal as a response."""
    answer = await http.post(url, json=INIT, headers={**HEADERS, **extra})
    sid = answer.headers.get("mcp-session-id")
    if answer.status_code != 200 or sid is None:
        return answer
    if finish:
        done = await http.post(
            url,
            json=INITIALIZED,
            headers={**HEADERS, **extra, "mcp-session-id": sid, "mcp-protocol-version": VERSION},
        )
        assert done.status_code == 202, done.text
    return sid


async def ping(http: httpx2.AsyncClient, url: str, sid: str) -> int:
    headers = {**HEADERS, "mcp-session-id": sid, "mcp-protocol-version": VERSION}
    return (await http.post(url, json=PING, headers=headers)).status_code


async def test_one_client_cannot_take_every_session(sandbox_api: Api, server_process):
    url = server_process("http", "--max-client-sessions", "3", "--max-sessions", "5")
    async with httpx2.AsyncClient(timeout=30) as http:
        mine = [await open_session(http, url, {}) for _ in range(3)]
        assert all(isinstance(s, str) for s in mine)
        refused = await open_session(http, url, {})  # the flooder's fourth
        assert isinstance(refused, httpx2.Response) and refused.status_code == 429
        message = refused.json()["error"]["message"]
        assert "Too many open sessions for this client" in message and "LANYING_MAX_CLIENT_SESSIONS" in message
        assert int(refused.headers["retry-after"]) >= 1
        assert all([await ping(http, url, s) == 200 for s in mine])  # its open sessions still work
        # another client still gets in, and works
        other = await open_session(http, url, creds(1))
        assert isinstance(other, str) and await ping(http, url, other) == 200
        assert isinstance(await open_session(http, url, creds(2)), str)
        full = await open_session(http, url, creds(3))  # five open in all: the server's limit
        assert isinstance(full, httpx2.Response) and full.status_code == 503
        assert "LANYING_MAX_SESSIONS" in full.json()["error"]["message"]
        # ending a session makes room again
        gone = await http.delete(url, headers={**HEADERS, "mcp-session-id": mine[0], "mcp-protocol-version": VERSION})
        assert gone.status_code == 200
        assert isinstance(await open_session(http, url, {}), str)
    client_http = httpx2.AsyncClient(headers=creds(4), timeout=30)
    try:  # a real MCP client of yet another tenant, once a session has ended
        async with httpx2.AsyncClient(timeout=30) as http:
            await http.delete(url, headers={**HEADERS, "mcp-session-id": other, "mcp-protocol-version": VERSION})
        async with Client(streamable_http_client(url, http_client=client_http), mode="legacy") as client:
            out = await call(client, "explain_error", {"code": 10008})
            assert out["data"][0]["code"] == 10008
    finally:
        await client_http.aclose()


async def test_unfinished_and_idle_sessions_are_closed(sandbox_api: Api, server_process):
    url = server_process(
        "http", "--max-client-sessions", "2", "--session-init-timeout", "1", "--session-idle-timeout", "3"
    )
    async with httpx2.AsyncClient(timeout=30) as http:
        half = [await open_session(http, url, {}, finish=False) for _ in range(2)]
        assert all(isinstance(s, str) for s in half)
        refused = await open_session(http, url, {})
        assert isinstance(refused, httpx2.Response) and refused.status_code == 429
        with anyio.fail_after(60):  # a hang guard: the half-open sessions are closed within seconds
            while await ping(http, url, half[0]) != 404:
                await anyio.sleep(0.5)
        assert await ping(http, url, half[1]) == 404
        kept = await open_session(http, url, {})  # room again
        idle = await open_session(http, url, {})
        assert isinstance(kept, str) and isinstance(idle, str)
        for _ in range(8):  # 8 s: `kept` is used every second, `idle` not at all (idle timeout: 3 s)
            assert await ping(http, url, kept) == 200
            await anyio.sleep(1.0)
        assert await ping(http, url, idle) == 404
        assert await ping(http, url, kept) == 200
