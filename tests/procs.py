"""Starting and stopping real processes on loopback: shared by the end-to-end tests and tools/bench.py.

Everything here ends only the processes it started, by their handles, and reads process figures
from /proc (Linux) for the memory measurements.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    """Until `port` accepts connections; fails at once if `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open within {timeout}s")


def stop(proc: subprocess.Popen[Any]) -> None:
    """End one process we started: close its stdin (a stdio server exits on EOF), then terminate, then kill."""
    if proc.stdin and not proc.stdin.closed:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def start_sandbox(
    token: str, log: IO[bytes] | IO[str] | int, port: int | None = None, *extra: str
) -> tuple[subprocess.Popen[Any], str]:
    """`lanying-mcp sandbox` on a free loopback port with this admin token; returns (process, base URL)."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanying_mcp", "sandbox", "--port", str(port), "--token", token, *extra],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_port(port, proc)
    except BaseException:
        stop(proc)
        raise
    return proc, f"http://127.0.0.1:{port}"


def server_env(api: str, token: str, app_id: str = "sandbox", **extra: str) -> dict[str, str]:
    """The environment of our server pointed at a sandbox, every toolset on, no developer settings leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANYING_")}
    return {
        **env,
        "LANYING_API_ENDPOINT": api,
        "LANYING_APP_ID": app_id,
        "LANYING_ACCESS_TOKEN": token,
        "LANYING_TOOLSETS": "all",
        **extra,
    }
