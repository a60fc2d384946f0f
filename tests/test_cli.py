"""The command line: settings errors, stdout purity, and the model-free commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from lanying_mcp.cli import endpoint_url
from tests.procs import free_port, stop

RUN = [sys.executable, "-m", "lanying_mcp"]
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("LANYING_")}


@pytest.fixture(autouse=True)
def own_state_folder(tmp_path, monkeypatch):
    """`call --sandbox` keeps its sandbox under $XDG_STATE_HOME: one folder per test, never the user's."""
    monkeypatch.setitem(CLEAN_ENV, "XDG_STATE_HOME", str(tmp_path / "state"))


def run(*args: str, env: dict | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([*RUN, *args], env=env or CLEAN_ENV, input=stdin.encode(), capture_output=True, timeout=60)


def call(tool: str, args: dict, *flags: str) -> subprocess.CompletedProcess:
    return run("call", tool, "--sandbox", "--args", json.dumps(args), *flags)


def test_sandbox_calls_chain_register_create_invite_destroy():
    """Each `call --sandbox` is a new process; they share one sandbox, so the IDs returned work in the next."""
    first = call(
        "register_user", {"username": "ann", "password": "pw-ann-1"}, "--new-sandbox", "--pick", "data.user_id"
    )
    assert first.returncode == 0, first.stderr
    ann = int(first.stdout)
    bob = int(call("register_user", {"username": "bob", "password": "pw-bob-1"}, "--pick", "data.user_id").stdout)
    group = int(call("create_group", {"as_user_id": ann, "name": "beta"}, "--pick", "data.group_id").stdout)
    invited = call("invite_group_members", {"as_user_id": ann, "group_id": group, "user_ids": [bob]})
    assert invited.returncode == 0 and json.loads(invited.stdout)["data"][0]["result"] == "success", invited.stdout
    members = json.loads(call("list_group_members", {"group_id": group}).stdout)
    assert {m["user_id"] for m in members["data"]} == {ann, bob}, members
    destroyed = call("destroy_group", {"as_user_id": ann, "group_id": group}, "--yes")
    assert destroyed.returncode == 0 and json.loads(destroyed.stdout)["data"] is True, destroyed.stdout
    gone = call("get_group_info", {"group_id": group})
    assert gone.returncode == 1 and json.loads(gone.stdout)["error"]["code"] == 20001
    # the same username again: the sandbox remembers ann (10004) until --new-sandbox starts over
    again = call("register_user", {"username": "ann", "password": "pw"})
    assert again.returncode == 1 and json.loads(again.stdout)["error"]["code"] == 10004
    fresh = call("register_user", {"username": "ann", "password": "pw"}, "--new-sandbox")
    assert fresh.returncode == 0, fresh.stdout


def test_a_sandbox_state_file_of_ones_own_and_a_damaged_one(tmp_path):
    mine = tmp_path / "mine.pickle"
    made = call("register_user", {"username": "cy", "password": "pw"}, "--sandbox-state", str(mine))
    assert made.returncode == 0 and mine.exists() and (mine.stat().st_mode & 0o077) == 0
    # the default sandbox is another one: it has no cy
    found = call("list_users", {})
    assert "cy" not in {u["username"] for u in json.loads(found.stdout)["data"]}
    mine.write_bytes(b"not a pickle")
    mine.chmod(0o600)
    replaced = call("list_users", {}, "--sandbox-state", str(mine))
    assert replaced.returncode == 0 and b"not loading the saved sandbox" in replaced.stderr
    assert b"Traceback" not in replaced.stderr and json.loads(replaced.stdout)["data"] == []
    assert run("call", "list_users", "--sandbox-state", str(mine)).returncode == 2  # only with --sandbox


def test_discovery_tools_run_from_the_cli():
    found = call("search_tools", {"query": "register a user"})
    assert found.returncode == 0, found.stderr
    assert "register_user" in {hit["name"] for hit in json.loads(found.stdout)["data"]}
    explained = call("call_tool", {"name": "explain_error", "arguments": {"code": 20013}})
    assert explained.returncode == 0 and b"20013" in explained.stdout
    # call_tool reaching a destructive tool still needs --yes
    refused = call("call_tool", {"name": "destroy_group", "arguments": {"group_id": 1}})
    assert refused.returncode == 2 and b"--yes" in refused.stderr


@pytest.mark.parametrize(
    "args",
    [("tools", "--json"), ("call", "search_tools", "--sandbox", "--args", '{"query": "send a message"}')],
)
def test_a_reader_that_goes_away_gets_no_traceback(args):
    """`lanying-mcp tools --json | head -1`: the pipe closes before we write; we stop quietly."""
    proc = subprocess.Popen([*RUN, *args], env=CLEAN_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first byte is written
    try:
        err = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        stop(proc)
        proc.stderr.close()
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 0


def test_the_start_up_line_names_the_endpoint_a_client_connects_to():
    assert endpoint_url("http", "127.0.0.1", 8000) == "http://127.0.0.1:8000/mcp"
    assert endpoint_url("sse", "127.0.0.1", 8001) == "http://127.0.0.1:8001/sse"
    assert endpoint_url("http", "::1", 8000) == "http://[::1]:8000/mcp"
    for transport, path in (("http", "/mcp"), ("sse", "/sse")):
        port = free_port()
        proc = subprocess.Popen(
            [*RUN, "--sandbox", "--transport", transport, "--port", str(port)],
            env=CLEAN_ENV,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stderr is not None
            line = ""
            for line in proc.stderr:
                if "serving" in line:
                    break
        finally:
            stop(proc)
            proc.stderr.close()
        assert re.search(rf"over {transport} on http://127\.0\.0\.1:{port}{path}$", line.strip()), line


def test_missing_settings_is_one_line_on_stderr_exit_2_nothing_on_stdout():
    proc = run()
    assert proc.returncode == 2 and proc.stdout == b""
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "LANYING_API_ENDPOINT" in lines[0] and "LANYING_ACCESS_TOKEN" in lines[0]


def test_malformed_settings_name_the_variable():
    env = {**CLEAN_ENV, "LANYING_API_ENDPOINT": "not a url", "LANYING_APP_ID": "a", "LANYING_ACCESS_TOKEN": "t"}
    proc = run(env=env)
    assert proc.returncode == 2 and b"LANYING_API_ENDPOINT" in proc.stderr and proc.stdout == b""
    env = {**env, "LANYING_API_ENDPOINT": "https://x.example", "LANYING_READ_ONLY": "maybe"}
    proc = run(env=env)
    assert proc.returncode == 2 and b"LANYING_READ_ONLY" in proc.stderr
    proc = run("--toolsets", "nope", "--sandbox")
    assert proc.returncode == 2 and b"valid toolsets" in proc.stderr and proc.stdout == b""


def test_stdio_writes_only_protocol_to_stdout():
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    proc = run("--sandbox", stdin=json.dumps(init) + "\n")
    lines = [line for line in proc.stdout.decode().splitlines() if line.strip()]
    assert lines, proc.stderr
    for line in lines:
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert b"sandbox" in proc.stderr  # our notices go to stderr


def test_tools_call_and_errors_commands():
    listing = json.loads(run("tools", "--toolset", "push", "--json").stdout)
    assert {t["name"] for t in listing} >= {"send_push", "get_push_task_details"}
    assert all(t["input_schema"]["type"] == "object" for t in listing)
    ok = run("call", "register_user", "--args", '{"username": "cli_user", "password": "pw"}', "--sandbox")
    assert ok.returncode == 0 and json.loads(ok.stdout)["data"]["user_id"] > 0
    bad = run("call", "get_group_info", "--args", '{"group_id": 1}', "--sandbox")
    assert bad.returncode == 1 and json.loads(bad.stdout)["error"]["code"] == 20001
    assert run("call", "register_user", "--args", "{not json", "--sandbox").returncode == 2
    assert run("call", "no_such_tool", "--sandbox").returncode == 2
    destroy = run("call", "destroy_group", "--args", '{"group_id": 1}', "--sandbox")
    assert destroy.returncode == 2 and b"--yes" in destroy.stderr
    explained = json.loads(run("errors", "20013").stdout)
    assert explained["meaning_zh"] == "操作需要群主权限"


def test_bad_safety_files_are_one_line_and_exit_2(tmp_path):
    empty = tmp_path / "profiles.toml"
    empty.write_text('default = "x"\n')
    for args, word in (
        (("--audit-log", "/proc/no/such/dir/audit.jsonl"), b"audit log"),
        (("--policy", str(tmp_path / "missing.toml")), b"policy file"),
        (("--profiles", str(empty)), b"profiles"),
    ):
        proc = run("--sandbox", *args)
        assert proc.returncode == 2 and proc.stdout == b"" and word in proc.stderr
        assert b"Traceback" not in proc.stderr


def test_call_prints_the_results_sentence_on_stderr_and_keeps_the_full_rows_in_a_named_file():
    users = [{"username": f"cli_bulk_{i:04d}", "password": "pw"} for i in range(300)]
    proc = run("call", "register_users", "--args", json.dumps({"users": users}), "--sandbox")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)["summary"]  # stdout is the JSON alone
    err = proc.stderr.decode()
    assert "300 items: 300 succeeded, 0 failed." in err
    assert f"summary.created lists the first {len(summary['created'])} username → user_id pairs." in err
    path = summary["full_result"]
    assert f"Full per-item result: {path}" in err
    try:
        with open(path, encoding="utf-8") as f:
            assert len(json.load(f)["data"]) == 300
    finally:
        os.unlink(path)
    bad = run("call", "get_group_info", "--args", '{"group_id": 1}', "--sandbox")
    assert "code 20001" in bad.stderr.decode() and "Next step:" in bad.stderr.decode()
