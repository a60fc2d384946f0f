"""Every listed output schema says what each value is.

Strict clients (the MCP Inspector's `--strict`, hosts that map schemas onto a single-`type` dialect) flag a
subschema with no validation keyword, which accepts anything while looking like a declaration, and a `type`
array. Our `Any` fields (a diagnostic fact's value, one batch's answer) are declared as any JSON value with
one type per branch, and `call_tool`, which answers with the result of the tool it runs, declares an object.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from lanying_mcp.core.schema import ANY_JSON, output_schema
from tests.helpers import sandbox_client

# The keywords that constrain an instance (JSON Schema 2020-12 assertions and applicators).
CONSTRAINING = {
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "format", "maxItems", "minItems", "uniqueItems", "maxContains",
    "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "properties",
    "patternProperties", "additionalProperties", "propertyNames", "items", "prefixItems", "contains",
    "allOf", "anyOf", "oneOf", "not", "$ref", "dependentSchemas", "unevaluatedItems", "unevaluatedProperties",
}  # fmt: skip
ONE = ("items", "contains", "not", "propertyNames", "additionalProperties", "if", "then", "else")
MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
NAMED = ("properties", "patternProperties", "$defs")


def problems(node: Any, path: str = "", keyword: str | None = None) -> list[str]:
    """Paths of subschemas that constrain nothing, or that use a `type` array."""
    if isinstance(node, bool):
        return [] if keyword in ("additionalProperties", "unevaluatedProperties") else [f"{path}: bare {node}"]
    if not isinstance(node, dict):
        return []
    found: list[str] = []
    if (
        keyword != "not"
        and not (CONSTRAINING & node.keys())
        and not ("if" in node and ({"then", "else"} & node.keys()))
    ):
        found.append(f"{path or '(root)'}: no validation keyword")
    if isinstance(node.get("type"), list):
        found.append(f"{path}: type array")
    for key, value in node.items():
        if key in NAMED and isinstance(value, dict):
            for name, sub in value.items():
                found += problems(sub, f"{path}.{key}.{name}")
        elif key in MANY and isinstance(value, list):
            for i, sub in enumerate(value):
                found += problems(sub, f"{path}.{key}[{i}]")
        elif key in ONE:
            found += problems(value, f"{path}.{key}", key)
    return found


def test_the_rule_catches_what_strict_clients_flag():
    assert problems({"type": "object", "properties": {"v": {}}}) == [".properties.v: no validation keyword"]
    assert problems({"type": "array", "items": {"description": "x"}}) == [".items: no validation keyword"]
    assert problems({"type": ["string", "null"]}) == [": type array"]
    assert problems({"not": {}}) == []


class _Loose(BaseModel):
    value: Any = None
    rows: list[Any] = []
    never: Any = None


def test_an_any_field_is_declared_as_any_json_value():
    schema = output_schema(_Loose)
    assert problems(schema) == []
    props = schema["properties"]
    assert props["value"]["anyOf"] == [dict(b) for b in ANY_JSON]
    assert props["rows"]["items"]["anyOf"] == [dict(b) for b in ANY_JSON]
    # one type per branch, and every JSON type is there: the declaration narrows nothing
    assert {b["type"] for b in ANY_JSON} == {"object", "array", "string", "number", "boolean", "null"}


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_listed_output_schema_declares_its_values(lang):
    async with sandbox_client(lang=lang) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) > 100
    found = {t.name: problems(t.output_schema) for t in tools if t.output_schema}
    assert {name: p for name, p in found.items() if p} == {}
    by_name = {t.name: t for t in tools}
    # the fields strict clients used to flag
    facts = by_name["check_messaging"].output_schema["properties"]["data"]["properties"]["facts"]
    assert "anyOf" in facts["items"]["properties"]["value"]
    summary = by_name["invite_group_members"].output_schema["properties"]["summary"]
    assert summary["properties"]["failures"]["items"]["type"] == "object"
    batch = by_name["send_push"].output_schema["properties"]["batches"]["items"]["properties"]["data"]
    assert "anyOf" in batch
    async with sandbox_client(lang=lang, discovery=True) as client:
        meta = {t.name: t for t in (await client.list_tools()).tools}
    assert {name: problems(t.output_schema) for name, t in meta.items() if problems(t.output_schema)} == {}
    assert meta["call_tool"].output_schema == {"type": "object", "properties": {}}
