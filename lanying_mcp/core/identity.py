"""Who is calling: one short, stable name per caller, shared by everything that keeps state per caller.

Result links, and anything else that must be readable only by the caller that made it, are keyed by
this name. It is built from what the caller proves, never from the server's own credentials alone:

- over stdio (or in-process) the caller is the local user running the server: `local:<user>`;
- over HTTP it is a digest of the `Authorization` header (the bearer token) and the per-request
  Lanying credentials (`X-Lanying-App-Id`, `X-Lanying-Access-Token`, `X-Lanying-Endpoint`):
  `http:<32 hex>`. The digest is one-way, so it can be written to logs and state;
- an HTTP caller that sends neither a bearer nor credentials cannot be told from another such caller:
  all of them are `http:anonymous`;
- behind OAuth (oauth.py) the caller is the human the access token names: `oauth:<sub>`. The
  validated `Principal` travels in the ASGI scope under `PRINCIPAL_KEY`, so every layer reads the
  same one.

The name is stable across connections, sessions, processes and restarts, so a caller's stored state
follows it, and a caller with other credentials never shares it.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

ANONYMOUS = "http:anonymous"
# The request headers that say who an HTTP caller is, in the order they enter the digest.
IDENTITY_HEADERS = ("authorization", "x-lanying-app-id", "x-lanying-access-token", "x-lanying-endpoint")


# Where the OAuth guard puts the validated Principal in the ASGI scope (read by the rate limits too).
PRINCIPAL_KEY = "lanying.principal"


@dataclass(frozen=True)
class Principal:
    """The human behind an OAuth access token: who (the token's `sub`), and what the token allows.

    `email` and `name` are what the token says, when it says them (written into audit and journal
    entries beside the subject); `profile` is the profile a configured claim or scope selects."""

    subject: str
    email: str | None = None
    name: str | None = None
    scopes: frozenset[str] = frozenset()
    profile: str | None = None

    def who(self) -> dict[str, str]:
        """The identity as audit and journal entries record it: the subject, and email and name when known."""
        found = {"subject": self.subject}
        if self.email:
            found["email"] = self.email
        if self.name:
            found["name"] = self.name
        return found


def local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name for this uid (some containers)
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def caller_identity(headers: Mapping[str, str] | None, principal: Principal | None = None) -> str:
    """The caller behind a request: `oauth:<sub>` for a validated token, `local:<user>` without HTTP
    headers, else a digest of what it sent."""
    if principal is not None:
        return "oauth:" + principal.subject
    if headers is None:
        return "local:" + local_user()
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    values = [lower.get(name, "") for name in IDENTITY_HEADERS]
    if not any(values):
        return ANONYMOUS
    digest = hashlib.sha256(b"lanying-mcp caller\0")
    for name, value in zip(IDENTITY_HEADERS, values, strict=True):
        digest.update(f"{name}\0{value}\0".encode())
    return "http:" + digest.hexdigest()[:32]


def app_key(endpoint: str, app_id: str, access_token: str) -> str:
    """A one-way name for one app's credentials: who holds them may read what was done with them."""
    digest = hashlib.sha256(b"lanying-mcp app\0")
    for value in (endpoint.strip().rstrip("/"), app_id.strip(), access_token):
        digest.update(value.encode() + b"\0")
    return digest.hexdigest()[:32]
