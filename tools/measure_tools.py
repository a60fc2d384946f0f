"""How big is `tools/list`? Bytes (and tokens at 4 bytes each) per selection and language.

    python tools/measure_tools.py           # the table
    python tools/measure_tools.py --check   # exit 1 when a budget is exceeded

"core" = name + description + inputSchema + annotations, what a model reads to choose a tool;
title, icons, `_meta` and outputSchema bytes are in the total, and outputSchema is also reported apart.
Budgets, on the wire: discovery ≤ 4 KB (4,096 B) and default ≤ 28 KB (28,672 B) for the whole listing;
every tool ≤ 700 B without its output schema, as the core bytes per tool of the whole catalogue (all).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanying_mcp.core.settings import Settings  # noqa: E402
from lanying_mcp.serving.server import build_server  # noqa: E402
from lanying_mcp.toolsets import TOOLSETS  # noqa: E402

BUDGETS = {"discovery": ("total", 4 * 1024), "default": ("total", 28 * 1024), "all": ("core_avg", 700)}


@dataclass
class Row:
    selection: str
    lang: str
    tools: int
    total: int  # the serialized tools/list result
    core: int
    output: int

    @property
    def core_avg(self) -> float:
        return self.core / self.tools if self.tools else 0.0


def _bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


async def _listing(settings: Settings) -> list[dict[str, Any]]:
    server = build_server(settings)
    tools = await server.list_tools()
    await server.lanying_client.aclose()
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]


def measure_one(selection: str, lang: str) -> Row:
    base = {"endpoint": "http://measure.invalid", "app_id": "a", "access_token": "test-token-0123456789", "lang": lang}
    if selection == "discovery":
        settings = Settings(**base, discovery=True)
    elif selection == "default":
        settings = Settings(**base)  # what a new user gets: the everyday tools plus the discovery meta-tools
    else:
        settings = Settings(**base, toolsets=(selection,))
    tools = anyio.run(_listing, settings)
    core = sum(_bytes([t["name"], t.get("description"), t["inputSchema"], t.get("annotations")]) for t in tools)
    output = sum(_bytes(t.get("outputSchema", {})) for t in tools)
    return Row(selection, lang, len(tools), _bytes({"tools": tools}), core, output)


def measure() -> list[Row]:
    selections = ["discovery", "default", *TOOLSETS, "all"]
    return [measure_one(sel, lang) for sel in selections for lang in ("en", "zh")]


def over_budget(rows: list[Row]) -> list[str]:
    problems = []
    for row in rows:
        if row.selection in BUDGETS:
            what, limit = BUDGETS[row.selection]
            value = row.total if what == "total" else row.core_avg
            if value > limit:
                problems.append(f"{row.selection}/{row.lang}: {what} {value:.0f} > {limit}")
    return problems


def table(rows: list[Row]) -> str:
    lines = [
        "| selection | lang | tools | tools/list bytes | ≈ tokens | core bytes/tool | outputSchema bytes |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.selection} | {r.lang} | {r.tools} | {r.total:,} | {r.total // 4:,} | "
            f"{r.core_avg:.0f} | {r.output:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    rows = measure()
    print(table(rows))
    problems = over_budget(rows)
    for p in problems:
        print("OVER BUDGET", p)
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
