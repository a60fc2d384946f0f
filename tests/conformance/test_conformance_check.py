"""tools/interop/conformance_check.py: a run passes only when it misses exactly what the baseline lists."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "interop"))

from conformance_check import main  # noqa: E402

REQUIREMENTS = """\
# comment
server:
  - tools-list
  - ping
client:
  - initialize
not_scored:
  - scenario: tasks-lifecycle
    leg: server
    reason: extension
"""


def _run(tmp_path: Path, checks: dict[str, list[str]], baseline: str, *extra: str) -> int:
    results = tmp_path / "results"
    for scenario, statuses in checks.items():
        folder = results / f"server-{scenario}-2026-12-02T12-26-48-820Z"
        folder.mkdir(parents=True)
        rows = [{"id": f"check-{i}", "status": status} for i, status in enumerate(statuses)]
        (folder / "checks.json").write_text(json.dumps(rows))
    (tmp_path / "baseline.yml").write_text(baseline)
    (tmp_path / "requirements.yaml").write_text(REQUIREMENTS)
    args = [str(results), str(tmp_path / "baseline.yml"), str(tmp_path / "requirements.yaml"), *extra]
    return main(args)


GOOD = {"tools-list": ["SUCCESS", "SUCCESS"], "ping": ["SUCCESS"], "tasks-lifecycle": ["SUCCESS", "FAILURE"]}
BASELINE = "server:\n  # the SDK has no tasks\n  - tasks-lifecycle:check-1\n"


def test_a_run_that_misses_what_the_baseline_lists_passes(tmp_path, capsys):
    assert _run(tmp_path, GOOD, BASELINE, "--min-scored", "3") == 0
    assert "scored: 3/3 checks passed in 2 scenarios; not scored: 1/2 in 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"ping": ["FAILURE"]}, "failing, not in the baseline: ping:check-0"),
        ({"ping": ["WARNING"]}, "failing, not in the baseline: ping:check-0 (WARNING)"),
        ({"tasks-lifecycle": ["SUCCESS", "FAILURE", "FAILURE"]}, "tasks-lifecycle:check-2"),  # not scored, still held
        ({"tasks-lifecycle": ["SUCCESS", "SUCCESS"]}, "passing now (delete them): tasks-lifecycle:check-1"),
    ],
)
def test_a_run_below_or_above_the_baseline_fails(tmp_path, capsys, change, why):
    assert _run(tmp_path, GOOD | change, BASELINE) == 1
    assert why in capsys.readouterr().out


def test_a_missing_scenario_an_unexplained_entry_or_a_low_score_fails(tmp_path, capsys):
    partial = {k: v for k, v in GOOD.items() if k != "ping"}
    assert _run(tmp_path, partial, BASELINE) == 1
    assert "scored scenarios that did not run: ping" in capsys.readouterr().out
    assert _run(tmp_path / "b", GOOD, "server:\n  - tasks-lifecycle:check-1\n") == 1
    assert "without a reason" in capsys.readouterr().out
    assert _run(tmp_path / "c", GOOD, BASELINE, "--min-scored", "4") == 1
    assert "scored checks passed 3 < floor 4" in capsys.readouterr().out


def test_the_shipped_baselines_explain_every_entry():
    from conformance_check import baseline_entries

    for revision in ("2025-11-25", "2026-07-28"):
        entries, unexplained = baseline_entries(Path(__file__).with_name(f"baseline-{revision}.yml"))
        assert entries and unexplained == []
