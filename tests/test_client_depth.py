"""The nesting guard reads a JSON text's brackets, not its strings, and stops exactly past MAX_DEPTH."""

from __future__ import annotations

import json

import pytest

from lanying_mcp.client import MAX_DEPTH, _too_deep


def nested(levels: int) -> bytes:
    value: list[object] = []
    inner = value
    for _ in range(levels - 1):
        inner.append([])
        inner = inner[0]  # type: ignore[assignment]
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (nested(MAX_DEPTH), False),
        (nested(MAX_DEPTH + 1), True),
        (json.dumps([{"user_id": i, "result": "success"} for i in range(5000)]).encode(), False),
        (json.dumps(["[" * 500, '"]' * 500, "\\" * 3 + '"{{{{']).encode(), False),  # brackets inside strings
        (json.dumps({"a": [{"b": [{"c": []}]}]}).encode(), False),
    ],
    ids=["at-the-limit", "one-past", "wide", "brackets-in-strings", "mixed"],
)
def test_depth_is_read_from_the_brackets(body, deep):
    assert _too_deep(body) is deep
