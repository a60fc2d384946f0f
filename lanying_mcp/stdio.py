"""Serve MCP over stdio so that every request gets a reply, even one the SDK cannot read.

The SDK's stdio reader validates each line; a line it cannot read (nesting deeper than its parser
allows, a number of thousands of digits) is logged and dropped, and the client waits for ever. Here
each line is read first: when it cannot be, and it carries an `id`, a JSON-RPC error goes back for
that id at once; otherwise the line goes to the SDK unchanged.

The descriptors are claimed as the SDK's own transport does: while serving, fd 0 reads the null
device and fd 1 writes to stderr, so a stray print or a child process cannot corrupt the protocol.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from io import TextIOWrapper
from typing import Any

import anyio
from pydantic import ValidationError

from .errors import excerpt

# The request's id, when the line is too deep or too large to parse: a number or a short string.
_ID = re.compile(r'"id"\s*:\s*(-?\d{1,18}(?![\d.eE])|"(?:[^"\\]|\\.){0,200}")')
PARSE_ERROR = -32700


def _reply_for(line: str, validate: Validate) -> str | None:
    """The JSON-RPC error line for a request the SDK could not read, or None when it can (or has no id)."""
    if not line.strip():
        return None
    try:
        validate(line)
        return None
    except ValidationError as exc:
        reason = str(exc.errors(include_url=False, include_input=False)[0].get("msg", "invalid"))
    except Exception as exc:  # any other failure to read it: answer instead of dropping it
        reason = type(exc).__name__
    found = _ID.search(line[:4096])
    if found is None:
        return None  # a notification or garbage: nothing to answer to
    request_id: Any = json.loads(found.group(1))
    message = (
        f"the request could not be read ({excerpt(reason, 120)}): it nests too deeply, holds a number too large, "
        "or is not valid JSON; nothing was run"
    )
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": PARSE_ERROR, "message": message}}
    return json.dumps(error, ensure_ascii=False)


class _Out:
    """The protocol's stdout: whole lines, written and flushed under one lock by the SDK and by us."""

    def __init__(self, raw: TextIOWrapper) -> None:
        self._file = anyio.wrap_file(raw)
        self._lock = anyio.Lock()

    async def write(self, text: str) -> None:
        async with self._lock:
            await self._file.write(text)
            await self._file.flush()

    async def flush(self) -> None:
        return None  # every write is flushed already


class _In:
    def __init__(self, raw: TextIOWrapper, out: _Out, validate: Validate) -> None:
        self._file = anyio.wrap_file(raw)
        self._out = out
        self._validate = validate

    async def __aiter__(self) -> AsyncIterator[str]:
        async for line in self._file:
            reply = _reply_for(line, self._validate) if len(line) < 64 * 1024 * 1024 else None
            if reply is None:
                yield line
            else:
                await self._out.write(reply + "\n")


def _claim(fd: int, diversion: int) -> tuple[int, int]:
    """A private duplicate of `fd` for the protocol; `fd` itself now points at `diversion`."""
    private = os.dup(fd)
    os.set_inheritable(private, False)
    os.dup2(diversion, fd)
    os.close(diversion)
    return private, fd


Validate = Callable[[str], Any]  # raises when the SDK could not read the line


@contextmanager
def protocol_streams(validate: Validate) -> Iterator[tuple[Any, Any]]:
    """The protocol's (stdin, stdout) for the SDK's stdio transport, with fd 0 and 1 diverted meanwhile."""
    stdin_fd, _ = _claim(0, os.open(os.devnull, os.O_RDONLY))
    stdout_fd, _ = _claim(1, os.dup(2))
    try:
        raw_in = TextIOWrapper(os.fdopen(stdin_fd, "rb", closefd=False), encoding="utf-8", errors="replace")
        raw_out = TextIOWrapper(os.fdopen(stdout_fd, "wb", closefd=False), encoding="utf-8")
        out = _Out(raw_out)
        yield _In(raw_in, out, validate), out
    finally:
        os.dup2(stdin_fd, 0)
        os.dup2(stdout_fd, 1)
