"""The audit log per tenant: each entry names its app and caller, each caller reads only its own app's
entries, every declared secret is removed, and reading the resource reads only the end of the file."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import Client, MCPError

from lanying_mcp.core.identity import caller_identity, local_user
from lanying_mcp.core.settings import Settings
from lanying_mcp.core.spec import _models_in, secret_arguments
from lanying_mcp.safety import audit as audit_module
from lanying_mcp.safety.audit import AuditLog, secret_keys
from lanying_mcp.serving.sdk import Answer, Caller
from lanying_mcp.serving.selection import OPERATIONS
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import call, say_yes
from tests.test_apps import profiles_file, two_sandboxes

TOKEN_A = "prod-token-0123456789"  # the two sandbox apps of tests.test_apps
TOKEN_B = "staging-token-0123456789"
A = {"X-Lanying-App-Id": "sandbox", "X-Lanying-Access-Token": TOKEN_A, "X-Lanying-Endpoint": "http://prod.test"}
B = {"X-Lanying-App-Id": "sandbox", "X-Lanying-Access-Token": TOKEN_B, "X-Lanying-Endpoint": "http://staging.test"}


def http(headers: dict[str, str] | None) -> Caller:
    """A caller as the server sees one HTTP request (headers, no elicitation)."""
    return Caller(SimpleNamespace(headers=headers or {"host": "127.0.0.1"}, client_capabilities=None))


def entries(path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tenant_server(tmp_path, **changes: Any):
    prod, staging, router = two_sandboxes()
    settings = Settings(
        endpoint="http://prod.test",
        request_credentials=True,
        allowed_endpoints=("http://prod.test", "http://staging.test"),
        audit_log=str(tmp_path / "audit.jsonl"),
        toolsets=("all",),
        **changes,
    )
    return build_server(settings, transport=router), prod, staging


async def write_as(server, headers: dict[str, str], username: str) -> None:
    outcome = await server.run_op(
        CATALOGUE["register_user"],
        http(headers),
        {"username": username, "password": "pw-" + username},
        Answer.NOT_ASKED,
    )
    assert outcome.ok, outcome.text


# --- what an entry records -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_each_entry_names_its_app_profile_and_the_local_caller(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("STAGING_TOKEN_FOR_TEST", TOKEN_B)
    _, _, router = two_sandboxes()
    log = tmp_path / "audit.jsonl"
    settings = Settings(profiles_file=profiles_file(tmp_path), audit_log=str(log), toolsets=("all",))
    server = build_server(settings, transport=router)
    async with Client(server, mode=mode, elicitation_callback=say_yes) as client:
        await call(client, "register_user", {"username": "in_staging", "password": "pw"})
    [intent, done] = entries(log)
    for entry in (intent, done):
        assert entry["app"] == {"id": "sandbox", "endpoint": "http://staging.test", "profile": "staging"}
        assert entry["caller"] == f"local:{local_user()}"
        assert re.fullmatch(r"[0-9a-f]{32}", entry["app_key"])


@pytest.mark.anyio
async def test_an_http_callers_entry_names_its_app_and_a_digest_of_who_called(tmp_path):
    server, _, staging = tenant_server(tmp_path)
    await write_as(server, B, "from_b")
    assert "from_b" in staging.by_username
    text = (tmp_path / "audit.jsonl").read_text()
    assert TOKEN_B not in text
    entry = entries(tmp_path / "audit.jsonl")[-1]
    assert entry["app"] == {"id": "sandbox", "endpoint": "http://staging.test"}
    assert entry["caller"] == caller_identity(B) and re.fullmatch(r"http:[0-9a-f]{32}", entry["caller"])
    assert caller_identity(A) != caller_identity(B) != caller_identity({"authorization": "Bearer x"})


# --- who may read the resource -------------------------------------------------------------------


@pytest.mark.anyio
async def test_over_http_the_resource_is_off_unless_the_operator_turns_it_on(tmp_path):
    server, _, _ = tenant_server(tmp_path)
    await write_as(server, A, "alice_a")
    with pytest.raises(LookupError, match="LANYING_AUDIT_OVER_HTTP"):
        server.read_audit(http(A))


@pytest.mark.anyio
async def test_each_tenant_reads_only_its_own_apps_entries(tmp_path):
    server, _, _ = tenant_server(tmp_path, audit_over_http=True)
    await write_as(server, A, "alice_of_a")
    await write_as(server, B, "bob_of_b")
    seen_a = server.read_audit(http(A))
    seen_b = server.read_audit(http(B))
    assert "alice_of_a" in seen_a and "bob_of_b" not in seen_a
    assert "bob_of_b" in seen_b and "alice_of_a" not in seen_b
    assert "app_key" not in seen_a
    # A's app ID and endpoint without A's token is not A.
    forged = {**A, "X-Lanying-Access-Token": "guessed-token-0000000000"}
    assert "alice_of_a" not in server.read_audit(http(forged))
    # No credentials at all: nothing is served.
    for headers in (None, {"authorization": "Bearer whatever"}):
        with pytest.raises(LookupError, match="X-Lanying-Access-Token"):
            server.read_audit(http(headers))


@pytest.mark.anyio
async def test_over_mcp_a_refused_read_is_a_clear_error_not_the_log(tmp_path):
    """In-process (as on stdio) the operator's own app is served; a server without an app of its own serves nothing."""
    server, _, _ = tenant_server(tmp_path)
    await write_as(server, A, "alice_of_a")
    async with Client(server, mode="legacy") as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("lanying://audit-log")
    assert "credentials" in caught.value.error.message and "alice" not in caught.value.error.message


