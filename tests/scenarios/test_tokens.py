"""Token scenarios: log in three ways, use the token as that user, and each failure code."""

import pytest

from lanying_mcp.sandbox import Store
from tests.helpers import call, call_error, sandbox_client


def app() -> tuple[Store, int]:
    store = Store()
    user = store.add_user("carol", "secret")
    user.mobile, user.email = "13900000000", "carol@example.com"
    return store, user.user_id


@pytest.mark.anyio
async def test_login_three_ways_and_act_with_token(mode):
    store, carol = app()
    async with sandbox_client(store, mode=mode) as c:
        by_name = await call(c, "get_user_token", {"username": "carol", "password": "secret"})
        assert by_name["data"]["user_id"] == carol and by_name["data"]["token"]
        assert "push_token" not in by_name["data"]
        by_id = await call(c, "get_user_token_by_id", {"user_id": carol, "password": "secret", "device_guid": "d1"})
        assert by_id["data"]["push_token"]
        assert by_id["data"]["token"] != by_name["data"]["token"]  # each login issues a new token
        for login in ("carol", "13900000000", "carol@example.com"):
            res = await call(c, "get_user_token_by_login", {"login_name": login, "password": "secret"})
            assert res["data"]["user_id"] == carol
    token = by_name["data"]["token"]
    assert store.user_tokens[token] == carol
    # The token really signs in as carol: a user-token client sees carol's own (empty) blacklist.
    async with sandbox_client(store, access_token=token) as c:
        res = await call(c, "list_blocked_users", {"as_user_id": carol})
        assert res["data"] == []


@pytest.mark.anyio
async def test_login_records_a_device():
    from lanying_mcp.sandbox import devices

    if not hasattr(devices, "profile"):
        pytest.skip("devices area not present")
    store, carol = app()
    async with sandbox_client(store) as c:
        await call(c, "get_user_token", {"username": "carol", "password": "secret", "device_guid": "phone"})
        await call(c, "get_user_token", {"username": "carol", "password": "secret", "device_guid": "phone"})
    guids = [d.device_guid for d in devices.profile(store, carol).devices.values()]
    assert guids == ["phone"]


@pytest.mark.anyio
async def test_login_failures():
    store, carol = app()
    async with sandbox_client(store) as c:
        err = await call_error(c, "get_user_token", {"username": "carol", "password": "wrong"})
        assert err["code"] == 10002
        err = await call_error(c, "get_user_token", {"username": "nobody", "password": "x"})
        assert err["code"] == 10000
        err = await call_error(c, "get_user_token_by_id", {"user_id": 12345, "password": "x"})
        assert err["code"] == 10000
        err = await call_error(c, "get_user_token_by_login", {"login_name": "nobody@x", "password": "x"})
        assert err["code"] == 10000
        store.users[carol].status = 1
        err = await call_error(c, "get_user_token_by_login", {"login_name": "carol", "password": "secret"})
        assert err["code"] == 10010


@pytest.mark.anyio
async def test_token_routes_need_only_the_app_id():
    """The server always holds a token, so this checks the sandbox's open routes directly."""
    import httpx2

    from lanying_mcp.sandbox import SANDBOX_APP_ID, build_app

    store, carol = app()
    transport = httpx2.ASGITransport(app=build_app(store))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        headers = {"app_id": SANDBOX_APP_ID}
        res = (await http.post("/token/user", json={"name": "carol", "password": "secret"}, headers=headers)).json()
        assert res["code"] == 200 and res["data"]["user_id"] == carol
        res = (await http.get("/roster/blocked_list", headers={**headers, "user_id": str(carol)})).json()
        assert res["code"] == 10003
