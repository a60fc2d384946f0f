"""Real processes on loopback: the sandbox API served by `lanying-mcp sandbox`, and our server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

TOKEN = "e2e-admin-token-7f3a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"port {port} did not open")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Api:
    url: str
    env: dict[str, str]


@pytest.fixture(scope="session")
def sandbox_api(tmp_path_factory) -> Iterator[Api]:
    port = free_port()
    log = open(tmp_path_factory.mktemp("sandbox") / "sandbox.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanying_mcp", "sandbox", "--port", str(port), "--token", TOKEN],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_port(port, proc)
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "LANYING_API_ENDPOINT": url,
            "LANYING_APP_ID": "sandbox",
            "LANYING_ACCESS_TOKEN": TOKEN,
            "LANYING_TOOLSETS": "all",
        }
        yield Api(url, env)
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def server_process(sandbox_api: Api, tmp_path):
    """Start our server over sse or http on a free loopback port; yields (url, stderr path)."""
    procs = []

    def start(transport: str, *extra: str) -> str:
        port = free_port()
        err = tmp_path / f"server-{transport}.log"
        with open(err, "w") as log:  # the child keeps its own copy of the handle
            proc = subprocess.Popen(
                [sys.executable, "-m", "lanying_mcp", "--transport", transport, "--port", str(port), *extra],
                env=sandbox_api.env,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        procs.append(proc)
        wait_port(port, proc)
        path = "/sse" if transport == "sse" else "/mcp"
        return f"http://127.0.0.1:{port}{path}"

    yield start
    for proc in procs:
        stop(proc)
        out = proc.stdout.read() if proc.stdout else b""
        if proc.stdout:
            proc.stdout.close()
        assert out == b"", f"the server wrote to stdout: {out[:200]!r}"
