"""A real Redis server on loopback for the shared state store: Debian's `redis-server`, one per use.

It runs in the foreground on 127.0.0.1 and a free port, with its own folder, no persistence and no
other listener, and is stopped by its process handle. Outside CI a machine without `redis-server`
skips the tests that need it (install it with `apt-get install redis-server`); in CI (`CI=true`) a
missing server fails them, since CI installs it (`.ci/run`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.procs import free_port, stop, wait_port


def redis_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )


def need_redis() -> str:
    """The redis-server binary, or skip (fail in CI) with what to install."""
    found = redis_binary()
    if found:
        return found
    why = "redis-server is not installed: apt-get install redis-server (Debian's package) to run the Redis state tests"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why + "; CI must install it (.ci/run)")
    pytest.skip(why)


class RedisServer:
    """One redis-server process; `stop` and `start` again keep its port (a server that went away and came back)."""

    def __init__(self, folder: Path, binary: str | None = None) -> None:
        self.binary = binary or need_redis()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
            self.proc = None


def unique_prefix() -> str:
    """A key prefix no other test uses, so tests share one server and still start from an empty store."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """One Redis for the test session; tests keep apart by key prefix (`unique_prefix`)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    """A Redis of this test alone, which the test may stop and start again."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
