"""The admin token never leaves the server: not in results, not in the server's log, not in the audit log.

The whole end-to-end admin story runs over stdio against a real sandbox process whose admin token is
a canary string, with DEBUG logging and the audit log on; then every tool result, the server's
stderr and the audit file are searched for the canary. The error paths get the same treatment: a
wrong token, and an upstream that echoes the token back in its error messages and pages (a debug
proxy or a misconfigured gateway can do that; the server must not pass it on to the model).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.client import LanyingClient, RetryPolicy
from lanying_mcp.serving.server import build_server
from tests.e2e.conftest import Api, free_port, stop, wait_port
from tests.e2e.test_transports import admin_story
from tests.helpers import call, call_error, say_yes

CANARY = "canary-admin-3c8e51f0b7d2"
WRONG = "canary-wrong-token-a41d9e"
USER_PASSWORD = "canary-user-password-77e0"


class Recorder:
    """Wraps an MCP client and keeps every tool result and listing it returns, for searching later."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.seen: list[str] = []

    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        result = await self._client.call_tool(name, arguments or {}, **kwargs)
        self.seen.append(result.model_dump_json())
        return result

    async def list_tools(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._client.list_tools(*args, **kwargs)
        self.seen.append(result.model_dump_json())
        return result


@pytest.fixture(scope="module")
def canary_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A sandbox process that accepts only the canary as its admin token."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("canary") / "sandbox.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanying_mcp", "sandbox", "--port", str(port), "--token", CANARY],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_port(port, proc)
        env = {
            **os.environ,
            "LANYING_API_ENDPOINT": f"http://127.0.0.1:{port}",
            "LANYING_APP_ID": "sandbox",
            "LANYING_ACCESS_TOKEN": CANARY,
            "LANYING_TOOLSETS": "all",
        }
        yield Api(f"http://127.0.0.1:{port}", env)
    finally:
        stop(proc)
        log.close()


def assert_absent(secret: str, where: str, text: str) -> None:
    assert secret not in text, f"the token appears in {where}: …{_around(text, secret)}…"


def _around(text: str, secret: str) -> str:
    i = text.find(secret)
    return text[max(0, i - 80) : i + len(secret) + 80]


async def run_stdio(env: dict[str, str], tmp: Path, story: Any) -> tuple[Recorder, str, str]:
    """Run `story(recorder)` against a stdio server process; return the recorder, its stderr and audit text."""
    audit = tmp / "audit.jsonl"
    errlog = tmp / "server-stderr.log"
    env = {**env, "LANYING_AUDIT_LOG": str(audit)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "lanying_mcp", "--log-level", "DEBUG"], env=env)
    with open(errlog, "w") as err:
        async with Client(stdio_client(params, errlog=err), mode="legacy", elicitation_callback=say_yes) as client:
            recorder = Recorder(client)
            await story(recorder)
    audit_text = audit.read_text(encoding="utf-8") if audit.exists() else ""
    return recorder, errlog.read_text(encoding="utf-8"), audit_text


@pytest.mark.anyio
async def test_admin_story_never_shows_the_token(canary_api: Api, tmp_path: Path):
    async def story(client: Any) -> None:
        await admin_story(client, "secrets")
        user = await call(client, "register_user", {"username": "dora_secrets", "password": USER_PASSWORD})
        uid = user["data"]["user_id"]
        await call(client, "reset_user_password", {"as_user_id": uid, "password": USER_PASSWORD + "-2"})
        await call(client, "explain_error", {"code": "10008"})
        await call_error(client, "get_user_profile", {"as_user_id": 1})

    recorder, stderr, audit = await run_stdio(canary_api.env, tmp_path, story)
    assert len(recorder.seen) > 20, "the story did not run"
    for i, text in enumerate(recorder.seen):
        assert_absent(CANARY, f"result #{i}", text)
    assert stderr.strip(), "the server logged nothing, so the log check proves nothing"
    assert_absent(CANARY, "the server's stderr", stderr)
    entries = [json.loads(line) for line in audit.splitlines() if line.strip()]
    assert len(entries) >= 15, f"expected an audit entry per write, got {len(entries)}"
    assert {"register_user", "create_group", "send_message", "destroy_group"} <= {e["tool"] for e in entries}
    assert_absent(CANARY, "the audit log", audit)
    # user passwords are secrets too: the audit log keeps that a password was set, not which
    assert USER_PASSWORD not in audit and USER_PASSWORD not in stderr
    assert "[redacted]" in audit


