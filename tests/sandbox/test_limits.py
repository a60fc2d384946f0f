"""Every limit the Swagger states on a parameter (maximum, minimum, maxLength, pattern) is carried
into the input schema of each tool that sends that parameter, so a model sees it before calling."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lanying_mcp.core import facts
from lanying_mcp.core.schema import input_schema
from lanying_mcp.core.spec import Operation
from lanying_mcp.engine.client import _placement
from lanying_mcp.toolsets import CATALOGUE
from tests.sandbox.swagger import limited_parameters, operations

# Limits a tool enforces differently from the Swagger's text, on purpose.
STRICTER = {
    # The quick guide's username rule (ASCII only) is stricter than the Swagger's pattern (which also
    # admits CJK letters); the tool advertises and enforces the quick guide's.
    "username": "quick guide's username rule",
}


def _wire_fields(op: Operation) -> dict[str, tuple[str, Any]]:
    """wire name → (tool argument name, field info), for declared fields sent as such."""
    out = {}
    for name, info in op.params.model_fields.items():
        if info.exclude:
            continue
        loc = _placement(op, name, info)
        out[loc.wire or info.alias or name] = (name, info)
    return out


def _cases() -> list[tuple[str, str, str, dict[str, Any]]]:
    by_http: dict[tuple[str, str], list[Operation]] = {}
    for op in CATALOGUE.values():
        if not op.local and op.handler is None:  # multi-step tools send other tools' models
            for method in (op.method, *op.aliases):
                by_http.setdefault((method, op.path), []).append(op)
    cases = []
    for method, path, sw in operations():
        for _, wire, limits in limited_parameters(sw):
            for op in by_http.get((method, path), []):
                if method == op.method:  # one row per tool, not per alternate method
                    cases.append((op.name, wire, f"{method} {path}", limits))
    return cases


CASES = _cases()


def _values_within(prop: dict[str, Any], limits: dict[str, Any]) -> list[str]:
    problems = []
    lo, hi = limits.get("minimum"), limits.get("maximum")
    allowed = prop.get("enum") or ([prop["const"]] if "const" in prop else None)
    if allowed is not None:
        outside = [v for v in allowed if (lo is not None and v < lo) or (hi is not None and v > hi)]
        if outside:
            problems.append(f"enum values {outside} outside [{lo}, {hi}]")
        return problems
    if lo is not None and prop.get("minimum", float("-inf")) < lo:
        problems.append(f"minimum {prop.get('minimum')} (Swagger {lo})")
    if hi is not None and prop.get("maximum", float("inf")) > hi:
        problems.append(f"maximum {prop.get('maximum')} (Swagger {hi})")
    if "maxLength" in limits and prop.get("maxLength", float("inf")) > limits["maxLength"]:
        problems.append(f"maxLength {prop.get('maxLength')} (Swagger {limits['maxLength']})")
    if "pattern" in limits and "pattern" not in prop:
        problems.append(f"no pattern (Swagger {limits['pattern']!r})")
    return problems


def _prop(schema: dict[str, Any], name: str) -> dict[str, Any]:
    prop = schema["properties"][name]
    variants = prop.get("anyOf") or prop.get("oneOf")
    if variants:  # Optional[...]: the non-null variant
        prop = next(v for v in variants if v.get("type") != "null")
    return prop


@pytest.mark.parametrize(("tool", "wire", "http", "limits"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_tool_schema_carries_swagger_limit(tool: str, wire: str, http: str, limits: dict[str, Any]) -> None:
    op = CATALOGUE[tool]
    fields = _wire_fields(op)
    if wire not in fields:
        computed = op.params.model_computed_fields
        assert wire in computed, f"{tool} sends no {wire!r} ({http})"
        return  # derived by the tool from other arguments, within the documented values by construction
    name, _ = fields[wire]
    prop = _prop(input_schema(op.params), name)
    if name in STRICTER:
        assert "pattern" in prop, f"{tool}.{name}: {STRICTER[name]} is not advertised"
        return
    problems = _values_within(prop, limits)
    assert not problems, f"{tool}.{name} ({http}): {problems}"


def test_the_walk_found_the_documented_limits() -> None:
    """Guard against a silent empty walk: the Swagger's known limits are among the rows."""
    rows = {(c[0], c[1]) for c in CASES}
    assert {("list_users", "page_size"), ("set_user_quiet_hours", "no_push_start_hour")} <= rows
    assert ("get_push_certificate", "provider") in rows and ("find_user_by_mobile", "mobile") in rows


@pytest.mark.parametrize(
    ("name", "ok"),
    [("alice_1", True), ("123", False), ("maxim_x", False), ("MTA1", False), ("a-b", False), ("中文", False)],
)
def test_username_schema_pattern_agrees_with_the_rule(name: str, ok: bool) -> None:
    assert (facts.username_problem(name) is None) is ok
    pattern = facts.USERNAME_SCHEMA_PATTERN
    assert bool(re.match(pattern, name)) is ok
