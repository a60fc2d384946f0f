"""Write lanying_mcp/engine/search_keywords.json: what the vendored Swagger says each tool's request does.

    python tools/gen_search_keywords.py           # rewrite the file
    python tools/gen_search_keywords.py --check   # exit 1 when the file is stale

For every tool that sends a request, the Swagger operation of each request it sends (its `summary`
and `description`, Chinese) becomes that tool's `upstream` words, which `search_tools` indexes beside the
tool's own title and description. Only this script reads tools/upstream; the server reads the JSON file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanying_mcp.toolsets import CATALOGUE  # noqa: E402

SWAGGER = ROOT / "tools" / "upstream" / "lanying-api" / "api-docs.json"
OUT = ROOT / "lanying_mcp" / "engine" / "search_keywords.json"
QUERIES = ROOT / "tests" / "data" / "search_queries.json"
# Swagger prose that says how to call, not what is done: dropped from the words.
_NOISE = re.compile(r"https?://\S+|<[^>]+>|\b(?:access-token|app_id|true|false)\b")


def _requests(op_http: str, calls: tuple[str, ...], aliases: tuple[str, ...]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for call in (op_http, *calls):
        method, _, path = call.partition(" ")
        out += [(m, path.split("?")[0]) for m in (method, *aliases)]
    return list(dict.fromkeys(out))


def examples(split: str = "tune", skip: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """The tuned queries of the admin query set, by the tool they expect: an admin's words for each tool."""
    out: dict[str, list[str]] = {}
    for q in json.loads(QUERIES.read_text(encoding="utf-8")):
        if q["split"] != split or q["query"] in skip:
            continue
        for name in q["expect"]:
            out.setdefault(name, []).append(q["query"])
    return out


def build(skip: frozenset[str] = frozenset()) -> dict[str, dict[str, list[str]]]:
    paths = json.loads(SWAGGER.read_text(encoding="utf-8"))["paths"]
    words: dict[str, dict[str, list[str]]] = {}
    said = examples(skip=skip)
    for name, op in sorted(CATALOGUE.items()):
        if op.local:
            continue
        texts: list[str] = []
        for method, path in _requests(op.http, op.calls, op.aliases):
            entry = paths.get(path, {}).get(method.lower())
            if not entry:
                continue
            for key in ("summary", "description"):
                text = _NOISE.sub(" ", str(entry.get(key) or "")).strip()
                if text and text not in texts:
                    texts.append(" ".join(text.split())[:200])
        entry = {"upstream": texts} if texts else {}
        if said.get(name):
            entry["examples"] = said[name]
        if entry:
            words[name] = entry
    for name in sorted(set(said) - set(words)):  # local tools (the meta tools, explain_error): examples only
        words[name] = {"examples": said[name]}
    return words


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        stale = not OUT.exists() or OUT.read_text(encoding="utf-8") != text
        print(f"{OUT.name}: {'stale, run python tools/gen_search_keywords.py' if stale else 'up to date'}")
        return 1 if stale else 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {text.count(chr(10))} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