@pytest.mark.anyio
async def test_wrong_token_is_never_echoed(canary_api: Api, tmp_path: Path):
    async def story(client: Any) -> None:
        err = await call_error(client, "list_friends", {"as_user_id": 1})
        assert err["code"] == 10008
        err = await call_error(client, "create_group", {"as_user_id": 1, "name": "x"})
        assert err["code"] == 10008
        await call_error(client, "register_user", {"username": "erin_secrets", "password": USER_PASSWORD})

    env = {**canary_api.env, "LANYING_ACCESS_TOKEN": WRONG}
    recorder, stderr, audit = await run_stdio(env, tmp_path, story)
    assert recorder.seen
    for secret in (WRONG, CANARY):
        for i, text in enumerate(recorder.seen):
            assert_absent(secret, f"result #{i}", text)
        assert_absent(secret, "the server's stderr", stderr)
        assert_absent(secret, "the audit log", audit)
    assert USER_PASSWORD not in audit


def echoing_upstream(request: httpx2.Request) -> httpx2.Response:
    """An upstream that quotes the request's headers back in every kind of failure."""
    token = request.headers.get("access-token", "")
    path = request.url.path
    if path == "/user/list":  # a Lanying error code whose message quotes the token
        return httpx2.Response(200, json={"code": 10008, "message": f"token {token} is invalid", "data": None})
    if path == "/user/profile":  # HTTP 500 with a debug page
        return httpx2.Response(500, text=f"Traceback: KeyError access-token={token}")
    if path == "/group/info":  # an HTML error page from a gateway
        return httpx2.Response(200, html=f"<html><body>bad request, headers: access-token: {token}</body></html>")
    if path == "/group/create":  # 401 with a JSON body that is not the envelope
        return httpx2.Response(401, json={"error": "unauthorized", "token": token})
    if path == "/user/rosters":  # success, with the token smuggled into the data
        return httpx2.Response(200, json={"code": 200, "message": None, "data": [{"user_id": 1, "alias": token}]})
    return httpx2.Response(429, headers={"Retry-After": "0"}, text=f"slow down {token}")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("list_users", {}),
        ("get_user_profile", {"as_user_id": 1}),
        ("get_group_info", {"group_id": 1}),
        ("create_group", {"as_user_id": 1, "name": "x"}),
        ("list_friends", {"as_user_id": 1}),
        ("list_user_groups", {"as_user_id": 1}),
    ],
)
async def test_upstream_echo_is_redacted(tool: str, args: dict[str, Any], caplog: pytest.LogCaptureFixture):
    """Whatever the upstream sends back, the token is masked before the model or the log sees it."""
    caplog.set_level("DEBUG")
    settings = Settings(endpoint="http://echo.test", app_id="echo", access_token=CANARY, toolsets=("all",))
    fast = RetryPolicy(base_delay=0.01, max_delay=0.05, total=2.0)
    client = LanyingClient(settings, transport=httpx2.MockTransport(echoing_upstream), retry=fast)
    server = build_server(settings, client=client)
    async with Client(server, mode="legacy") as mcp:
        result = await mcp.call_tool(tool, args)
    await client.aclose()
    assert_absent(CANARY, f"the {tool} result", result.model_dump_json())
    assert_absent(CANARY, "the log", caplog.text)


@pytest.mark.anyio
async def test_an_off_shape_success_echoing_transformed_copies_is_scrubbed_everywhere(caplog: pytest.LogCaptureFixture):
    """The token, upper-cased, cut short by one and spaced out, deep inside an off-shape success body."""
    caplog.set_level("DEBUG")
    copies = [CANARY, CANARY.upper(), CANARY[:-1], " ".join(CANARY)]

    def upstream(request: httpx2.Request) -> httpx2.Response:
        body = {"code": 200, "message": None, "data": {"debug": {"echo": copies, CANARY: {"nested": [copies]}}}}
        return httpx2.Response(200, json=body)

    settings = Settings(endpoint="http://echo.test", app_id="echo", access_token=CANARY, toolsets=("all",))
    server = build_server(settings, transport=httpx2.MockTransport(upstream))
    async with Client(server, mode="legacy") as mcp:
        result = await mcp.call_tool("list_group_members", {"group_id": 1})
    assert not result.is_error and result.structured_content is not None
    assert "raw_data" in result.structured_content  # off-shape, kept as a success with the raw data
    dumped = result.model_dump_json()
    for copy in copies:
        assert copy not in dumped and copy not in caplog.text
    assert CANARY.upper().replace("-", "") not in dumped.upper().replace("-", "")
