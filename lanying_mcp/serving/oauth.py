"""OAuth 2.1 resource server for the HTTP transports, per the MCP authorization spec.

A team that shares one server signs each admin in with its own identity provider; this server only
checks the access tokens (it issues none). It:
- serves its protected-resource metadata (RFC 9728) at the path-inserted location the spec and the
  SDK's clients use, `/.well-known/oauth-protected-resource/mcp` (`…/sse` for the SSE transport);
- answers a request without a token with 401 and `WWW-Authenticate: Bearer resource_metadata="…"`,
  a bad token with 401 `invalid_token`, and a token without the required (read) scope with 403
  `insufficient_scope`, each with a JSON body saying why, never a traceback;
- validates JWT access tokens with PyJWT against the issuer's JWKS (fetched with httpx2, kept
  `oauth_jwks_cache_seconds`, read again at once for a key id it does not hold): the signature with an
  algorithm from the allow-list (never `none`), `iss`, `aud` equal to this resource, `exp`, `nbf`;
- validates opaque tokens by introspection (RFC 7662) when an introspection endpoint is configured;
- fails closed: when the JWKS or the introspection endpoint cannot be reached, the request gets 503
  and nothing reaches the MCP endpoint.

A valid token becomes an `identity.Principal` (subject, email, name, scopes, profile) in the ASGI
scope under `identity.PRINCIPAL_KEY`, read by the tools (scopes, audit, journal) and the rate limits.
The guard is plain ASGI, like the static-bearer guard it replaces, so it wraps the SSE and the
streamable HTTP apps alike and guards the health routes with the same token. The SDK's own
resource-server wiring (`AuthSettings` + `token_verifier`) was weighed and not used: its middleware
answers every failed check with the same bare 401 (the client cannot tell an expired token from one
for another server), has no fail-closed answer for an issuer that cannot be reached, and leaves the
custom routes (/healthz, /readyz) unguarded. What fits is taken from the SDK: its RFC 9728 model
checks the metadata document (`sdk.protected_resource_metadata`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import urlparse

import anyio
import httpx2
import jwt

from ..core.identity import PRINCIPAL_KEY, Principal
from ..core.settings import Settings
from ..safety.scopes import ScopeNames

log = logging.getLogger("lanying_mcp")

WELL_KNOWN = "/.well-known/oauth-protected-resource"
FETCH_SECONDS = 10.0  # one read of the JWKS, the issuer's metadata, or an introspection
REFETCH_SECONDS = 30.0  # an unknown key id reads the JWKS again at most this often


class TokenRejected(Exception):
    """The token is not valid for this server; the message says why (it never quotes the token)."""


class Unavailable(Exception):
    """The issuer's keys or introspection endpoint cannot be reached: the request fails closed."""


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from `scope` (a space-separated string, RFC 9068) or `scp` (a string or list, Entra ID, Okta)."""
    found: set[str] = set()
    for key in ("scope", "scp"):
        value = claims.get(key)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(str(v) for v in cast(list[Any], value))
    return frozenset(found)


def _text(claims: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def profile_rules(entries: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """`CLAIM=VALUE:PROFILE` entries as (claim, value, profile); settings.py checked their shape."""
    rules: list[tuple[str, str, str]] = []
    for entry in entries:
        claim, _, rest = entry.partition("=")
        value, _, profile = rest.rpartition(":")
        rules.append((claim.strip(), value.strip(), profile.strip()))
    return rules


def principal_of(claims: Mapping[str, Any], rules: list[tuple[str, str, str]]) -> Principal:
    """The Principal of validated claims; the first profile rule whose claim holds its value selects the profile."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenRejected("the token names no subject (`sub`)")
    scopes = _scopes(claims)
    profile = None
    for claim, value, name in rules:
        held = claims.get(claim)
        values: set[str]
        if claim in ("scope", "scp"):
            values = set(scopes)
        elif isinstance(held, list):
            values = {str(v) for v in cast(list[Any], held)}
        else:
            values = {str(held)} if held is not None else set()
        if value in values:
            profile = name
            break
    return Principal(
        subject=subject,
        email=_text(claims, "email", "upn"),
        name=_text(claims, "name", "preferred_username"),
        scopes=scopes,
        profile=profile,
    )


