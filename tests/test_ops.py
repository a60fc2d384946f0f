"""Operations: calls per minute per caller (across replicas too), Lanying's own rate limit, /metrics.

The OAuth layer leaves the validated principal in the ASGI scope (`lanying.principal`); here a small
middleware plays that part from a test header, so the limits are checked per subject exactly as they
will be behind the real resource server.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult

from lanying_mcp.cli import build_http_app
from lanying_mcp.core.errors import SettingsError, StateError
from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.state import MemoryState
from lanying_mcp.serving import limits
from lanying_mcp.serving.http_sessions import client_key
from lanying_mcp.serving.server import build_server
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio

TOKEN = "ops-test-access-token-0123456789"
BEARER = "ops-test-bearer-token-abcdef"


@dataclass(frozen=True)
class Principal:
    """What the OAuth layer leaves in the scope; only `.subject` is read here."""

    subject: str


class FakeResourceServer:
    """Puts a principal in the scope from the `X-Test-Subject` header, as a validated token would."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for key, value in scope.get("headers", []):
                if key == b"x-test-subject":
                    scope = {**scope, limits.PRINCIPAL_KEY: Principal(value.decode())}
        await self.app(scope, receive, send)


def settings(**changes: Any) -> Settings:
    base: dict[str, Any] = {
        "endpoint": "http://api.test",
        "app_id": "app",
        "access_token": TOKEN,
        "state_file": ":memory:",
    }
    return Settings(**{**base, **changes})


class Api:
    """A fake Lanying API: every request answers `reply` (a success by default); requests are counted."""

    def __init__(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers = status, headers or {}
        self.body = body if body is not None else {"code": 200, "data": {}}
        self.requests = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        return httpx2.Response(self.status, json=self.body, headers=self.headers)


@contextlib.asynccontextmanager
async def http_app(conf: Settings, api: Any = None):
    """The server's stateless HTTP app in process, behind the fake resource server; yields (server, app)."""
    server = build_server(conf, transport=httpx2.MockTransport(api or Api()))
    app = FakeResourceServer(
        build_http_app(server, conf, "http", "127.0.0.1", 8000, stateless=True, json_response=True)
    )
    async with server.session_manager.run():
        yield server, app
    await server.state.close()


@contextlib.asynccontextmanager
async def mcp_over_http(app: Any, **headers: str):
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000", headers=headers, timeout=60
    )
    async with http, Client(streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http)) as client:
        yield client


async def explain(client: Client) -> Any:
    """A cheap tool call (answered by the server itself): each one counts against the limit."""
    return await client.call_tool("explain_error", {"code": 10000})


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error, result.content
    return result.structured_content["error"]


async def test_calls_per_minute_are_counted_per_subject():
    async with http_app(settings(calls_per_minute=3, auth_token=BEARER)) as (_, app):
        same_token = {"Authorization": f"Bearer {BEARER}"}  # one shared token: only the subject tells them apart
        async with (
            mcp_over_http(app, **same_token, **{"X-Test-Subject": "alice"}) as alice,
            mcp_over_http(app, **same_token, **{"X-Test-Subject": "bob"}) as bob,
        ):
            for _ in range(3):
                assert not (await explain(alice)).is_error
            refused = await explain(alice)
            err = error_of(refused)
            assert err["code"] == "rate_limited" and err["retryable"] is True
            assert 1 <= err["retry_after"] <= 60
            assert "LANYING_CALLS_PER_MINUTE" in err["hint"] and "retry_after" in err["hint"]
            assert "nothing was sent" in err["message"]
            assert BEARER not in str(refused.content)
            # bob holds the same token, and is not limited by alice's calls
            for _ in range(3):
                assert not (await explain(bob)).is_error
            assert error_of(await explain(bob))["code"] == "rate_limited"


async def test_without_a_principal_each_set_of_credentials_is_its_own_caller():
    conf = settings(calls_per_minute=2, request_credentials=True, allowed_endpoints=("http://api.test",))
    async with http_app(conf) as (_, app):
        first = {"X-Lanying-App-Id": "app", "X-Lanying-Access-Token": "tenant-one-token-123456"}
        second = {"X-Lanying-App-Id": "app", "X-Lanying-Access-Token": "tenant-two-token-654321"}
        async with mcp_over_http(app, **first) as one, mcp_over_http(app, **second) as two:
            await explain(one)
            await explain(one)
            assert error_of(await explain(one))["code"] == "rate_limited"
            assert not (await explain(two)).is_error


