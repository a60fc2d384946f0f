"""The change journal: every write is journaled before it is sent, closed with its outcome, kept durably,
read per app with list_changes, exported and erased by the operator."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lanying_mcp import cli
from lanying_mcp.core.errors import SettingsError, StateError
from lanying_mcp.core.settings import Settings
from lanying_mcp.engine import journal
from lanying_mcp.engine.call import CallContext
from lanying_mcp.engine.dispatch import execute
from lanying_mcp.engine.journal import NS, PAGE_BYTES, Journal
from lanying_mcp.engine.state import MemoryState, SQLiteState
from lanying_mcp.safety import audit, redact
from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.serving.server import build_server
from tests.helpers import sandbox_settings
from tests.test_apps import two_sandboxes

TOKEN = "journal-test-token-0123456789"


def sandbox_server(tmp_path, store: Store | None = None, **changes: Any):
    store = store or Store(admin_token=TOKEN)
    settings = sandbox_settings(store, state_file=str(tmp_path / "state.sqlite3"), **changes)
    return build_server(settings, transport=httpx2.ASGITransport(app=build_app(store))), store


async def run(server, tool: str, args: dict[str, Any]):
    return await execute(server.reachable[tool], args, server.context(None))


async def changes(server, **args: Any) -> list[dict[str, Any]]:
    out = await run(server, "list_changes", args)
    assert out.ok, out.text
    return out.structured["data"]


# --- every write, before it is sent, then its outcome -----------------------------------------------


@pytest.mark.anyio
async def test_an_applied_write_is_journaled_with_its_id_in_the_result(tmp_path):
    server, store = sandbox_server(tmp_path)
    out = await run(server, "register_user", {"username": "mia", "password": "pw-secret-1"})
    assert out.ok, out.text
    change_id = out.structured["change_id"]
    assert change_id in out.text  # the model reads the text too
    uid = out.structured["data"]["user_id"]
    [entry] = await changes(server)
    assert entry["id"] == change_id and entry["tool"] == "register_user" and entry["outcome"] == "applied"
    assert entry["targets"] == [{"kind": "user", "id": uid, "name": "mia"}]
    assert entry["arguments"]["password"] == "[redacted]"
    assert entry["caller"].startswith("local:")
    assert entry["app"] == {"id": SANDBOX_APP_ID, "endpoint": "http://sandbox.test"}
    assert entry["time"].endswith("Z")
    full = await server.journal.get(change_id, entry_key(server))
    assert full is not None and full["app_key"] == entry_key(server)
    # Reads are not journaled, nor are local answers.
    await run(server, "get_user_profile" if "get_user_profile" in server.reachable else "list_users", {})
    await run(server, "explain_error", {"code": 20013})
    assert len(await changes(server)) == 1


def entry_key(server) -> str:
    from lanying_mcp.engine.apps import key_of

    return key_of(server.lanying_client.settings)


@pytest.mark.anyio
async def test_the_entry_is_written_before_the_write_is_sent(tmp_path):
    server, store = sandbox_server(tmp_path)
    seen: list[str] = []
    real = server.lanying_client.call

    async def spy(op, params, **kw):
        seen.append(json.dumps([r.value for r in await server.state.scan(NS)]))
        return await real(op, params, **kw)

    server.lanying_client.call = spy  # type: ignore[method-assign]
    out = await run(server, "register_user", {"username": "ordered", "password": "pw"})
    assert out.ok, out.text
    assert '\\"outcome\\": \\"unknown\\"' in seen[0]  # on record, still open, when the request went out
    assert '\\"tool\\": \\"register_user\\"' in seen[0]


@pytest.mark.anyio
async def test_a_failed_write_is_closed_failed_and_carries_no_change_id(tmp_path):
    server, _ = sandbox_server(tmp_path)
    out = await run(server, "set_group_name", {"group_id": 999_999, "value": "ghost"})
    assert not out.ok
    assert "change_id" not in out.structured
    [entry] = await changes(server)
    assert entry["outcome"] == "failed" and entry["error"]
    assert entry["targets"][0] == {"kind": "group", "id": 999_999, "name": None}  # no name: none is known


@pytest.mark.anyio
async def test_a_write_cut_off_by_the_deadline_is_unknown(tmp_path):
    async def slow(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/group/info/name":  # the write hangs; the reads before it answer at once
            await anyio.sleep(30)
        return httpx2.Response(200, json={"code": 200, "data": {}})

    settings = Settings(
        endpoint="http://api.test",
        app_id="app",
        access_token=TOKEN,
        toolsets=("all",),
        state_file=str(tmp_path / "s.sqlite3"),
        call_deadline=0.5,
        confirm=False,  # about the journal, not the question a rename's reach may need
    )
    server = build_server(settings, transport=httpx2.MockTransport(slow))
    with anyio.fail_after(60):
        out = await run(server, "set_group_name", {"group_id": 5, "value": "late"})
    assert not out.ok and out.structured["error"]["code"] == "deadline"
    [entry] = await changes(server)
    assert entry["outcome"] == "unknown"  # it may have been applied


@pytest.mark.anyio
async def test_an_entry_left_open_by_a_crash_reads_as_unknown_after_a_restart(tmp_path):
    path = tmp_path / "s.sqlite3"
    first = Journal(SQLiteState(path)).bound(app_key="k", caller="local:x", app={"id": "a"})
    change_id = await first.open(tool="set_group_name", arguments={"group_id": 1, "value": "n"}, targets=[])
    await first.state.close()  # the process ends before the write's answer: nothing closes the entry
    again = Journal(SQLiteState(path))
    entry = await again.get(change_id, "k")
    assert entry is not None and entry["outcome"] == "unknown"
    await again.state.close()


# --- fail closed --------------------------------------------------------------------------------------


class Unwritable(MemoryState):
    async def append(self, ns, key, value, *, tags=()):
        raise StateError("the state file /x/state.sqlite3 failed: disk I/O error")


@pytest.mark.anyio
async def test_when_the_entry_cannot_be_written_nothing_is_sent_and_the_error_says_why(tmp_path):
    server, store = sandbox_server(tmp_path)
    server.journal = Journal(Unwritable())
    out = await run(server, "register_user", {"username": "never", "password": "pw"})
    assert not out.ok
    err = out.structured["error"]
    assert err["code"] == "journal_unavailable"
    assert "NOT made" in err["message"] and "disk I/O error" in err["message"]
    assert "LANYING_STATE_FILE" in err["hint"] and err["retryable"] is False
    assert "never" not in store.by_username  # nothing reached the API
    zh = await execute(server.reachable["register_user"], {"username": "n2", "password": "p"}, _zh(server))
    assert "未执行" in zh.structured["error"]["message"]
    # Reads still work: only writes need their entry.
    assert (await run(server, "list_users", {})).ok


def _zh(server) -> CallContext:
    ctx = server.context(None)
    ctx.lang = "zh"
    return ctx


@pytest.mark.anyio
async def test_the_journal_can_be_turned_off(tmp_path):
    server, store = sandbox_server(tmp_path, journal=False)
    assert server.journal is None
    out = await run(server, "register_user", {"username": "unjournaled", "password": "pw"})
    assert out.ok and "change_id" not in out.structured
    off = await run(server, "list_changes", {})
    assert not off.ok and "LANYING_JOURNAL" in off.structured["error"]["message"]
    with pytest.raises(SettingsError, match="LANYING_JOURNAL_DAYS"):
        Settings(sandbox=True, journal_days=0).validate()
    with pytest.raises(SettingsError, match="LANYING_JOURNAL_MAX_ENTRIES"):
        Settings(sandbox=True, journal_max_entries=-1).validate()


# --- what is kept, redacted -----------------------------------------------------------------------


def test_the_journal_and_the_audit_log_redact_with_one_function():
    assert audit.redact_arguments is redact.redact_arguments
    assert journal.redact_arguments is redact.redact_arguments


@pytest.mark.anyio
async def test_secrets_and_the_access_token_never_reach_an_entry(tmp_path):
    server, _ = sandbox_server(tmp_path)
    out = await run(server, "register_user", {"username": "tok", "password": "hunter2-secret"})
    assert out.ok, out.text
    await run(server, "set_group_name", {"group_id": 999, "value": f"x {TOKEN} y {TOKEN.upper()}"})
    raw = json.dumps([r.value for r in await server.state.scan(NS)])
    assert "hunter2-secret" not in raw and TOKEN not in raw and TOKEN.upper() not in raw
    assert "[redacted]" in raw


# --- durable, shared ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_journal_survives_a_restart_of_the_server(tmp_path):
    store = Store(admin_token=TOKEN)
    first, _ = sandbox_server(tmp_path, store)
    out = await run(first, "register_user", {"username": "kept", "password": "pw"})
    assert out.ok
    await first.flush()  # what the server does at shutdown (its closes run after their answers)
    await first.state.close()
    second, _ = sandbox_server(tmp_path, store)  # a new process would build exactly this
    [entry] = await changes(second)
    assert entry["id"] == out.structured["change_id"] and entry["targets"][0]["name"] == "kept"


def test_by_default_the_journal_is_in_the_users_state_file(private_state_dir):
    server = build_server(sandbox_settings(Store(admin_token=TOKEN)))
    assert isinstance(server.journal.state, SQLiteState)  # type: ignore[union-attr]
    assert server.journal.state.path.startswith(str(private_state_dir))  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_two_processes_of_the_user_write_one_journal(tmp_path):
    path = tmp_path / "shared.sqlite3"
    script = (
        "import anyio, sys\n"
        "from lanying_mcp.engine.journal import Journal\n"
        "from lanying_mcp.engine.state import SQLiteState\n"
        "async def main():\n"
        "    j = Journal(SQLiteState(sys.argv[1])).bound(app_key='app-k', caller='local:other', app={'id': 'a'})\n"
        "    for i in range(5):\n"
        "        cid = await j.open(tool='set_group_name', arguments={'group_id': i, 'value': 'v'}, targets=[])\n"
        "        await j.close(cid, outcome='applied')\n"
        "anyio.run(main)\n"
    )
    mine = Journal(SQLiteState(path)).bound(app_key="app-k", caller="local:me", app={"id": "a"})
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stderr=subprocess.PIPE, text=True)
    for i in range(5):
        await mine.close(await mine.open(tool="register_user", arguments={"username": f"u{i}"}), outcome="applied")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    entries, _ = await mine.page("app-k", limit=100)
    assert len(entries) == 10
    assert {e["caller"] for e in entries} == {"local:me", "local:other"}
    assert all(e["outcome"] == "applied" for e in entries)
    await mine.state.close()


# --- list_changes: by name, bounded, one tenant ---------------------------------------------------


@pytest.mark.anyio
async def test_list_changes_filters_by_target_id_or_name_tool_and_time(tmp_path):
    server, _ = sandbox_server(tmp_path)
    mia = (await run(server, "register_user", {"username": "mia", "password": "pw"})).structured["data"]["user_id"]
    group = await run(server, "create_group", {"as_user_id": mia, "name": "Beta Testers"})
    gid = group.structured["data"]["group_id"]
    renamed = await run(server, "set_group_name", {"group_id": gid, "value": "Beta"})
    assert renamed.ok, renamed.text
    assert [e["tool"] for e in await changes(server)] == ["set_group_name", "create_group", "register_user"]
    assert [e["tool"] for e in await changes(server, target=gid)] == ["set_group_name", "create_group"]
    assert [e["tool"] for e in await changes(server, target=str(gid))] == ["set_group_name", "create_group"]
    # the rename's changes name the group as it was before, so it is found by its old name too
    assert [e["tool"] for e in await changes(server, target="beta testers")] == ["set_group_name", "create_group"]
    assert [e["tool"] for e in await changes(server, target="MIA")] == ["register_user"]
    assert [e["tool"] for e in await changes(server, tool="create_group")] == ["create_group"]
    assert await changes(server, since="2999-01-01") == []
    assert len(await changes(server, since="2000-01-01T00:00:00Z")) == 3
    bad = await run(server, "list_changes", {"since": "yesterday"})
    assert not bad.ok and "ISO" in bad.structured["error"]["message"]
    bad = await run(server, "list_changes", {"cursor": "not-a-cursor"})
    assert not bad.ok and "cursor" in bad.structured["error"]["message"]
    last = await server.journal.last_change(entry_key(server), "group", gid)
    assert last is not None and last["tool"] == "set_group_name"
    assert await server.journal.last_change(entry_key(server), "group", 1) is None


@pytest.mark.anyio
async def test_list_changes_pages_stay_under_8_kb_and_cursors_reach_every_entry_once(tmp_path):
    server, _ = sandbox_server(tmp_path)
    big = Journal(server.state).bound(app_key=entry_key(server), caller="local:x", app={"id": SANDBOX_APP_ID})
    made = []
    for i in range(25):
        args = {"group_id": i, "value": f"{i}-" + "名" * 1500}  # ~4.5 KB of UTF-8 each
        made.append(await big.open(tool="set_group_name", arguments=args, targets=[{"kind": "group", "id": i}]))
    huge = {"user_ids": list(range(1000)), "group_id": 1}
    made.append(await big.open(tool="invite_group_members", arguments=huge, targets=[]))
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        args: dict[str, Any] = {"limit": 100}
        if cursor:
            args["cursor"] = cursor
        out = await run(server, "list_changes", args)
        assert out.ok, out.text
        assert len(json.dumps(out.structured, ensure_ascii=False).encode()) <= PAGE_BYTES
        assert len(out.text.encode()) <= PAGE_BYTES + 200
        seen += [e["id"] for e in out.structured["data"]]
        cursor = out.structured.get("cursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))


@pytest.mark.anyio
async def test_list_changes_is_reachable_by_name_and_through_call_tool(tmp_path):
    store = Store(admin_token=TOKEN)
    server = build_server(
        sandbox_settings(store, toolsets=(), state_file=str(tmp_path / "s.sqlite3")),
        transport=httpx2.ASGITransport(app=build_app(store)),
    )
    assert "list_changes" in server.reachable
    async with Client(server) as client:
        await client.call_tool(
            "call_tool", {"name": "register_user", "arguments": {"username": "via", "password": "p"}}
        )
        direct = await client.call_tool("list_changes", {})
        through = await client.call_tool("call_tool", {"name": "list_changes", "arguments": {}})
    for result in (direct, through):
        assert not result.is_error, result
        data = result.structured_content["data"]
        assert [e["tool"] for e in data] == ["register_user"]  # a write through call_tool: journaled once
    await server.lanying_client.aclose()


TOKEN_A = "prod-token-0123456789"  # the two sandbox apps of tests.test_apps
TOKEN_B = "staging-token-0123456789"
A = {"X-Lanying-App-Id": "sandbox", "X-Lanying-Access-Token": TOKEN_A, "X-Lanying-Endpoint": "http://prod.test"}
B = {"X-Lanying-App-Id": "sandbox", "X-Lanying-Access-Token": TOKEN_B, "X-Lanying-Endpoint": "http://staging.test"}


@contextlib.asynccontextmanager
async def http_client(app: Any, headers: dict[str, str]):
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000", headers=headers, timeout=60
    )
    async with http, Client(streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http)) as client:
        yield client


@pytest.mark.anyio
async def test_over_http_each_tenant_lists_only_its_own_apps_changes(tmp_path):
    _, _, router = two_sandboxes()
    conf = Settings(
        endpoint="http://prod.test",
        request_credentials=True,
        allowed_endpoints=("http://prod.test", "http://staging.test"),
        toolsets=("all",),
        state_file=str(tmp_path / "s.sqlite3"),
    )
    server = build_server(conf, transport=router)
    app = cli.build_http_app(server, conf, "http", "127.0.0.1", 8000, stateless=True, json_response=True)

    async def listed(client: Client, **args: Any) -> list[dict[str, Any]]:
        result = await client.call_tool("list_changes", args)
        assert not result.is_error, result
        return result.structured_content["data"]

    async with server.session_manager.run():
        async with http_client(app, A) as a, http_client(app, B) as b:
            for client, name in ((a, "alice_of_a"), (b, "bob_of_b")):
                result = await client.call_tool("register_user", {"username": name, "password": "pw"})
                assert not result.is_error, result
            seen_a, seen_b = await listed(a), await listed(b)
            assert [e["targets"][0]["name"] for e in seen_a] == ["alice_of_a"]
            assert [e["targets"][0]["name"] for e in seen_b] == ["bob_of_b"]
            assert all("app_key" not in e for e in seen_a + seen_b)
            assert await listed(b, target="alice_of_a") == []  # not even by name
            # Another tenant's change ID gives nothing either.
            assert await server.journal.get(seen_a[0]["id"], "not-the-app-key") is None
        forged = {**A, "X-Lanying-Access-Token": "guessed-token-0000000000"}
        async with http_client(app, forged) as f:
            assert await listed(f) == []
        async with http_client(app, {"authorization": "Bearer nobody"}) as anon:
            result = await anon.call_tool("list_changes", {})
            assert result.is_error and "X-Lanying-Access-Token" in result.content[0].text


# --- retention, export, erase -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_retention_keeps_at_most_the_days_and_entries_configured():
    now = [1_000_000.0]
    state = MemoryState(clock=lambda: now[0])
    j = Journal(state, days=2, max_entries=5, clock=lambda: now[0]).bound(app_key="k")
    for i in range(3):
        await j.open(tool="old", arguments={"i": i})
    now[0] += 3 * 86400  # three days later
    for i in range(8):
        await j.open(tool="new", arguments={"i": i})
    assert await j.trim() == 6  # the three older than two days, and the oldest beyond five entries
    entries, _ = await j.page("k", limit=100)
    assert [e["arguments"]["i"] for e in entries] == [7, 6, 5, 4, 3]
    # A server process trims on its first write, without being asked.
    fresh = Journal(state, days=2, max_entries=2, clock=lambda: now[0]).bound(app_key="k")
    await fresh.open(tool="new", arguments={"i": 8})
    assert len((await fresh.page("k", limit=100))[0]) == 2


def test_export_and_erase_by_age_and_by_user_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "s.sqlite3"
    now = [1_750_000_000.0]  # 2025-06-15

    async def fill() -> None:
        state = SQLiteState(path, clock=lambda: now[0])
        j = Journal(state, clock=lambda: now[0]).bound(app_key="k", caller="local:x", app={"id": "a"})
        await j.open(tool="set_group_name", arguments={"group_id": 1, "value": "early"})
        now[0] += 30 * 86400  # 2025-07-15
        await j.open(tool="send_message", arguments={"from_user_id": 77, "targets": [1], "content": "hi from 77"})
        await j.open(
            tool="set_group_name", arguments={"group_id": 2, "value": "x"}, targets=[{"kind": "user", "id": 88}]
        )
        await j.open(tool="register_user", arguments={"username": "z"})
        await state.close()

    anyio.run(fill)

    def main(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["changes", *argv, "--state-file", str(path)])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = main("export")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [e["tool"] for e in lines] == [
        "set_group_name",
        "send_message",
        "set_group_name",
        "register_user",
    ]
    code, out, _ = main("export", "--since", "2025-07-01")
    assert code == 0 and len(out.splitlines()) == 3
    code, _, err = main("erase", "--user", "77")
    assert code == 0 and "erased 1 " in err
    code, _, err = main("erase", "--user", "88")
    assert code == 0 and "erased 1 " in err
    code, out, _ = main("export")
    assert "hi from 77" not in out and [json.loads(x)["tool"] for x in out.splitlines()] == [
        "set_group_name",
        "register_user",
    ]
    code, _, err = main("erase", "--before", "2025-07-01")
    assert code == 0 and "erased 1 " in err
    code, out, _ = main("export")
    assert [json.loads(x)["tool"] for x in out.splitlines()] == ["register_user"]
    code, _, err = main("erase")
    assert code == 2 and "--before" in err
    code, _, err = main("erase", "--before", "last week")
    assert code == 2 and "ISO" in err


# --- the close runs after the answer ----------------------------------------------------------------


def _stored_outcome(server, change_id: str) -> str:
    """The entry's outcome as the state file holds it now, read past the journal (which would flush first)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(server.state.path)) as db:
        (value,) = db.execute("SELECT value FROM log WHERE ns = ? AND key = ?", (NS, change_id)).fetchone()
    return json.loads(value)["outcome"]


