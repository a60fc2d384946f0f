"""`lanying-mcp doctor` against the sandbox and small fake services, one row per fault a user meets."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from email.utils import formatdate
from typing import Any

import anyio
import httpx2
import pytest

from lanying_mcp import doctor
from lanying_mcp.cli import main
from lanying_mcp.core.settings import Settings
from lanying_mcp.doctor import FAIL, OK, SKIP, Check
from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from tests.procs import ROOT, free_port, server_env, start_sandbox, stop

pytestmark = pytest.mark.anyio
TOKEN = "doctor-admin-token-5e1c9a"


def with_date(app: Any, skew: float = 0.0) -> Any:
    """ASGI wrapper adding the `Date` header a real HTTP server sends (the in-process app sends none)."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_with_date(message: Any) -> None:
            if message["type"] == "http.response.start":
                date = formatdate(time.time() + skew, usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"date", date)]}
            await send(message)

        await app(scope, receive, send_with_date)

    return wrapped


def fake(status: int, content_type: str, body: bytes) -> Any:
    """A service that answers every request the same way."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]}
        )
        await send({"type": "http.response.body", "body": body})

    return app


async def seeded() -> tuple[Store, int]:
    """A sandbox app with one user who owns one group, so every toolset's probe has something to read."""
    store = Store(admin_token=TOKEN)
    app = build_app(store)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://sb.test") as http:
        headers = {"app_id": SANDBOX_APP_ID, "access-token": TOKEN}
        r = await http.post("/user/register/v2", json={"username": "ann", "password": "pw-ann-1"}, headers=headers)
        uid = r.json()["data"]["user_id"]
        r = await http.post("/group/create", json={"name": "crew"}, headers={**headers, "user_id": str(uid)})
        assert r.json()["code"] == 200, r.text
    return store, uid


def settings(**changes: Any) -> Settings:
    return Settings(**{"endpoint": "http://sb.test", "app_id": SANDBOX_APP_ID, "access_token": TOKEN, **changes})


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def assert_secret_kept(checks: list[Check], token: str = TOKEN) -> None:
    assert token not in doctor.table(checks) and token not in doctor.as_json(checks)


async def test_a_healthy_app_passes_every_check_and_reads_every_toolset():
    store, _ = await seeded()
    checks = await doctor.run_checks(settings(), transport=httpx2.ASGITransport(app=with_date(build_app(store))))
    rows = by_name(checks)
    assert doctor.passed(checks), doctor.table(checks)
    for name in ("version", "settings", "endpoint", "app id", "token", "admin token", "clock"):
        assert rows[name].status == OK, rows[name]
    with_reads = {t for t, (tool, _) in doctor.PROBES.items()}
    assert {f"toolset {t}" for t in with_reads} <= set(rows)
    assert all(rows[f"toolset {t}"].status == OK for t in with_reads), doctor.table(checks)
    assert "0.1" in rows["version"].detail
    assert_secret_kept(checks)


def test_every_toolset_with_a_read_has_a_probe_that_is_a_read():
    from lanying_mcp.toolsets import CATALOGUE, TOOLSETS

    readable = {op.toolset for op in CATALOGUE.values() if op.hints.read_only}
    assert readable <= set(doctor.PROBES), readable - set(doctor.PROBES)
    for toolset, (tool, _) in doctor.PROBES.items():
        assert toolset in TOOLSETS
        assert CATALOGUE[tool].hints.read_only, f"{tool} is not a read: the doctor never writes"


async def test_the_clock_check_fails_when_the_server_is_an_hour_away():
    store, _ = await seeded()
    checks = await doctor.run_checks(settings(), transport=httpx2.ASGITransport(app=with_date(build_app(store), -3600)))
    clock = by_name(checks)["clock"]
    assert clock.status == FAIL and "ahead of" in clock.detail and clock.next_step
    assert not doctor.passed(checks)


async def user_token_settings() -> tuple[Settings, Any]:
    store, uid = await seeded()
    return settings(access_token=store.issue_user_token(uid)), build_app(store)


