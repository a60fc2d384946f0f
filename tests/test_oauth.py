"""OAuth 2.1 resource server: metadata, challenges, JWT and introspection checks, failing closed, the principal."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import httpx2
import jwt
import pytest

from lanying_mcp.cli import auth_mode, build_http_app
from lanying_mcp.core.errors import SettingsError
from lanying_mcp.core.identity import PRINCIPAL_KEY, Principal, caller_identity
from lanying_mcp.serving.oauth import OAuthGuard, Verifier
from lanying_mcp.serving.server import build_server
from tests.oauth_issuer import ADMIN, AUDIENCE, INTROSPECT_URL, ISSUER, READ, WRITE, Issuer, oauth_settings
from tests.procs import free_port, stop, wait_port

METADATA = "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"


class Seen:
    """An ASGI app standing for the MCP endpoint: it records the principal of each request that reaches it."""

    def __init__(self) -> None:
        self.principals: list[Any] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.principals.append(scope.get(PRINCIPAL_KEY))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"reached"})


@contextlib.asynccontextmanager
async def guarded(issuer: Issuer, **changes: Any):
    conf = oauth_settings(**changes)
    seen = Seen()
    guard = OAuthGuard(seen, conf, Verifier(conf, issuer.client()))
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=guard), base_url="http://127.0.0.1:8000", timeout=60
    ) as client:
        yield client, seen, guard


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge(response: httpx2.Response) -> str:
    return response.headers.get("www-authenticate", "")


@pytest.mark.anyio
async def test_a_valid_token_reaches_the_endpoint_with_its_principal():
    issuer = Issuer()
    async with guarded(issuer) as (client, seen, _):
        for key in ("rsa", "ec"):
            answer = await client.post("/mcp", headers=bearer(issuer.token(f"{READ} {WRITE}", key=key)))
            assert answer.status_code == 200 and answer.text == "reached"
    assert seen.principals[0] == Principal(
        subject="user-alice",
        email="alice@example.com",
        name="Alice Admin",
        scopes=frozenset({READ, WRITE}),
    )
    assert caller_identity({"authorization": "Bearer x"}, seen.principals[0]) == "oauth:user-alice"
    assert issuer.jwks_reads == 1  # the keys are kept: the second token did not read them again


@pytest.mark.anyio
async def test_the_metadata_document_names_this_resource_its_issuer_and_the_scopes():
    issuer = Issuer()
    async with guarded(issuer) as (client, seen, _):
        answer = await client.get("/.well-known/oauth-protected-resource/mcp")
        root = await client.get("/.well-known/oauth-protected-resource")
    assert answer.status_code == 200 and root.status_code == 200
    document = answer.json()
    assert document["resource"] == AUDIENCE
    assert document["authorization_servers"] == [ISSUER]
    assert document["scopes_supported"] == [READ, WRITE, ADMIN]
    assert document["bearer_methods_supported"] == ["header"]
    assert answer.headers["access-control-allow-origin"] == "*"
    assert seen.principals == []  # served without a token, and never by the MCP endpoint


@pytest.mark.anyio
async def test_no_token_gets_401_pointing_at_the_metadata():
    issuer = Issuer()
    async with guarded(issuer) as (client, seen, _):
        answer = await client.post("/mcp", json={})
        basic = await client.post("/mcp", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    for response in (answer, basic):
        assert response.status_code == 401
        assert challenge(response) == f'Bearer resource_metadata="{METADATA}"'
        assert response.json()["resource_metadata"] == METADATA
    assert seen.principals == []


async def refused(issuer: Issuer, token: str, **changes: Any) -> httpx2.Response:
    async with guarded(issuer, **changes) as (client, seen, _):
        answer = await client.post("/mcp", headers=bearer(token))
    assert seen.principals == [], "a refused token must not reach the endpoint"
    assert "Traceback" not in answer.text
    return answer


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"aud": "https://other.example/mcp"}, "not issued for this server"),
        ({"iss": "https://evil.example"}, "not issued by https://login.test/realms/team"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"sub": None}, "no `sub` claim"),
        ({"exp": None}, "no `exp` claim"),
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "nbf-in-future", "no-subject", "no-expiry"],
)
async def test_a_bad_token_gets_401_invalid_token_saying_why(claims: dict[str, Any], says: str):
    issuer = Issuer()
    answer = await refused(issuer, issuer.token(READ, **claims))
    assert answer.status_code == 401
    assert says in answer.json()["error_description"]
    assert answer.json()["error"] == "invalid_token"
    assert challenge(answer).startswith(f'Bearer resource_metadata="{METADATA}", error="invalid_token"')


@pytest.mark.anyio
async def test_a_token_signed_by_a_key_the_jwks_does_not_hold_is_refused():
    issuer = Issuer()
    forged = await refused(issuer, issuer.token(READ, key="stranger"))  # claims the JWKS's key id
    assert forged.status_code == 401 and "signature does not verify" in forged.json()["error_description"]
    unknown = await refused(issuer, issuer.token(READ, key="stranger", kid="rotated-away"))
    assert unknown.status_code == 401 and "does not hold" in unknown.json()["error_description"]


@pytest.mark.anyio
async def test_alg_none_and_algorithms_off_the_allow_list_are_refused():
    issuer = Issuer()
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "exp": int(time.time()) + 600, "scope": READ}
    unsigned = jwt.encode(claims, None, algorithm="none")  # pyright: ignore[reportArgumentType]
    answer = await refused(issuer, unsigned)
    assert answer.status_code == 401 and "'none' is not accepted" in answer.json()["error_description"]
    # The classic confusion: the issuer's public key used as an HMAC secret.
    # PyJWT will not sign with a public key as a secret, so the forger's token is put together by hand.
    public = json.dumps(issuer.jwks()["keys"][0]).encode()
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = _b64(hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest())
    hmac_token = f"{head}.{body}.{mac}"
    answer = await refused(issuer, hmac_token)
    assert answer.status_code == 401 and "'HS256' is not accepted" in answer.json()["error_description"]
    # An algorithm the operator did not allow, though the key would verify it.
    answer = await refused(issuer, issuer.token(READ, key="ec"), oauth_algorithms=("RS256",))
    assert answer.status_code == 401 and "'ES256' is not accepted" in answer.json()["error_description"]


@pytest.mark.anyio
async def test_an_unreachable_jwks_fails_closed_with_503():
    issuer = Issuer()
    issuer.down = True
    answer = await refused(issuer, issuer.token(READ))
    assert answer.status_code == 503
    assert answer.json()["error"] == "temporarily_unavailable"
    assert "could not be read" in answer.json()["error_description"]
    assert answer.headers["retry-after"] == "30"


@pytest.mark.anyio
async def test_keys_are_read_again_after_the_cache_time_and_an_outage_then_fails_closed():
    issuer = Issuer()
    async with guarded(issuer, oauth_jwks_cache_seconds=60) as (client, seen, guard):
        now = [1000.0]
        guard.verifier.keys.clock = lambda: now[0]
        assert (await client.post("/mcp", headers=bearer(issuer.token()))).status_code == 200
        now[0] += 59
        assert (await client.post("/mcp", headers=bearer(issuer.token()))).status_code == 200
        assert issuer.jwks_reads == 1
        now[0] += 2
        issuer.down = True  # the cache expired and the issuer is gone: no stale keys are trusted
        assert (await client.post("/mcp", headers=bearer(issuer.token()))).status_code == 503
        issuer.down = False
        assert (await client.post("/mcp", headers=bearer(issuer.token()))).status_code == 200
    assert len(seen.principals) == 3


@pytest.mark.anyio
async def test_a_token_without_the_read_scope_gets_403_insufficient_scope():
    issuer = Issuer()
    answer = await refused(issuer, issuer.token("openid profile"))
    assert answer.status_code == 403
    assert answer.json()["error"] == "insufficient_scope"
    assert challenge(answer) == (
        f'Bearer resource_metadata="{METADATA}", error="insufficient_scope", '
        f'error_description="the token lacks the scope {READ}", scope="{READ}"'
    )
    # Configured names are the ones asked for.
    renamed = await refused(issuer, issuer.token(READ), oauth_read_scope="im.read")
    assert renamed.status_code == 403 and 'scope="im.read"' in challenge(renamed)


@pytest.mark.anyio
async def test_opaque_tokens_are_checked_by_introspection():
    issuer = Issuer()
    issuer.opaque["opaque-active"] = {
        "active": True,
        "sub": "user-bob",
        "scope": f"{READ} {WRITE}",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "exp": int(time.time()) + 600,
        "username": "bob",
    }
    issuer.opaque["opaque-other-aud"] = {**issuer.opaque["opaque-active"], "aud": "https://other.example"}
    intro = {
        "oauth_introspection_url": INTROSPECT_URL,
        "oauth_client_id": "mcp-server",
        "oauth_client_secret": "s3cret-intro",
    }
    async with guarded(issuer, **intro) as (client, seen, _):
        active = await client.post("/mcp", headers=bearer("opaque-active"))
        inactive = await client.post("/mcp", headers=bearer("opaque-revoked"))
        other = await client.post("/mcp", headers=bearer("opaque-other-aud"))
    assert active.status_code == 200
    assert seen.principals == [Principal(subject="user-bob", scopes=frozenset({READ, WRITE}))]
    assert inactive.status_code == 401 and "not active" in inactive.json()["error_description"]
    assert other.status_code == 401 and "not issued for this server" in other.json()["error_description"]
    assert issuer.introspections == 3
    # Without an introspection endpoint an opaque token is refused, with the reason.
    plain = await refused(issuer, "opaque-active")
    assert plain.status_code == 401 and "no introspection endpoint" in plain.json()["error_description"]


@pytest.mark.anyio
async def test_a_claim_or_a_scope_selects_a_profile():
    issuer = Issuer()
    rules = ("groups=support:support-app", "scope=lanying:prod:prod")
    async with guarded(issuer, oauth_profiles=rules) as (client, seen, _):
        await client.post("/mcp", headers=bearer(issuer.token(READ, groups=["staff", "support"])))
        await client.post("/mcp", headers=bearer(issuer.token(f"{READ} lanying:prod")))
        await client.post("/mcp", headers=bearer(issuer.token(READ)))
    assert [p.profile for p in seen.principals] == ["support-app", "prod", None]


def test_one_auth_mode_per_server_and_it_is_said():
    with pytest.raises(SettingsError, match="one mode"):
        oauth_settings(auth_token="static-bearer-token-123").validate()
    with pytest.raises(SettingsError, match="OAUTH_AUDIENCE must be an http"):
        oauth_settings(oauth_audience="").validate()
    with pytest.raises(SettingsError, match="never 'none'"):
        oauth_settings(oauth_algorithms=("RS256", "none")).validate()
    with pytest.raises(SettingsError, match="CLIENT_ID and"):
        oauth_settings(oauth_introspection_url=INTROSPECT_URL).validate()
    with pytest.raises(SettingsError, match="CLAIM=VALUE:PROFILE"):
        oauth_settings(oauth_profiles=("groups",)).validate()
    assert auth_mode(oauth_settings()).startswith(f"OAuth (issuer {ISSUER}, resource {AUDIENCE}")
    assert auth_mode(oauth_settings(oauth_issuer="", auth_token="static-bearer-token-123")).startswith("static")


@pytest.mark.anyio
async def test_the_http_app_runs_the_oauth_guard_in_front_of_mcp_and_health():
    """build_http_app: OAuth replaces the static bearer; /healthz needs a token too, metadata does not."""
    issuer = Issuer()
    conf = oauth_settings()
    server = build_server(conf, transport=httpx2.MockTransport(lambda r: httpx2.Response(404)))
    app = build_http_app(server, conf, "http", "127.0.0.1", 8000, stateless=True, json_response=True)
    assert isinstance(app, OAuthGuard)
    app.verifier = Verifier(conf, issuer.client())
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as client:
        assert (await client.get("/healthz")).status_code == 401
        assert (await client.get("/healthz", headers=bearer(issuer.token()))).json() == {"status": "alive"}
        assert (await client.get("/.well-known/oauth-protected-resource/mcp")).status_code == 200
    await server.state.close()


class _IssuerHandler(http.server.BaseHTTPRequestHandler):
    issuer: Issuer
    base: str

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/.well-known/openid-configuration":
            body = {"issuer": self.base, "jwks_uri": self.base + "/jwks"}
        elif self.path == "/jwks":
            body = self.issuer.jwks()
        else:
            self.send_error(404)
            return
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def test_a_served_process_says_its_mode_and_checks_tokens_against_a_jwks_on_loopback(tmp_path: Any):
    """The real thing: `lanying-mcp serve` over HTTP, its issuer's metadata and JWKS read over loopback."""
    issuer = Issuer()
    keys = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _IssuerHandler)
    base = f"http://127.0.0.1:{keys.server_address[1]}"
    _IssuerHandler.issuer, _IssuerHandler.base = issuer, base
    threading.Thread(target=keys.serve_forever, daemon=True).start()
    port = free_port()
    audience = f"http://127.0.0.1:{port}/mcp"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANYING_")}
    env |= {"LANYING_OAUTH_ISSUER": base, "LANYING_OAUTH_AUDIENCE": audience, "LANYING_STATE_FILE": ":memory:"}
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 - read after the process ends
    args = ["serve", "--sandbox", "--transport", "http", "--stateless", "--json-response", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanying_mcp", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc, timeout=60)
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            metadata = client.get("/.well-known/oauth-protected-resource/mcp").json()
            bare = client.post("/mcp", json={})
            init = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
            headers = {"accept": "application/json, text/event-stream"}
            token = issuer.token(READ, iss=base, aud=audience)
            ok = client.post("/mcp", json=init, headers={**headers, "authorization": f"Bearer {token}"})
            other = issuer.token(READ, iss=base, aud="http://elsewhere.example/mcp")
            wrong = client.post("/mcp", json=init, headers={**headers, "authorization": f"Bearer {other}"})
    finally:
        stop(proc)
        keys.shutdown()
        keys.server_close()
        log.seek(0)
        said = log.read()
        log.close()
    assert f"HTTP auth: OAuth (issuer {base}, resource {audience}" in said
    assert metadata["resource"] == audience and metadata["authorization_servers"] == [base]
    assert bare.status_code == 401
    expected = f'Bearer resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"'
    assert bare.headers["www-authenticate"] == expected
    assert ok.status_code == 200 and ok.json()["result"]["serverInfo"]["name"] == "lanying-mcp"
    assert wrong.status_code == 401 and "not issued for this server" in wrong.json()["error_description"]
    assert token not in said and other not in said  # tokens never reach the log
    assert "Traceback" not in said
