"""The README's commands: marked for tools/readme_commands.py, and runnable as written in a fresh shell."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import readme_commands as rc  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = rc.blocks(README)
BARE = re.compile(r"(^|[\s;&|(])lanying-mcp(\s|$)")


def test_the_set_up_the_installs_the_doctor_and_the_cli_chain_are_marked_to_run():
    modes = [b.mode for b in BLOCKS]
    assert modes[:2] == ["serve", "install"], modes  # the two commands at the top
    ran = "\n".join(c for b in BLOCKS for c in rc.plan(b)[0])
    for words in ("uvx --from . lanying-mcp", "pipx run --spec .", "pipx install .", "doctor --sandbox"):
        assert words in ran, words
    for tool in ("register_user", "create_group", "invite_group_members", "destroy_group", "search_tools"):
        assert f"call {tool}" in ran, tool
    skipped = "\n".join(c for b in BLOCKS for c in rc.plan(b)[1])
    assert "git+https://" in skipped and "git+https://" not in ran  # marked as needing the network


def test_each_block_that_runs_finds_lanying_mcp_on_its_own():
    """Each block runs in a fresh shell: bare `lanying-mcp` only after `source .venv/bin/activate` in it."""
    for b in BLOCKS:
        if b.mode not in ("run", "serve", "install"):
            continue
        activated = False
        for command in rc.commands(b.lines):
            activated = activated or command.startswith("source .venv/bin/activate")
            if BARE.search(command.split("#")[0]) and not command.lstrip().startswith(("uvx", "pipx")):
                assert activated, f"README line {b.line}: {command}"


def test_host_configs_name_the_full_path():
    assert '"command": "lanying-mcp"' not in README
    assert "realpath .venv/bin/lanying-mcp" in README


def test_the_doctor_and_cli_blocks_run_as_written_in_a_fresh_shell(tmp_path):
    """`env -i`: no PATH of ours, an empty home; `.venv` is this test's environment, where lanying-mcp is installed."""
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "home").mkdir()
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    wanted = [b for b in BLOCKS if b.mode == "run" and any("doctor --sandbox" in c or "call " in c for c in b.lines)]
    assert len(wanted) == 2, [b.line for b in wanted]
    for b in wanted:
        script = "\n".join(rc.plan(b)[0])
        proc = subprocess.run(
            ["/bin/bash", "--noprofile", "--norc", "-c", "set -e -o pipefail\n" + script],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"README line {b.line}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert "Traceback" not in proc.stderr
        if any("doctor --sandbox" in c for c in b.lines):
            assert proc.stdout.rstrip().endswith("checks passed") and "SKIP" not in proc.stdout, proc.stdout
        else:
            assert '"data": true' in proc.stdout  # destroy_group destroyed the group the chain created
            assert json.loads(proc.stdout[proc.stdout.rindex('{\n  "code"') :])["code"] == 20013
