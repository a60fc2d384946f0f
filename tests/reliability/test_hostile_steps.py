"""An upstream whose every answer is off the documented shape: multi-step tools and split calls still answer.

Found by `tools/fuzz.py`: a diagnostic read a list where it expected an object (and the reverse), and a
split call whose batches answered an object where rows were documented; each crashed inside the server.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client

from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.client import LanyingClient, RetryPolicy
from lanying_mcp.sandbox import SANDBOX_APP_ID
from lanying_mcp.serving.server import build_server

pytestmark = pytest.mark.anyio

TOKEN = "hostile-steps-token-8c2f1a"


def always(data: Any):
    body = json.dumps({"code": 200, "message": "", "data": data}).encode()

    async def app(scope: dict, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def run(data: Any, tool: str, args: dict[str, Any]) -> Any:
    settings = Settings(endpoint="http://hostile", app_id=SANDBOX_APP_ID, access_token=TOKEN, toolsets=("all",))
    client = LanyingClient(settings, transport=httpx2.ASGITransport(app=always(data)), retry=RetryPolicy(attempts=1))
    server = build_server(settings, client=client)
    async with Client(server, mode="legacy") as mcp:
        result = await mcp.call_tool(tool, args)
    await client.aclose()
    return result


STEPS = [
    ("check_messaging", {"from_user_id": 5, "to_group_id": 6}),
    ("check_messaging", {"from_user_id": 5, "to_user_id": 6}),
    ("check_group_join", {"user_id": 5, "group_id": 6}),
    ("check_push_delivery", {"user_id": 5}),
    ("find_by_name", {"text": "alice"}),
]


@pytest.mark.parametrize("data", [[1, "x"], {"user_id": "x", "0": 1}, "text", 7], ids=repr)
@pytest.mark.parametrize(("tool", "args"), STEPS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(STEPS)])
async def test_a_step_answered_off_shape_is_a_failed_read(tool: str, args: dict[str, Any], data: Any):
    result = await run(data, tool, args)
    content = result.structured_content or {}
    if result.is_error:
        assert content["error"]["code"] != "internal_error", content
    assert TOKEN not in json.dumps(content)


async def test_a_split_call_answered_off_shape_gives_the_data_as_sent():
    result = await run(
        {"user_id": 1, "username": "u"},
        "invite_group_members",
        {
            "as_user_id": 1,
            "group_id": 2,
            "user_ids": list(range(1, 700)),  # two batches
        },
    )
    assert not result.is_error, result.structured_content
    content = result.structured_content
    assert content["raw_data"] == {"user_id": 1, "username": "u"}
    assert content["failed_batches"] == 0 and len(content["batches"]) == 2
    assert any("documented shape" in w for w in content["warnings"])
