"""Pre-compute every tool's input and output schema, in both languages, into one file per toolset module,
lanying_mcp/schemas/<module>.json (and schemas/meta.json for the meta-tools), and the catalogue's index
(every operation's fields but its models and functions) into lanying_mcp/toolsets/_index.py.

    python tools/gen_schemas.py           # rewrite the files
    python tools/gen_schemas.py --check   # exit 1 naming each file that is out of date (CI runs this)

The server reads them at start-up instead of building ~140 tools' schemas twice and importing every
toolset module. Each schema file, and each module's part of the index, records the sources it was made
from (schema.SHARED, the module, and what it imports of schema.SOURCES) and their digest; a part whose
sources have changed is not used (its schemas are computed, its module is imported) while the others
still are, so a stale file is a start-up cost for its own tools, never a wrong contract — and CI keeps
them current anyway.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import enum
import importlib
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lanying_mcp.core.schema import (  # noqa: E402
    CACHE_DIR,
    SHARED,
    SOURCES,
    input_schema,
    output_schema,
    sources_digest,
)
from lanying_mcp.core.spec import Hints, Operation  # noqa: E402
from lanying_mcp.engine.call import output_model  # noqa: E402
from lanying_mcp.engine.discovery import build  # noqa: E402
from lanying_mcp.toolsets import LAZY_FIELDS, MODULES, build_eager  # noqa: E402
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS  # noqa: E402

PACKAGE = ROOT / "lanying_mcp"
META = "meta"  # schemas/meta.json: the tools no toolset module holds (toolsets/meta.py, discovery.py)
META_SOURCES = ("toolsets/meta.py", "engine/discovery.py")


def _imported(path: str, universe: set[str]) -> set[str]:
    """The files of `universe` (package-relative paths) that the module at `path` imports, anywhere in it."""
    package = path.split("/")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse((PACKAGE / path).read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - node.level + 1]
        elif (node.module or "").split(".")[0] == PACKAGE.name:
            base = []
        else:
            continue
        module = [p for p in (node.module or "").split(".") if p]
        if not node.level:
            module = module[1:]
        for target in ([*base, *module], *([*base, *module, alias.name] for alias in node.names)):
            for candidate in ("/".join(target) + ".py", "/".join([*target, "__init__"]) + ".py"):
                if candidate in universe:
                    found.add(candidate)
    return found


def sources_of(entries: Iterable[str]) -> tuple[str, ...]:
    """What the tools of these modules are made from: SHARED, the modules, and all they import of SOURCES."""
    universe = {p.relative_to(PACKAGE).as_posix() for pattern in SOURCES for p in PACKAGE.glob(pattern)}
    universe.discard("toolsets/_index.py")  # generated from the sources, not one of them
    seen: set[str] = set()
    todo = [*SHARED, *entries]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(_imported(path, universe) - seen)
    return tuple(sorted(seen))


def module_sources() -> dict[str, tuple[str, ...]]:
    """Each toolset module's sources, and the meta-tools' under META."""
    found = {module: sources_of([f"toolsets/{module}.py"]) for module in MODULES}
    return {**found, META: sources_of(META_SOURCES)}


def by_module() -> dict[str, list[Operation]]:
    """The catalogue's operations (toolset filled in), by the module that declares them, in catalogue order."""
    _, catalogue = build_eager()
    module_of = {op.name: module for module in MODULES for op in _module(module).OPERATIONS}
    groups: dict[str, list[Operation]] = {module: [] for module in MODULES}
    for op in catalogue.values():
        groups[module_of[op.name]].append(op)
    return groups


def render(sources: dict[str, tuple[str, ...]]) -> dict[Path, str]:
    """Every schema file: its path, and its text."""
    groups = {**by_module(), META: [*LOCAL_OPERATIONS, *build(dict, lambda name: None)]}
    files: dict[Path, str] = {}
    for module, ops in groups.items():
        doc: dict[str, object] = {
            lang: {
                op.name: {"input": input_schema(op.params, lang), "output": output_schema(output_model(op), lang)}
                for op in ops
            }
            for lang in ("en", "zh")
        }
        # the server ignores the file when one of these sources has changed since
        doc["sources"] = list(sources[module])
        doc["source"] = sources_digest(sources[module])
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"
        files[CACHE_DIR / f"{module}.json"] = text
    return files


