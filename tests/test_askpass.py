"""The askpass helper: exit 0 is a yes; a no, a crash, a hang, a missing or unrunnable helper are all a no.

Each helper is a small script this test writes (a Python script run by this interpreter), so what it
says and what it received can be checked: the prompt as argv[1], the full question on stdin and in
the environment, and none of the server's LANYING_* settings.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import anyio
import pytest

from lanying_mcp.review import askpass

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the scripted helpers are #! scripts")

QUESTION = "Destroy the group “Team 周会” (ID 42) with its 7 members? It cannot be undone. (Confirmation abc123.)"


def helper(folder: Path, body: str, name: str = "helper") -> str:
    """An executable Python script; `seen` (its first lines) records what it was given next to it."""
    path = folder / name
    record = folder / f"{name}.seen.json"
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "data = sys.stdin.buffer.read().decode('utf-8')\n"
        f"json.dump({{'argv': sys.argv[1:], 'stdin': data, 'env': dict(os.environ), 'pid': os.getpid()}}, "
        f"open({str(record)!r}, 'w'))\n" + body,
        encoding="utf-8",
    )
    path.chmod(0o755)
    return str(path)


def seen(program: str) -> dict:
    return json.loads(Path(program + ".seen.json").read_text(encoding="utf-8"))


def gone(pid: int) -> bool:
    """The process has ended (it may linger as a zombie of a parent that is not ours)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    except OSError:
        return False
    return state in ("Z", "X")


@pytest.mark.anyio
async def test_exit_0_is_a_yes_and_the_helper_gets_the_whole_question(tmp_path, monkeypatch):
    monkeypatch.setenv("LANYING_ACCESS_TOKEN", "tok-SECRET-never-to-a-helper")
    monkeypatch.setenv("LANYING_STATE_URL", "redis://:hunter2@localhost/0")
    program = helper(tmp_path, "sys.exit(0)\n")
    with anyio.fail_after(60):
        assert await askpass.ask(program, QUESTION, title="Lanying: confirm", timeout=30) is True
    got = seen(program)
    assert got["argv"] == [QUESTION]
    assert got["stdin"] == QUESTION
    assert got["env"]["LANYING_ASKPASS_QUESTION"] == QUESTION
    assert got["env"]["LANYING_ASKPASS_TITLE"] == "Lanying: confirm"
    assert got["env"]["SSH_ASKPASS_PROMPT"] == "confirm"
    assert not [k for k in got["env"] if k.startswith("LANYING_") and not k.startswith("LANYING_ASKPASS_")]
    assert "SECRET" not in json.dumps(got) and "hunter2" not in json.dumps(got)


@pytest.mark.anyio
async def test_a_long_question_is_cut_in_argv_only(tmp_path):
    program = helper(tmp_path, "sys.exit(0)\n")
    text = "Send to everyone: " + "x" * 20_000
    with anyio.fail_after(60):
        assert await askpass.ask(program, text, title="t", timeout=30) is True
    got = seen(program)
    assert len(got["argv"][0]) == askpass.ARGV_CHARS and got["argv"][0].endswith("…")
    assert got["stdin"] == text and got["env"]["LANYING_ASKPASS_QUESTION"] == text


@pytest.mark.anyio
@pytest.mark.parametrize("code", [1, 2, 255])
async def test_any_other_exit_status_is_a_no(tmp_path, code, caplog):
    program = helper(tmp_path, f"sys.exit({code})\n")
    with anyio.fail_after(60), caplog.at_level(logging.INFO, "lanying_mcp"):
        assert await askpass.ask(program, QUESTION, title="t", timeout=30) is False
    assert f"status {code}" in caplog.text


@pytest.mark.anyio
async def test_a_helper_that_crashes_is_a_no_with_its_reason_logged(tmp_path, caplog):
    program = helper(tmp_path, "raise RuntimeError('no display: cannot open the dialog')\n")
    with anyio.fail_after(60), caplog.at_level(logging.WARNING, "lanying_mcp"):
        assert await askpass.ask(program, QUESTION, title="t", timeout=30) is False
    assert "cannot open the dialog" in caplog.text and program in caplog.text


@pytest.mark.anyio
async def test_a_helper_killed_by_a_signal_is_a_no(tmp_path, caplog):
    program = helper(tmp_path, "import signal; os.kill(os.getpid(), signal.SIGSEGV)\n")
    with anyio.fail_after(60), caplog.at_level(logging.WARNING, "lanying_mcp"):
        assert await askpass.ask(program, QUESTION, title="t", timeout=30) is False
    assert "SIGSEGV" in caplog.text


