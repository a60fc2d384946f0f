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

PREFIX = "lanying://results/"
TTL_SECONDS = 15 * 60
MAX_RESULTS = 64
MAX_BYTES = 64 * 1024 * 1024
SCOPE_KEY = "lanying/results-scope"  # where a connection keeps its random session mark
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


def link_sentence(uri: str | None, lang: str) -> str:
    if uri is None:
        return (
            " 完整逐项结果过大,未保留。"
            if lang == "zh"
            else " The full per-item result was too large to keep; read the affected items back with list tools."
        )
    if lang == "zh":
        return f" 完整逐项结果:{uri}(resources/read读取;仅本会话,{TTL_SECONDS // 60}分钟内有效)。"
    return f" Full per-item result: {uri} (resources/read; this session only, for {TTL_SECONDS // 60} min)."


def new_mark() -> str:
    """A random mark that tells one connection's stored results from another's."""
    return secrets.token_hex(16)
