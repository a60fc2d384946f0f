"""Hosts and approval channels: the data, the choice per setting, the README table and `doctor --client`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lanying_mcp import doctor
from lanying_mcp.cli import main
from lanying_mcp.doctor import FAIL, OK
from lanying_mcp.review import channels

ROOT = Path(__file__).resolve().parents[1]
NAMED_BY_THE_README = ("Claude Desktop", "claude.ai", "Claude Code", "Cursor", "VS Code", "ChatGPT")


def settings(approval: str = "auto", askpass: str = "", confirm: bool = True) -> Any:
    """The settings the channel choice reads (LANYING_APPROVAL may not be declared in this build)."""
    return SimpleNamespace(approval=approval, askpass=askpass, askpass_seconds=120.0, confirm=confirm)


def test_every_host_the_readme_names_has_facts_with_public_sources():
    for name in NAMED_BY_THE_README:
        found = [h for h in channels.HOSTS if h.name.startswith(name)]
        assert found, name
    for h in channels.HOSTS:
        assert h.sources and h.fact and h.key == h.key.lower()
        assert all("#" in s or "/" in s for s in h.sources), h  # an issue, a pull request or a page, by address
        assert not (h.declares is False and h.renders is True), h  # cannot show what it never receives


def test_the_hosts_the_issue_cites_say_what_their_sources_say():
    assert channels.BY_KEY["claude-desktop"].declares is False
    assert "anthropics/claude-code#41347" in channels.BY_KEY["claude-desktop"].sources
    assert channels.BY_KEY["claude-ai"].declares is False
    assert "anthropics/claude-ai-mcp#153" in channels.BY_KEY["claude-ai"].sources
    liar = channels.BY_KEY["claude-code-desktop"]
    assert liar.declares is True and liar.renders is False and "OctopusDeploy/mcp-server#103" in liar.sources
    assert "anthropics/claude-code#84207" in channels.BY_KEY["claude-code"].sources


@pytest.mark.parametrize(
    ("key", "want"),
    [("Claude Desktop", "claude-desktop"), ("claude.ai", "claude-ai"), ("VS Code", "vscode"), ("CURSOR", "cursor")],
)
def test_a_host_is_found_by_the_name_people_write(key, want):
    found = channels.host(key)
    assert found is not None and found.key == want
    assert channels.host("netscape") is None


@pytest.mark.parametrize(
    ("approval", "askpass", "declares", "want"),
    [
        ("auto", "", True, "elicitation"),
        ("auto", "", False, "page"),
        ("auto", "/usr/bin/ask", False, "page"),  # auto never picks askpass by itself
        ("elicitation", "", True, "elicitation"),
        ("elicitation", "", False, "none"),
        ("page", "", True, "page"),
        ("page", "", False, "page"),
        ("askpass", "/usr/bin/ask", True, "askpass"),
        ("askpass", "/usr/bin/ask", False, "askpass"),
        ("askpass", "", False, "none"),  # forced, with no program to run: refused, never a silent go
        ("off", "/usr/bin/ask", True, "none"),
    ],
)
def test_the_channel_per_setting_and_client(approval, askpass, declares, want):
    got, why = channels.channel(declares, settings(approval, askpass))
    assert got == want, why
    assert f"LANYING_APPROVAL={approval}" in why


def test_with_consent_off_no_channel_asks():
    got, why = channels.channel(True, settings(confirm=False))
    assert got == "none" and "--no-confirm" in why


def test_a_host_that_declares_but_does_not_show_is_told_to_force_a_channel():
    liar = channels.BY_KEY["claude-code-desktop"]
    got, why = channels.for_host(liar, settings())
    assert got == "elicitation" and "LANYING_APPROVAL=page" in why
    got, why = channels.for_host(liar, settings("page"))
    assert got == "page" and "not to show" not in why


def test_the_readme_host_table_is_the_one_generated_from_the_data():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- hosts:start -->\n", 1)[1].split("\n<!-- hosts:end -->", 1)[0]
    assert section == channels.table()
    for h in channels.HOSTS:
        assert f"`{h.key}`" in section and channels.auto_channel(h) in section
    assert "not tested here" in section
    safety = readme.split("\n## Safety\n", 1)[1].split("\n## ", 1)[0]
    assert "<!-- hosts:start -->" in safety and "### askpass" in safety


def test_the_readme_shows_askpass_helpers_for_each_desktop():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### askpass", 1)[1].split("\n### ", 1)[0]
    for word in ("osascript", "zenity", "kdialog", "powershell", "--no-markup", "LANYING_ASKPASS_QUESTION"):
        assert word in section, word


def test_the_doctor_approval_row():
    row = doctor.approval_check(settings())
    assert row.status == OK and "elicitation where the client declares it" in row.detail
    row = doctor.approval_check(settings("askpass"))
    assert row.status == FAIL and "LANYING_ASKPASS" in row.next_step
    row = doctor.approval_check(settings(askpass="/nonexistent/ask"))
    assert row.status == FAIL and "does not exist" in row.detail
    row = doctor.approval_check(settings(askpass="/bin/true"))
    assert row.status == OK and "/bin/true" in row.detail


def test_doctor_client_reports_what_the_host_gets(capsys, monkeypatch):
    for name in ("LANYING_APPROVAL", "LANYING_ASKPASS", "LANYING_CONFIRM"):
        monkeypatch.delenv(name, raising=False)
    assert main(["doctor", "--client", "Claude Desktop"]) == 0
    out = capsys.readouterr().out
    assert "client claude-desktop" in out and "gets: page" in out and "not tested here" in out
    assert main(["doctor", "--client", "claude-code-desktop", "--json"]) == 1  # auto picks a form it never shows
    rows = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert rows["client claude-code-desktop"]["status"] == FAIL
    assert "LANYING_APPROVAL=page" in rows["client claude-code-desktop"]["next_step"]


def test_doctor_client_with_an_askpass_helper(tmp_path, capsys, monkeypatch):
    helper = tmp_path / "ask"
    helper.write_text("#!/bin/sh\nexit 1\n")
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("LANYING_ASKPASS", str(helper))
    assert main(["doctor", "--client", "cursor"]) == 0
    out = capsys.readouterr().out
    assert str(helper) in out and "gets: elicitation" in out
    os.chmod(helper, 0o644)
    assert main(["doctor", "--client", "cursor"]) == 1
    assert "not executable" in capsys.readouterr().out


def test_doctor_client_names_the_hosts_for_an_unknown_one(capsys):
    assert main(["doctor", "--client", "netscape"]) == 2
    err = capsys.readouterr().err
    assert "netscape" in err and all(h.key in err for h in channels.HOSTS)


@pytest.mark.parametrize("approval", channels.APPROVALS)
@pytest.mark.parametrize("declares", [True, False])
def test_the_doctor_reports_the_channel_the_gate_chooses(approval, declares):
    from lanying_mcp.core.settings import Settings
    from lanying_mcp.review.approval import channel_for

    real = Settings(approval=approval, askpass="/usr/bin/ask")
    gate = channel_for(approval, declares).value
    got, _ = channels.channel(declares, real)
    assert got == ("none" if gate == "off" else gate)