# fault → (how to reach it, the row that fails, words its detail must carry)
FAULTS = {
    "wrong endpoint (connection refused)": ("refused", "endpoint", "connection"),
    "wrong app (40000)": ("wrong_app", "app id", "40000"),
    "bad token (10008)": ("bad_token", "token", "10008"),
    "a user's token instead of the admin token": ("user_token", "admin token", "user's token"),
    "HTTP 502": ("http_502", "endpoint", "HTTP 502"),
    "a JSON 503": ("json_503", "endpoint", "HTTP 503"),
    "HTML instead of JSON": ("html", "endpoint", "not the Lanying JSON envelope"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_each_fault_fails_its_own_row_with_a_next_step(fault: str):
    how, row, words = FAULTS[fault]
    store, _ = await seeded()
    transport: httpx2.AsyncBaseTransport | None = httpx2.ASGITransport(app=build_app(store))
    cfg = settings()
    if how == "refused":
        transport, cfg = None, settings(endpoint=f"http://127.0.0.1:{free_port()}")
    elif how == "wrong_app":
        cfg = settings(app_id="no-such-app")
    elif how == "bad_token":
        cfg = settings(access_token="not-a-token-of-this-app")
    elif how == "user_token":
        cfg, app = await user_token_settings()
        transport = httpx2.ASGITransport(app=app)
    elif how == "http_502":
        transport = httpx2.ASGITransport(app=fake(502, "text/plain", b"Bad Gateway"))
    elif how == "json_503":
        transport = httpx2.ASGITransport(app=fake(503, "application/json", b'{"code": 503, "message": "busy"}'))
    elif how == "html":
        transport = httpx2.ASGITransport(app=fake(200, "text/html", b"<!DOCTYPE html><html><body>Login</body></html>"))
    with anyio.fail_after(60):
        checks = await doctor.run_checks(cfg, transport=transport)
    rows = by_name(checks)
    failed = [c for c in checks if c.status == FAIL]
    assert [c.name for c in failed] == [row], doctor.table(checks)
    assert words in failed[0].detail and failed[0].next_step
    # what could not be checked after the failure is reported as not run, never as passing
    later = list(rows)[list(rows).index(row) + 1 :]
    assert all(rows[n].status == SKIP for n in later if n != "clock"), doctor.table(checks)
    assert not doctor.passed(checks)
    assert_secret_kept(checks, cfg.access_token.get_secret_value())


async def test_a_toolset_whose_path_is_not_served_fails_alone():
    store, _ = await seeded()
    inner = build_app(store)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/push/certificate":
            await fake(404, "text/plain", b"Not Found")(scope, receive, send)
        else:
            await inner(scope, receive, send)

    checks = await doctor.run_checks(settings(), transport=httpx2.ASGITransport(app=app))
    failed = [c for c in checks if c.status == FAIL]
    assert [c.name for c in failed] == ["toolset push"], doctor.table(checks)
    assert "404" in failed[0].detail


def test_missing_settings_fail_first_and_name_the_variables(monkeypatch, capsys):
    for name in ("LANYING_API_ENDPOINT", "LANYING_APP_ID", "LANYING_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["doctor", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    first_failure = next(c for c in out["checks"] if c["status"] == FAIL)
    assert first_failure["name"] == "settings" and "LANYING_ACCESS_TOKEN" in first_failure["next_step"]


def test_cli_sandbox_run_passes_and_prints_a_table(monkeypatch, capsys):
    from lanying_mcp.toolsets import TOOLSETS

    monkeypatch.delenv("LANYING_ACCESS_TOKEN", raising=False)
    assert main(["doctor", "--sandbox"]) == 0
    out = capsys.readouterr().out
    assert "OK    endpoint" in out and out.rstrip().endswith(f"all {len(TOOLSETS) + 8} checks passed"), out
    assert "SKIP" not in out


def test_the_sandbox_doctor_seeds_what_it_needs_and_every_toolset_has_a_passing_row(capsys):
    from lanying_mcp.toolsets import TOOLSETS

    assert main(["doctor", "--sandbox", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {c["name"]: c for c in out["checks"]}
    assert {f"toolset {t}" for t in TOOLSETS} <= set(rows), set(rows)
    not_ok = [c for c in out["checks"] if c["status"] != OK]
    assert not not_ok, not_ok
    assert (out["ok"], out["passed"], out["skipped"], out["failed"]) == (True, len(rows), 0, 0)
    # the toolsets without a read are really tried on the sandbox, with the calls they name
    assert "get_user_token" in rows["toolset tokens"]["detail"]
    assert "send_ai_message" in rows["toolset ai"]["detail"]


async def test_on_a_real_app_every_toolset_has_a_row_and_writes_are_skipped_with_the_reason():
    from lanying_mcp.toolsets import TOOLSETS

    store, _ = await seeded()
    checks = await doctor.run_checks(settings(), transport=httpx2.ASGITransport(app=with_date(build_app(store))))
    rows = by_name(checks)
    assert [n for n in rows if n.startswith("toolset ")] == [f"toolset {t}" for t in TOOLSETS]
    for toolset in doctor.WRITE_PROBES:
        row = rows[f"toolset {toolset}"]
        assert row.status == SKIP and "reads only" in row.detail and "lanying-mcp call" in row.detail, row
    # nothing was written: the app still has its one user and no token was issued
    assert len(store.users) == 1 and not store.user_tokens


async def test_a_skip_is_never_counted_as_passed():
    store, _ = await seeded()
    checks = await doctor.run_checks(settings(), transport=httpx2.ASGITransport(app=build_app(store)))  # no Date
    assert by_name(checks)["clock"].status == SKIP
    skipped = sum(c.status == SKIP for c in checks)
    last = doctor.table(checks).splitlines()[-1]
    assert "all" not in last and f"{skipped} skipped" in last and "0 failed" in last, last
    assert f"{len(checks) - skipped} passed" in last
    out = json.loads(doctor.as_json(checks))
    assert out["skipped"] == skipped and out["passed"] == len(checks) - skipped


async def test_an_answer_with_an_error_code_fails_its_row():
    """A probe answered with a Lanying error code (here 10002) is not a working toolset."""
    store, _ = await seeded()
    inner = build_app(store)
    refused = json.dumps({"code": 10002, "message": "bad parameters", "data": None}).encode()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/file/upload/avatar/user":
            await fake(200, "application/json", refused)(scope, receive, send)
        else:
            await inner(scope, receive, send)

    checks = await doctor.run_checks(settings(), transport=httpx2.ASGITransport(app=with_date(app)))
    failed = [c for c in checks if c.status == FAIL]
    assert [c.name for c in failed] == ["toolset files"], doctor.table(checks)
    assert "10002" in failed[0].detail and "lanying-mcp errors 10002" in failed[0].next_step
    assert not doctor.passed(checks) and doctor.table(checks).splitlines()[-1].endswith("1 failed")


def test_the_readme_describes_the_rows_that_exist():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Check your set-up")[1].split("\n## ")[0]
    for row in (
        "version",
        "settings",
        "endpoint",
        "app id",
        "token",
        "admin token",
        "clock",
        "toolset <name>",
        "approval",
    ):
        assert f"`{row}`" in section, row
    for toolset in doctor.WRITE_PROBES:
        assert f"`{toolset}`" in section, toolset
    assert "DNS" not in section.split("`endpoint`")[0]  # no row of its own: the endpoint row names the layer


def test_cli_against_the_sandbox_on_loopback(tmp_path):
    """The real command, a real socket and a real HTTP server (whose Date header the clock check reads)."""
    with open(tmp_path / "sandbox.log", "wb") as log:
        proc, url = start_sandbox(TOKEN, log)
        try:
            good = subprocess.run(
                [sys.executable, "-m", "lanying_mcp", "doctor", "--json"],
                env=server_env(url, TOKEN),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            bad = subprocess.run(
                [sys.executable, "-m", "lanying_mcp", "doctor"],
                env=server_env(url, "wrong-token-1234"),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
        finally:
            stop(proc)
    assert good.returncode == 0, good.stdout + good.stderr
    rows = {c["name"]: c for c in json.loads(good.stdout)["checks"]}
    assert rows["clock"]["status"] == OK and rows["endpoint"]["status"] == OK
    assert TOKEN not in good.stdout + good.stderr
    assert bad.returncode == 1 and "FAIL  token" in bad.stdout and "wrong-token-1234" not in bad.stdout
