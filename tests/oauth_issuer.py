"""A test authorization server in process: RSA and EC signing keys made here, a JWKS, metadata, introspection.

It answers through `httpx2.MockTransport`, so the server's OAuth verifier reads its JWKS the way it
reads a real issuer's (over httpx2), without a port. `down` makes every answer a refused connection.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from lanying_mcp.core.settings import Settings

ISSUER = "https://login.test/realms/team"
AUDIENCE = "http://127.0.0.1:8000/mcp"
JWKS_URL = "https://login.test/realms/team/protocol/openid-connect/certs"
INTROSPECT_URL = "https://login.test/realms/team/introspect"
READ, WRITE, ADMIN = "lanying:read", "lanying:write", "lanying:admin"


class Issuer:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # not in the JWKS
        self.down = False
        self.jwks_reads = 0
        self.introspections = 0
        self.opaque: dict[str, dict[str, Any]] = {}  # opaque token -> introspection answer

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        return {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
            ]
        }

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        if self.down:
            raise httpx2.ConnectError("connection refused", request=request)
        url = str(request.url)
        if url == ISSUER + "/.well-known/openid-configuration":
            return httpx2.Response(200, json={"issuer": ISSUER, "jwks_uri": JWKS_URL})
        if url == JWKS_URL:
            self.jwks_reads += 1
            return httpx2.Response(200, json=self.jwks())
        if url == INTROSPECT_URL and request.method == "POST":
            self.introspections += 1
            if (
                request.headers.get("authorization", "")
                != "Basic " + base64.b64encode(b"mcp-server:s3cret-intro").decode()
            ):
                return httpx2.Response(401, json={"error": "invalid_client"})
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            return httpx2.Response(200, json=self.opaque.get(form.get("token", ""), {"active": False}))
        return httpx2.Response(404)

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handler))

    def token(
        self,
        scopes: str = READ,
        *,
        key: str = "rsa",
        alg: str | None = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-alice",
            "email": "alice@example.com",
            "name": "Alice Admin",
            "iat": now,
            "exp": now + 600,
            "scope": scopes,
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        signer = {"rsa": self.rsa, "ec": self.ec, "stranger": self.stranger}[key]
        alg = alg or ("ES256" if key == "ec" else "RS256")
        kid = kid or ("ec-1" if key == "ec" else "rsa-1")
        return jwt.encode(body, signer, algorithm=alg, headers={"kid": kid})


def oauth_settings(**changes: Any) -> Settings:
    base: dict[str, Any] = {
        "endpoint": "http://api.test",
        "app_id": "app",
        "access_token": "oauth-test-access-token-0123456789",
        "oauth_issuer": ISSUER,
        "oauth_audience": AUDIENCE,
    }
    return Settings(**{**base, **changes})
