"""A hostile tenant: two apps behind one multi-tenant HTTP server, and nothing of one reaches the other.

Two sandbox apps (two processes, two endpoints, two admin tokens) sit behind our server started the
way the README's multi-tenant set-up says: `--transport http --request-credentials`, no app of its
own, the audit log on and served over HTTP. Two server processes share one state file and one audit
log: one stateless, one stateful. Tenant A writes (a user, a group, a bulk registration with its
result link) in both protocol eras. Then tenant B (its own valid credentials), B forging A's app ID
and endpoint, and a caller with no credentials at all try every way back to A's data: the audit
resource, A's result links, A's group and user IDs, and the error texts they get. Every text they
receive is searched for A's names, IDs, link IDs and token.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from tests.helpers import say_yes
from tests.procs import free_port, server_env, start_sandbox, stop, wait_port

TOKEN_A = "tenant-a-token-5b7e1c"
TOKEN_B = "tenant-b-token-9d2f4a"


@pytest.fixture(scope="module")
def tenants(tmp_path_factory):
    """Two sandbox apps and two multi-tenant servers (stateless, stateful) sharing state and audit files."""
    tmp = tmp_path_factory.mktemp("tenants")
    procs: list[subprocess.Popen[Any]] = []
    logs = []
    try:
        for name, token in (("a", TOKEN_A), ("b", TOKEN_B)):
            logs.append(open(tmp / f"sandbox-{name}.log", "w"))
            proc, url = start_sandbox(token, logs[-1])
            procs.append(proc)
            if name == "a":
                api_a = url
            else:
                api_b = url
        env = server_env(api_a, "", LANYING_REQUEST_CREDENTIALS="true")
        env = {k: v for k, v in env.items() if k not in ("LANYING_APP_ID", "LANYING_ACCESS_TOKEN")}
        env.update(
            LANYING_ALLOWED_ENDPOINTS=f"{api_a},{api_b}",
            LANYING_AUDIT_LOG=str(tmp / "audit.jsonl"),
            LANYING_AUDIT_OVER_HTTP="true",
            LANYING_STATE_FILE=str(tmp / "state.sqlite3"),
        )
        urls = {}
        for kind, extra in (("stateless", ["--stateless"]), ("stateful", [])):
            port = free_port()
            with open(tmp / f"server-{kind}.log", "w") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "lanying_mcp", "--transport", "http", "--port", str(port), *extra],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            procs.append(proc)
            wait_port(port, proc)
            urls[kind] = f"http://127.0.0.1:{port}/mcp"
        yield {
            "urls": urls,
            "a": {"X-Lanying-App-Id": "sandbox", "X-Lanying-Access-Token": TOKEN_A, "X-Lanying-Endpoint": api_a},
            "b": {"X-Lanying-App-Id": "sandbox", "X-Lanying-Access-Token": TOKEN_B, "X-Lanying-Endpoint": api_b},
            "audit": tmp / "audit.jsonl",
        }
    finally:
        for proc in reversed(procs):
            stop(proc)
        for log in logs:
            log.close()


class Session:
    """One MCP client session; every text it receives is kept, to search for what must not be there."""

    def __init__(self, url: str, headers: dict[str, str] | None, mode: str) -> None:
        self.url, self.headers, self.mode = url, headers, mode
        self.seen: list[str] = []

    async def __aenter__(self) -> Session:
        self.http = httpx2.AsyncClient(headers=self.headers or {}, timeout=60)
        self.cm = Client(
            streamable_http_client(self.url, http_client=self.http), mode=self.mode, elicitation_callback=say_yes
        )
        self.client = await self.cm.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.cm.__aexit__(*exc)
        await self.http.aclose()

    async def call(self, tool: str, args: dict[str, Any]) -> Any:
        result = await self.client.call_tool(tool, args)
        self.seen.extend(c.text for c in result.content if c.type == "text")
        self.seen.append(json.dumps(result.structured_content, ensure_ascii=False))
        return result

    async def ok(self, tool: str, args: dict[str, Any]) -> Any:
        result = await self.call(tool, args)
        assert not result.is_error, f"{tool} failed: {result.content[0].text}"
        return result

    async def read(self, uri: str) -> str | None:
        """The resource's text, or None when refused (the refusal's text is kept)."""
        try:
            got = await self.client.read_resource(uri)
        except MCPError as exc:
            self.seen.append(exc.error.message + json.dumps(exc.error.data))
            return None
        text = got.contents[0].text
        self.seen.append(text)
        return text


@pytest.mark.anyio
async def test_nothing_of_tenant_a_is_readable_with_b_or_without_credentials(tenants):
    urls, a_headers, b_headers = tenants["urls"], tenants["a"], tenants["b"]
    secrets_of_a: list[str] = [TOKEN_A]
    links_of_a: list[str] = []
    ids_of_a: dict[str, int] = {}

    # --- tenant A works, in both eras and on both servers ---
    for mode in ("legacy", "auto"):
        for kind, url in urls.items():
            tag = f"{mode[0]}_{kind}"
            async with Session(url, a_headers, mode) as a:
                user = await a.ok("register_user", {"username": f"alice_secret_{tag}", "password": "pw"})
                uid = user.structured_content["data"]["user_id"]
                group = await a.ok("create_group", {"as_user_id": uid, "name": f"A-private-group-{tag}"})
                gid = group.structured_content["data"]["group_id"]
                users = [{"username": f"a_bulk_{tag}_{i}", "password": "pw"} for i in range(150)]
                bulk = await a.ok("register_users", {"users": users})
                link = next(c.uri for c in bulk.content if c.type == "resource_link")
                assert await a.read(str(link)) is not None  # A reads its own link
                ids_of_a[f"user-{tag}"], ids_of_a[f"group-{tag}"] = uid, gid
                secrets_of_a += [f"alice_secret_{tag}", f"A-private-group-{tag}", f"a_bulk_{tag}_"]
                links_of_a.append(str(link))
                audit = await a.read("lanying://audit-log")
                assert audit is not None and f"alice_secret_{tag}" in audit

    # A, from a new session on the other server process, still reads every link it made.
    async with Session(urls["stateful"], a_headers, "legacy") as again:
        for link in links_of_a:
            text = await again.read(link)
            assert text is not None and "a_bulk_" in text

    # --- B (valid credentials of another app), B forging A's app, and no credentials at all ---
    forged = {**a_headers, "X-Lanying-Access-Token": TOKEN_B}
    callers = {"tenant B": b_headers, "B with A's app ID and endpoint": forged, "no credentials": None}
    for who, headers in callers.items():
        for mode in ("legacy", "auto"):
            for url in urls.values():
                async with Session(url, headers, mode) as other:
                    if who == "tenant B":
                        await other.ok(
                            "register_user",
                            {"username": f"bob_{mode}_{url.split(':')[2].split('/')[0]}", "password": "pw"},
                        )
                    audit = await other.read("lanying://audit-log")
                    if who == "tenant B":
                        assert audit is not None and "bob_" in audit  # B's own entries, and only those
                    for link in links_of_a:
                        assert await other.read(link) is None, f"{who} read A's result link"
                    for key, value in ids_of_a.items():
                        tool, arg = (
                            ("get_group_info", "group_id")
                            if key.startswith("group")
                            else ("get_user_profile", "user_id")
                        )
                        result = await other.call(tool, {arg: value})
                        assert result.is_error or who == "tenant B", f"{who} reached A's {key}"
                    await other.call("list_users", {})
                    received = "\n".join(other.seen)
                    # (A's link IDs are echoed in the refusals of B's own reads: B sent them, so they are not checked.)
                    for secret in secrets_of_a:
                        assert secret not in received, f"{who} ({mode}) received {secret!r}"

    # The operator can tell the tenants apart in the file: every entry names its app and caller.
    lines = [json.loads(line) for line in tenants["audit"].read_text().splitlines() if line.strip()]
    assert lines and all(e["app"]["endpoint"] and e["caller"].startswith("http:") for e in lines)
    assert TOKEN_A not in tenants["audit"].read_text() and TOKEN_B not in tenants["audit"].read_text()
    assert {e["app"]["endpoint"] for e in lines} == {a_headers["X-Lanying-Endpoint"], b_headers["X-Lanying-Endpoint"]}
