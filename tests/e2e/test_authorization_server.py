"""The test authorization server issues what a real one would: JWT access tokens for our resource.

The team test trusts these tokens to stand for admins; here they are checked on their own, with PyJWT
against the provider's published JWKS, so a change in the provider's configuration shows up here first.
"""

from __future__ import annotations

import httpx2
import jwt
import pytest

from tests.e2e.oidc_server import ADA, ADMIN, BOB, READ, ROOT, WRITE, Admin

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
