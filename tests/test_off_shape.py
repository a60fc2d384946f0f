"""An answer off its documented shape keeps every protection: secrets masked by key, text cleaned and marked.

The sandbox answers as documented; a small middleware then bends one answer the way real services
drift (a vendor's app ID as a number, an expiry as a date string, an owner ID as text), so the result
no longer fits its model and comes back in `raw_data`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client

from lanying_mcp.engine.call import MASKED
from lanying_mcp.safety import untrusted
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server

from .faults import _respond, _run  # pyright: ignore[reportPrivateUsage]
from .helpers import call, sandbox_settings, say_yes

pytestmark = pytest.mark.anyio

HIDDEN = "\u202e\u2066\u200b\ufeff\U000e0049\U000e0047"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-vendor-private\n-----END PRIVATE KEY-----"

Edit = Callable[[Any], Any]


def bending(app: Any, edits: dict[str, Edit]) -> Any:
    """The sandbox, with the `data` of its answers to the paths in `edits` changed by the edit."""

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        edit = edits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if edit is None:
            await app(scope, receive, send)
            return
        status, headers, body = await _run(app, scope, receive)
        envelope = json.loads(body)
        if envelope.get("code") == 200:
            envelope["data"] = edit(envelope["data"])
        await _respond(send, status, headers, json.dumps(envelope).encode())

    return wrapper


@asynccontextmanager
async def bent_client(store: Store, edits: dict[str, Edit], **changes: Any) -> AsyncIterator[Client]:
    settings = sandbox_settings(store, **changes)
    server = build_server(settings, transport=httpx2.ASGITransport(app=bending(build_app(store), edits)))
    async with Client(server, mode="legacy", elicitation_callback=say_yes) as client:
        yield client
    await server.lanying_client.aclose()


def vendor_answer(data: dict[str, Any]) -> dict[str, Any]:
    """Xiaomi and OPPO app IDs are long numbers, and this vendor also sends its private key."""
    return {**data, "app_id": 2882303761517400000, "private_key": PRIVATE_KEY}


@pytest.mark.parametrize("provider", [3, 6], ids=["xiaomi", "oppo"])
async def test_a_numeric_vendor_app_id_does_not_reveal_the_vendor_secrets(provider: int) -> None:
    store = Store()
    async with bent_client(store, {"/push/certificate": vendor_answer}) as client:
        result = await client.call_tool("get_push_certificate", {"provider": provider})
    structured = result.structured_content
    assert not result.is_error and structured is not None
    assert "data" not in structured and structured["raw_data"]["app_id"] == 2882303761517400000  # off-shape
    assert structured["raw_data"]["app_secret"] == MASKED and structured["raw_data"]["private_key"] == MASKED
    assert structured["raw_data"]["app_key"].endswith("-key-prod")  # documented and not a secret: kept
    dumped = result.model_dump_json()
    assert "-secret-prod" not in dumped and "vendor-private" not in dumped
    assert any("private_key" in w and "LANYING_REVEAL_SECRETS" in w for w in structured["warnings"])


async def test_an_undocumented_key_of_a_secret_bearing_answer_is_masked_on_shape_too() -> None:
    store = Store()
    edit: Edit = lambda data: {**data, "signing_key": "vendor-signing-key-0042"}  # noqa: E731
    async with bent_client(store, {"/push/certificate": edit}) as client:
        structured = await call(client, "get_push_certificate", {"provider": 2})
    assert structured["data"]["signing_key"] == MASKED and structured["data"]["app_secret"] == MASKED
    assert structured["data"]["name"] == "sandbox-huawei-prod"
    assert "vendor-signing-key-0042" not in json.dumps(structured)


async def test_an_expiry_as_a_date_string_does_not_reveal_the_user_token() -> None:
    store = Store()
    store.add_user("alice", "pw123456")
    sent: list[dict[str, Any]] = []

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        sent.append(data)
        return {**data, "expire": "2026-12-31 23:59:59", "refresh_token": "refresh-canary-77"}

    async with bent_client(store, {"/token/user": edit}, confirm=False) as client:
        result = await client.call_tool(
            "get_user_token", {"username": "alice", "password": "pw123456", "device_guid": "d-1"}
        )
    structured = result.structured_content
    assert not result.is_error and structured is not None and "raw_data" in structured
    raw = structured["raw_data"]
    assert raw["expire"] == "2026-12-31 23:59:59" and isinstance(raw["user_id"], int)
    for key in ("token", "push_token", "refresh_token"):
        assert raw[key] == MASKED, key
    dumped = result.model_dump_json()
    secrets = [sent[0][k] for k in ("token", "push_token", "store_token", "access_key_secret")]
    assert all(isinstance(s, str) and len(s) > 8 for s in secrets)
    for secret in [*secrets, "refresh-canary-77"]:
        assert secret not in dumped


async def test_a_bare_string_answer_of_a_secret_bearing_tool_is_masked() -> None:
    store = Store()
    store.add_user("alice", "pw123456")
    edit: Edit = lambda data: "bare-token-canary-123"  # noqa: E731
    async with bent_client(store, {"/token/user": edit}, confirm=False) as client:
        structured = await call(client, "get_user_token", {"username": "alice", "password": "pw123456"})
    assert structured["raw_data"] == MASKED and "bare-token-canary-123" not in json.dumps(structured)


async def test_a_group_name_in_an_off_shape_answer_arrives_cleaned_and_marked() -> None:
    store = Store()
    owner = store.add_user("owner_1", "pw123456").user_id
    edit: Edit = lambda data: {**data, "owner_id": f"u-{data['owner_id']}"}  # noqa: E731
    async with bent_client(store, {"/group/info": edit}) as client:
        gid = (await call(client, "create_group", {"as_user_id": owner, "name": f"Ops{HIDDEN}Room"}))["data"][
            "group_id"
        ]
        result = await client.call_tool("get_group_info", {"group_id": gid})
    structured = result.structured_content
    assert not result.is_error and structured is not None
    assert "data" not in structured and structured["raw_data"]["name"] == "OpsRoom"
    text = result.content[0].text  # type: ignore[union-attr]
    assert not any(ch in text for ch in HIDDEN)
    assert not any(ch in json.dumps(structured, ensure_ascii=False) for ch in HIDDEN)
    assert result.meta is not None and "$.raw_data..*" in result.meta[untrusted.META_KEY]


def test_raw_data_is_marked_whole_unless_declared() -> None:
    from dataclasses import replace

    from lanying_mcp.core.spec import IdPaths
    from lanying_mcp.toolsets import CATALOGUE

    op = CATALOGUE["get_group_info"]
    assert "$.raw_data..*" in untrusted.paths(op, {"raw_data": {"name": "x"}})
    assert untrusted.paths(op, {"raw_data": "surprise"})[-1] == "$.raw_data"
    assert untrusted.paths(op, {"raw_data": True}) == []  # no text, nothing to mark
    narrowed = replace(op, ids=IdPaths(text=("raw_data.name",)))
    assert untrusted.paths(narrowed, {"raw_data": {"name": "x", "id": "7"}}) == ["$.raw_data.name"]
    assert untrusted.clean_tree({f"k{HIDDEN}": [f"a{HIDDEN}", 1, None]}) == {"k": ["a", 1, None]}