@pytest.mark.anyio
async def test_the_entry_is_closed_after_the_answer_is_returned(tmp_path):
    server, _ = sandbox_server(tmp_path)
    out = await run(server, "register_user", {"username": "later", "password": "pw"})
    assert out.ok, out.text
    change_id = out.structured["change_id"]
    # The answer came back first: the entry is still open, and says what is true meanwhile.
    assert server.journal.pending == 1
    assert _stored_outcome(server, change_id) == "unknown"
    await server.journal.flush()
    assert server.journal.pending == 0
    assert _stored_outcome(server, change_id) == "applied"
    # The close still completes the targets from the answer.
    [entry] = await changes(server)
    assert entry["targets"][0]["name"] == "later" and entry["targets"][0]["id"] == out.structured["data"]["user_id"]


@pytest.mark.anyio
async def test_reads_of_the_journal_see_the_closes_still_under_way(tmp_path):
    server, _ = sandbox_server(tmp_path)
    out = await run(server, "register_user", {"username": "seen", "password": "pw"})
    assert server.journal.pending == 1
    entry = await server.journal.get(out.structured["change_id"], entry_key(server))
    assert entry is not None and entry["outcome"] == "applied"  # get waited for the close
    failed = await run(server, "set_group_name", {"group_id": 999_999, "value": "ghost"})
    assert not failed.ok and server.journal.pending == 1
    listed = await changes(server)  # list_changes waits too
    assert [e["outcome"] for e in listed] == ["failed", "applied"]


