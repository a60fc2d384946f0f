"""The nesting guard reads a JSON text's brackets, not its strings, and stops exactly past MAX_DEPTH."""

from __future__ import annotations

import json

import pytest

from lanying_mcp.engine.client import MAX_DEPTH, _too_deep


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


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _random_value(rng, depth: int) -> object:
    pick = rng.random()
    if depth <= 0 or pick < 0.3:
        # strings made of the characters that could fool a bracket reader: quotes, backslashes, brackets
        return "".join(rng.choice('"\\[]{}ab/') for _ in range(rng.randint(0, 8)))
    if pick < 0.65:
        return [_random_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {_random_value(rng, 0): _random_value(rng, depth - 1) for _ in range(rng.randint(0, 3))}  # type: ignore[misc]


def test_the_bracket_reading_agrees_with_the_parsed_depth_on_random_json():
    import random

    rng = random.Random(17)
    for _ in range(3000):
        value = _random_value(rng, rng.randint(0, 8))
        for levels in (0, MAX_DEPTH - 4, MAX_DEPTH - 3):  # wrapped so some land either side of the limit
            wrapped = value
            for _ in range(levels):
                wrapped = [wrapped]
            body = json.dumps(wrapped, ensure_ascii=rng.random() < 0.5).encode()
            assert _too_deep(body) is (_depth(wrapped) > MAX_DEPTH), body[:200]
