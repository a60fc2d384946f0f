"""Several apps from one server: named profiles, and credentials sent with each HTTP request."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client

from lanying_mcp.core.errors import NotAllowed, SettingsError
from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.apps import load_profiles, request_credentials
from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.serving.server import build_server
from tests.helpers import call, call_error, say_yes


def two_sandboxes():
    """Two independent sandbox 'apps' behind two endpoints, routed in-process."""
    prod, staging = Store(admin_token="prod-token-0123456789"), Store(admin_token="staging-token-0123456789")
    apps = {"prod.test": build_app(prod), "staging.test": build_app(staging)}

    class Router(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request):
            return await httpx2.ASGITransport(app=apps[request.url.host]).handle_async_request(request)

    return prod, staging, Router()


def profiles_file(tmp_path, env_name: str = "STAGING_TOKEN_FOR_TEST") -> str:
    path = tmp_path / "profiles.toml"
    path.write_text(f"""
default = "staging"

[profiles.prod]
endpoint = "http://prod.test"
app_id = "{SANDBOX_APP_ID}"
access_token = "prod-token-0123456789"
read_only = true

[profiles.staging]
endpoint = "http://staging.test"
app_id = "{SANDBOX_APP_ID}"
access_token_env = "{env_name}"
""")
    return str(path)


@pytest.mark.anyio
async def test_profiles_pick_the_app_and_honour_read_only(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("STAGING_TOKEN_FOR_TEST", "staging-token-0123456789")
    prod, staging, router = two_sandboxes()
    prod.add_user("only_in_prod", "pw")
    settings = Settings(profiles_file=profiles_file(tmp_path), toolsets=("all",))
    server = build_server(settings, transport=router)
    async with Client(server, mode=mode, elicitation_callback=say_yes) as client:
        tool = {t.name: t for t in (await client.list_tools()).tools}["register_user"]
        assert tool.input_schema["properties"]["app"]["enum"] == ["prod", "staging"]
        await call(client, "register_user", {"username": "new_in_staging", "password": "pw"})  # default app
        assert "new_in_staging" in staging.by_username and "new_in_staging" not in prod.by_username
        users = await call(client, "list_users", {"app": "prod"})
        assert [u["username"] for u in users["data"]] == ["only_in_prod"]
        err = await call_error(client, "register_user", {"app": "prod", "username": "nope", "password": "pw"})
        assert err["code"] == "not_allowed" and "read-only" in err["message"]
        err = await call_error(client, "list_users", {"app": "qa"})
        assert err["code"] == "invalid_arguments" and "prod, staging" in err["message"]


def test_profiles_file_errors_are_clear(tmp_path):
    with pytest.raises(SettingsError, match="STAGING_TOKEN_MISSING is not set"):
        load_profiles(profiles_file(tmp_path, "STAGING_TOKEN_MISSING"), env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[profiles.x]\nendpoint='ftp://x'\napp_id='a'\naccess_token='t'\n")
    with pytest.raises(SettingsError, match="http"):
        load_profiles(bad)


def test_request_headers_become_credentials_and_endpoints_are_allowlisted():
    assert request_credentials({"X-Lanying-App-Id": "a1", "X-Lanying-Access-Token": "t1"}, ()) == {
        "app_id": "a1",
        "access_token": "t1",
    }
    own = {"x-lanying-app-id": "a2", "x-lanying-access-token": "t2", "x-lanying-endpoint": "https://ok.example/"}
    assert request_credentials(own, ("https://ok.example",)) == {
        "app_id": "a2",
        "access_token": "t2",
        "endpoint": "https://ok.example",
    }
    with pytest.raises(PermissionError):
        request_credentials({"x-lanying-endpoint": "http://169.254.169.254"}, ("https://ok.example",))
    assert request_credentials(None, ()) == {}


@pytest.mark.anyio
async def test_without_credentials_a_request_credentials_server_says_what_to_send():
    prod, _, router = two_sandboxes()
    settings = Settings(endpoint="http://prod.test", request_credentials=True, toolsets=("all",))
    server = build_server(settings, transport=router)
    async with Client(server, mode="legacy") as client:
        err = await call_error(client, "list_users", {})
        assert err["code"] == "missing_credentials" and "X-Lanying-Access-Token" in err["message"]
        await call(client, "explain_error", {"code": 10008})  # answered locally: needs no credentials


def test_the_operators_token_goes_only_to_the_configured_endpoint():
    allowed = ("https://other.example", "https://home.example")
    # Another allowed endpoint without the request's own app ID and token: refused, whatever else it sends.
    for headers in (
        {"X-Lanying-Endpoint": "https://other.example"},
        {"X-Lanying-Endpoint": "https://other.example", "X-Lanying-Access-Token": "their-token-0123456789"},
        {"X-Lanying-Endpoint": "https://other.example", "X-Lanying-App-Id": "their_app"},
    ):
        with pytest.raises(NotAllowed, match="X-Lanying-App-Id and X-Lanying-Access-Token") as info:
            request_credentials(headers, allowed, "https://home.example")
        assert info.value.code == "not_allowed"
    # The configured endpoint named explicitly keeps the operator's credentials.
    assert request_credentials({"X-Lanying-Endpoint": "https://home.example/"}, allowed, "https://home.example") == {
        "endpoint": "https://home.example"
    }
    # With its own credentials, a request may use another allowed endpoint.
    own = {"X-Lanying-Endpoint": "https://other.example", "X-Lanying-App-Id": "b", "X-Lanying-Access-Token": "tb"}
    assert request_credentials(own, allowed, "https://home.example")["endpoint"] == "https://other.example"
