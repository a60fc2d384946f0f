"""Real processes on loopback: the sandbox API served by `lanying-mcp sandbox`, and our server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.oidc_server import authorization_server  # noqa: F401 - a real OAuth authorization server
from tests.procs import free_port, server_env, start_sandbox, stop, wait_port

__all__ = ["Api", "free_port", "stop", "wait_port"]  # other test packages import these from here

TOKEN = "e2e-admin-token-7f3a"


@dataclass
class Api:
    url: str
    env: dict[str, str]


@pytest.fixture(scope="session")
def sandbox_api(tmp_path_factory) -> Iterator[Api]:
    log = open(tmp_path_factory.mktemp("sandbox") / "sandbox.log", "w")
    proc, url = start_sandbox(TOKEN, log)
    try:
        yield Api(url, server_env(url, TOKEN))
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
