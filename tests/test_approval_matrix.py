"""The consent matrix, on the approval page: a declining human, and a human who never answers.

Every confirmed tool (the rows of tests/test_consent.py), through each path a model can take with a
client that cannot ask (a direct call, discovery's `call_tool`, a plan), and `undo_change` on a
journaled write: the call answers `approval_pending`, the human declines on the page (or the approval
expires), `await_approval` reports it, and nothing reaches the API. The `call` CLI asks at its own
terminal (`--yes`) and never uses the page; tests/test_consent.py covers it.
"""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest
from mcp import Client

from lanying_mcp.review.approval import AWAIT_APPROVAL
from lanying_mcp.serving.server import build_server
from tests.helpers import call
from tests.test_approval import answer, page, setup
from tests.test_consent import CASES, IDS, Recorder, settings

pytestmark = pytest.mark.anyio


def pending_id(result: Any) -> str:
    assert result.structured_content is not None, result.content
    err = result.structured_content["error"]
    assert result.is_error and err["code"] == "approval_pending", result.content
    return err["details"]["approval_id"]


def expire(server: Any) -> None:
    """Move the approvals' clock past their time, as if the human never came back."""
    approvals = server.gate.approvals
    later = approvals.clock() + server.lanying_settings.approval_seconds + 1
    approvals.clock = lambda: later


def plan_of(op: Any, args: dict[str, Any]) -> dict[str, Any]:
    return {"steps": [{"name": op.name, "arguments": args}]}


@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_page_declined_or_never_answered_reaches_nothing(label, op, args, opened):
    api = Recorder()
    listed = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(api))
    discovery = build_server(settings(discovery=True), transport=httpx2.MockTransport(api))
    paths = [
        (listed, "legacy", op.name, args),
        (discovery, "auto", "call_tool", {"name": op.name, "arguments": args}),
        (listed, "legacy", "apply_plan", plan_of(op, args)),
        (listed, "auto", "apply_plan", plan_of(op, args)),
    ]
    for server, mode, tool, arguments in paths:  # declined on the page
        async with Client(server, mode=mode, elicitation_callback=None) as client:
            approval_id = pending_id(await client.call_tool(tool, arguments))
            said = await answer(opened[-1], "decline")
            assert said.status_code == 200
            result = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
            assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
            retry = await client.call_tool(tool, {**arguments, "approval_id": approval_id})
            assert retry.is_error
    assert api.writes_of(op) == []
    for server, mode, tool, arguments in paths:  # nobody answers
        async with Client(server, mode=mode, elicitation_callback=None) as client:
            approval_id = pending_id(await client.call_tool(tool, arguments))
            expire(server)
            result = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
            assert result.is_error and result.structured_content["error"]["code"] == "approval_expired"
            retry = await client.call_tool(tool, {**arguments, "approval_id": approval_id})
            assert retry.is_error
        server.gate.approvals.clock = time.time
    assert api.writes_of(op) == []
    assert len(opened) == 2 * len(paths)


async def test_undo_on_the_page_declined_or_never_answered_sends_no_inverse(mode, opened):
    s = await setup()
    async with Client(s.server, mode=mode, elicitation_callback=None) as client:
        made = await call(client, "create_group", {"as_user_id": s.uid, "name": "Undo me"})
        change = made["change_id"]
        approval_id = pending_id(await client.call_tool("undo_change", {"change_id": change}))
        assert "Undo me" in (await page(opened[-1])).text  # the page names the group the undo destroys
        assert (await answer(opened[-1], "decline")).status_code == 200
        declined = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
        assert declined.structured_content["error"]["code"] == "declined"

        approval_id = pending_id(await client.call_tool("undo_change", {"change_id": change}))
        expire(s.server)
        gone = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
        assert gone.structured_content["error"]["code"] == "approval_expired"
    assert s.api.count(DESTROY) == 0


DESTROY = "DELETE /group/destroy"
