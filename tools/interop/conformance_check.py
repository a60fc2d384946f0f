"""Score one `conformance server --requirements REVISION` run against its baseline.

    python tools/interop/conformance_check.py RESULTS_DIR BASELINE REQUIREMENTS_YAML [--min-scored N]

RESULTS_DIR is the harness's `-o` directory (one `server-<scenario>-<time>/checks.json` per scenario),
REQUIREMENTS_YAML the requirement set the harness ships (`requirements/<revision>.yaml`), BASELINE our
list of expected misses (tests/conformance/baseline-<revision>.yml). The harness itself compares only
the scored scenarios with a baseline; this also covers the ones it runs without scoring (extensions,
pending scenarios), so a regression there is not silent either.

Every FAILURE or WARNING check must be listed in the baseline, as `scenario` (the whole scenario) or
`scenario:check-id`, under a comment that says why. A listed entry that passes is stale and fails the
run too, so the baseline stays exact. `--min-scored` is a floor on the scored checks passed.
Prints the figures and exits 0 when the run matches the baseline, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

BAD = ("FAILURE", "WARNING")


def yaml_list(path: Path, key: str) -> list[str]:
    """The plain `- item` lines under the top-level `key:` of a simple YAML file (no YAML library)."""
    items: list[str] = []
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"^[A-Za-z_]+:", line):
            inside = line.split(":", 1)[0] == key
            continue
        m = re.match(r"^\s+-\s+(?:scenario:\s*)?([^\s#]+)", line)
        if inside and m:
            items.append(m.group(1))
    return items


def baseline_entries(path: Path) -> tuple[list[str], list[str]]:
    """(entries, entries with no reason): each run of entries must follow a comment."""
    entries: list[str] = []
    unexplained: list[str] = []
    explained = False
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if re.match(r"^[A-Za-z_]+:", line):
            inside, explained = line.startswith("server:"), False
        elif stripped.startswith("#"):
            explained = inside
        elif inside and stripped.startswith("- "):
            entry = stripped[2:].strip()
            entries.append(entry)
            if not explained:
                unexplained.append(entry)
        elif not stripped:
            explained = False
    return entries, unexplained


def load_results(results: Path) -> dict[str, list[dict[str, object]]]:
    runs: dict[str, list[dict[str, object]]] = {}
    for checks in sorted(results.glob("*/checks.json")):
        name = re.sub(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", checks.parent.name).removeprefix("server-")
        runs[name] = json.loads(checks.read_text(encoding="utf-8"))
    return runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", type=Path)
    p.add_argument("baseline", type=Path)
    p.add_argument("requirements", type=Path)
    p.add_argument("--min-scored", type=int, default=0, help="fail when fewer scored checks pass")
    ns = p.parse_args(argv)

    scored = yaml_list(ns.requirements, "server")
    not_scored = yaml_list(ns.requirements, "not_scored")
    runs = load_results(ns.results)
    entries, unexplained = baseline_entries(ns.baseline)
    whole = {e for e in entries if ":" not in e}
    per_check = {e for e in entries if ":" in e}

    problems: list[str] = []
    if unexplained:
        problems.append(f"baseline entries without a reason (a comment above them): {', '.join(unexplained)}")
    missing = [name for name in scored if name not in runs]
    if missing:
        problems.append(f"scored scenarios that did not run: {', '.join(missing)}")

    figures = {"scored": [0, 0], "not scored": [0, 0]}
    warnings = 0
    unexpected: list[str] = []
    expected: list[str] = []
    stale: list[str] = []
    for name, checks in runs.items():
        bucket = figures["scored" if name in scored else "not scored"]
        bad = [c for c in checks if c.get("status") in BAD]
        bucket[0] += sum(1 for c in checks if c.get("status") == "SUCCESS")
        bucket[1] += sum(1 for c in checks if c.get("status") in ("SUCCESS", "FAILURE"))
        warnings += sum(1 for c in checks if c.get("status") == "WARNING")
        if name in whole:
            (expected if bad else stale).append(name)
            continue
        for c in bad:
            key = f"{name}:{c.get('id')}"
            (expected if key in per_check else unexpected).append(f"{key} ({c.get('status')})")
        passing = {f"{name}:{c.get('id')}" for c in checks if c.get("status") == "SUCCESS"}
        stale += sorted(e for e in per_check if e in passing)
    ran = set(runs)
    stale += sorted(e for e in entries if e.split(":", 1)[0] not in ran and e.split(":", 1)[0] in scored + not_scored)
    unknown = sorted(e for e in entries if e.split(":", 1)[0] not in set(scored) | set(not_scored))
    if unknown:
        problems.append(f"baseline entries for scenarios this requirement set does not run: {', '.join(unknown)}")

    (sp, st), (np_, nt) = figures["scored"], figures["not scored"]
    print(f"   scored: {sp}/{st} checks passed in {sum(1 for n in runs if n in scored)} scenarios", end="")
    print(f"; not scored: {np_}/{nt} in {sum(1 for n in runs if n not in scored)}; warnings: {warnings}")
    print(f"   misses the baseline expects: {len(expected)}")
    if unexpected:
        problems.append("failing, not in the baseline: " + ", ".join(unexpected))
    if stale:
        problems.append("in the baseline but passing now (delete them): " + ", ".join(stale))
    if sp < ns.min_scored:
        problems.append(f"scored checks passed {sp} < floor {ns.min_scored}")
    for problem in problems:
        print(f"   {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