@pytest.mark.anyio
async def test_on_stdio_the_operator_reads_its_apps_and_not_a_tenants(tmp_path, monkeypatch):
    monkeypatch.setenv("STAGING_TOKEN_FOR_TEST", TOKEN_B)
    log = tmp_path / "audit.jsonl"
    # An HTTP tenant with its own credentials for the prod app writes to the same log.
    tenant, _, _ = tenant_server(tmp_path)
    other = {**A, "X-Lanying-Access-Token": TOKEN_A}
    await write_as(tenant, other, "by_the_tenant")
    _, _, router = two_sandboxes()
    settings = Settings(profiles_file=profiles_file(tmp_path), audit_log=str(log), toolsets=("all",))
    operator = build_server(settings, transport=router)
    async with Client(operator, mode="legacy", elicitation_callback=say_yes) as client:
        await call(client, "register_user", {"username": "by_the_operator", "password": "pw"})
        text = (await client.read_resource("lanying://audit-log")).contents[0].text
    # The prod profile holds the same credentials as the tenant: the operator may read those entries too.
    assert "by_the_operator" in text and "by_the_tenant" in text
    stranger = {
        "X-Lanying-App-Id": "other",
        "X-Lanying-Access-Token": "t" * 20,
        "X-Lanying-Endpoint": "http://prod.test",
    }
    await tenant.run_op(
        CATALOGUE["register_user"], http(stranger), {"username": "stranger", "password": "p"}, Answer.NOT_ASKED
    )
    async with Client(operator, mode="legacy") as client:
        text = (await client.read_resource("lanying://audit-log")).contents[0].text
    assert "stranger" not in text


# --- redaction -----------------------------------------------------------------------------------

SECRETISH = re.compile(r"token|password|secret|sign$|^sign|answer")


def _fields(model, seen=None):
    seen = set() if seen is None else seen
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        yield model, name
        for sub in _models_in(field.annotation):
            yield from _fields(sub, seen)


def test_every_credential_like_argument_is_declared_secret():
    """A new argument named like a credential must be declared `secret=True` (or this list says why not)."""
    not_secret = {"as_user_id"}  # none today: names here would need a reason each
    missing = sorted(
        f"{op.name}.{name}"
        for op in CATALOGUE.values()
        for model, name in _fields(op.params)
        if SECRETISH.search(name) and name not in not_secret and name not in secret_arguments(model)
    )
    assert missing == []


