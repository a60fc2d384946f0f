"""JSON schemas for tools, compact and in one language.

pydantic's schemas are verbose for a model reading 135 tools: every property has a `title`, every
optional field is `anyOf [T, null]` with `default: null`, and nested models sit in `$defs`. Here we
inline references, drop titles and null defaults, and pick the description language (`x-zh` holds
the Chinese text of each field). The result is still a faithful schema of the same model.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic_core import from_json, to_json

from .json_values import as_array, as_object

_ZH = "x-zh"


def _inline(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if (obj := as_object(node)) is not None:
        ref = obj.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and depth < 8:
            target = copy.deepcopy(defs[ref.removeprefix("#/$defs/")])
            rest = {k: v for k, v in obj.items() if k != "$ref"}
            target.update(rest)
            return _inline(target, defs, depth + 1)
        return {k: _inline(v, defs, depth) for k, v in obj.items()}
    if (items := as_array(node)) is not None:
        return [_inline(v, defs, depth) for v in items]
    return node


def _simplify(node: Any, lang: str) -> Any:
    if (items := as_array(node)) is not None:
        return [_simplify(v, lang) for v in items]
    if (obj := as_object(node)) is None:
        return node
    node = obj
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and (props := as_object(value)) is not None:
            out[key] = {name: _simplify(sub, lang) for name, sub in props.items()}
        elif key in ("title", _ZH):
            continue
        else:
            out[key] = _simplify(value, lang)
    if lang == "zh" and isinstance(node.get(_ZH), str):
        out["description"] = node[_ZH]
    # `anyOf: [X, {type: null}]` with a null default is just "optional X".
    any_of = as_array(out.get("anyOf"))
    if any_of is not None and len(any_of) == 2 and {"type": "null"} in any_of and "default" in out:
        if out["default"] is None:
            (other,) = [s for s in any_of if s != {"type": "null"}]
            del out["anyOf"], out["default"]
            out = {**other, **out}
    if out.get("default", 0) is None:
        del out["default"]
    if out.get("additionalProperties") is True:  # the JSON Schema default
        del out["additionalProperties"]
    return out


def clean(schema: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    defs = schema.get("$defs", {})
    body = {k: v for k, v in schema.items() if k != "$defs"}
    return _simplify(_inline(body, defs), lang)


@lru_cache(maxsize=1024)
def _input_schema(model: type[BaseModel], lang: str) -> dict[str, Any]:
    schema = clean(model.model_json_schema(by_alias=True), lang)
    schema.pop("description", None)  # the model docstring is for developers; the tool has its own text
    schema["type"] = "object"
    return schema


def input_schema(model: type[BaseModel], lang: str = "en") -> dict[str, Any]:
    return copy.deepcopy(_input_schema(model, lang))


def _lean(node: Any) -> Any:
    """Output schemas: drop `additionalProperties: true` (the default). Nested descriptions stay: they
    say what a code, flag, unit or time in the result means."""
    if (items := as_array(node)) is not None:
        return [_lean(v) for v in items]
    if (obj := as_object(node)) is None:
        return node
    return {k: _lean(v) for k, v in obj.items() if not (k == "additionalProperties" and v is True)}


# A result field typed `Any` (a diagnostic fact's value, one batch's answer) has the schema `{}`, which
# clients such as the MCP Inspector flag as constraining nothing. It is declared as what it is: any JSON
# value, one type per branch (a `type` array is less portable).
ANY_JSON: tuple[dict[str, str], ...] = tuple(
    {"type": kind} for kind in ("object", "array", "string", "number", "boolean", "null")
)
_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "deprecated", "readOnly", "writeOnly"})
_ONE = ("items", "contains", "not", "propertyNames", "additionalProperties", "if", "then", "else")
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs")


def _declare_any(node: Any, keyword: str | None = None) -> Any:
    """Every subschema without a validation keyword gets `anyOf` over the JSON types (under `not`, `{}`
    keeps its meaning)."""
    if (obj := as_object(node)) is None:
        return node
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _NAMED and (named := as_object(value)) is not None:
            out[key] = {name: _declare_any(sub) for name, sub in named.items()}
        elif key in _MANY and (branches := as_array(value)) is not None:
            out[key] = [_declare_any(sub) for sub in branches]
        elif key in _ONE and isinstance(value, dict):
            out[key] = _declare_any(value, key)
        else:
            out[key] = value
    if keyword != "not" and all(key in _ANNOTATIONS or key.startswith("x-") for key in out):
        out["anyOf"] = [dict(branch) for branch in ANY_JSON]
    return out


@lru_cache(maxsize=1024)
def _output_schema(model: type[BaseModel], lang: str) -> dict[str, Any]:
    schema = _declare_any(_lean(clean(TypeAdapter(model).json_schema(mode="serialization", by_alias=True), lang)))
    schema.pop("description", None)
    return schema


def output_schema(model: type[BaseModel], lang: str = "en") -> dict[str, Any]:
    return copy.deepcopy(_output_schema(model, lang))


# Tool schemas computed ahead of time (tools/gen_schemas.py), so start-up does not rebuild ~140 tools'
# schemas in two languages: one file per toolset module, `schemas/<module>.json`, and `schemas/meta.json`
# for the meta-tools (toolsets/meta.py, discovery.py). Each file lists the sources its schemas come from
# (SHARED, the module and what it imports of SOURCES) and records their digest. When one of them differs
# on disk (an edit without `tools/regen`), that file is ignored and its own tools' schemas are computed
# from their models: a stale schema is never served, and an edited module costs only its own tools.
_PACKAGE = Path(__file__).resolve().parent.parent  # lanying_mcp/: source paths below are relative to it
CACHE_DIR = _PACKAGE / "schemas"
# The files a schema (or the catalogue's index) can be made from; the generator follows imports among them.
SOURCES = (
    "core/spec.py",
    "core/schema.py",
    "core/json_values.py",
    "core/facts.py",
    "engine/call.py",
    "engine/discovery.py",
    "toolsets/*.py",
)
SHARED = ("core/spec.py", "core/schema.py", "engine/call.py", "toolsets/__init__.py")  # what every file is made with


@cache
def file_digest(path: str) -> str:
    """The sha256 of one source file, by its path in the package ('' when it is missing); once per process."""
    try:
        return hashlib.sha256((_PACKAGE / path).read_bytes()).hexdigest()
    except OSError:
        return ""


def sources_digest(paths: Iterable[str]) -> str:
    """The digest of these source files as they are on disk: what a generated file records of its sources."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(f"{path}\0{file_digest(path)}\0".encode())
    return digest.hexdigest()


