"""Texts a model reads never point it to a tool it cannot reach in this server's selection.

Descriptions and error hints were written for the whole catalogue; a server that serves part of it
(explicit toolsets, read-only mode, a denying policy) drops each sentence that names an operation it
cannot run, rather than send the model after a tool that will refuse it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from typing import Any, cast

_SENTENCE = re.compile(r"(?<=[.;!?。;!?])\s*")


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    from .toolsets import CATALOGUE
    from .toolsets.meta import LOCAL_OPERATIONS

    return frozenset([*CATALOGUE, *(op.name for op in LOCAL_OPERATIONS)])


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(_names(), key=len, reverse=True)) + r")(?![A-Za-z0-9_])")


def _everything(reachable: Collection[str]) -> bool:
    """Whether every tool name is reachable: then no text needs pruning (and the pattern is never built)."""
    names = _names()
    return len(reachable) >= len(names) and names.issubset(reachable)


def unreachable(text: str, reachable: Collection[str]) -> list[str]:
    """The tool names in `text` that are not in `reachable`."""
    return [m for m in _pattern().findall(text) if m not in reachable]


def prune(text: str, reachable: Collection[str]) -> str:
    """`text` without the sentences that name an unreachable tool (unchanged when there are none)."""
    if _everything(reachable) or not unreachable(text, reachable):
        return text
    kept = [s for s in _SENTENCE.split(text) if s and not unreachable(s, reachable)]
    return " ".join(kept)


def prune_schema(node: Any, reachable: Collection[str]) -> Any:
    """A JSON schema whose `description` strings name only reachable tools."""
    if _everything(reachable):
        return node
    return _prune_schema(node, reachable)


def _prune_schema(node: Any, reachable: Collection[str]) -> Any:
    if isinstance(node, dict):
        items = cast(dict[Any, Any], node).items()
        return {
            k: (prune(v, reachable) if k == "description" and isinstance(v, str) else _prune_schema(v, reachable))
            for k, v in items
        }
    if isinstance(node, list):
        return [_prune_schema(v, reachable) for v in cast(list[Any], node)]
    return node
