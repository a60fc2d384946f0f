"""The test authorization server issues what a real one would: JWT access tokens for our resource.

The team test trusts these tokens to stand for admins; here they are checked on their own, with PyJWT
against the provider's published JWKS, so a change in the provider's configuration shows up here first.
"""

from __future__ import annotations

import subprocess
import sys

import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import Api, free_port, stop, wait_port
from tests.e2e.oidc_server import ADA, ADMIN, BOB, INTROSPECTOR, READ, ROOT, TEAM, WRITE, Admin

RESOURCE = "http://127.0.0.1:18080/mcp"


def verified(server, token: str) -> dict:
    """The token's claims, after checking its signature against the JWKS, its issuer and its audience."""
    header = jwt.get_unverified_header(token)
    keys = httpx2.get(server.jwks_uri, timeout=30).json()["keys"]
    key = next(k for k in keys if k["kid"] == header["kid"])
    return jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=RESOURCE,
        issuer=server.issuer,
        options={"require": ["exp", "iat", "sub", "aud", "iss"]},
    )


def test_a_token_is_a_jwt_for_the_resource_with_the_admins_scopes(authorization_server):
    server = authorization_server(RESOURCE)
    token = server.token(ADA)
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"  # RFC 9068
    claims = verified(server, token)
    assert claims["aud"] == RESOURCE
    assert claims["sub"] == ADA.client_id
    assert claims["email"] == ADA.email and claims["name"] == ADA.name
    assert set(claims["scope"].split()) == {READ, WRITE}
    assert 0 < claims["exp"] - claims["iat"] <= 600

    assert verified(server, server.token(BOB))["scope"] == READ
    assert set(verified(server, server.token(ROOT))["scope"].split()) == {READ, WRITE, ADMIN}
    assert verified(server, server.token(ROOT, scope=READ))["scope"] == READ  # narrower on request


def test_the_provider_refuses_other_resources_and_wider_scopes(authorization_server):
    server = authorization_server(RESOURCE)
    other = server.token_response(ADA, resource="http://127.0.0.1:18081/mcp")
    assert other.status_code == 400 and other.json()["error"] == "invalid_target"
    wider = server.token_response(BOB, scope=f"{READ} {WRITE}")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    wrong = server.token_response(Admin(ADA.client_id, ADA.scope, client_secret="not-the-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_a_token_for_another_audience_fails_verification(authorization_server):
    """The check the resource server relies on: `aud` binds the token to one resource."""
    server = authorization_server("http://127.0.0.1:18082/mcp")
    with pytest.raises(jwt.InvalidAudienceError):
        verified(server, server.token(ADA))


@pytest.mark.anyio
async def test_our_server_checks_an_opaque_token_by_introspection_at_the_provider(
    authorization_server, sandbox_api: Api, tmp_path
):
    """RFC 7662 against a real introspection endpoint: the admin's subject and scopes come from its answer."""
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    provider = authorization_server(resource, (*TEAM, INTROSPECTOR), token_format="opaque")
    token = provider.token(BOB)
    assert token.count(".") != 2  # not a JWT: only introspection can say what it is
    env = {
        **sandbox_api.env,
        "LANYING_OAUTH_ISSUER": provider.issuer,
        "LANYING_OAUTH_AUDIENCE": resource,
        "LANYING_OAUTH_INTROSPECTION_URL": provider.discovery["introspection_endpoint"],
        "LANYING_OAUTH_CLIENT_ID": INTROSPECTOR.client_id,
        "LANYING_OAUTH_CLIENT_SECRET": INTROSPECTOR.client_secret,
    }
    log = tmp_path / "server.log"
    with open(log, "w") as err:  # the child keeps its own handle
        proc = subprocess.Popen(
            [sys.executable, "-m", "lanying_mcp", "serve", "--transport", "http", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        wait_port(port, proc, timeout=180)  # a hang guard
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
        async with http, Client(streamable_http_client(resource, http_client=http), mode="legacy") as bob:
            listed = {tool.name for tool in (await bob.list_tools()).tools}
            assert "get_user_profile" in listed and "set_user_nickname" not in listed  # read scope only
            refused = await bob.call_tool("set_user_nickname", {"as_user_id": 1, "nick_name": "x"})
            assert refused.is_error and refused.structured_content is not None
            assert refused.structured_content["error"]["code"] == "insufficient_scope"
        # A token the provider never issued is inactive: 401, and nothing of it is echoed.
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        answer = httpx2.post(resource, json={}, headers={"Authorization": f"Bearer {forged}"}, timeout=30)
        assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["www-authenticate"]
        assert forged not in answer.text
    finally:
        stop(proc)
    text = log.read_text()
    assert token not in text and INTROSPECTOR.client_secret not in text
