"""The command line: settings errors, stdout purity, and the model-free commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

RUN = [sys.executable, "-m", "lanying_mcp"]
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("LANYING_")}


def run(*args: str, env: dict | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([*RUN, *args], env=env or CLEAN_ENV, input=stdin.encode(), capture_output=True, timeout=60)


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
