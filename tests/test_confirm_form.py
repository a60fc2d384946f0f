"""The confirmation form a human sees is short, in the server's language, and speaks to the human."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp.types import ElicitResult

from tests.helpers import call_error, sandbox_client

CJK = re.compile(r"[\u4e00-\u9fff]")
DEVELOPER_WORDS = ("Any", "JSON", "schema", "pydantic", "boolean", "`", "typed", "elicitation")


def _texts(schema: dict[str, Any]) -> list[str]:
    texts = [schema.get("title", ""), schema.get("description", "")]
    for prop in schema.get("properties", {}).values():
        texts += [prop.get("title", ""), prop.get("description", "")]
    return [t for t in texts if t]


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_form_is_short_and_in_the_servers_language(lang, mode):
    seen: list[Any] = []

    async def human(context: Any, params: Any) -> ElicitResult:
        seen.append(params)
        return ElicitResult(action="decline")

    async with sandbox_client(mode=mode, elicitation=human, toolsets=("all",), lang=lang) as client:
        error = await call_error(client, "broadcast_message", {"content": "hello"})
    assert error["code"] == "declined" and len(seen) == 1
    schema = seen[0].requested_schema
    schema = schema if isinstance(schema, dict) else schema.model_dump(exclude_none=True)
    assert list(schema["properties"]) == ["confirm"] and schema["properties"]["confirm"]["type"] == "boolean"
    texts = _texts(schema)
    assert texts, "the form has a title and a line for the human"
    assert len(json.dumps(texts, ensure_ascii=False)) <= 120, texts
    for text in texts:
        assert not any(word in text for word in DEVELOPER_WORDS), text
        assert bool(CJK.search(text)) is (lang == "zh"), text
    assert bool(CJK.search(seen[0].message)) is (lang == "zh")


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("answer", [True, "yes", "是", 1])
async def test_only_the_boolean_true_is_a_yes_in_either_language(lang, answer):
    async def human(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"confirm": answer})

    async with sandbox_client(elicitation=human, toolsets=("all",), lang=lang) as client:
        result = await client.call_tool("broadcast_message", {"content": "hello"})
    if answer is True:
        assert not result.is_error, result.content
    else:
        assert result.is_error and result.structured_content["error"]["code"] == "declined"
