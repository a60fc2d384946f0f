"""Icons (MCP 2025-11-25): one for the server and one per toolset; every tool carries its toolset's.

Each icon is a single-path SVG on an 8×8 grid, sent as a base64 `data:` URI, so a host can show it
without fetching anything and the listing stays small (about 150 bytes per icon).
"""

from __future__ import annotations

import base64
from functools import cache

COLOUR = "#26e"  # Lanying blue
_PATHS: dict[str, str] = {
    "users": "M2 0h4v4H2zM0 5h8v3H0z",  # a person
    "devices": "M2 0h4v8H2z",  # a phone
    "roster": "M0 1h3v2H0zM5 1h3v2H5zM0 4h3v3H0zM5 4h3v3H5z",  # two contacts
    "groups": "M0 3h2v2H0zM3 1h2v2H3zM6 3h2v2H6zM0 6h8v2H0z",  # people together
    "group_moderation": "M4 0l4 1v3c0 2-2 4-4 4S0 6 0 4V1z",  # a shield
    "group_content": "M1 0h4l2 2v6H1z",  # a page
    "messages": "M0 1h8v5H3L1 8V6H0z",  # a speech bubble
    "push": "M1 6V3a3 3 0 0 1 6 0v3h1v1H0V6zM3 7h2v1H3z",  # a bell
    "files": "M0 1h3l1 1h4v5H0z",  # a folder
    "tokens": "M0 2h3v3H0zM3 3h5v1H3z",  # a key
    "ai": "M4 0l1 3 3 1-3 1-1 3-1-3-3-1 3-1z",  # a spark
    "insight": "M0 5h2v3H0zM3 2h2v6H3zM6 0h2v8H6z",  # bars
    "meta": "M3 0h2v2H3zM3 3h2v5H3z",  # an "i"
    "discovery": "M4 0l2 4-2 4-2-4z",  # a compass needle
}
# The server's own icon: a speech bubble on a rounded tile (not in tools/list, so it may be a little richer).
_SERVER = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="4" '
    f'fill="{COLOUR}"/><path d="M3 4h10v6H7l-3 3v-3H3z" fill="#fff"/></svg>'
)


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@cache
def for_toolset(toolset: str) -> str:
    """The `src` of a toolset's icon (a data: URI); an unknown toolset gets the server's."""
    path = _PATHS.get(toolset)
    if path is None:
        return server()
    return _data_uri(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><path d="{path}" fill="{COLOUR}"/></svg>'
    )


@cache
def server() -> str:
    """The `src` of the server's icon (a data: URI)."""
    return _data_uri(_SERVER)


def toolsets() -> tuple[str, ...]:
    """The toolsets that have their own icon."""
    return tuple(_PATHS)