class Keys:
    """The issuer's JWKS, read over HTTP and kept for `ttl` seconds; an unknown key id reads it again."""

    def __init__(self, client: httpx2.AsyncClient, jwks_url: str, issuer: str, ttl: float) -> None:
        self.client = client
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.ttl = ttl
        self.clock: Callable[[], float] = time.monotonic
        self._keys: dict[str, jwt.PyJWK] = {}
        self._single: list[jwt.PyJWK] = []  # keys without a `kid`
        self._read_at: float | None = None
        self._lock = anyio.Lock()

    async def _url(self) -> str:
        """The JWKS URL: configured, or `jwks_uri` from the issuer's metadata (OIDC, then RFC 8414)."""
        if self.jwks_url:
            return self.jwks_url
        base = self.issuer.rstrip("/")
        parts = urlparse(base)
        candidates = [
            base + "/.well-known/openid-configuration",
            f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{parts.path}",
        ]
        for url in candidates:
            try:
                answer = await self.client.get(url, timeout=FETCH_SECONDS)
            except httpx2.HTTPError as exc:
                raise Unavailable(f"the issuer's metadata could not be read ({type(exc).__name__})") from None
            if answer.status_code == 200:
                try:
                    found = answer.json().get("jwks_uri")
                except (ValueError, AttributeError):
                    found = None
                if isinstance(found, str) and found:
                    self.jwks_url = found
                    return found
        raise Unavailable("the issuer's metadata names no jwks_uri; set LANYING_OAUTH_JWKS_URL")

    async def _read(self) -> None:
        url = await self._url()
        try:
            answer = await self.client.get(url, timeout=FETCH_SECONDS)
            answer.raise_for_status()
            keyset = jwt.PyJWKSet.from_dict(answer.json())
        except httpx2.HTTPError as exc:
            raise Unavailable(f"the issuer's signing keys (JWKS) could not be read ({type(exc).__name__})") from None
        except (ValueError, jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
            raise Unavailable(f"the issuer's JWKS could not be used ({type(exc).__name__})") from None
        self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
        self._single = [k for k in keyset.keys if not k.key_id]
        self._read_at = self.clock()

    async def key(self, kid: str | None) -> jwt.PyJWK:
        async with self._lock:
            now = self.clock()
            stale = self._read_at is None or now - self._read_at >= self.ttl
            if stale:
                await self._read()
            found = self._find(kid)
            if found is None and not stale and self._read_at is not None and now - self._read_at >= REFETCH_SECONDS:
                await self._read()  # the issuer may have rotated its keys since
                found = self._find(kid)
        if found is None:
            raise TokenRejected("the token is signed with a key the issuer's JWKS does not hold")
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is not None:
            return self._keys.get(kid)
        return self._single[0] if len(self._single) == 1 else None


class Verifier:
    """Access token → Principal, or TokenRejected / Unavailable. JWTs by signature, others by introspection."""

    def __init__(self, settings: Settings, client: httpx2.AsyncClient | None = None) -> None:
        self.settings = settings
        self.client = client or httpx2.AsyncClient(follow_redirects=False)
        self.issuer = settings.oauth_issuer
        self.audience = settings.oauth_audience
        self.algorithms = [a for a in settings.oauth_algorithms if a.lower() != "none"]
        self.keys = Keys(self.client, settings.oauth_jwks_url, self.issuer, settings.oauth_jwks_cache_seconds)
        self.rules = profile_rules(settings.oauth_profiles)
        self.leeway = 30  # seconds of clock skew allowed on exp and nbf

    async def verify(self, token: str) -> Principal:
        if token.count(".") == 2:
            return principal_of(await self._jwt(token), self.rules)
        if self.settings.oauth_introspection_url:
            return principal_of(await self._introspect(token), self.rules)
        raise TokenRejected("the token is not a JWT, and this server has no introspection endpoint for opaque tokens")

    async def _jwt(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise TokenRejected("the token is not a well-formed JWT") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise TokenRejected(
                f"the token's signature algorithm {str(alg)[:20]!r} is not accepted (allowed: {', '.join(self.algorithms)})"
            )
        kid = header.get("kid")
        key = await self.keys.key(kid if isinstance(kid, str) else None)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("the token has expired; sign in again") from None
        except jwt.ImmatureSignatureError:
            raise TokenRejected("the token is not valid yet (`nbf` is in the future)") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected(
                f"the token was not issued for this server (its `aud` is not {self.audience})"
            ) from None
        except jwt.InvalidIssuerError:
            raise TokenRejected(f"the token was not issued by {self.issuer}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"the token has no `{exc.claim}` claim") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("the token's signature does not verify with the issuer's key") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"the token is not valid ({type(exc).__name__})") from None
        return claims

    async def _introspect(self, token: str) -> dict[str, Any]:
        s = self.settings
        try:
            answer = await self.client.post(
                s.oauth_introspection_url,
                data={"token": token, "token_type_hint": "access_token"},
                auth=(s.oauth_client_id, s.oauth_client_secret.get_secret_value()),
                timeout=FETCH_SECONDS,
            )
            answer.raise_for_status()
            claims = answer.json()
        except httpx2.HTTPError as exc:
            raise Unavailable(f"the introspection endpoint could not be reached ({type(exc).__name__})") from None
        except ValueError:
            raise Unavailable("the introspection endpoint answered with something other than JSON") from None
        if not isinstance(claims, dict) or cast(dict[str, Any], claims).get("active") is not True:
            raise TokenRejected("the token is not active (the issuer's introspection says so)")
        claims = cast(dict[str, Any], claims)
        now = time.time()
        if isinstance(exp := claims.get("exp"), int | float) and exp + self.leeway < now:
            raise TokenRejected("the token has expired; sign in again")
        if isinstance(nbf := claims.get("nbf"), int | float) and nbf - self.leeway > now:
            raise TokenRejected("the token is not valid yet (`nbf` is in the future)")
        if (iss := claims.get("iss")) is not None and iss != self.issuer:
            raise TokenRejected(f"the token was not issued by {self.issuer}")
        aud = claims.get("aud")
        auds = cast(list[Any], aud) if isinstance(aud, list) else [aud]
        if aud is not None and self.audience not in auds:
            raise TokenRejected(f"the token was not issued for this server (its `aud` is not {self.audience})")
        return claims


def metadata_path(audience: str) -> str:
    """The path-inserted RFC 9728 location for this resource: `/.well-known/oauth-protected-resource/mcp`."""
    return WELL_KNOWN + urlparse(audience).path.rstrip("/")


def metadata_url(audience: str) -> str:
    parts = urlparse(audience)
    return f"{parts.scheme}://{parts.netloc}{metadata_path(audience)}"


def metadata(settings: Settings) -> dict[str, Any]:
    """The protected-resource metadata document (RFC 9728) of this server."""
    from .sdk import protected_resource_metadata

    names = scope_names(settings)
    return protected_resource_metadata(
        settings.oauth_audience, settings.oauth_issuer, names.all(), "Lanying IM (lanying-mcp)"
    )


def scope_names(settings: Settings) -> ScopeNames:
    return ScopeNames(settings.oauth_read_scope, settings.oauth_write_scope, settings.oauth_admin_scope)


def required_scopes(settings: Settings) -> tuple[str, ...]:
    return settings.oauth_required_scopes or (settings.oauth_read_scope,)


class OAuthGuard:
    """ASGI guard: metadata at its well-known path; everything else needs a valid token with the required scopes."""

    def __init__(
        self, app: Any, settings: Settings, verifier: Verifier | None = None, open_prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        # Paths that pass without a token (the approval page): a browser holds none, and the page checks its
        # own proof, a one-time secret that no token replaces.
        self.open_prefixes = open_prefixes
        self.settings = settings
        self.verifier = verifier or Verifier(settings)
        self.required = required_scopes(settings)
        self.metadata_url = metadata_url(settings.oauth_audience)
        self.document = json.dumps(metadata(settings)).encode()
        # Served at the audience's own path and, for the other transport, at /mcp and /sse too.
        self.paths = {metadata_path(settings.oauth_audience), WELL_KNOWN + "/mcp", WELL_KNOWN + "/sse", WELL_KNOWN}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path in self.paths:
            await self._metadata(scope, send)
            return
        if self.open_prefixes and path.startswith(self.open_prefixes):
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None:
            await self._challenge(send, 401, None, "send Authorization: Bearer <an access token from the issuer>")
            return
        try:
            principal = await self.verifier.verify(token)
        except TokenRejected as exc:
            log.info("oauth: token refused: %s", exc)
            await self._challenge(send, 401, "invalid_token", str(exc))
            return
        except Unavailable as exc:
            log.warning("oauth: failing closed: %s", exc)
            await self._unavailable(send, str(exc))
            return
        missing = [s for s in self.required if s not in principal.scopes]
        if missing:
            await self._challenge(
                send,
                403,
                "insufficient_scope",
                f"the token lacks the scope {' '.join(missing)}",
                scope=" ".join(missing),
            )
            return
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)

    async def _metadata(self, scope: dict[str, Any], send: Any) -> None:
        if scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
            await _respond(send, 405, b'{"error": "method_not_allowed"}', [(b"allow", b"GET, HEAD, OPTIONS")])
            return
        headers = [
            (b"access-control-allow-origin", b"*"),  # browser-based clients read it across origins
            (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
            (b"cache-control", b"public, max-age=3600"),
        ]
        body = b"" if scope.get("method") == "OPTIONS" else self.document
        await _respond(send, 200 if body else 204, body, headers)

    async def _challenge(
        self, send: Any, status: int, error: str | None, description: str, scope: str | None = None
    ) -> None:
        parts = [f'resource_metadata="{self.metadata_url}"']
        if error is not None:
            parts += [f'error="{error}"', f'error_description="{_quoted(description)}"']
        if scope is not None:
            parts.append(f'scope="{_quoted(scope)}"')
        body = {"error": error or "unauthorized", "error_description": description}
        body["resource_metadata"] = self.metadata_url
        await _respond(
            send, status, json.dumps(body).encode(), [(b"www-authenticate", ("Bearer " + ", ".join(parts)).encode())]
        )

    async def _unavailable(self, send: Any, description: str) -> None:
        body = {
            "error": "temporarily_unavailable",
            "error_description": description + "; no request is served until tokens can be checked again",
        }
        await _respond(send, 503, json.dumps(body).encode(), [(b"retry-after", b"30")])


def _bearer(scope: dict[str, Any]) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            text = bytes(value).decode("latin-1").strip()
            kind, _, token = text.partition(" ")
            token = token.strip()
            return token if kind.lower() == "bearer" and token else None
    return None


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")


async def _respond(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
