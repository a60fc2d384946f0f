"""Every class of failure becomes the same structured error, never a protocol error or a traceback."""

from __future__ import annotations

import json

import httpx2
import pytest
from mcp import Client

from lanying_mcp.core import error_text, errors
from lanying_mcp.core.settings import Settings
from lanying_mcp.serving.server import build_server
from tests.helpers import call, call_error

SECRET = "tok-SECRET-never-shown-91c2"
KEYS = {"code", "message", "meaning", "hint", "retryable"}


def server_with(handler) -> object:
    settings = Settings(endpoint="http://fake.test", app_id="app", access_token=SECRET, toolsets=("all",))
    return build_server(settings, transport=httpx2.MockTransport(handler))


def reply(status: int = 200, body: object = None, raw: bytes | None = None, headers=None):
    def handler(request: httpx2.Request) -> httpx2.Response:
        if raw is not None:
            return httpx2.Response(status, content=raw, headers=headers)
        return httpx2.Response(status, json=body, headers=headers)

    return handler


def raising(exc: Exception):
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise exc

    return handler


CASES = [
    ("lanying code under HTTP 200", reply(200, {"code": 20001, "message": "group not found"}), 20001, False),
    ("unknown lanying code", reply(200, {"code": 29999, "message": "new failure"}), 29999, False),
    ("token invalid 402", reply(200, {"code": 402, "message": "relogin"}), 402, False),
    ("HTTP 500 without envelope", reply(500, raw=b"<html>oops</html>"), "http_500", True),
    ("HTTP 503 with JSON", reply(503, {"error": "busy"}), "http_503", True),
    ("HTTP 404", reply(404, raw=b"no such path"), "http_404", False),
    ("HTTP 429", reply(429, raw=b"slow down", headers={"Retry-After": "0"}), "http_429", True),
    ("non-JSON body", reply(200, raw=b"<!doctype html><p>hi</p>"), "invalid_response", False),
    ("JSON without code", reply(200, {"data": 1}), "invalid_response", False),
    ("empty body", reply(200, raw=b""), "invalid_response", False),
    ("connection refused", raising(httpx2.ConnectError("refused")), "connection_error", True),
    ("read timeout", raising(httpx2.ReadTimeout("slow")), "timeout", True),
    ("connect timeout", raising(httpx2.ConnectTimeout("slow")), "timeout", True),
    ("protocol error", raising(httpx2.RemoteProtocolError("broken")), "connection_error", True),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "handler", "code", "retryable"), CASES, ids=[c[0] for c in CASES])
async def test_failure_classes_are_structured(label, handler, code, retryable, mode):
    server = server_with(handler)
    async with Client(server, mode=mode) as client:
        # A read (retried where safe) and a write (never retried) both end in the structured error.
        for tool, args in (
            ("list_group_members", {"group_id": 1}),
            ("send_message", {"user_ids": [1], "content": "x"}),
        ):
            err = await call_error(client, tool, args)
            assert KEYS <= set(err), err
            assert err["code"] == code
            assert err["retryable"] is retryable
            assert err["meaning"] and err["hint"]
            assert SECRET not in json.dumps(err)
        # ... and the server still answers the next call.
        ok = await client.call_tool("explain_error", {"code": 10000})
        assert not ok.is_error


@pytest.mark.anyio
async def test_write_that_may_have_applied_says_so():
    async with Client(server_with(raising(httpx2.ReadTimeout("slow"))), mode="legacy") as client:
        err = await call_error(client, "create_group", {"as_user_id": 1, "name": "g"})
        assert "may have been applied" in err["hint"]


