"""Icons (MCP 2025-11-25): the server and every tool carry one; each tool carries its toolset's; all are small."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from lanying_mcp.core import icons
from lanying_mcp.sandbox import Store
from lanying_mcp.serving.selection import Selection
from lanying_mcp.toolsets import CATALOGUE, TOOLSETS
from tests.helpers import sandbox_client, sandbox_settings

PREFIX = "data:image/svg+xml;base64,"
WEBP = "data:image/webp;base64,"
SVG = "{http://www.w3.org/2000/svg}svg"


def svg_of(src: str) -> ET.Element:
    assert src.startswith(PREFIX), src[:40]
    root = ET.fromstring(base64.b64decode(src[len(PREFIX) :], validate=True))
    assert root.tag == SVG and root.get("viewBox"), "a scalable SVG"
    return root


def webp_size(src: str) -> tuple[int, int]:
    """Width and height of a lossless WebP data URI, read from its RIFF and VP8L headers."""
    assert src.startswith(WEBP), src[:40]
    data = base64.b64decode(src[len(WEBP) :], validate=True)
    assert data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8L", data[:16]
    assert int.from_bytes(data[4:8], "little") == len(data) - 8, "the RIFF size matches"
    assert data[20] == 0x2F, "the VP8L signature"
    bits = int.from_bytes(data[21:25], "little")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def test_every_toolset_has_its_own_small_icon():
    named = set(icons.toolsets())
    assert set(TOOLSETS) | {"meta", "discovery"} <= named
    sources = [icons.for_toolset(name) for name in named]
    assert len(set(sources)) == len(sources), "each toolset looks different"
    for src in sources:
        assert webp_size(src) == (16, 16)
        assert len(src) <= 120, len(src)  # every listed tool carries one
    svg_of(icons.server())
    assert len(icons.server()) <= 400


def test_the_rendered_icons_are_those_of_the_shapes():
    """tools/gen_icons.py renders SHAPES; an edited shape or colour without a new render is caught here."""
    assert icons.SHAPES_DIGEST == icons.shapes_digest(), "run python tools/gen_icons.py"
    assert set(icons._WEBP) == set(icons.SHAPES)  # pyright: ignore[reportPrivateUsage]


@pytest.mark.anyio
@pytest.mark.parametrize("changes", [{"toolsets": ("all",)}, {"toolsets": ()}, {"toolsets": (), "discovery": True}])
async def test_the_server_and_each_listed_tool_carry_an_icon(changes, mode):
    async with sandbox_client(mode=mode, **changes) as client:
        tools = (await client.list_tools()).tools
        info = client.server_info
    assert info is not None and info.icons, "the server has an icon"
    assert [i.src for i in info.icons] == [icons.server()]
    assert tools
    operations = Selection(sandbox_settings(Store(), **changes), None).reachable
    for tool in tools:
        toolset = operations[tool.name].toolset
        if tool.name in CATALOGUE:
            assert toolset == CATALOGUE[tool.name].toolset
        assert tool.icons, f"{tool.name} has no icon"
        assert [i.src for i in tool.icons] == [icons.for_toolset(toolset)], tool.name
