"""`tools/fuzz.py --quick`: the large fuzz's own smoke run (every tool, both eras, sandbox and hostile upstream)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.procs import ROOT


def test_the_quick_fuzz_finds_nothing():
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "fuzz.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # a hang guard
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    inputs = int(re.search(r"fuzz: (\d+) inputs", run.stdout).group(1))
    assert inputs >= 400
    for count in ("protocol_errors", "internal_errors", "tracebacks", "token_leaks", "unanswered", "dead_servers"):
        assert f"  {count}: 0\n" in run.stdout
    assert "tools never fuzzed" not in run.stdout
    assert "token_echo" in run.stdout  # the hostile upstream really answered with the token


def test_the_leak_detector_finds_the_copies_the_server_promises_to_mask():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import fuzz
    finally:
        sys.path.remove(str(ROOT / "tools"))
    token = fuzz.TOKEN
    for copy in (token, token.upper(), " ".join(token), token[1:], token[:12] + "\\n" + token[12:]):
        assert fuzz.LEAK.search(f"x {copy} y"), copy
    assert not fuzz.LEAK.search("an ordinary sentence about tokens, canaries and " + token[:12])
