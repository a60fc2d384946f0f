"""Run the README's shell commands as a newcomer would: as written, each block in a fresh shell.

The README marks each ```bash block it means to be run with a comment on the line before it:

    <!-- readme-commands: run -->            every line runs; the block must exit 0
    <!-- readme-commands: serve -->          the command starts a server: it must print its URL and answer
    <!-- readme-commands: install only … --> only the part before the last `&&` runs (the rest is CI's own step)
    <!-- readme-commands: not run (why) -->  listed, not run

Within a run block, a line that says "(needs the network)" or "(needs your app)" is skipped and listed.

Everything happens in a copy of this checkout (tracked and untracked files, none that git ignores) in a
temporary folder, with an empty home folder and a shell started with only HOME, PATH (the system folders,
plus one holding the uv, uvx and pipx found on the caller's PATH: the README's prerequisites), LANG, and
the machine's package-index, proxy and certificate settings.

    python tools/readme_commands.py            # run them all (CI: .ci/run)
    python tools/readme_commands.py --list     # only show what would run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = re.compile(r"<!--\s*readme-commands:\s*(.*?)\s*-->")
SKIP_WORDS = ("(needs the network)", "(needs your app)")
PREREQUISITES = ("uv", "uvx", "pipx")
# The machine's way to the package registries, which a newcomer's shell has too.
PASSED_ON = re.compile(
    r"^(PIP_.*|UV_CACHE_DIR|UV_INDEX.*|UV_EXTRA_INDEX_URL|UV_DEFAULT_INDEX|UV_NATIVE_TLS|"
    r"SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|(?i:[a-z_]*_proxy))$"
)
BLOCK_TIMEOUT = 1200.0  # seconds; a hang guard for blocks that install from the registries
SERVE_TIMEOUT = 900.0


@dataclass
class Block:
    line: int  # where the block starts in the README
    mode: str  # run | serve | install | not run | unmarked
    note: str
    lines: list[str] = field(default_factory=list)


def blocks(readme: str) -> list[Block]:
    found: list[Block] = []
    mark: tuple[str, str] | None = None
    rows = readme.splitlines()
    i = 0
    while i < len(rows):
        text = rows[i].strip()
        if m := MARK.fullmatch(text):
            said = m.group(1)
            kind = next((k for k in ("run", "serve", "install", "not run") if said.startswith(k)), "unknown")
            mark = (kind, said)
        elif text == "```bash":
            start, body = i + 1, []
            i += 1
            while i < len(rows) and rows[i].strip() != "```":
                body.append(rows[i])
                i += 1
            kind, said = mark or ("unmarked", "no readme-commands mark")
            found.append(Block(start, kind, said, body))
            mark = None
        elif text:
            mark = None if not text.startswith("<!--") else mark
        i += 1
    return found


def commands(lines: list[str]) -> list[str]:
    """The block's commands, continuation lines joined."""
    out: list[str] = []
    pending = ""
    for raw in lines:
        pending += raw.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            out.append(pending)
        pending = ""
    return out


