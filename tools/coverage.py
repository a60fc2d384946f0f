"""Map every Swagger operation to the tool that serves it (through each tool's `_meta` HTTP call).

    python tools/coverage.py            # table of operations and tools
    python tools/coverage.py --check    # exit 1 if any operation (or method alias) has no tool

An operation is a Swagger path + summary; its POST/PUT or POST/DELETE aliases are one operation and
one tool. The Swagger is the vendored tools/upstream/lanying-api/api-docs.json (override with --spec).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanying_mcp.toolsets import CATALOGUE  # noqa: E402

DEFAULT_SPEC = ROOT / "tools" / "upstream" / "lanying-api" / "api-docs.json"


def operations(spec_path: Path) -> dict[tuple[str, str], list[str]]:
    """(path, summary) → the methods the Swagger lists for it, in its order."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    ops: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path, methods in spec["paths"].items():
        for method, body in methods.items():
            ops[(path, body.get("summary", ""))].append(method.upper())
    return ops


def served() -> dict[str, str]:
    """'METHOD /path' → tool name, for single-call tools (primary method and aliases)."""
    out: dict[str, str] = {}
    for op in CATALOGUE.values():
        if op.handler is not None:
            continue
        for method in (op.method, *op.aliases):
            out[f"{method} {op.path}"] = op.name
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when anything is uncovered")
    ap.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    args = ap.parse_args(argv)
    ops = operations(args.spec)
    tools = served()
    uncovered, missing_alias = [], []
    for (path, summary), methods in sorted(ops.items()):
        names = {tools.get(f"{m} {path}") for m in methods} - {None}
        if not names:
            uncovered.append(f"{'/'.join(methods):<11} {path}  {summary}")
            continue
        missing_alias += [f"{m} {path}" for m in methods if f"{m} {path}" not in tools]
        if not args.check:
            print(f"{'/'.join(methods):<11} {path:<44} → {', '.join(sorted(names))}")
    pairs = sum(len(m) for m in ops.values())
    print(
        f"\n{len(ops) - len(uncovered)}/{len(ops)} operations covered ({pairs} method+path pairs); "
        f"{len(CATALOGUE)} tools in the catalogue"
    )
    for line in uncovered:
        print(f"UNCOVERED  {line}")
    for pair in missing_alias:
        print(f"NO ALIAS   {pair}")
    return 1 if args.check and (uncovered or missing_alias) else 0


if __name__ == "__main__":
    raise SystemExit(main())