INDEX_FILE = ROOT / "lanying_mcp" / "toolsets" / "_index.py"
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Operation) if f.default is not dataclasses.MISSING}


def _literal(value: Any, names: set[str]) -> str:
    """Python source for a value of an operation's index fields; `names` collects the spec names it uses."""
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, enum.Enum):
        return repr(value)
    if isinstance(value, enum.Enum):
        names.add(type(value).__name__)
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, Hints):
        names.add("Hints")
        return f"Hints({', '.join(_literal(v, names) for v in value)})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names.add(type(value).__name__)
        args = [
            f"{f.name}={_literal(getattr(value, f.name), names)}"
            for f in dataclasses.fields(value)
            if f.default is dataclasses.MISSING or getattr(value, f.name) != f.default
        ]
        return f"{type(value).__name__}({', '.join(args)})"
    if isinstance(value, tuple):
        items = [_literal(v, names) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(_literal(v, names) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k, names)}: {_literal(v, names)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {value!r} in the catalogue index")


def render_index(sources: dict[str, tuple[str, ...]]) -> str:
    """lanying_mcp/toolsets/_index.py: the catalogue without importing the toolset modules (toolsets/__init__.py)."""
    names: set[str] = set()
    ops: list[str] = []
    for module, op in ((module, op) for module, group in by_module().items() for op in group):
        known: list[str] = []
        for f in dataclasses.fields(Operation):
            value = getattr(op, f.name)
            if f.name in ("params", "result", "toolset") or (f.name in LAZY_FIELDS and value is not None):
                continue  # read from the module on first use (the toolset is the tuple's second item)
            if f.name in LAZY_FIELDS or f.name not in _DEFAULTS or value != _DEFAULTS[f.name]:
                known.append(f"{f.name!r}: {_literal(value, names)}")
        ops.append(f"    ({module!r}, {op.toolset!r}, {{{', '.join(known)}}}),")
    sets = [
        f"    ({m!r}, {_module(m).TOOLSET.name!r}, {_literal(_module(m).TOOLSET.description, names)})," for m in MODULES
    ]
    made_from = [f"    {m!r}: ({sources_digest(sources[m])!r}, {_literal(sources[m], names)})," for m in MODULES]
    text = f'''"""The catalogue's index: every operation's fields but its models and functions (toolsets/__init__.py).

Generated by `python tools/gen_schemas.py` from the toolset modules; do not edit. A module's entries are
used only while the digest in SOURCES is the digest of its sources on disk (schema.sources_digest).
"""

from typing import Any

from ..core.spec import {", ".join(sorted(names))}

# Each module: the digest of the sources its entries are made from, and those sources.
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {{
{chr(10).join(made_from)}
}}
# Each module: its toolset and the toolset's description.
TOOLSETS: tuple[tuple[str, str, tuple[str, str]], ...] = (
{chr(10).join(sets)}
)
OPERATIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
{chr(10).join(ops)}
)
'''
    # the file is checked by `ruff format --check` with the rest of the package: written formatted
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(INDEX_FILE), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout


def _module(name: str) -> Any:
    return importlib.import_module(f"lanying_mcp.toolsets.{name}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    sources = module_sources()
    files = {**render(sources), INDEX_FILE: render_index(sources)}
    removed = sorted(set(CACHE_DIR.glob("*.json")) - set(files))  # the schemas of a module that is gone
    stale = 0
    for path in removed:
        name = path.relative_to(ROOT).as_posix()
        if args.check:
            print(f"{name} belongs to no toolset module: run `python tools/gen_schemas.py`", file=sys.stderr)
            stale = 1
        else:
            path.unlink()
            print(f"removed {name}")
    for path, fresh in files.items():
        name = path.relative_to(ROOT).as_posix()
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if args.check:
            if current != fresh:
                print(f"{name} is out of date: run `python tools/gen_schemas.py`", file=sys.stderr)
                stale = 1
            continue
        if current != fresh:
            path.parent.mkdir(exist_ok=True)
            path.write_text(fresh, encoding="utf-8")
            print(f"wrote {name} ({len(fresh):,} bytes)")
    if args.check and not stale:
        print(f"{CACHE_DIR.relative_to(ROOT).as_posix()}/*.json and {INDEX_FILE.name} are up to date")
    return stale


if __name__ == "__main__":
    raise SystemExit(main())
