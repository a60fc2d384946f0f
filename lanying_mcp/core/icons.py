"""Icons (MCP 2025-11-25): one for the server and one per toolset; every tool carries its toolset's.

A tool's icon is in every `tools/list`, so it is as small as an icon can be: a 16×16 lossless WebP
(a format the spec asks hosts to show) of one blue shape, about 100 bytes on the wire with its JSON. The
shapes are drawn on an 8×8 grid (`SHAPES`, SVG path syntax); `python tools/gen_icons.py` renders them
into `_WEBP`. The server's icon is sent once, at initialization, so it stays a scalable SVG.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache

COLOUR = "#26e"  # Lanying blue
# Each toolset's shape on an 8×8 grid: the source of its icon.
SHAPES: dict[str, str] = {
    "users": "M2 0h4v4H2zM0 5h8v3H0z",  # a person
    "devices": "M2 0h4v8H2z",  # a phone
    "roster": "M0 1h3v2H0zM5 1h3v2H5zM0 4h3v3H0zM5 4h3v3H5z",  # two contacts
    "groups": "M0 3h2v2H0zM3 1h2v2H3zM6 3h2v2H6zM0 6h8v2H0z",  # people together
    "group_moderation": "M4 0l4 1v3l-4 4l-4-4V1z",  # a shield
    "group_content": "M1 0h4l2 2v6H1z",  # a page
    "messages": "M0 1h8v5H3L1 8V6H0z",  # a speech bubble
    "push": "M2 1h4v5h1v1H1V6h1zM3 7h2v1H3z",  # a bell
    "files": "M0 1h3l1 1h4v5H0z",  # a folder
    "tokens": "M0 2h3v3H0zM3 3h5v1H3z",  # a key
    "ai": "M4 0l1 3 3 1-3 1-1 3-1-3-3-1 3-1z",  # a spark
    "insight": "M0 5h2v3H0zM3 2h2v6H3zM6 0h2v8H6z",  # bars
    "meta": "M3 0h2v2H3zM3 3h2v5H3z",  # an "i"
    "discovery": "M4 0l2 4-2 4-2-4z",  # a compass needle
}
# The rendered icons (base64 WebP), written by tools/gen_icons.py from SHAPES and COLOUR, whose digest
# it records: a test compares the digest, so an edited shape cannot ship with its old picture.
SHAPES_DIGEST = "165b2b557c73315c"
_WEBP: dict[str, str] = {
    "users": "UklGRiwAAABXRUJQVlA4TB8AAAAvD8ADEDUoatsGYlv+JHZv/6y8Rez/BADIxLyn9tcHAA==",
    "devices": "UklGRiQAAABXRUJQVlA4TBgAAAAvD8ADEDWQSdu4nX8ne9PyFrH/AauqwF0=",
    "roster": "UklGRiwAAABXRUJQVlA4TCAAAAAvD8ADEA8wZiMy7vMf8CCTtomz+fe0c0xDRP8D0oX0AQ==",
    "groups": "UklGRi4AAABXRUJQVlA4TCIAAAAvD8ADEDUoaNvIYXv8SYwfBOryFrH/E5BHC79AWu1bue57",
    "group_moderation": "UklGRjgAAABXRUJQVlA4TCsAAAAvD8ADEDWoaRtJYnv8OexXXe8pbxH7PwHal8SYNfmuC3bqRj+ZO9tin+gBAA==",
    "group_content": "UklGRiwAAABXRUJQVlA4TB8AAAAvD8ADEDWYaduGbfmD6LZzb1LeIvZ/AiAzfeHNmx8AAA==",
    "messages": "UklGRi4AAABXRUJQVlA4TCIAAAAvD8ADEDUoahvJYbv8OfSr70x5i9j/CWC5fS84ypLo0KEO",
    "push": "UklGRi4AAABXRUJQVlA4TCEAAAAvD8ADEDUoatuIYXv8Oez97pW3iP2fAJQk9SpvjuEMZgsA",
    "files": "UklGRioAAABXRUJQVlA4TB0AAAAvD8ADEA8wZiMy7vMf8CCTtonzSe87CRH9T5h0AQA=",
    "tokens": "UklGRiwAAABXRUJQVlA4TB8AAAAvD8ADEDUoaNuGYVv+IM4ugKq8Rez/BOQ86Nx8zNr/AA==",
    "ai": "UklGRjgAAABXRUJQVlA4TCwAAAAvD8ADEDUoaNtGYnv8Oew/BEl5i9j/CWD9TfzAnhPTwjbgkFjRDLRnKJ81AQ==",
    "insight": "UklGRiYAAABXRUJQVlA4TBoAAAAvD8ADEAaCbBvb+Xv8AE1F6t7/AICwCq/wDQ==",
    "meta": "UklGRi4AAABXRUJQVlA4TCEAAAAvD8ADEDUoahvJYbv8QfRy996Ut4j9n4BTBTh3v3qAXwEA",
    "discovery": "UklGRjQAAABXRUJQVlA4TCcAAAAvD8ADEDUoaNtGYjv+HO4Ng6S8Rez/BPh7gqqQtkDHf+4EXEQsoUsA",
}
# The server's own icon: a speech bubble on a rounded tile.
_SERVER = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="4" '
    f'fill="{COLOUR}"/><path d="M3 4h10v6H7l-3 3v-3H3z" fill="#fff"/></svg>'
)


@cache
def for_toolset(toolset: str) -> str:
    """The `src` of a toolset's icon (a data: URI); an unknown toolset gets the server's."""
    webp = _WEBP.get(toolset)
    if webp is None:
        return server()
    return "data:image/webp;base64," + webp


@cache
def server() -> str:
    """The `src` of the server's icon (a data: URI)."""
    return "data:image/svg+xml;base64," + base64.b64encode(_SERVER.encode("utf-8")).decode("ascii")


def shapes_digest() -> str:
    """A digest of what the rendered icons are drawn from: the shapes and the colour."""
    source = json.dumps([COLOUR, SHAPES], sort_keys=True).encode("utf-8")
    return hashlib.sha256(source).hexdigest()[:16]


def toolsets() -> tuple[str, ...]:
    """The toolsets that have their own icon."""
    return tuple(SHAPES)
