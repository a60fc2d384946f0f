"""Bulk results behind a link: the full per-item rows a summary leaves out, readable for a while.

A bulk call (10,000 invitations) answers with a summary a model can afford; its full per-item result
(`Outcome.attachment`) is kept here and linked from the tool result as an MCP `resource_link`
(`lanying://results/<id>`) that the host reads only if it needs to. What is kept is bounded: each
result lives `ttl` seconds, and the oldest go first beyond `max_results` or `max_bytes`.

Who may read a result: the session that made it. On a connection with a handshake (stdio, stateful
HTTP, the 2025 protocol era) the session is the connection, marked with a random token the first time
it stores a result; another session reading the URI gets not-found. A stateless request (the
2026-07-28 era, or stateless HTTP) has no session to bind to, so its results are scoped to the caller's
credentials (the Lanying and Authorization headers, hashed) and the link works as an unguessable
bearer name (128 random bits): a caller with other credentials gets not-found, like an expired link.

The SDK is touched only in `session_scope`, `register` and `to_result`; the store is plain Python.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

from .dispatch import Outcome

PREFIX = "lanying://results/"
TTL_SECONDS = 15 * 60
MAX_RESULTS = 64
MAX_BYTES = 64 * 1024 * 1024
_SCOPE_KEY = "lanying/results-scope"  # where a connection keeps its random session mark
# Headers that say who a stateless caller is: per-request Lanying credentials and the server's bearer token.
_IDENTITY_HEADERS = ("x-lanying-app-id", "x-lanying-access-token", "x-lanying-endpoint", "authorization")


@dataclass
class _Kept:
    scope: str
    text: str
    expires: float


class ResultStore:
    """Bounded, expiring, scoped storage of result texts; knows nothing of MCP."""

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        max_results: int = MAX_RESULTS,
        max_bytes: int = MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.max_results, self.max_bytes, self.clock = ttl, max_results, max_bytes, clock
        self._kept: OrderedDict[str, _Kept] = OrderedDict()  # oldest first
        self._bytes = 0

    def put(self, scope: str, text: str) -> str | None:
        """Keep `text` for `scope`; its id, or None when it alone is larger than the whole store."""
        size = len(text)
        if size > self.max_bytes:
            return None
        self._expire()
        while self._kept and (len(self._kept) >= self.max_results or self._bytes + size > self.max_bytes):
            self._drop(next(iter(self._kept)))
        rid = secrets.token_hex(16)
        self._kept[rid] = _Kept(scope, text, self.clock() + self.ttl)
        self._bytes += size
        return rid

    def get(self, scope: str, rid: str) -> str | None:
        """The text, or None when unknown, expired, or kept for another scope (indistinguishable on purpose)."""
        self._expire()
        kept = self._kept.get(rid)
        if kept is None or not secrets.compare_digest(kept.scope, scope):
            return None
        return kept.text

    def __len__(self) -> int:
        self._expire()
        return len(self._kept)

    @property
    def bytes(self) -> int:
        return self._bytes

    def _expire(self) -> None:
        now = self.clock()
        for rid in [rid for rid, kept in self._kept.items() if kept.expires <= now]:
            self._drop(rid)

    def _drop(self, rid: str) -> None:
        kept = self._kept.pop(rid)
        self._bytes -= len(kept.text)


def credentials_scope(headers: Mapping[str, str] | None) -> str:
    """A stateless caller's scope: a digest of the headers that identify it (empty when it sends none)."""
    digest = hashlib.sha256()
    for name in _IDENTITY_HEADERS:
        value = (headers or {}).get(name) or ""
        digest.update(f"{name}\0{value}\0".encode())
    return "stateless:" + digest.hexdigest()


# --- the MCP side ---------------------------------------------------------------------------------
def session_scope(ctx: Any) -> str:
    """The calling session's scope, from an `MCPServer` Context (of a tool call or a resource read).

    The SDK gives a handler no public handle on its connection; the per-request session object keeps
    it as `_connection` (pinned by tests/test_resource_links.py). A connection built per request
    (`Connection.from_envelope`: the 2026 era and stateless HTTP) has no standalone channel and no
    future requests, so it counts as stateless.
    """
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    try:
        request = ctx.request_context
    except (AttributeError, ValueError):
        return credentials_scope(None)  # no request behind the call (a direct in-process call)
    connection = getattr(request.session, "_connection", None)
    if (
        connection is not None
        and connection.protocol_version not in MODERN_PROTOCOL_VERSIONS
        and connection.has_standalone_channel
    ):
        mark = connection.state.get(_SCOPE_KEY)
        if mark is None:
            mark = connection.state[_SCOPE_KEY] = secrets.token_hex(16)
        return "session:" + mark
    try:
        headers = ctx.headers
    except Exception:  # no HTTP request behind this call
        headers = None
    return credentials_scope(headers)


def _link_sentence(uri: str | None, lang: str) -> str:
    if uri is None:
        return (
            " 完整逐项结果过大,未保留。"
            if lang == "zh"
            else " The full per-item result was too large to keep; read the affected items back with list tools."
        )
    if lang == "zh":
        return f" 完整逐项结果:{uri}(resources/read读取;仅本会话,{TTL_SECONDS // 60}分钟内有效)。"
    return f" Full per-item result: {uri} (resources/read; this session only, for {TTL_SECONDS // 60} min)."


def to_result(outcome: Outcome, ctx: Any, store: ResultStore, lang: str = "en") -> Any:
    """The CallToolResult of an Outcome; an attachment is stored and linked, never inlined."""
    from mcp.types import CallToolResult, ResourceLink, TextContent

    structured, text = outcome.structured, outcome.text
    content: list[Any] = []
    if outcome.attachment is not None:
        rid = store.put(session_scope(ctx), outcome.attachment)
        uri = PREFIX + rid if rid is not None else None
        head, _, body = text.partition("\n")
        if uri is not None:
            structured = {**structured, "summary": {**structured.get("summary", {}), "full_result": uri}}
            body = to_json(structured).decode("utf-8")  # a summary: small, cheap to write again
        text = f"{head}{_link_sentence(uri, lang)}\n{body}"
        if uri is not None:
            content.append(
                ResourceLink(
                    type="resource_link",
                    uri=uri,
                    name="full-result",
                    title="Full per-item result" if lang != "zh" else "完整逐项结果",
                    mime_type="application/json",
                    size=len(outcome.attachment.encode("utf-8")),
                )
            )
    content.insert(0, TextContent(type="text", text=text))
    return CallToolResult(content=content, structured_content=structured, is_error=not outcome.ok)


def register(server: Any, store: ResultStore) -> None:
    """Serve `lanying://results/{result_id}` on an MCPServer: the caller's own results, else not-found."""
    from mcp.server.mcpserver import Context
    from mcp.server.mcpserver.exceptions import ResourceNotFoundError

    def _read(result_id: str, ctx: Context[Any, Any]) -> str:
        text = store.get(session_scope(ctx), result_id)
        if text is None:
            raise ResourceNotFoundError(
                f"no result {PREFIX}{result_id} for this session: it expired ({TTL_SECONDS // 60} min), "
                "was evicted, or another session made it"
            )
        return text

    _read.__annotations__["ctx"] = Context  # the SDK finds the Context parameter by its (resolved) annotation
    server.resource(
        PREFIX + "{result_id}",
        name="results",
        title="Full results of bulk calls",
        mime_type="application/json",
        description="The full per-item result a bulk tool call linked to; this session only, for 15 minutes.",
    )(_read)
