"""One schema snapshot per tool: any change to a tool's contract shows up in review.

Rewrite on purpose with `UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lanying_mcp.core.schema import input_schema, output_schema
from lanying_mcp.engine.call import output_model
from lanying_mcp.toolsets import CATALOGUE
from lanying_mcp.toolsets.meta import LOCAL_OPERATIONS

DIR = Path(__file__).parent / "snapshots"
OPS = [*CATALOGUE.values(), *LOCAL_OPERATIONS]


def contract(op) -> dict:
    return {
        "name": op.name,
        "toolset": op.toolset,
        "http": op.http_meta,
        "aliases": list(op.aliases),
        "hints": op.hints._asdict(),
        "title": list(op.title),
        "description": list(op.description),
        "input_schema": input_schema(op.params),
        "output_schema": output_schema(output_model(op)),
    }


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_tool_contract_matches_snapshot(op):
    path = DIR / f"{op.name}.json"
    current = json.dumps(contract(op), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(current, encoding="utf-8")
    assert path.exists(), f"no snapshot for {op.name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert path.read_text(encoding="utf-8") == current, f"{op.name} changed: review, then UPDATE_SNAPSHOTS=1"


def test_no_stale_snapshots():
    names = {op.name for op in OPS}
    stale = sorted(p.stem for p in DIR.glob("*.json") if p.stem not in names)
    assert stale == [], f"snapshots of removed tools: {stale}"


def test_precomputed_schemas_match_the_models():
    """The start-up cache (lanying_mcp/schemas/*.json) says exactly what the models say."""
    from lanying_mcp.core.schema import cached

    for op in OPS:
        for lang in ("en", "zh"):
            assert cached(op.name, lang, "input") == input_schema(op.params, lang), (op.name, lang)
            assert cached(op.name, lang, "output") == output_schema(output_model(op), lang), (op.name, lang)


def test_a_stale_precomputed_file_is_never_served(tmp_path, monkeypatch):
    """When the sources a file's schemas come from change, that file is ignored: schemas come from the models."""
    import shutil

    from lanying_mcp.core import schema

    op = OPS[0]
    path = schema.CACHE_DIR / f"{op.toolset}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["source"] == schema.sources_digest(doc["sources"]), f"{path.name} is stale: run tools/regen"
    doc["en"][op.name]["input"] = {"type": "object", "description": "stale"}
    stale = tmp_path / "schemas"
    shutil.copytree(schema.CACHE_DIR, stale)
    (stale / path.name).write_text(json.dumps({**doc, "source": "0" * 64}), encoding="utf-8")
    monkeypatch.setattr(schema, "CACHE_DIR", stale)
    schema._cache.cache_clear()
    try:
        assert schema.cached(op.name, "en", "input") is None
    finally:
        schema._cache.cache_clear()
