"""Regenerate server.json's version and environment variables from the package and its settings.

python tools/gen_server.py           # rewrite server.json
python tools/gen_server.py --check   # exit 1 if server.json is out of date (CI runs this)

Only settings a stdio client configures are listed (server.json declares the stdio package); a
secret setting is marked `isSecret` so registry clients store it as one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from generated import regenerate  # noqa: E402

from lanying_mcp import __version__  # noqa: E402
from lanying_mcp.core.settings import Declared, declared  # noqa: E402

SERVER_JSON = ROOT / "server.json"
FORMATS = {"switch": "boolean", "int": "number", "float": "number"}
WIDTH = 220


def variable(s: Declared) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": s.env,
        "description": s.opt.help[0].upper() + s.opt.help[1:].replace("`", ""),
        "isRequired": s.opt.required,
        "format": "filepath" if s.opt.path else FORMATS.get(s.kind, "string"),
    }
    if s.secret:
        entry["isSecret"] = True
    if default := s.default_text():
        entry["default"] = default
    if s.opt.placeholder:
        entry["placeholder"] = s.opt.placeholder
    if s.opt.choices:
        entry["choices"] = list(s.opt.choices)
    return entry


def render(current: str) -> str:
    doc = json.loads(current)
    doc["version"] = __version__
    (package,) = doc["packages"]
    package["version"] = __version__
    package["environmentVariables"] = [variable(s) for s in declared() if s.env and s.opt.stdio]
    return dump(doc) + "\n"


def dump(value: Any, indent: str = "") -> str:
    """JSON with every object or list that fits on one line kept on one line, so a variable reads as a row."""
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or len(indent) + len(flat) <= WIDTH:
        return flat.replace("{", "{ ", 1)[:-1] + " }" if isinstance(value, dict) and value else flat
    inner = indent + "  "
    if isinstance(value, dict):
        rows = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dump(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(rows) + f"\n{indent}}}"
    rows = [inner + dump(v, inner) for v in value]
    return "[\n" + ",\n".join(rows) + f"\n{indent}]"


def main(argv: list[str] | None = None) -> int:
    return regenerate(SERVER_JSON, render, (__doc__ or "").splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
