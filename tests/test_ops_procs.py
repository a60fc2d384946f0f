"""Operations in real server processes: metrics and health on their own address, traces sent over OTLP."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.procs import free_port, stop, wait_port

ROOT = Path(__file__).resolve().parents[1]
BEARER = "ops-procs-bearer-token-0123456789"


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LANYING_", "OTEL_"))}
    return {**base, "LANYING_STATE_FILE": ":memory:", **extra}


@pytest.fixture
def serve(tmp_path) -> Iterator[object]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str, **extra: str) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"server-{len(procs)}.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "lanying_mcp", "--sandbox", *args],
            cwd=ROOT,
            env=env(**extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        log.close()
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        stop(proc)
        out = proc.stdout.read() if proc.stdout else b""
        if proc.stdout:
            proc.stdout.close()
        assert out == b"", f"the server wrote to stdout: {out[:200]!r}"


@pytest.mark.anyio
async def test_metrics_and_health_on_their_own_address(serve):
    port, ops = free_port(), free_port()
    proc = serve(
        "--transport", "http", "--port", str(port),
        LANYING_AUTH_TOKEN=BEARER, LANYING_METRICS=f"127.0.0.1:{ops}", LANYING_HEALTH=f"127.0.0.1:{ops}",
    )  # fmt: skip
    wait_port(port, proc)
    wait_port(ops, proc)
    auth = {"Authorization": f"Bearer {BEARER}"}
    async with httpx2.AsyncClient(headers=auth, timeout=60) as http:
        async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client:
            assert not (await client.call_tool("list_users", {})).is_error
        for path in ("/metrics", "/healthz", "/readyz"):  # moved away from the MCP endpoint's address
            assert (await http.get(f"http://127.0.0.1:{port}{path}")).status_code == 404, path
    async with httpx2.AsyncClient(timeout=60) as plain:  # on their own address, without the bearer
        metrics = await plain.get(f"http://127.0.0.1:{ops}/metrics")
        assert metrics.status_code == 200
        assert 'lanying_mcp_tool_calls_total{outcome="ok",tool="list_users"} 1.0' in metrics.text
        assert 'lanying_mcp_upstream_responses_total{status="200"}' in metrics.text
        assert BEARER not in metrics.text
        assert (await plain.get(f"http://127.0.0.1:{ops}/healthz")).json() == {"status": "alive"}
        ready = await plain.get(f"http://127.0.0.1:{ops}/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        assert (await plain.get(f"http://127.0.0.1:{ops}/mcp")).status_code == 404  # only the ops endpoints
    proc.terminate()  # the main server stops, and its ops listener does not keep the process alive
    assert proc.wait(timeout=60) in (0, -15)  # uvicorn re-raises the signal it handled gracefully


class Collector(http.server.ThreadingHTTPServer):
    """A tiny OTLP/HTTP receiver on loopback: keeps each export request's path and body."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []

        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                collector.received.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        super().__init__(("127.0.0.1", 0), Handler)

    def body(self) -> bytes:
        return b"".join(body for _, body in self.received)


@pytest.fixture
def collector() -> Iterator[Collector]:
    pytest.importorskip("opentelemetry.sdk", reason="the `otel` extra is not installed")
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http", reason="the `otel` extra is not installed")
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.anyio
async def test_traces_are_exported_over_otlp(collector: Collector):
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "lanying_mcp", "--sandbox"],
        cwd=str(ROOT),
        env=env(LANYING_OTLP_ENDPOINT=endpoint, OTEL_BSP_SCHEDULE_DELAY="100"),
    )
    async with Client(params) as client:
        assert not (await client.call_tool("list_users", {})).is_error
        deadline = time.monotonic() + 60  # a hang guard: the batch goes out within about 0.1 s
        while b"tools/call list_users" not in collector.body() and time.monotonic() < deadline:
            time.sleep(0.05)
    body = collector.body()
    assert {path for path, _ in collector.received} == {"/v1/traces"}
    assert b"tools/call list_users" in body  # the SDK's span of the message
    assert b"lanying.api " in body and b"/user/" in body  # ours, around the request to the API
    assert b"lanying-mcp" in body  # the service name
    assert b"access-token" not in body


def test_asking_for_traces_without_the_extra_says_how_to_install_it(tmp_path):
    script = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def no_sdk(name, *a, **k):\n"
        "    if name.startswith(('opentelemetry.sdk', 'opentelemetry.exporter')): raise ImportError(name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = no_sdk\n"
        "from lanying_mcp.cli import main\n"
        "sys.exit(main(['--sandbox']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env(LANYING_OTLP_ENDPOINT="http://127.0.0.1:9"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode != 0 and done.stdout == b""
    assert b"lanying-mcp[otel]" in done.stderr and b"Traceback" not in done.stderr


def test_an_ops_address_in_use_stops_the_start_saying_which(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "lanying_mcp", "--sandbox", "--transport", "http", "--port", str(free_port())],
            cwd=ROOT,
            env=env(LANYING_METRICS=f"127.0.0.1:{busy}"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
        )
    assert done.returncode != 0 and done.stdout == b""
    assert f"127.0.0.1:{busy}".encode() in done.stderr and b"LANYING_METRICS" in done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.anyio
async def test_readiness_on_its_own_address_drops_when_redis_stops(serve, own_redis):
    port, ops = free_port(), free_port()
    proc = serve(
        "--transport", "http", "--port", str(port),
        LANYING_AUTH_TOKEN=BEARER, LANYING_HEALTH=f"127.0.0.1:{ops}", LANYING_STATE_URL=own_redis.url,
    )  # fmt: skip
    wait_port(port, proc)
    wait_port(ops, proc)
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{ops}", timeout=60) as plain:
        up = await plain.get("/readyz")
        assert up.status_code == 200 and up.json()["checks"]["state"] == {"ok": True}
        own_redis.stop()
        down = await plain.get("/readyz")
        assert down.status_code == 503 and down.json()["checks"]["state"]["ok"] is False
        assert (await plain.get("/healthz")).status_code == 200  # alive all the same
