"""Insight tools on the wire: which documented requests each one sends, with which act-as headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from mcp import Client

from lanying_mcp.core.settings import Settings
from lanying_mcp.serving.server import build_server
from tests.helpers import WIRE_APP, WIRE_TOKEN, Case, check_cases

CASES = [
    Case("find_by_name", {"text": "bob", "max_scan": 0}, "GET", "/roster/name", query={"username": "bob"}),
]


@dataclass
class Flow:
    """A multi-request tool: its arguments → these requests (method, path, act-as user header), in order."""

    tool: str
    args: dict[str, Any]
    requests: list[tuple[str, str, str | None]]
    names: frozenset[tuple[str, str, str | None]] = frozenset()  # then, in any order: the names beside the IDs


FLOWS = [
    Flow(
        "check_push_delivery",
        {"user_id": 7},
        [
            ("GET", "/roster/id", None),
            ("GET", "/user/settings", "7"),
            ("GET", "/user/device/list", "7"),
            ("GET", "/user/push/tag", "7"),
        ],
        frozenset({("POST", "/roster/list", "7")}),
    ),
    Flow(
        "check_messaging",
        {"from_user_id": 7, "to_user_id": 8},
        [
            ("GET", "/roster/id", None),
            ("GET", "/user/list", None),
            ("GET", "/roster/id", "7"),
            ("GET", "/roster/blocked_list", "8"),
            ("GET", "/roster/blocked_list", "7"),
            ("GET", "/roster/may_message", None),
        ],
        frozenset({("POST", "/roster/list", "8")}),  # user 7 is known from the flow before
    ),
    Flow(
        "check_group_join",
        {"user_id": 7, "group_id": 5},
        [
            ("GET", "/group/info", None),
            ("GET", "/roster/id", None),
            ("POST", "/group/members/display_name", None),
            ("GET", "/group/blocked_list", None),
            ("GET", "/user/settings", "7"),
            ("POST", "/group/application_list", None),
            ("GET", "/group/invitation_list", "7"),
        ],
        frozenset({("POST", "/group/info/batch", None)}),  # user 7 is known from the flows before
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_insight_wire_table(case: Case) -> None:
    await check_cases([case])


@pytest.mark.anyio
async def test_diagnostics_send_only_documented_reads():
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"code": 200, "message": None, "data": None})

    settings = Settings(endpoint="http://wire.test", app_id=WIRE_APP, access_token=WIRE_TOKEN, toolsets=("all",))
    server = build_server(settings, transport=httpx2.MockTransport(handler))
    async with Client(server, mode="legacy") as client:
        for flow in FLOWS:
            seen.clear()
            result = await client.call_tool(flow.tool, flow.args)
            assert not result.is_error, result.content
            sent = [(r.method, r.url.path, r.headers.get("user_id")) for r in seen]
            own = len(flow.requests)
            assert sent[:own] == flow.requests and set(sent[own:]) == flow.names, f"{flow.tool}: {sent}"
            reads = {"/group/members/display_name", "/group/application_list", "/roster/list", "/group/info/batch"}
            assert all(r.method == "GET" or r.url.path in reads for r in seen)
    await server.lanying_client.aclose()
