"""A hostile upstream on loopback: huge bodies, a gzip bomb, a million keys, a drip.

Each call ends with a clear error (or a bounded answer), the process stays within a memory bound,
and the server answers the next call. Nothing here is a speed check: the time guards are hang guards.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
import zlib
from collections.abc import Iterator

import anyio
import httpx2
import pytest

from lanying_mcp.core.errors import LanyingError
from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.client import LanyingClient, RetryPolicy
from lanying_mcp.toolsets import CATALOGUE

LIST_USERS = CATALOGUE["list_users"]
OK = b'{"code":200,"data":[{"user_id":1,"username":"u"}]}'
MB = 1024 * 1024


@functools.cache
def _gzip_bomb(size: int) -> bytes:
    """`size` bytes of a JSON string body, gzip-compressed to a few hundred KB."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [comp.compress(b'{"code":200,"data":"')]
    block = b"a" * MB
    for _ in range(size // MB):
        out.append(comp.compress(block))
    out.append(comp.compress(b'"}'))
    out.append(comp.flush())
    return b"".join(out)


@functools.cache
def _many_keys(n: int) -> bytes:
    keys = b",".join(b'"%x":0' % i for i in range(n))
    return b'{"code":200,"data":{' + keys + b"}}"


class Upstream:
    """A raw-socket HTTP/1.1 server; `mode` picks the next answer."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self._answer(conn, self.mode)
        except OSError:
            return  # the client hung up: expected for every hostile answer

    def _answer(self, conn: socket.socket, mode: str) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        if mode == "ok":
            conn.sendall(f"{head}Content-Length: {len(OK)}\r\n\r\n".encode() + OK)
        elif mode == "huge":  # 300 MB, generated lazily, no Content-Length
            conn.sendall(head.encode() + b"\r\n" + b'{"code":200,"data":"')
            block = b"a" * MB
            for _ in range(300):
                if self.stopped.is_set():
                    return
                conn.sendall(block)
            conn.sendall(b'"}')
        elif mode == "huge_declared":
            conn.sendall(f"{head}Content-Length: {300 * MB}\r\n\r\n".encode() + b'{"code":200')
        elif mode == "bomb":
            bomb = _gzip_bomb(300 * MB)
            conn.sendall(f"{head}Content-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n".encode() + bomb)
        elif mode == "keys":
            keys = _many_keys(1_000_000)
            conn.sendall(f"{head}Content-Length: {len(keys)}\r\n\r\n".encode() + keys)
        elif mode == "drip":
            conn.sendall(f"{head}Content-Length: {len(OK)}\r\n\r\n".encode())
            for byte in OK:
                if self.stopped.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(1)

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    try:
        yield server
    finally:
        server.close()


def rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def client_for(upstream: Upstream, **changes) -> LanyingClient:
    base = {
        "endpoint": f"http://127.0.0.1:{upstream.port}",
        "app_id": "hostile",
        "access_token": "hostile-upstream-token-0123",
        "timeout": 3.0,
    }
    settings = Settings(**{**base, **changes})
    return LanyingClient(settings, retry=RetryPolicy(attempts=1))


async def _next_call_answers(client: LanyingClient, upstream: Upstream) -> None:
    upstream.mode = "ok"
    env = await client.call(LIST_USERS, LIST_USERS.params())
    assert env.data == [{"user_id": 1, "username": "u"}]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mode", "code"),
    [("huge", "response_too_large"), ("huge_declared", "response_too_large"), ("bomb", "response_too_large")],
)
async def test_oversized_answers_stop_at_the_cap(upstream, mode, code):
    client = client_for(
        upstream, timeout=60.0
    )  # the cap must stop it, not the clock (a loaded machine inflates slowly)
    before = rss()
    upstream.mode = mode
    with anyio.fail_after(120):
        with pytest.raises(LanyingError) as info:
            await client.call(LIST_USERS, LIST_USERS.params())
    assert info.value.code == code
    assert str(8 * MB) in info.value.message
    assert rss() - before < 100 * MB
    with anyio.fail_after(60):
        await _next_call_answers(client, upstream)
    await client.aclose()


@pytest.mark.anyio
async def test_a_million_keys_is_parsed_off_the_event_loop(upstream):
    client = client_for(upstream, max_response_bytes=16 * MB)
    upstream.mode = "keys"
    ticks = 0
    done = anyio.Event()

    async def heartbeat() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await anyio.sleep(0.01)

    before = rss()
    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            tg.start_soon(heartbeat)
            env = await client.call(LIST_USERS, LIST_USERS.params())
            done.set()
    assert isinstance(env.data, dict) and len(env.data) == 1_000_000
    assert ticks > 1  # the loop kept running while the body was parsed
    del env
    assert rss() - before < 400 * MB  # a million-entry dict itself is ~150 MB
    with anyio.fail_after(60):
        await _next_call_answers(client, upstream)
    await client.aclose()


@pytest.mark.anyio
async def test_a_dripping_answer_ends_at_the_timeout(upstream):
    client = client_for(upstream, timeout=2.0)
    upstream.mode = "drip"
    with anyio.fail_after(60):
        with pytest.raises(LanyingError) as info:
            await client.call(LIST_USERS, LIST_USERS.params())
    assert info.value.code == "timeout"
    assert "2 s" in info.value.message and "LANYING_TIMEOUT" in info.value.message
    with anyio.fail_after(60):
        await _next_call_answers(client, upstream)
    await client.aclose()


@pytest.mark.anyio
async def test_a_gateway_5xx_with_a_code_is_an_http_error():
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(502, json={"code": 502, "message": "bad gateway"})

    settings = Settings(endpoint="http://up.test", app_id="a", access_token="gateway-test-token-0123")
    client = LanyingClient(settings, transport=httpx2.MockTransport(handler), retry=RetryPolicy(attempts=1))
    with pytest.raises(LanyingError) as info:
        await client.call(LIST_USERS, LIST_USERS.params())
    assert info.value.code == "http_502" and info.value.retryable
    await client.aclose()