@pytest.mark.anyio
async def test_failed_send_tells_how_to_retry_without_duplicates():
    bodies = []

    def slow(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        raise httpx2.ReadTimeout("slow")

    async with Client(server_with(slow), mode="legacy") as client:
        err = await call_error(client, "send_message", {"user_ids": [1], "content": "x"})
    keys = {b["transaction_id"] for b in bodies}
    assert len(bodies) == 3 and len(keys) == 1, "every retry of one send carries the same key"
    assert f"transaction_id={keys.pop()}" in err["hint"]


@pytest.mark.anyio
async def test_refused_connection_is_not_applied():
    async with Client(server_with(raising(httpx2.ConnectError("refused"))), mode="legacy") as client:
        err = await call_error(client, "send_message", {"user_ids": [1], "content": "x"})
        assert "may have been applied" not in err["hint"]


@pytest.mark.anyio
async def test_reads_are_retried_and_writes_are_not():
    calls: list[str] = []

    def flaky(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        if len([c for c in calls if c == request.url.path]) < 2:
            return httpx2.Response(503, content=b"busy")
        return httpx2.Response(200, json={"code": 200, "data": [] if "member_list" in request.url.path else True})

    async with Client(server_with(flaky), mode="legacy") as client:
        result = await client.call_tool("list_group_members", {"group_id": 1})
        assert not result.is_error and calls.count("/group/member_list") == 2
        err = await call_error(client, "create_group", {"as_user_id": 1, "name": "g"})
        assert err["code"] == "http_503" and calls.count("/group/create") == 1
        # A send carries a de-duplication key, so it is retried like a read.
        result = await client.call_tool("send_message", {"user_ids": [1], "content": "x"})
        assert not result.is_error and calls.count("/message/send") == 2


@pytest.mark.anyio
async def test_validation_errors_name_each_field_and_send_nothing(mode):
    seen = []
    server = server_with(lambda r: seen.append(r) or httpx2.Response(200, json={"code": 200, "data": True}))
    async with Client(server, mode=mode) as client:
        err = await call_error(client, "register_user", {"username": "maxim_1", "password": "", "extra": 1})
        assert err["code"] == "invalid_arguments"
        for word in ("username", "password", "extra"):
            assert word in err["message"]
        err = await call_error(client, "create_group", {"as_user_id": "not-a-number", "name": "g"})
        assert "as_user_id" in err["message"]
        err = await call_error(client, "send_message", {"user_ids": [1], "group_ids": [2], "content": "x"})
        assert "user_ids (or usernames) or group_ids" in err["message"]
        err = await call_error(client, "send_push", {"tags": "beta", "message": {}})
        assert "tags" in err["message"]
    assert seen == []


@pytest.mark.anyio
async def test_off_shape_success_keeps_the_raw_data():
    async with Client(server_with(reply(200, {"code": 200, "data": "surprise"})), mode="legacy") as client:
        out = await call(client, "create_group", {"as_user_id": 1, "name": "g"})
        assert out["raw_data"] == "surprise" and "data" not in out
        assert "did not match the documented shape" in out["warnings"][0]


def test_catalogue_covers_the_guide_table_and_402():
    guide = [
        10000,
        10001,
        10002,
        10003,
        10004,
        10005,
        10006,
        10007,
        10008,
        10009,
        10010,
        10011,
        10012,
        12001,
        12002,
        12003,
        12004,
        12005,
        12006,
        *range(20000, 20019),
        20020,
        20021,
        20022,
        20023,
        20024,
        20025,
        30021,
        30022,
        30023,
        40000,
        402,
    ]
    table = error_text.catalogue()
    for code in guide:
        e = table[code]
        assert e.en and e.zh and e.hint, code


def test_unknown_codes_still_get_an_answer():
    assert "group" in error_text.entry(29998).en
    assert error_text.entry("http_502").retryable
    assert "Unknown" in error_text.entry(77777).en


def test_error_hints_name_real_tools():
    import re

    from lanying_mcp.toolsets import CATALOGUE
    from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS
    from tests.test_catalogue import VERBS

    local = {op.name for op in LOCAL_OPERATIONS}
    for code, e in error_text.catalogue().items():
        for name in re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", e.hint):
            if name.split("_")[0] not in VERBS or name == "as_user_id":
                continue  # an argument or field name, not a tool
            assert name in CATALOGUE or name in local, f"hint of {code} names unknown tool {name}"


def test_the_error_tree_in_the_docstring_matches_the_classes():
    """The tree at the top of errors.py names every LanyingError subclass, each under its real parent."""
    import re

    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    ours = [c for c in subclasses(errors.LanyingError) if c.__module__.startswith("lanying_mcp")]
    assert all(c.__module__ == errors.__name__ for c in ours), "every LanyingError subclass lives in errors.py"
    classes = {c.__name__: c for c in ours}
    import textwrap

    tree = textwrap.dedent((errors.__doc__ or "").split("Exception tree")[1].split("\n\n")[1])
    drawn: dict[str, str] = {}
    parents: list[str] = []
    for line in tree.splitlines():
        found = re.match(r"^(\s*(?:[│ ]   )*)(?:[├└]── )?(\w+)", line)
        assert found, line
        depth = len(found.group(1)) // 4 + (1 if "──" in line else 0)
        parents[depth:] = [found.group(2)]
        if depth:
            drawn[found.group(2)] = parents[depth - 1]
    assert set(drawn) == set(classes)
    for name, parent in drawn.items():
        assert classes[name].__mro__[1].__name__ == parent, name


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_retry_sentence_names_the_declared_dedup_argument_and_its_value(lang):
    exc = errors.TransportError("slow", code="timeout", may_have_applied=True).with_dedup("client_key", 77)
    err = error_text.describe(exc, lang)
    assert "client_key=77" in err["hint"] and "transaction_id" not in err["hint"]
    assert err["retryable"] is True  # the key makes the repeat a no-op
    plain = error_text.describe(errors.TransportError("slow", code="timeout", may_have_applied=True), lang)
    assert "client_key" not in plain["hint"] and plain["retryable"] is False


async def _fail_once_sent(op, arguments: dict) -> tuple[dict, list[dict]]:
    """`op` run against an API that never answers in time: the structured error, and the bodies sent."""
    from lanying_mcp.engine.call import CallContext
    from lanying_mcp.engine.client import LanyingClient
    from lanying_mcp.engine.dispatch import execute

    bodies: list[dict] = []

    def slow(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        raise httpx2.ReadTimeout("slow")

    settings = Settings(endpoint="http://fake.test", app_id="app", access_token=SECRET, toolsets=("all",))
    client = LanyingClient(settings, transport=httpx2.MockTransport(slow))
    try:
        outcome = await execute(op, arguments, CallContext(client))
    finally:
        await client.aclose()
    assert not outcome.ok
    return outcome.structured["error"], bodies


@pytest.mark.anyio
async def test_a_send_names_its_own_dedup_argument_when_it_may_have_been_delivered():
    """The retry sentence follows the operation's declared `dedup_key`, whatever the argument is called."""
    from dataclasses import replace

    from lanying_mcp.toolsets import CATALOGUE

    op = replace(CATALOGUE["send_message"], dedup_key="related_mid")  # any argument the API de-duplicates by
    err, bodies = await _fail_once_sent(op, {"user_ids": [1], "content": "x"})
    keys = {b["related_mid"] for b in bodies}
    assert len(keys) == 1 and bodies[0].get("transaction_id") is None
    assert f"related_mid={keys.pop()}" in err["hint"] and "transaction_id" not in err["hint"]
    assert err["retryable"] is True


@pytest.mark.anyio
async def test_a_write_without_a_dedup_key_names_none_even_when_it_has_such_an_argument():
    from dataclasses import replace

    from lanying_mcp.toolsets import CATALOGUE

    op = replace(CATALOGUE["send_message"], dedup_key=None)
    err, bodies = await _fail_once_sent(op, {"user_ids": [1], "content": "x", "transaction_id": 5})
    assert len(bodies) == 1, "without a declared key a write is sent once"
    assert "transaction_id" not in err["hint"] and "may have been applied" in err["hint"]
    assert err["retryable"] is False