def copy_checkout(dest: Path) -> None:
    names = subprocess.run(
        ["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, names):
        src = ROOT / os.fsdecode(name)
        if src.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def fresh_env(home: Path, prereq: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if PASSED_ON.match(k)}
    pip_conf = Path.home() / ".config" / "pip" / "pip.conf"
    if "PIP_CONFIG_FILE" not in env and pip_conf.is_file():
        env["PIP_CONFIG_FILE"] = str(pip_conf)  # the machine's package index, which the empty home lacks
    env.update(
        HOME=str(home), PATH=f"{prereq}:/usr/local/bin:/usr/bin:/bin", LANG="C.UTF-8", TERM="dumb", SHELL="/bin/bash"
    )
    return env


def link_prerequisites(prereq: Path) -> list[str]:
    prereq.mkdir(parents=True)
    missing = []
    for name in PREREQUISITES:
        found = shutil.which(name)
        if found:
            (prereq / name).symlink_to(found)
        else:
            missing.append(name)
    return missing


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_block(script: str, cwd: Path, env: dict[str, str], timeout: float = BLOCK_TIMEOUT) -> tuple[int, str]:
    proc = subprocess.run(
        ["/bin/bash", "--noprofile", "--norc", "-c", "set -e -o pipefail\n" + script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout + proc.stderr


def serve(command: str, cwd: Path, env: dict[str, str]) -> tuple[bool, str]:
    """Start the command, wait for its `serving … on URL` line, check the URL answers MCP, then stop it."""
    if " --transport " in command and "--port" not in command and not port_free(8000):
        port = free_port()
        print(f"      (port 8000 is taken on this machine: adding --port {port})")
        command += f" --port {port}"
    proc = subprocess.Popen(
        ["/bin/bash", "--noprofile", "--norc", "-c", "set -e -o pipefail\n" + command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: list[str] = []
    url = None
    watchdog = threading.Timer(SERVE_TIMEOUT, with_group_stopped, (proc,))  # a silent hang ends the read too
    watchdog.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if m := re.search(r"serving .* on (http://\S+)", line):
                url = m.group(1)
                break
        watchdog.cancel()
        if url is None:
            return False, "".join(seen[-30:]) + "\nno `serving … on http://…` line"
        answer = initialize(url)
        return ("serverInfo" in answer), f"{seen[-1].strip()}\n      {url} answered initialize: {answer[:120]}"
    finally:
        watchdog.cancel()
        with_group_stopped(proc)
        if proc.stdout is not None:
            proc.stdout.close()


def initialize(url: str) -> str:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "readme", "version": "1"},
        },
    }
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
    )
    for _ in range(60):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read().decode(errors="replace")
        except OSError:
            time.sleep(1)
    return "no answer"


def with_group_stopped(proc: subprocess.Popen[str]) -> None:
    """Stop the process this script started, and its children (it leads its own session)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def plan(block: Block) -> tuple[list[str], list[str]]:
    """The commands to run and the ones left out (with why)."""
    cmds = commands(block.lines)
    if block.mode == "install":
        return [c.rsplit(" && ", 1)[0] for c in cmds], [f"{c.rsplit(' && ', 1)[1]}  (CI runs it)" for c in cmds]
    if block.mode not in ("run", "serve"):
        return [], [f"{c}  ({block.note})" for c in cmds]
    keep = [c for c in cmds if not any(w in c for w in SKIP_WORDS)]
    left = [c for c in cmds if c not in keep]
    return keep, left


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readme", type=Path, default=ROOT / "README.md")
    p.add_argument("--list", action="store_true", help="show what would run, run nothing")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ns = p.parse_args(argv)
    found = blocks(ns.readme.read_text(encoding="utf-8"))
    if any(b.mode == "unknown" for b in found):
        bad = [b.line for b in found if b.mode == "unknown"]
        print(f"README lines {bad}: unknown readme-commands mark")
        return 1
    if ns.list:
        for b in found:
            keep, left = plan(b)
            print(f"README line {b.line}: {b.mode}")
            for c in keep:
                print(f"  run   {c}")
            for c in left:
                print(f"  skip  {c}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="readme-commands-"))
    try:
        checkout, home = work / "lanying-mcp", work / "home"
        home.mkdir()
        copy_checkout(checkout)
        missing = link_prerequisites(work / "prerequisites")
        env = fresh_env(home, work / "prerequisites")
        print(f"README commands, each block in a fresh shell, in a copy of the checkout ({checkout})")
        failed = 0
        for b in found:
            keep, left = plan(b)
            for c in left:
                print(f"skip  {c}")
            if not keep:
                continue
            needs = [n for n in missing if re.search(rf"(^|[\s;&|(]){n}\s", " ".join(keep))]
            if needs:
                print(
                    f"FAIL  README line {b.line}: {', '.join(needs)} is not installed (a prerequisite the README names)"
                )
                failed += 1
                continue
            started = time.monotonic()
            if b.mode == "serve":
                ok, said = serve(" ".join(keep), checkout, env)
            else:
                try:
                    rc, said = run_block("\n".join(keep), checkout, env)
                except subprocess.TimeoutExpired:
                    rc, said = 124, f"no end within {BLOCK_TIMEOUT:g} s"
                ok = rc == 0
                said = said if not ok else ""
            took = time.monotonic() - started
            for c in keep:
                print(f"{'ok  ' if ok else 'FAIL'}  {c}")
            print(f"      (README line {b.line}, {took:.0f} s)")
            if not ok or b.mode == "serve":
                print("\n".join("      " + line for line in said.strip().splitlines()[-40:]))
            failed += not ok
        print("README commands: " + ("all ran as written" if not failed else f"{failed} block(s) failed"))
        return 1 if failed else 0
    finally:
        if ns.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
