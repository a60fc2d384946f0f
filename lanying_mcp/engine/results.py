"""Bulk results behind a link: the full per-item rows a summary leaves out, readable for a while.

A bulk call (10,000 invitations) answers with a summary a model can afford; its full per-item result
(`Outcome.attachment`) is kept in the state store (`state.py`) and linked from the tool result as an
MCP `resource_link` (`lanying://results/<id>`) that the host reads only if it needs to. What is kept
is bounded: each result lives `ttl` seconds, and the oldest go first beyond `max_results` or
`max_bytes`.

Who may read a result: the caller that made it (`identity.py`) — the local user on stdio, a digest of
the bearer token and the per-request Lanying credentials on HTTP. The same caller reads it from
another connection or session, from another server process of the same user, and after a restart,
within its time to live; a caller with other credentials gets not-found, exactly as for an unknown or
expired link. Where HTTP callers send neither a bearer nor credentials they cannot be told apart:
there the 128-bit random id is the capability, as unguessable as a token.

The SDK is touched only in `sdk.py`; this module is plain Python.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from .state import MemoryState, State

PREFIX = "lanying://results/"
NAMESPACE = "results"
TTL_SECONDS = 15 * 60
MAX_RESULTS = 64
MAX_BYTES = 64 * 1024 * 1024
_ID = re.compile(r"[0-9a-f]{32}")


def _owner(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


class ResultStore:
    """Bounded, expiring storage of result texts, keyed by the caller's identity; knows nothing of MCP."""

    def __init__(
        self,
        state: State | None = None,
        ttl: float = TTL_SECONDS,
        max_results: int = MAX_RESULTS,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.state = state if state is not None else MemoryState()
        self.ttl, self.max_results, self.max_bytes = ttl, max_results, max_bytes

    async def put(self, identity: str, text: str) -> str | None:
        """Keep `text` for `identity`; its id, or None when it alone is larger than the whole store."""
        rid = secrets.token_hex(16)
        kept = await self.state.put(
            NAMESPACE,
            f"{_owner(identity)}/{rid}",
            text,
            self.ttl,
            max_items=self.max_results,
            max_bytes=self.max_bytes,
        )
        return rid if kept else None

    async def get(self, identity: str, rid: str) -> str | None:
        """The text, or None when unknown, expired, or kept for another caller (indistinguishable on purpose)."""
        if not _ID.fullmatch(rid):
            return None
        return await self.state.get(NAMESPACE, f"{_owner(identity)}/{rid}")


def link_sentence(uri: str | None, lang: str, failed: bool = False) -> str:
    if failed:
        return (
            " 完整逐项结果未能保存(状态文件不可用),请用列表工具回读受影响的条目。"
            if lang == "zh"
            else " The full per-item result could not be kept (the state file failed); read the affected items "
            "back with list tools."
        )
    if uri is None:
        return (
            " 完整逐项结果过大,未保留。"
            if lang == "zh"
            else " The full per-item result was too large to keep; read the affected items back with list tools."
        )
    if lang == "zh":
        return f" 完整逐项结果:{uri}(resources/read读取;仅限本调用方,{TTL_SECONDS // 60}分钟内有效)。"
    return f" Full per-item result: {uri} (resources/read; for this caller only, for {TTL_SECONDS // 60} min)."