@pytest.mark.anyio
async def test_the_server_flushes_deferred_closes_at_shutdown_over_stdio(tmp_path, monkeypatch):
    from lanying_mcp.serving.sdk import LanyingMCP

    server, _ = sandbox_server(tmp_path)
    made: list[str] = []

    async def one_write_then_stdin_ends(self, max_line=None):
        out = await run(server, "register_user", {"username": "at_exit", "password": "pw"})
        made.append(out.structured["change_id"])
        assert server.journal.pending == 1

    monkeypatch.setattr(LanyingMCP, "serve_stdio", one_write_then_stdin_ends)
    await server.serve_stdio()
    assert server.journal.pending == 0
    assert _stored_outcome(server, made[0]) == "applied"


@pytest.mark.anyio
async def test_the_server_flushes_deferred_closes_at_shutdown_over_http(tmp_path):
    server, _ = sandbox_server(tmp_path)
    app = server.streamable_http_app(host="127.0.0.1")
    inbox = [{"type": "lifespan.startup"}]
    sent: list[dict[str, Any]] = []
    made: list[str] = []
    shut = anyio.Event()

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop(0)
        await shut.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            out = await run(server, "register_user", {"username": "at_stop", "password": "pw"})
            made.append(out.structured["change_id"])
            assert server.journal.pending == 1
            shut.set()
        if message["type"] == "lifespan.shutdown.complete":
            assert server.journal.pending == 0  # flushed before the lifespan said it was done

    with anyio.fail_after(60):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert _stored_outcome(server, made[0]) == "applied"


def test_a_crash_before_the_deferred_close_leaves_the_entry_unknown(tmp_path):
    path = tmp_path / "crash.sqlite3"
    script = (
        "import anyio, os, sys\n"
        "from lanying_mcp.engine.journal import Journal\n"
        "from lanying_mcp.engine.state import SQLiteState\n"
        "async def main():\n"
        "    j = Journal(SQLiteState(sys.argv[1])).bound(app_key='k', caller='local:x', app={'id': 'a'})\n"
        "    cid = await j.open(tool='set_group_name', arguments={'group_id': 1, 'value': 'n'}, targets=[])\n"
        "    await j.close_later(cid, outcome='applied')  # the answer would go out now\n"
        "    print(cid, j.pending, flush=True)\n"
        "    os._exit(0)  # the process dies before the close runs\n"
        "anyio.run(main)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    change_id, pending = done.stdout.split()
    assert pending == "1"

    async def read() -> dict[str, Any] | None:
        again = Journal(SQLiteState(path))
        try:
            return await again.get(change_id, "k")
        finally:
            await again.state.close()

    entry = anyio.run(read)
    assert entry is not None and entry["outcome"] == "unknown"  # it may have been applied: not claimed either way