def is_current(doc: dict[str, Any]) -> bool:
    """A generated file's `source` is the digest of its `sources` on disk."""
    sources = as_array(doc.get("sources"))
    if not sources or not all(isinstance(path, str) for path in sources):
        return False
    return doc.get("source") == sources_digest(sources)


def _current(path: Path) -> dict[str, Any] | None:
    try:
        doc = as_object(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if doc is not None and is_current(doc) else None


@lru_cache(maxsize=1)
def _cache() -> dict[str, dict[str, Any]]:
    """The schemas of every current file in CACHE_DIR, by language then tool; a stale file adds none."""
    by_lang: dict[str, dict[str, Any]] = {}
    for path in sorted(CACHE_DIR.glob("*.json")):
        if (doc := _current(path)) is None:
            continue
        for lang in ("en", "zh"):
            if (tools := as_object(doc.get(lang))) is not None:
                by_lang.setdefault(lang, {}).update(tools)
    return by_lang


def cached(tool: str, lang: str, kind: str) -> dict[str, Any] | None:
    """A pre-computed `input` or `output` schema of `tool` in `lang`, or None."""
    by_tool = _cache().get(lang, {})
    entry = as_object(by_tool.get(tool))
    # A private copy, made by a JSON round trip in C (several times faster than copy.deepcopy).
    return from_json(to_json(entry[kind])) if entry is not None and kind in entry else None
