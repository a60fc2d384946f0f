"""Results a model can read: every code, flag, unit or time in an output schema says what it means.

The rule, by field name and type: booleans (flags); names that end in _time, _at, _mode, _status,
_type, _hour, _count, _sent, _received or _target, or start with no_, is_, silence_ or expire; and
status, type, ctype, count, capacity, relation, platform, result, duration, size. Each needs a
description in English and in Chinese.
"""

from __future__ import annotations

import re

import pytest

from lanying_mcp.core.schema import output_schema
from lanying_mcp.engine.call import output_model
from lanying_mcp.toolsets import CATALOGUE
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS

CODED = re.compile(
    r"(_time|_at|_mode|_status|_type|_hour|_count|_sent|_received|_target)$"
    r"|^(no_|is_|silence_|expire)"
    r"|^(status|type|ctype|count|capacity|relation|platform|result|duration|size)$"
)
OPS = [*CATALOGUE.values(), *LOCAL_OPERATIONS]
# Paths the envelope itself gives: a bare boolean `data` is the API's "done", and a batch's `ok` sits
# beside its `error`. Everything else must describe itself.
SELF_EVIDENT = {"data", "batches.ok"}


def undescribed(node, path: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            types = {sub.get("type")} | {s.get("type") for s in sub.get("anyOf", []) if isinstance(s, dict)}
            if (CODED.search(name) or "boolean" in types) and not sub.get("description"):
                found.append(f"{path}{name}")
            found += undescribed(sub, f"{path}{name}.")
        for key in ("items", "anyOf", "oneOf"):
            value = node.get(key)
            for sub in value if isinstance(value, list) else [value] if value else []:
                found += undescribed(sub, path)
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_code_flag_unit_and_time_is_described(lang):
    missing = {}
    for op in OPS:
        if found := set(undescribed(output_schema(output_model(op), lang))) - SELF_EVIDENT:
            missing[op.name] = sorted(found)
    assert missing == {}, missing


def test_epoch_times_say_their_unit():
    bad = {}
    for op in OPS:
        schema = output_schema(output_model(op), "en")
        for path, text in _times(schema):
            if not re.search(r"\b(ms|s|seconds|hour|date-time|0-23)\b", text):
                bad[f"{op.name}.{path}"] = text
    assert bad == {}, bad


def _times(node, path: str = ""):
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if re.search(r"(_time|_at)$|^expire", name):
                yield f"{path}{name}", sub.get("description", "")
            yield from _times(sub, f"{path}{name}.")
        for key in ("items", "anyOf"):
            value = node.get(key)
            for sub in value if isinstance(value, list) else [value] if value else []:
                yield from _times(sub, path)
