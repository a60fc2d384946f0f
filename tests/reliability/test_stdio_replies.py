"""Over a real stdio process: every request gets a JSON-RPC reply, even one the SDK cannot read."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import tracemalloc

import anyio
import pytest

from lanying_mcp.serving.stdio import _In, line_limit

# The real command line: `lanying-mcp --sandbox` over stdio.
LAUNCH = """
from lanying_mcp.cli import main
raise SystemExit(main(["--sandbox"]))
"""


def _request(rid: int, method: str, params: str) -> str:
    return f'{{"jsonrpc":"2.0","id":{rid},"method":"{method}","params":{params}}}'


def _call(rid: int, arguments: str) -> str:
    return _request(rid, "tools/call", f'{{"name":"explain_error","arguments":{arguments}}}')


def test_unreadable_requests_get_an_error_reply_and_the_server_goes_on():
    init = _request(
        1,
        "initialize",
        '{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}',
    )
    lines = [
        init,
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        _call(2, '{"code":' + "[" * 100_000 + "]" * 100_000 + "}"),  # 100k-deep nesting
        _call(3, '{"code":' + "9" * 5000 + "}"),  # a 5,000-digit integer
        _call(4, '{"code":"' + "x" * 1_000_000 + '"}'),  # a 1 MB code: a bounded answer
        _call(5, '{"code":"²"}'),
        _call(6, '{"code":20013}'),  # and the server still answers
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    replies: dict[int, dict] = {}
    sizes: dict[int, int] = {}

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            message = json.loads(raw)
            if "id" in message:
                replies[message["id"]] = message
                sizes[message["id"]] = len(raw)
            if len(replies) == 6:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert proc.stdin is not None
        for line in lines:
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()
        reader.join(timeout=120)  # a hang guard, not a speed check
    finally:
        proc.kill()
        proc.wait()
        reader.join(timeout=10)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
    assert sorted(replies) == [1, 2, 3, 4, 5, 6]
    for rid in (2, 3):
        error = replies[rid]["error"]
        assert error["code"] == -32700 and "nothing was run" in error["message"]
    for rid in (4, 5, 6):
        assert not replies[rid]["result"].get("isError"), replies[rid]
    assert sizes[4] < 8000  # the 1 MB input is echoed as an excerpt only
    assert replies[6]["result"]["structuredContent"]["data"][0]["code"] == 20013


def _exchange(lines: list[bytes], want: int, env: dict[str, str] | None = None) -> dict[int, dict]:
    """Send raw lines to a real `lanying-mcp --sandbox` stdio process; the replies by id (`want` of them)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    replies: dict[int, dict] = {}

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            message = json.loads(raw)
            if "id" in message:
                replies[message["id"]] = message
            if len(replies) == want:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert proc.stdin is not None
        for line in lines:
            proc.stdin.write(line + b"\n")
            proc.stdin.flush()
        reader.join(timeout=180)  # a hang guard, not a speed check
        assert proc.poll() is None, "the server exited"
    finally:
        proc.kill()
        proc.wait()
        reader.join(timeout=10)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
    return replies


def _init() -> list[bytes]:
    init = _request(
        1,
        "initialize",
        '{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}',
    )
    return [init.encode(), b'{"jsonrpc":"2.0","method":"notifications/initialized"}']


def test_an_over_long_line_gets_an_error_with_its_id_and_a_legal_upload_still_fits():
    # A 300 KB upload limit: lines up to 400 KB + 1 MiB are read; longer ones are discarded and answered.
    limit = line_limit(300_000)
    legal = _call(2, '{"code":"' + "x" * (limit - 200) + '"}').encode()  # just inside the cap
    assert len(legal) < limit
    too_long = _call(3, '{"code":"' + "y" * (limit + 10) + '"}').encode()
    no_id = b'{"jsonrpc":"2.0","method":"x","params":"' + b"z" * (limit + 10) + b'"}'
    huge_id_late = b'{"jsonrpc":"2.0","params":"' + b"z" * (limit + 10) + b'","id":9}'
    lines = [*_init(), legal, too_long, no_id, huge_id_late, _call(4, '{"code":20013}').encode()]
    replies = _exchange(lines, 4, {"LANYING_MAX_UPLOAD_BYTES": "300000"})
    assert sorted(replies) == [1, 2, 3, 4]  # nothing to answer for the line without a readable id
    assert "result" in replies[2] and not replies[2]["result"].get("isError")
    error = replies[3]["error"]
    assert error["code"] == -32600 and f"longer than {limit:,} bytes" in error["message"]
    assert "nothing was run" in error["message"]
    assert replies[4]["result"]["structuredContent"]["data"][0]["code"] == 20013


def test_the_default_cap_fits_the_largest_default_upload():
    largest = 50 * 1024 * 1024
    encoded = len(base64.b64encode(b"\0" * largest))
    assert encoded + 1000 < line_limit(largest) <= encoded + 2 * 1024 * 1024
    assert line_limit(largest) < 70 * 1024 * 1024


class _Endless:
    """A stdin whose one line is `size` bytes long, then a short request; it counts what was read."""

    def __init__(self, size: int, tail: bytes) -> None:
        self.left = size
        self.tail = tail
        self.chunk = b'{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"a":"' + b"q" * (64 * 1024)

    def read1(self, n: int) -> bytes:
        if self.left > 0:
            piece = self.chunk[: min(n, self.left)]
            self.left -= len(piece)
            return piece
        out, self.tail = self.tail, b""
        return out


class _Sink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    async def write(self, text: str) -> None:
        self.lines.append(text)


@pytest.mark.anyio
async def test_a_line_is_never_read_unbounded():
    tracemalloc.start()
    try:
        raw = _Endless(200 * 1024 * 1024, b'\n{"jsonrpc":"2.0","id":78,"method":"ping"}\n')
        sink = _Sink()
        stream = _In(raw, sink, lambda line: None, 1024 * 1024)  # type: ignore[arg-type]
        with anyio.fail_after(120):  # a hang guard
            got = [line async for line in stream]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [json.loads(line)["id"] for line in got] == [78]  # the next request still goes through
    assert len(sink.lines) == 1 and json.loads(sink.lines[0])["id"] == 77
    assert peak < 16 * 1024 * 1024  # 200 MiB went by; at most about the 1 MiB cap was ever held