@pytest.mark.anyio
async def test_a_helper_that_hangs_is_killed_with_its_children_at_the_timeout(tmp_path, caplog):
    child = tmp_path / "child.pid"
    body = (
        "import subprocess, time\n"
        f"p = subprocess.Popen(['sleep', '300'])\nopen({str(child)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(300)\n"
    )
    program = helper(tmp_path, body)
    started = time.monotonic()
    with anyio.fail_after(60), caplog.at_level(logging.WARNING, "lanying_mcp"):
        assert await askpass.ask(program, QUESTION, title="t", timeout=4) is False
    took = time.monotonic() - started
    assert 4 <= took < 4 + 20, took  # a hang guard, not a speed check: it stopped at the timeout
    assert "no answer within 4 s" in caplog.text
    pid = seen(program)["pid"]
    with pytest.raises(ChildProcessError):  # reaped by us: no zombie left
        os.waitpid(pid, os.WNOHANG)
    assert gone(pid)
    deadline = time.monotonic() + 10
    while not gone(int(child.read_text())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(int(child.read_text())), "the helper's own child was killed with its process group"


@pytest.mark.anyio
async def test_a_helper_that_ignores_stdin_and_exits_0_is_still_a_yes(tmp_path):
    path = tmp_path / "quiet"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    with anyio.fail_after(60):
        assert await askpass.ask(str(path), "q" * 300_000, title="t", timeout=30) is True


@pytest.mark.anyio
async def test_cancelling_the_call_stops_the_helper(tmp_path):
    program = helper(tmp_path, "import time; time.sleep(300)\n")
    with anyio.fail_after(60):
        with anyio.move_on_after(3.0):
            await askpass.ask(program, QUESTION, title="t", timeout=300)
    deadline = time.monotonic() + 10
    while not Path(program + ".seen.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = seen(program)["pid"]
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert gone(pid)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda d: str(d / "absent"), "does not exist"),
        (lambda d: str(d), "is a folder"),
        (lambda d: "relative/helper", "full path"),
        (lambda d: "", "no helper is set"),
    ],
)
async def test_a_missing_helper_is_a_no_with_the_reason(tmp_path, make, why, caplog):
    with anyio.fail_after(60), caplog.at_level(logging.WARNING, "lanying_mcp"):
        assert await askpass.ask(make(tmp_path), QUESTION, title="t", timeout=30) is False
    assert why in caplog.text


@pytest.mark.anyio
async def test_a_helper_that_is_not_executable_is_a_no(tmp_path, caplog):
    path = tmp_path / "plain"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o644)
    with anyio.fail_after(60), caplog.at_level(logging.WARNING, "lanying_mcp"):
        assert await askpass.ask(str(path), QUESTION, title="t", timeout=30) is False
    assert "not executable" in caplog.text


@pytest.mark.anyio
async def test_a_helper_that_cannot_be_started_is_a_no(tmp_path, caplog):
    path = tmp_path / "broken"
    path.write_text("#!/nonexistent/interpreter\n")
    path.chmod(0o755)
    with anyio.fail_after(60), caplog.at_level(logging.WARNING, "lanying_mcp"):
        assert await askpass.ask(str(path), QUESTION, title="t", timeout=30) is False
    assert "could not be started" in caplog.text


def test_the_setting_takes_a_full_path_and_a_bounded_wait():
    from lanying_mcp.core.errors import SettingsError
    from lanying_mcp.core.settings import Settings

    base = {"LANYING_API_ENDPOINT": "https://api.example", "LANYING_APP_ID": "app", "LANYING_ACCESS_TOKEN": "tok"}
    settings = Settings.from_env({**base, "LANYING_ASKPASS": "/usr/bin/ssh-askpass"}).validate()
    assert settings.askpass == "/usr/bin/ssh-askpass" and settings.askpass_seconds == 120
    with pytest.raises(SettingsError, match=r"LANYING_ASKPASS \(--askpass\) must be the full path"):
        Settings.from_env({**base, "LANYING_ASKPASS": "ssh-askpass"}).validate()
    with pytest.raises(SettingsError, match="LANYING_ASKPASS_SECONDS"):
        Settings.from_env({**base, "LANYING_ASKPASS_SECONDS": "0"}).validate()


def test_a_windows_batch_helper_gets_no_argument_that_cmd_could_run():
    question = 'Destroy "x" & calc.exe %PATH%?'
    assert askpass.argv(r"C:\Tools\ask.CMD", question, windows=True) == [r"C:\Tools\ask.CMD"]
    assert askpass.argv(r"C:\Tools\ask.bat", question, windows=True) == [r"C:\Tools\ask.bat"]
    assert askpass.argv(r"C:\Tools\ask.exe", question, windows=True) == [r"C:\Tools\ask.exe", question]
    assert askpass.argv("/usr/local/bin/ask.cmd", question, windows=False) == ["/usr/local/bin/ask.cmd", question]


def readme_helpers() -> list[str]:
    """The shell helpers the README's askpass section shows, as written."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### askpass", 1)[1].split("\n### ", 1)[0]
    return [block.split("\n```", 1)[0] for block in section.split("```sh\n")[1:]]


@pytest.mark.anyio
@pytest.mark.parametrize("dialog", ["zenity", "kdialog"])
@pytest.mark.parametrize("status", [0, 1])
async def test_the_readme_linux_helpers_pass_the_question_untouched_and_return_the_dialogs_answer(
    dialog, status, tmp_path, monkeypatch
):
    script = next(s for s in readme_helpers() if f"exec {dialog} " in s)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / dialog
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"json.dump(sys.argv[1:], open({str(tmp_path / 'args.json')!r}, 'w'))\nsys.exit({status})\n"
    )
    fake.chmod(0o755)
    program = tmp_path / "lanying-askpass"
    program.write_text(script + "\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    question = 'Destroy the group "Ops $(rm -rf ~) `x`" <b>now</b>?\nIt cannot be undone. (Confirmation 1a2b.)'
    with anyio.fail_after(60):
        said = await askpass.ask(str(program), question, title="Lanying: confirm", timeout=30)
    assert said is (status == 0)
    args = json.loads((tmp_path / "args.json").read_text())
    assert question in args or f"--text={question}" in args, args
    assert "Lanying: confirm" in args or "--title=Lanying: confirm" in args, args
