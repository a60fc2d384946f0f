"""/healthz and /readyz on the HTTP transports: alive, and ready only while the store and the API answer."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx2
import pytest

from lanying_mcp.cli import build_http_app
from lanying_mcp.core.settings import Settings
from lanying_mcp.serving.server import build_server
from tests.redis_server import RedisServer

TOKEN = "health-test-access-token-0123456789"
BEARER = "health-test-bearer-token-abcdef"


def settings(**changes: Any) -> Settings:
    base: dict[str, Any] = {"endpoint": "http://api.test", "app_id": "app", "access_token": TOKEN}
    return Settings(**{**base, **changes})


def answering(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(404, json={"code": 404, "message": "not found"})  # any answer: reachable


def unreachable(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("connection refused", request=request)


@contextlib.asynccontextmanager
async def http(conf: Settings, handler: Any = answering, transport: str = "http", **kwargs: Any):
    server = build_server(conf, transport=httpx2.MockTransport(handler))
    app = build_http_app(server, conf, transport, "127.0.0.1", 8000, **kwargs)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000", timeout=60
    ) as client:
        yield client
    await server.state.close()


@pytest.mark.anyio
async def test_readiness_drops_when_redis_stops_and_comes_back_with_it(own_redis: RedisServer):
    async with http(settings(state_url=own_redis.url), stateless=True) as client:
        assert (await client.get("/healthz")).json() == {"status": "alive"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["ready"] is True and ready.json()["checks"]["state"] == {"ok": True}

        own_redis.stop()
        down = await client.get("/readyz")
        assert down.status_code == 503
        state = down.json()["checks"]["state"]
        assert state["ok"] is False and f"Redis state store at redis://127.0.0.1:{own_redis.port}" in state["error"]
        assert down.json()["checks"]["upstream"]["ok"] is True  # only the store failed
        alive = await client.get("/healthz")
        assert alive.status_code == 200  # alive all the same: a restart would not help

        own_redis.start()
        assert (await client.get("/readyz")).status_code == 200


@pytest.mark.anyio
async def test_readiness_drops_when_the_api_is_unreachable(tmp_path):
    async with http(settings(state_file=str(tmp_path / "state.sqlite3")), unreachable, stateless=True) as client:
        down = await client.get("/readyz")
    assert down.status_code == 503
    upstream = down.json()["checks"]["upstream"]
    assert upstream["ok"] is False and upstream["endpoint"] == "http://api.test" and "ConnectError" in upstream["error"]
    assert down.json()["checks"]["state"] == {"ok": True}
    assert TOKEN not in down.text


@pytest.mark.anyio
async def test_a_broken_state_file_is_not_ready(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    async with http(settings(state_file=str(blocker / "state.sqlite3")), transport="sse") as client:
        down = await client.get("/readyz")
    assert down.status_code == 503 and "cannot use the state file" in down.json()["checks"]["state"]["error"]


@pytest.mark.anyio
async def test_without_a_fixed_endpoint_the_store_alone_is_checked():
    """Profiles name their own endpoints: there is no one upstream to probe."""
    from lanying_mcp.serving.health import check_upstream

    assert (await check_upstream(None, ""))["ok"] is True


@pytest.mark.anyio
async def test_probes_sit_behind_the_bearer_token(tmp_path):
    conf = settings(auth_token=BEARER, state_file=str(tmp_path / "state.sqlite3"))
    async with http(conf) as client:  # stateful: the session guard passes probes through
        assert (await client.get("/healthz")).status_code == 401
        assert (await client.get("/readyz")).status_code == 401
        auth = {"Authorization": f"Bearer {BEARER}"}
        assert (await client.get("/healthz", headers=auth)).status_code == 200
        assert (await client.get("/readyz", headers=auth)).status_code == 200
