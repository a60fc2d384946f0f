"""The sandbox's own gatekeeping, over plain HTTP: app_id, tokens, limits, unknown paths."""

from __future__ import annotations

import httpx2
import pytest

from lanying_mcp.sandbox import Store, build_app


@pytest.fixture
def sandbox():
    store = Store(admin_token="admin-token-for-basics")
    return store, httpx2.AsyncClient(transport=httpx2.ASGITransport(app=build_app(store)), base_url="http://sb")


@pytest.mark.anyio
async def test_auth_and_app_checks(sandbox):
    store, http = sandbox
    admin = {"app_id": "sandbox", "access-token": store.admin_token}
    r = (await http.get("/group/info", params={"group_id": 1}, headers={"app_id": "sandbox"})).json()
    assert r["code"] == 10003 and r["data"] is None
    r = (
        await http.get("/group/info", params={"group_id": 1}, headers={"app_id": "sandbox", "access-token": "x"})
    ).json()
    assert r["code"] == 10008
    r = (await http.get("/group/info", params={"group_id": 1}, headers={"app_id": "other", "access-token": "x"})).json()
    assert r["code"] == 40000
    r = (
        await http.post(
            "/user/register/v2", json={"username": "open_reg", "password": "p"}, headers={"app_id": "sandbox"}
        )
    ).json()
    assert r["code"] == 200 and r["data"]["user_id"] > 0, "registration needs only app_id, as in the quick guide"
    r = (await http.post("/user/register/v2", json={"username": "open_reg", "password": "p"}, headers=admin)).json()
    assert r["code"] == 10004
    assert (await http.get("/no/such/path", headers=admin)).status_code == 404
    assert (await http.get("/group/create", headers=admin)).status_code == 405


@pytest.mark.anyio
async def test_push_audience_limit_is_500(sandbox):
    store, http = sandbox
    admin = {"app_id": "sandbox", "access-token": store.admin_token}
    body = {"audience": {"user_id": list(range(501))}, "message": {"body": "x"}}
    assert (await http.post("/push/notify", json=body, headers=admin)).json()["code"] == 12005
    body["audience"]["user_id"] = list(range(500))
    assert (await http.post("/push/notify", json=body, headers=admin)).json()["code"] == 200
    r = (
        await http.post(
            "/push/notify",
            json={"audience": "all", "message": {"type": "image", "attachment_url": "x.gif"}},
            headers=admin,
        )
    ).json()
    assert r["code"] == 12004


@pytest.mark.anyio
async def test_act_as_an_unknown_user_is_10000(sandbox):
    store, http = sandbox
    r = (
        await http.post(
            "/group/create",
            json={"name": "g"},
            headers={"app_id": "sandbox", "access-token": store.admin_token, "user_id": "42"},
        )
    ).json()
    assert r["code"] == 10000