def test_every_declared_secret_of_every_operation_is_removed_from_entries(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", declared=lambda: secret_keys(OPERATIONS.values()))
    canaries: dict[str, str] = {}
    for op in CATALOGUE.values():
        names = secret_arguments(op.params) | set(op.secret_fields)
        if not names:
            continue
        args: dict[str, Any] = {}
        for i, name in enumerate(sorted(names)):
            canary = f"canary-{op.name}-{i}-zz"
            canaries[canary] = f"{op.name}.{name}"
            args[name] = [canary, canary] if name.endswith("s") else canary
        args["nested"] = [dict.fromkeys(names, f"{canary}-deep")]
        log.begin(op.name, op.http, args)
    text = log.path.read_text()
    leaked = sorted(where for canary, where in canaries.items() if canary in text)
    assert leaked == []
    assert {"push_token", "push_tokens", "device_token", "password", "file_sign", "auth_answer"} <= secret_keys(
        OPERATIONS.values()
    )


# --- reading from the end ------------------------------------------------------------------------


class CountingFile:
    def __init__(self, fh) -> None:
        self.fh, self.read_bytes = fh, 0

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.read_bytes += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.fh.close()


def test_the_resource_reads_the_last_entries_from_the_end_in_bounded_bytes(tmp_path, monkeypatch):
    path = tmp_path / "audit.jsonl"
    line = {"time": "t", "tool": "send_message", "app_key": "a" * 32, "arguments": {"content": "x" * 300}}
    with open(path, "w") as fh:
        for i in range(60_000):  # about 24 MB
            fh.write(json.dumps({**line, "n": i}) + "\n")
        fh.write(json.dumps({**line, "n": "b-only", "app_key": "b" * 32}) + "\n")
        for i in range(60_000, 60_150):
            fh.write(json.dumps({**line, "n": i}) + "\n")
    size = path.stat().st_size
    opened: list[CountingFile] = []
    real_open = open

    def counting_open(file, *args, **kwargs):
        wrapped = CountingFile(real_open(file, *args, **kwargs))
        opened.append(wrapped)
        return wrapped

    monkeypatch.setattr(audit_module, "open", counting_open, raising=False)
    log = AuditLog(path)
    got = log.tail(100, {"a" * 32})
    assert [e["n"] for e in got] == list(range(60_050, 60_150))
    read = sum(f.read_bytes for f in opened)
    assert size > 20_000_000 and read < 200_000, (size, read)
    # The other app's one entry is 150 lines back: found without reading the whole file either.
    opened.clear()
    assert [e["n"] for e in log.tail(100, {"b" * 32})] == ["b-only"]
    assert sum(f.read_bytes for f in opened) <= audit_module.TAIL_MAX_BYTES
    # A cut first line and blank or broken lines are skipped, never raised.
    small = tmp_path / "small.jsonl"
    small.write_text('{"n": 1, "app_key": "k"}\n\nnot json\n{"n": 2, "app_key": "k"}\n')
    assert [e["n"] for e in AuditLog(small).tail(10, {"k"})] == [1, 2]
    assert [e["n"] for e in AuditLog(small).tail(1)] == [2]
    assert AuditLog(tmp_path / "empty.jsonl").tail(10) == []


@pytest.mark.anyio
async def test_a_declined_write_over_http_names_its_app_and_caller_too(tmp_path):
    server, _, _ = tenant_server(tmp_path)
    outcome = await server.run_op(
        CATALOGUE["destroy_group"], http(B), {"as_user_id": 1, "group_id": 2}, Answer.DECLINED
    )
    assert not outcome.ok and outcome.structured["error"]["code"] == "declined"
    entry = entries(tmp_path / "audit.jsonl")[-1]
    assert entry["code"] == "declined" and entry["caller"] == caller_identity(B)
    assert entry["app"]["endpoint"] == "http://staging.test"


@pytest.mark.anyio
async def test_a_multi_tenant_server_with_an_app_of_its_own_serves_it_to_no_http_caller(tmp_path):
    """Per-request credentials on: an HTTP caller reads only the app of the credentials it sent itself."""
    server, _, _ = tenant_server(tmp_path, audit_over_http=True, app_id="sandbox", access_token=TOKEN_A)
    await write_as(server, {"host": "127.0.0.1"}, "through_the_operators_app")  # routed to the operator's app
    for headers in (None, {"authorization": "Bearer x"}, {"X-Lanying-App-Id": "sandbox"}):
        with pytest.raises(LookupError, match="credentials"):
            server.read_audit(http(headers))
    assert "through_the_operators_app" in server.read_audit(http(A))  # A sent the operator's app's own token
    async with Client(server, mode="legacy") as local:  # the operator, in-process as on stdio
        text = (await local.read_resource("lanying://audit-log")).contents[0].text
    assert "through_the_operators_app" in text
