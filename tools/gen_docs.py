"""Regenerate the README's settings table, tool reference, host table and tools/list size table from their sources.

python tools/gen_docs.py           # rewrite README.md between the generated markers
python tools/gen_docs.py --check   # exit 1 if README.md is out of date (CI runs this)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from generated import regenerate  # noqa: E402
from measure_tools import measure, table  # noqa: E402

from lanying_mcp.core.settings import declared  # noqa: E402
from lanying_mcp.review.channels import table as hosts_table  # noqa: E402
from lanying_mcp.toolsets import CATALOGUE, TOOLSETS  # noqa: E402
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS  # noqa: E402

README = ROOT / "README.md"


def hints(op) -> str:
    h = op.hints
    return (
        "read"
        if h.read_only
        else ("destructive" if h.destructive else "write") + (", idempotent" if h.idempotent else "")
    )


def reference() -> str:
    lines = []
    for ts in TOOLSETS.values():
        ops = [op for op in CATALOGUE.values() if op.toolset == ts.name]
        lines += [
            f"#### `{ts.name}` — {ts.description[0]}",
            "",
            "| tool | default | hints | HTTP | what it does |",
            "|---|:-:|---|---|---|",
        ]
        for op in ops:
            http = op.http_meta if isinstance(op.http_meta, str) else " → ".join(op.http_meta)
            aliases = f" (also {', '.join(op.aliases)})" if op.aliases else ""
            lines.append(
                f"| `{op.name}` | {'✓' if op.default else ''} | {hints(op)} | `{http}`{aliases} | "
                f"{op.description[0].replace('|', '/')} |"
            )
        lines.append("")
    local = ", ".join(f"`{op.name}`" for op in LOCAL_OPERATIONS)
    lines.append(
        f"Always served, answered locally: {local} and `preview_call` (the requests a call would send, sending "
        "no write; listed by default). Discovery mode adds `search_tools`, `get_tool_schema` and `call_tool`."
    )
    return "\n".join(lines)


def settings_table() -> str:
    """One row per declared setting (lanying_mcp/core/settings.py), in declaration order."""
    lines = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    for s in declared():
        if s.kind == "switch":
            default = "on" if s.default else "off"
        else:
            default = s.opt.shown or (f"`{s.default_text()}`" if s.default_text() else "—")
        meaning = s.opt.help + ("; required for a real app" if s.opt.required else "")
        meaning += f"; `{s.flag}` turns it off" if s.kind == "switch" and s.default else ""
        meaning += " (secret)" if s.secret else ""
        env = f"`{s.env}`" if s.env else "—"
        lines.append(f"| `{s.flag}` | {env} | {default} | {meaning.replace('|', '/')} |")
    return "\n".join(lines)


def irreversible() -> str:
    """One row per write operation that declares it cannot be undone, with the declared reason."""
    lines = ["| tool | changes | why it cannot be undone |", "|---|---|---|"]
    for op in CATALOGUE.values():
        effect = op.effect
        if effect is None or effect.irreversible is None:
            continue
        why = effect.irreversible[0]
        if effect.recall:
            why += f"; `{effect.recall}` withdraws it while the recall window is open"
        changes = f"{effect.target.value}: {', '.join(effect.fields)}"
        lines.append(f"| `{op.name}` | {changes} | {why[0].upper() + why[1:]} |")
    return "\n".join(lines)


def replace(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def render(text: str) -> str:
    text = replace(text, "settings", settings_table())
    text = replace(text, "tools", reference())
    text = replace(text, "irreversible", irreversible())
    text = replace(text, "hosts", hosts_table())
    return replace(text, "sizes", table(measure()))


def main(argv: list[str] | None = None) -> int:
    return regenerate(README, render, (__doc__ or "").splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
