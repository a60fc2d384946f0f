"""askpass through the server: the consent matrix's askpass rows, in both protocol eras.

Every confirmed tool, called by a client that cannot elicit, with a scripted helper that says no, hangs
or crashes: nothing reaches the API. A helper that says yes runs exactly the confirmed call, once, and its
yes is no good for a second call. The helper sees the same question elicitation shows (with its
confirmation code), and never the access token.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from lanying_mcp.core.settings import Settings
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from tests.test_consent import CASES, IDS, TOKEN, Recorder

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the scripted helpers are #! scripts")


def helper(folder: Path, status: str, *, before: str = "") -> tuple[str, Path]:
    """A /bin/sh helper that appends the question it got (argv[1]) to a log, then exits with `status`."""
    log = folder / "asked.log"
    path = folder / f"helper-{abs(hash((status, before)))}"
    path.write_text(f"#!/bin/sh\nprintf '%s\\n<END>\\n' \"$1\" >> '{log}'\n{before}exit {status}\n")
    path.chmod(0o755)
    return str(path), log


def asked(log: Path) -> list[str]:
    return [q.strip() for q in log.read_text(encoding="utf-8").split("<END>") if q.strip()] if log.exists() else []


def settings(program: str, seconds: float = 60, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "endpoint": "http://api.test",
        "app_id": "app",
        "access_token": TOKEN,
        "askpass": program,
        "askpass_seconds": seconds,
        **changes,
    }
    if "approval" in Settings.model_fields:
        values["approval"] = "askpass"
    return Settings(**values)


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_a_declining_helper_lets_nothing_reach_the_api(label, op, args, mode, tmp_path):
    program, log = helper(tmp_path, "1")
    api = Recorder()
    server = build_server(settings(program, toolsets=("all",)), transport=httpx2.MockTransport(api))
    with anyio.fail_after(120):
        async with Client(server, mode=mode) as client:  # no elicitation: askpass is the only channel
            result = await client.call_tool(op.name, args)
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert len(asked(log)) == 1, asked(log)
    assert api.writes_of(op) == []


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_a_declining_helper_through_call_tool_lets_nothing_reach_the_api(label, op, args, tmp_path):
    program, log = helper(tmp_path, "1")
    api = Recorder()
    server = build_server(settings(program, discovery=True), transport=httpx2.MockTransport(api))
    with anyio.fail_after(120):
        async with Client(server, mode="legacy") as client:
            result = await client.call_tool("call_tool", {"name": op.name, "arguments": args})
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert len(asked(log)) == 1
    assert api.writes_of(op) == []


@pytest.mark.anyio
async def test_a_yes_runs_exactly_the_confirmed_call_once(mode, tmp_path):
    program, log = helper(tmp_path, "0")
    api = Recorder()
    server = build_server(settings(program), transport=httpx2.MockTransport(api))
    with anyio.fail_after(120):
        async with Client(server, mode=mode) as client:
            first = await client.call_tool("broadcast_message", {"content": "hello all"})
            second = await client.call_tool("broadcast_message", {"content": "hello all"})
    assert not first.is_error and not second.is_error, (first.content, second.content)
    assert api.writes_of(CATALOGUE["broadcast_message"]) == ["POST /message/broadcast"] * 2
    questions = asked(log)
    assert len(questions) == 2, questions  # each call asked afresh: a yes is good for one call
    assert "Broadcast message" in questions[0] and '"hello all"' in questions[0], questions[0]  # the form's text
    codes = [q.rsplit("(Confirmation ", 1)[1] for q in questions]
    assert codes[0] != codes[1], questions  # a fresh confirmation code for each question
    assert TOKEN not in log.read_text()


@pytest.mark.anyio
async def test_a_client_that_can_elicit_is_asked_by_askpass_when_the_operator_forces_it(tmp_path):
    if "approval" not in Settings.model_fields:
        pytest.skip("LANYING_APPROVAL is not declared in this build")
    program, log = helper(tmp_path, "1")
    api = Recorder()
    elicited: list[Any] = []

    async def human(context: Any, params: Any) -> Any:
        elicited.append(params)
        raise AssertionError("askpass was forced: the form must not be shown")

    server = build_server(settings(program), transport=httpx2.MockTransport(api))
    with anyio.fail_after(120):
        async with Client(server, mode="legacy", elicitation_callback=human) as client:
            result = await client.call_tool("broadcast_message", {"content": "hi"})
    assert result.structured_content["error"]["code"] == "declined"
    assert not elicited and len(asked(log)) == 1 and api.writes_of(CATALOGUE["broadcast_message"]) == []


@pytest.mark.anyio
async def test_a_hanging_helper_is_a_no_within_its_timeout_and_nothing_is_sent(mode, tmp_path):
    program, log = helper(tmp_path, "0", before="sleep 300\n")  # would say yes, but far too late
    api = Recorder()
    server = build_server(settings(program, seconds=3), transport=httpx2.MockTransport(api))
    started = time.monotonic()
    with anyio.fail_after(120):
        async with Client(server, mode=mode) as client:
            result = await client.call_tool("broadcast_message", {"content": "hi"})
    took = time.monotonic() - started
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert took < 3 + 30, took  # a hang guard with a wide margin, not a speed check
    assert len(asked(log)) == 1 and api.writes_of(CATALOGUE["broadcast_message"]) == []


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["kill -SEGV $$\n", "exec /nonexistent/dialog\n"])
async def test_a_crashing_helper_is_a_no(how, tmp_path):
    program, log = helper(tmp_path, "0", before=how)
    api = Recorder()
    server = build_server(settings(program), transport=httpx2.MockTransport(api))
    with anyio.fail_after(120):
        async with Client(server, mode="legacy") as client:
            result = await client.call_tool("broadcast_message", {"content": "hi"})
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert api.writes_of(CATALOGUE["broadcast_message"]) == []


@pytest.mark.anyio
async def test_a_missing_helper_refuses_and_sends_nothing(tmp_path):
    api = Recorder()
    server = build_server(settings(str(tmp_path / "absent")), transport=httpx2.MockTransport(api))
    with anyio.fail_after(120):
        async with Client(server, mode="legacy") as client:
            result = await client.call_tool("broadcast_message", {"content": "hi"})
    assert result.is_error and result.structured_content["error"]["code"] in ("declined", "confirmation_required")
    assert api.writes_of(CATALOGUE["broadcast_message"]) == []
