"""Serve MCP over stdio so that every request gets a reply, even one the SDK cannot read.

The SDK's stdio reader validates each line; a line it cannot read (nesting deeper than its parser
allows, a number of thousands of digits) is logged and dropped, and the client waits for ever. Here
each line is read first: when it cannot be, and it carries an `id`, a JSON-RPC error goes back for
that id at once; otherwise the line goes to the SDK unchanged.

The descriptors are claimed as the SDK's own transport does: while serving, fd 0 reads the null
device and fd 1 writes to stderr, so a stray print or a child process cannot corrupt the protocol.

A line is never read whole before its length is known: stdin is read in chunks, and a line longer
than the cap (`line_limit`: the largest legal upload, base64-encoded, plus room for the rest of the
request) is discarded as it arrives, keeping only its start, from which the request's id is read
for the error reply.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import contextmanager
from io import BufferedReader, TextIOWrapper
from typing import Any

import anyio
from pydantic import ValidationError

from ..core.error_text import excerpt

# The request's id, when the line is too deep or too large to parse: a number or a short string.
_ID = re.compile(r'"id"\s*:\s*(-?\d{1,18}(?![\d.eE])|"(?:[^"\\]|\\.){0,200}")')
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
CHUNK = 64 * 1024  # bytes read from stdin at a time
HEAD = 4096  # the start of a line kept to find its id once the line is known to be too long
HEADROOM = 1024 * 1024  # room for the rest of a request beside its largest argument


def line_limit(max_upload_bytes: int) -> int:
    """The longest request line accepted: the largest upload, base64-encoded, plus headroom."""
    return -(-max_upload_bytes // 3) * 4 + HEADROOM


def _request_id(head: str) -> Any:
    found = _ID.search(head[:HEAD])
    return None if found is None else json.loads(found.group(1))


def _too_long_reply(head: str, limit: int) -> str | None:
    """The JSON-RPC error line for a request line longer than `limit`, when its id can be read."""
    request_id = _request_id(head)
    if request_id is None:
        return None
    message = (
        f"the request line is longer than {limit:,} bytes, the most this server reads (the largest upload, "
        "base64-encoded, plus room for the rest); it was discarded unread and nothing was run: send a smaller "
        "argument (a file above the upload limit cannot be sent through this server)"
    )
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": INVALID_REQUEST, "message": message}}
    return json.dumps(error, ensure_ascii=False)


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
    request_id = _request_id(line)
    if request_id is None:
        return None  # a notification or garbage: nothing to answer to
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
    """Request lines from the raw stdin, each at most `limit` bytes; longer ones are answered, not read."""

    def __init__(self, raw: BufferedReader, out: _Out, validate: Validate, limit: int) -> None:
        self._raw = raw
        self._out = out
        self._validate = validate
        self._limit = limit

    async def _chunk(self) -> bytes:
        return await anyio.to_thread.run_sync(self._raw.read1, CHUNK)

    async def _answer(self, reply: str | None) -> None:
        if reply is not None:
            await self._out.write(reply + "\n")

    async def __aiter__(self) -> AsyncIterator[str]:
        buf = bytearray()
        head: bytes | None = None  # set while discarding a line that is too long: its start
        while True:
            searched = len(buf)  # no newline before here: a long line is scanned once, not once per chunk
            chunk = await self._chunk()
            if not chunk:
                break
            buf += chunk
            while True:
                end = buf.find(b"\n", searched)
                searched = 0
                if head is not None:  # discarding: drop everything up to the end of the line
                    if end < 0:
                        buf.clear()
                        break
                    del buf[: end + 1]
                    await self._answer(_too_long_reply(head.decode("utf-8", "replace"), self._limit))
                    head = None
                    continue
                if end < 0:
                    if len(buf) > self._limit:
                        head = bytes(buf[:HEAD])
                        buf.clear()
                    break
                if end > self._limit:
                    await self._answer(_too_long_reply(buf[:HEAD].decode("utf-8", "replace"), self._limit))
                    del buf[: end + 1]
                    continue
                line = buf[: end + 1].decode("utf-8", "replace")
                del buf[: end + 1]
                reply = _reply_for(line, self._validate)
                if reply is None:
                    yield line
                else:
                    await self._out.write(reply + "\n")
        if head is not None:
            await self._answer(_too_long_reply(head.decode("utf-8", "replace"), self._limit))
        elif buf:  # a last line without its newline
            line = buf.decode("utf-8", "replace")
            reply = _reply_for(line, self._validate)
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
def protocol_streams(
    validate: Validate, limit: int = line_limit(50 * 1024 * 1024)
) -> Generator[tuple[Any, Any], None, None]:
    """The protocol's (stdin, stdout) for the SDK's stdio transport, with fd 0 and 1 diverted meanwhile."""
    stdin_fd, _ = _claim(0, os.open(os.devnull, os.O_RDONLY))
    stdout_fd, _ = _claim(1, os.dup(2))
    try:
        raw_in = os.fdopen(stdin_fd, "rb", closefd=False)
        raw_out = TextIOWrapper(os.fdopen(stdout_fd, "wb", closefd=False), encoding="utf-8")
        out = _Out(raw_out)
        yield _In(raw_in, out, validate, limit), out
    finally:
        os.dup2(stdin_fd, 0)
        os.dup2(stdout_fd, 1)
