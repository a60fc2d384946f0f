"""HTTP transports: loopback by default, a bearer token beyond it, Host/Origin checks, constant-time compare."""

from __future__ import annotations

import subprocess
import sys

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import Api, free_port
from tests.helpers import call

AUTH = "bearer-e2e-5d1c"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_binding_beyond_loopback_without_a_token_refuses_to_start(sandbox_api: Api):
    proc = subprocess.run(
        [sys.executable, "-m", "lanying_mcp", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=sandbox_api.env,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"--auth-token" in proc.stderr


@pytest.mark.anyio
async def test_bearer_token_is_required_and_checked(sandbox_api: Api, server_process):
    url = server_process("http", "--auth-token", AUTH)
    async with httpx2.AsyncClient(timeout=10) as http:
        assert (await http.post(url, json=INIT, headers=HEADERS)).status_code == 401
        wrong = {**HEADERS, "Authorization": "Bearer nope"}
        assert (await http.post(url, json=INIT, headers=wrong)).status_code == 401
        evil = {**HEADERS, "Authorization": f"Bearer {AUTH}", "Host": "evil.example.com"}
        assert (await http.post(url, json=INIT, headers=evil)).status_code == 421
        origin = {**HEADERS, "Authorization": f"Bearer {AUTH}", "Origin": "http://evil.example.com"}
        assert (await http.post(url, json=INIT, headers=origin)).status_code == 403
    http_client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {AUTH}"}, timeout=30)
    async with Client(streamable_http_client(url, http_client=http_client), mode="legacy") as client:
        out = await call(client, "explain_error", {"code": 10008})
        assert out["data"][0]["code"] == 10008
    await http_client.aclose()
