"""Texts a model reads never point it to a tool it cannot reach in this server's selection.

Descriptions and error hints were written for the whole catalogue; a server that serves part of it
(explicit toolsets, read-only mode, a denying policy) drops each sentence that names an operation it
cannot run, rather than send the model after a tool that will refuse it. Which words are tool names
(`known`) is handed in by the caller: the server's whole catalogue, from the call's context.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from typing import Any, cast

_SENTENCE = re.compile(r"(?<=[.;!?。;!?])\s*")


@lru_cache(maxsize=8)
def _pattern(known: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(known, key=len, reverse=True)) + r")(?![A-Za-z0-9_])")


def _everything(reachable: Collection[str], known: frozenset[str]) -> bool:
    """Whether every tool name is reachable: then no text needs pruning (and the pattern is never built)."""
    return len(reachable) >= len(known) and known.issubset(reachable)


def unreachable(text: str, reachable: Collection[str], known: Collection[str]) -> list[str]:
    """The tool names in `text` (names in `known`, every tool there is) that are not in `reachable`."""
    return [m for m in _pattern(frozenset(known)).findall(text) if m not in reachable]


def prune(text: str, reachable: Collection[str], known: Collection[str]) -> str:
    """`text` without the sentences that name an unreachable tool (unchanged when there are none)."""
    every = frozenset(known)
    if _everything(reachable, every) or not unreachable(text, reachable, every):
        return text
    kept = [s for s in _SENTENCE.split(text) if s and not unreachable(s, reachable, every)]
    return " ".join(kept)


def prune_schema(node: Any, reachable: Collection[str], known: Collection[str]) -> Any:
    """A JSON schema whose `description` strings name only reachable tools."""
    every = frozenset(known)
    if _everything(reachable, every):
        return node
    return _prune_schema(node, reachable, every)


def _prune_schema(node: Any, reachable: Collection[str], known: frozenset[str]) -> Any:
    if isinstance(node, dict):
        items = cast(dict[Any, Any], node).items()
        return {
            k: (
                prune(v, reachable, known)
                if k == "description" and isinstance(v, str)
                else _prune_schema(v, reachable, known)
            )
            for k, v in items
        }
    if isinstance(node, list):
        return [_prune_schema(v, reachable, known) for v in cast(list[Any], node)]
    return node
