"""Thin MCP clients for the benchmarks: JSON-RPC lines on a pipe, and plain httpx2 POSTs over streamable HTTP.

They are deliberately thin, so that the client's own cost dilutes the server-side differences as
little as possible. Both speak protocol 2025-11-25, the era most hosts speak today. `Api` calls the
sandbox directly (setup, and the "direct" baseline).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.procs import stop  # noqa: E402 - after the path set-up above

PY = sys.executable
PROTOCOL = "2025-11-25"
TOKEN = "bench-admin-token"
APP_ID = "sandbox"


# --- a thin stdio MCP client --------------------------------------------------------------------
class StdioSession:
    """JSON-RPC over a child's pipes, newline-delimited, with a deadline on every read."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Any, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        assert self.proc.stdin and self.proc.stdout
        self.fd = self.proc.stdout.fileno()
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.fd, selectors.EVENT_READ)
        self.buf = b""
        self.next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def _line(self) -> bytes:
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(left):
                raise TimeoutError(f"no answer from {self.proc.args} within {self.timeout}s")
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise RuntimeError(f"{self.proc.args} closed stdout (exit {self.proc.poll()})")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        while True:
            line = self._line().strip()
            if not line:
                continue
            msg = json.loads(line)
            if msg.get("id") == self.next_id and "method" not in msg:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def initialize(self) -> None:
        self.request(
            "initialize",
            {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def list_tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor = None
        for _ in range(100):
            result = self.request("tools/list", {"cursor": cursor} if cursor else {})
            tools += result["tools"]
            cursor = result.get("nextCursor")
            if not cursor:
                return tools
        raise RuntimeError("tools/list never ended")

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return checked(name, self.request("tools/call", {"name": name, "arguments": arguments}))

    def close(self) -> None:
        self.sel.close()
        stop(self.proc)


def checked(name: str, result: dict[str, Any]) -> dict[str, Any]:
    if result.get("isError"):
        text = result.get("content", [{}])[0].get("text", "")
        error = (result.get("structuredContent") or {}).get("error")
        raise RuntimeError(f"{name} failed: {text[:300]}" + (f" {json.dumps(error)[:600]}" if error else ""))
    return result


# --- a thin streamable-HTTP MCP client ----------------------------------------------------------
class HttpSession:
    """One MCP session over streamable HTTP: plain POSTs, the SSE (or JSON) answer parsed by hand."""

    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
        self.headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        self.next_id = 0

    async def post(self, message: dict[str, Any]) -> httpx2.Response:
        response = await self.http.post(self.url, content=json.dumps(message), headers=self.headers)
        if response.status_code >= 400:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
        return response

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        rid = self.next_id
        response = await self.post({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}})
        if response.headers.get("content-type", "").startswith("application/json"):
            messages = [response.json()]
        else:
            messages = [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]
        for msg in messages:
            if msg.get("id") == rid and "method" not in msg:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                if method == "initialize":
                    sid = response.headers.get("mcp-session-id")
                    if sid:
                        self.headers["mcp-session-id"] = sid
                    self.headers["mcp-protocol-version"] = PROTOCOL
                return msg["result"]
        raise RuntimeError(f"{method}: no answer in the response body")

    async def initialize(self) -> HttpSession:
        await self.request(
            "initialize",
            {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
        )
        await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return self

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return checked(name, await self.request("tools/call", {"name": name, "arguments": arguments}))


def http_client(timeout: float = 60.0) -> httpx2.AsyncClient:
    # Idle connections go before uvicorn's 5 s keep-alive ends them (see bench_baselines.KEEPALIVE_SECONDS).
    limits = httpx2.Limits(max_connections=128, max_keepalive_connections=128, keepalive_expiry=3.0)
    return httpx2.AsyncClient(timeout=timeout, limits=limits)


# --- setup: users and groups straight through the sandbox API -----------------------------------
class Api:
    """Direct sandbox calls with httpx2 (setup, and the 'direct' baseline)."""

    def __init__(self, http: httpx2.AsyncClient, base: str) -> None:
        self.http = http
        self.base = base
        self.headers = {"app_id": APP_ID, "access-token": TOKEN}

    async def call(self, method: str, path: str, *, act_as: int | None = None, **kwargs: Any) -> Any:
        headers = {**self.headers, **({"user_id": str(act_as)} if act_as is not None else {})}
        response = await self.http.request(method, self.base + path, headers=headers, **kwargs)
        body = response.json()
        if body.get("code") != 200:
            raise RuntimeError(f"{method} {path}: {body.get('code')} {body.get('message')}")
        return body["data"]

    async def register(self, count: int, prefix: str, per_call: int = 1000) -> list[int]:
        ids: list[int] = []
        for start in range(0, count, per_call):
            batch = [{"username": f"{prefix}{i}", "password": "pw"} for i in range(start, min(count, start + per_call))]
            rows = await self.call("POST", "/user/register/batch", json={"list": batch})
            ids += [row["user_id"] for row in rows]
        return ids

    async def create_group(self, owner: int, name: str, members: list[int] | None = None) -> int:
        body: dict[str, Any] = {"name": name, **({"user_list": members} if members else {})}
        return (await self.call("POST", "/group/create", act_as=owner, json=body))["group_id"]
