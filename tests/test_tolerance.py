"""The client tolerates what a real service sends: an off-shape success is a success with a warning,
a gateway's JSON 5xx is an HTTP error, and an operator can switch a tool to its alternate method."""

from __future__ import annotations

import itertools
from typing import Any

import httpx2
import pytest

from lanying_mcp.core import facts
from lanying_mcp.core.errors import SettingsError
from lanying_mcp.core.schema import input_schema
from lanying_mcp.core.settings import Settings
from lanying_mcp.core.spec import Operation
from lanying_mcp.engine.call import output_model, shape
from lanying_mcp.engine.client import LanyingClient, RetryPolicy, build_request, check_alternate_methods
from lanying_mcp.toolsets import CATALOGUE

TOKEN = "tolerance-test-token-0123"


def minimal(schema: dict[str, Any]) -> Any:
    """The smallest value that satisfies a (simplified) JSON schema: enough to reach the wire."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return minimal(options[0])
    kind = schema.get("type")
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return [minimal(schema.get("items", {"type": "integer"})) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal(props[name]) for name in schema.get("required", [])}
    if "pattern" in schema:  # a documented format: one known-good example of each
        return {facts.MOBILE_PATTERN: "13800138000", facts.USERNAME_SCHEMA_PATTERN: "user_1"}[schema["pattern"]]
    return "x" * max(1, schema.get("minLength", 1))


WRITES = sorted(
    name for name, op in CATALOGUE.items() if not op.hints.read_only and not op.local and op.handler is None
)


def arguments(op: Operation) -> dict[str, Any]:
    """Required fields; when a model rule wants more, the fewest optional fields (up to three) that satisfy it."""
    schema = input_schema(op.params)
    base = minimal(schema)
    props = schema.get("properties", {})
    optional = [name for name in props if name not in base]
    for k in range(4):
        for names in itertools.combinations(optional, k):
            args = {**base, **{name: minimal(props[name]) for name in names}}
            try:
                op.params.model_validate(args)
                return args
            except ValueError:
                continue
    raise AssertionError(f"no minimal arguments found for {op.name}")


@pytest.mark.anyio
@pytest.mark.parametrize("data", [True, {"unexpected": "shape", "n": 1}], ids=["data-true", "wrong-dict"])
async def test_every_write_tool_takes_an_off_shape_success_as_a_success(data):
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, json={"code": 200, "data": data})

    settings = Settings(endpoint="http://up.test", app_id="a", access_token=TOKEN)
    client = LanyingClient(settings, transport=httpx2.MockTransport(handler), retry=RetryPolicy(attempts=1))
    checked = 0
    for name in WRITES:
        op = CATALOGUE[name]
        params = op.params.model_validate(arguments(op))
        sent.clear()
        out = shape(op, await client.call(op, params))
        assert len(sent) == 1, name
        output_model(op).model_validate(out)  # the result still fits the tool's output schema
        if "warnings" in out:
            assert out["raw_data"] == data and "documented shape" in out["warnings"][0], name
            assert "data" not in out, name
        else:
            assert out["data"] == data, name  # the documented shape accepts it as it is
        checked += 1
    assert checked == len(WRITES) > 60
    await client.aclose()


def test_data_true_on_a_list_result_is_a_warning_not_an_error():
    op = CATALOGUE["kick_group_members"]
    from lanying_mcp.engine.client import Envelope

    out = shape(op, Envelope(True, {}))
    assert out["raw_data"] is True and out["warnings"]


def test_alternate_methods_switch_the_wire_method_only_when_asked():
    op = CATALOGUE["kick_group_members"]
    params = op.params.model_validate(arguments(op))
    assert build_request(op, params).method == "POST"
    alt = build_request(op, params, alternate=True)
    assert alt.method == "DELETE" and alt.path == "/group/kick"
    assert alt.json == build_request(op, params).json  # the fields stay where they were


@pytest.mark.anyio
async def test_alternate_method_reaches_the_wire():
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(f"{request.method} {request.url.path}")
        return httpx2.Response(200, json={"code": 200, "data": []})

    op = CATALOGUE["kick_group_members"]
    params = op.params.model_validate(arguments(op))
    for names, expected in (((), "POST /group/kick"), (("kick_group_members",), "DELETE /group/kick")):
        settings = Settings(endpoint="http://up.test", app_id="a", access_token=TOKEN, alternate_methods=names)
        client = LanyingClient(settings, transport=httpx2.MockTransport(handler))
        await client.call(op, params)
        assert seen[-1] == expected
        await client.aclose()


def test_alternate_methods_setting_is_checked_at_start_up():
    check_alternate_methods(("kick_group_members",), CATALOGUE)
    with pytest.raises(SettingsError, match="not a tool"):
        check_alternate_methods(("kick_members_typo",), CATALOGUE)
    single = next(name for name, op in CATALOGUE.items() if not op.aliases and not op.local)
    with pytest.raises(SettingsError, match="no documented alternate method"):
        check_alternate_methods((single,), CATALOGUE)


@pytest.mark.anyio
async def test_no_cookie_travels_from_one_tenants_request_to_anothers():
    cookies: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        cookies.append(request.headers.get("cookie"))
        return httpx2.Response(
            200,
            json={"code": 200, "data": []},
            headers={"Set-Cookie": "session=tenant-a-secret; Path=/"},
        )

    op = CATALOGUE["list_users"]
    tenant_a = LanyingClient(
        Settings(endpoint="http://up.test", app_id="a", access_token="tenant-a-token-0123"),
        transport=httpx2.MockTransport(handler),
    )
    tenant_b = tenant_a.with_settings(tenant_a.settings.with_(app_id="b", access_token="tenant-b-token-0123"))
    await tenant_a.call(op, op.params())
    await tenant_b.call(op, op.params())
    await tenant_a.call(op, op.params())
    assert cookies == [None, None, None]
    await tenant_a.aclose()