async def test_stdio_and_in_process_callers_are_not_limited():
    server = build_server(settings(calls_per_minute=1), transport=httpx2.MockTransport(Api()))
    async with Client(server) as client:
        for _ in range(3):
            assert not (await explain(client)).is_error


async def test_the_limit_holds_across_two_servers_sharing_one_redis(own_redis: RedisServer):
    conf = settings(calls_per_minute=4, state_url=own_redis.url)
    async with http_app(conf) as (_, one), http_app(conf) as (_, two):
        async with (
            mcp_over_http(one, **{"X-Test-Subject": "alice"}) as via_one,
            mcp_over_http(two, **{"X-Test-Subject": "alice"}) as via_two,
            mcp_over_http(two, **{"X-Test-Subject": "bob"}) as bob,
        ):
            for client in (via_one, via_two, via_one, via_two):
                assert not (await explain(client)).is_error
            assert error_of(await explain(via_one))["code"] == "rate_limited"
            assert error_of(await explain(via_two))["code"] == "rate_limited"
            assert not (await explain(bob)).is_error  # the other subject, on the same replicas


async def test_the_counter_is_per_minute():
    now = [1000.0 * 60 + 50]  # ten seconds before a minute ends
    limiter = limits.CallLimiter(MemoryState(), 2, clock=lambda: now[0])
    assert await limiter.check("oauth:alice") is None
    assert await limiter.check("oauth:alice") is None
    assert await limiter.check("oauth:alice") == pytest.approx(10.0)
    assert await limiter.check("oauth:bob") is None
    now[0] += 11  # the next minute
    assert await limiter.check("oauth:alice") is None
    assert await limiter.check("oauth:alice") is None
    assert await limiter.check("oauth:alice") == pytest.approx(59.0)


async def test_calls_go_on_when_the_store_cannot_count_them(caplog):
    class Down(MemoryState):
        async def hit(self, ns: str, key: str, window: float) -> int:
            raise StateError("the Redis state store at redis://127.0.0.1:1 failed: ConnectionError")

    limiter = limits.CallLimiter(Down(), 1)
    for _ in range(3):
        assert await limiter.check("oauth:alice") is None
    assert "the call limit could not be counted" in caplog.text


async def test_a_limit_of_zero_means_no_limit():
    limiter = limits.CallLimiter(MemoryState(), 0)
    for _ in range(5):
        assert await limiter.check("oauth:alice") is None


