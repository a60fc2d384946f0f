"""Shared test machinery: MCP clients on the sandbox, and the wire-table runner."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

import httpx2
from mcp import Client
from mcp.types import ElicitResult

from lanying_mcp.core.settings import Settings
from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.serving.server import build_server

WIRE_TOKEN = "wire-test-token"
WIRE_APP = "wire-app"


def sandbox_settings(store: Store, **changes: Any) -> Settings:
    base = {
        "endpoint": "http://sandbox.test",
        "app_id": SANDBOX_APP_ID,
        "access_token": store.admin_token,
        "toolsets": ("all",),
    }
    return Settings(**{**base, **changes})


QUESTIONS: list[str] = []  # every confirmation question the default test human was asked


async def say_yes(context: Any, params: Any) -> ElicitResult:
    """The default test human: records the question and confirms."""
    QUESTIONS.append(params.message)
    return ElicitResult(action="accept", content={"confirm": True})


@asynccontextmanager
async def sandbox_client(
    store: Store | None = None, mode: str = "legacy", elicitation: Any = say_yes, **changes: Any
) -> AsyncIterator[Client]:
    """An MCP client talking in-process to our server, whose API is a fresh (or given) sandbox.

    Destructive calls ask for confirmation; `elicitation` answers (None = a client that cannot ask).
    """
    store = store or Store()
    server = build_server(sandbox_settings(store, **changes), transport=httpx2.ASGITransport(app=build_app(store)))
    async with Client(server, mode=mode, elicitation_callback=elicitation) as client:
        yield client
    await server.lanying_client.aclose()


async def call(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, args or {})
    assert not result.is_error, f"{tool} failed: {result.content[0].text if result.content else result}"
    assert result.structured_content is not None
    return result.structured_content


async def call_error(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool that must fail; return its structured error."""
    result = await client.call_tool(tool, args or {})
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    assert result.structured_content is not None and "error" in result.structured_content
    return result.structured_content["error"]


@dataclass
class Case:
    """One wire-table row: tool arguments → exactly this HTTP request."""

    tool: str
    args: dict[str, Any]
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    json: Any = None  # expected JSON body (None = no body)
    raw: str | None = None  # expected raw (non-JSON-encoded) body
    act_as: dict[str, str] = field(default_factory=dict)  # expected user_id / group_id headers
    reply: Any = True  # the `data` the fake API answers with
    extras: dict[str, Any] = field(default_factory=dict)  # top-level envelope extras in the fake answer

    def __str__(self) -> str:
        return f"{self.tool}({json.dumps(self.args, ensure_ascii=False)[:60]})"


async def check_cases(cases: list[Case]) -> None:
    """Run every case through a real MCP client and our server against a recording fake API."""
    seen: list[httpx2.Request] = []
    answer: dict[str, Any] = {}

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"code": 200, "message": None, **answer})

    # names=False: the table is about each tool's own request, not the name lookups that follow it.
    settings = Settings(
        endpoint="http://wire.test",
        app_id=WIRE_APP,
        access_token=WIRE_TOKEN,
        toolsets=("all",),
        confirm=False,
        names=False,
    )
    server = build_server(settings, transport=httpx2.MockTransport(handler))
    # Nor the reads a write makes around it: its before-values (changes.py), the group a QR join found, the
    # name a rename replaces (recent.py). Each has its own tests; here only the tool's own request counts.
    with (
        patch("lanying_mcp.engine.trail.read_before", _nothing),
        patch("lanying_mcp.engine.changes.revealed", _nothing_found),
        patch("lanying_mcp.engine.recent.record", _nothing),
    ):
        await _check(cases, server, seen, answer)
    await server.lanying_client.aclose()


async def _nothing(*args: Any) -> None:
    return None


async def _nothing_found(*args: Any) -> dict[str, Any]:
    return {}


async def _check(cases: list[Case], server: Any, seen: list[httpx2.Request], answer: dict[str, Any]) -> None:
    async with Client(server, mode="legacy") as client:
        for case in cases:
            seen.clear()
            answer.clear()
            answer.update({"data": case.reply, **case.extras})
            result = await client.call_tool(case.tool, case.args)
            assert not result.is_error, f"{case}: {result.content[0].text if result.content else result}"
            assert len(seen) == 1, f"{case}: expected one request, saw {len(seen)}"
            req = seen[0]
            assert req.method == case.method, f"{case}: method {req.method}"
            assert req.url.path == case.path, f"{case}: path {req.url.path}"
            assert dict(req.url.params) == case.query, f"{case}: query {dict(req.url.params)}"
            assert req.headers.get("app_id") == WIRE_APP and req.headers.get("access-token") == WIRE_TOKEN
            act_as = {k: req.headers[k] for k in ("user_id", "group_id") if k in req.headers}
            assert act_as == case.act_as, f"{case}: act-as headers {act_as}"
            body = req.content.decode()
            if case.raw is not None:
                assert body == case.raw, f"{case}: raw body {body!r}"
            elif case.json is None:
                assert body == "", f"{case}: unexpected body {body!r}"
            else:
                assert req.headers.get("content-type", "").startswith("application/json")
                sent = json.loads(body)
                if isinstance(sent, dict) and isinstance(case.json, dict) and "transaction_id" not in case.json:
                    # Sends get a generated de-duplication key unless the caller gave one.
                    generated = sent.pop("transaction_id", None)
                    assert generated is None or (isinstance(generated, int) and generated > 0), case
                assert sent == case.json, f"{case}: body {body}"
