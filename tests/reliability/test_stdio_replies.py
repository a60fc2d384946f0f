"""Over a real stdio process: every request gets a JSON-RPC reply, even one the SDK cannot read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

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