def test_the_limit_setting_is_checked():
    assert Settings.from_env({"LANYING_CALLS_PER_MINUTE": "5"}).calls_per_minute == 5
    with pytest.raises(SettingsError, match="LANYING_CALLS_PER_MINUTE"):
        settings(calls_per_minute=-1).validate()
    for name, bad in (("LANYING_METRICS", "somewhere"), ("LANYING_HEALTH", "host:99999")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({**dict.fromkeys(("LANYING_API_ENDPOINT",), "http://a.test"), name: bad}).validate()


def test_sessions_are_counted_per_subject_when_a_principal_is_present():
    headers = [(b"authorization", b"Bearer shared")]
    alice = {"type": "http", "headers": headers, "client": ("10.0.0.1", 1), limits.PRINCIPAL_KEY: Principal("alice")}
    bob = {**alice, limits.PRINCIPAL_KEY: Principal("bob")}
    bare = {"type": "http", "headers": headers, "client": ("10.0.0.1", 1)}
    assert client_key(alice) == "oauth:alice" and client_key(bob) == "oauth:bob"
    assert client_key(bare).startswith("credentials:")
    odd = {**bare, limits.PRINCIPAL_KEY: object()}  # no subject: the credentials decide, as before
    assert client_key(odd) == client_key(bare)


# Lanying's own rate limit ------------------------------------------------------------------------------


async def test_a_lanying_429_gives_retry_after_and_is_not_slept_on():
    api = Api(429, {"error": "slow down"}, {"Retry-After": "30"})
    server = build_server(settings(), transport=httpx2.MockTransport(api))
    async with Client(server) as client:
        result = await client.call_tool("list_group_members", {"group_id": 1})
    err = error_of(result)
    assert err["code"] == "http_429" and err["retry_after"] == 30 and err["retryable"] is True
    assert "retry_after" in err["hint"]
    assert api.requests == 1  # 30 s is past what a retry may wait: answered at once, not slept on


async def test_a_short_retry_after_is_retried_within_the_deadline():
    api = Api(429, {"error": "slow down"}, {"Retry-After": "0"})
    server = build_server(settings(), transport=httpx2.MockTransport(api))
    async with Client(server) as client:
        err = error_of(await client.call_tool("list_group_members", {"group_id": 1}))
    assert err["code"] == "http_429" and err["retry_after"] == 1
    assert api.requests == 3  # a read is safe to repeat: every attempt was made


async def test_a_retry_after_the_deadline_would_cut_off_is_not_slept_on():
    api = Api(429, {"error": "slow down"}, {"Retry-After": "3"})
    server = build_server(settings(call_deadline=2), transport=httpx2.MockTransport(api))
    async with Client(server) as client:
        err = error_of(await client.call_tool("list_group_members", {"group_id": 1}))
    assert err["code"] == "http_429" and err["retry_after"] == 3  # not `deadline`: it answered at once
    assert api.requests == 1


# /metrics -----------------------------------------------------------------------------------------------


async def decline(context: Any, params: Any) -> ElicitResult:
    return ElicitResult(action="decline")


async def yes(context: Any, params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, 0 when absent."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def scrape(app: Any, **headers: str) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http:
        return await http.get("/metrics", headers=headers)


async def test_metrics_count_calls_errors_upstream_status_and_consent():
    conf = settings(auth_token=BEARER)
    api = Api()
    server = build_server(conf, transport=httpx2.MockTransport(api))
    app = build_http_app(server, conf, "http", "127.0.0.1", 8000, stateless=True)
    async with Client(server, elicitation_callback=decline) as no:
        declined = await no.call_tool("destroy_group", {"group_id": 1})
        assert error_of(declined)["code"] == "declined"
        await no.call_tool("list_group_members", {"group_id": 1})
        await no.call_tool("no_such_tool", {})
    async with Client(server, elicitation_callback=yes) as ok:
        assert not (await ok.call_tool("destroy_group", {"group_id": 1})).is_error

    assert (await scrape(app)).status_code == 401  # behind the MCP endpoint's auth by default
    page = await scrape(app, Authorization=f"Bearer {BEARER}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    text = page.text
    assert sample(text, "lanying_mcp_consent_total", event="asked") == 2
    assert sample(text, "lanying_mcp_consent_total", event="declined") == 1
    assert sample(text, "lanying_mcp_consent_total", event="granted") == 1
    assert sample(text, "lanying_mcp_tool_calls_total", tool="destroy_group", outcome="error") == 1
    assert sample(text, "lanying_mcp_tool_calls_total", tool="destroy_group", outcome="ok") == 1
    # the round that asked the human, in the multi-round protocol (the default client's)
    assert sample(text, "lanying_mcp_tool_calls_total", tool="destroy_group", outcome="input_required") == 2
    assert sample(text, "lanying_mcp_tool_calls_total", tool="list_group_members", outcome="ok") == 1
    assert sample(text, "lanying_mcp_tool_calls_total", tool="unknown", outcome="error") == 1
    assert sample(text, "lanying_mcp_tool_errors_total", code="declined") == 1
    assert sample(text, "lanying_mcp_tool_call_seconds_count", tool="destroy_group") == 2
    assert sample(text, "lanying_mcp_upstream_responses_total", status="200") == api.requests > 0
    assert BEARER not in text and TOKEN not in text
    await server.state.close()


async def test_each_server_counts_in_its_own_registry():
    one = build_server(settings(), transport=httpx2.MockTransport(Api()))
    two = build_server(settings(), transport=httpx2.MockTransport(Api()))
    one.enable_metrics(), two.enable_metrics()
    async with Client(one) as client:
        await explain(client)
    assert one.metrics is not None and two.metrics is not None
    assert sample(one.metrics.render()[0].decode(), "lanying_mcp_tool_calls_total", tool="explain_error") == 1
    assert sample(two.metrics.render()[0].decode(), "lanying_mcp_tool_calls_total", tool="explain_error") == 0


async def test_a_rate_limited_call_is_counted():
    async with http_app(settings(calls_per_minute=1, metrics="on")) as (server, app):
        async with mcp_over_http(app, **{"X-Test-Subject": "alice"}) as alice:
            await explain(alice)
            await explain(alice)
        text = (await scrape(app)).text
    assert sample(text, "lanying_mcp_tool_errors_total", code="rate_limited") == 1
    assert sample(text, "lanying_mcp_tool_calls_total", tool="explain_error", outcome="ok") == 1


async def test_metrics_and_health_can_be_turned_off():
    conf = settings(metrics="off", health="off")
    server = build_server(conf, transport=httpx2.MockTransport(Api()))
    app = build_http_app(server, conf, "http", "127.0.0.1", 8000, stateless=True)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http:
        for path in ("/metrics", "/healthz", "/readyz"):
            assert (await http.get(path)).status_code == 404, path
    assert server.metrics is None
