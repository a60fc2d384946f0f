"""Pre-compute every tool's input and output schema, in both languages, into lanying_mcp/schemas.json.

    python tools/gen_schemas.py           # rewrite the file
    python tools/gen_schemas.py --check   # exit 1 if it is out of date (CI runs this)

The server reads the file at start-up instead of building ~140 tools' schemas twice; a tool missing
from it is computed on the fly, so a stale file is a start-up cost, never a wrong contract — and CI
keeps it current anyway.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanying_mcp.discovery import build  # noqa: E402
from lanying_mcp.dispatch import output_model  # noqa: E402
from lanying_mcp.schema import CACHE_FILE, input_schema, output_schema, source_digest  # noqa: E402
from lanying_mcp.toolsets import CATALOGUE  # noqa: E402
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS  # noqa: E402


def render() -> str:
    ops = [*CATALOGUE.values(), *LOCAL_OPERATIONS, *build(dict, lambda name: None)]
    doc: dict[str, object] = {
        lang: {
            op.name: {"input": input_schema(op.params, lang), "output": output_schema(output_model(op), lang)}
            for op in ops
        }
        for lang in ("en", "zh")
    }
    doc["source"] = source_digest()  # the server ignores the file when its sources have changed since
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    fresh = render()
    if args.check:
        current = CACHE_FILE.read_text(encoding="utf-8") if CACHE_FILE.exists() else ""
        if current != fresh:
            print(f"{CACHE_FILE.name} is out of date: run `python tools/gen_schemas.py`", file=sys.stderr)
            return 1
        print(f"{CACHE_FILE.name} is up to date")
        return 0
    CACHE_FILE.write_text(fresh, encoding="utf-8")
    print(f"wrote {CACHE_FILE} ({len(fresh):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
