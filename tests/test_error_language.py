"""Under --lang zh the whole error text is Chinese: message, meaning and next step."""

from __future__ import annotations

import re

import pytest

from lanying_mcp.core import error_text
from lanying_mcp.core.errors import (
    ApiError,
    ArgumentError,
    AuditUnavailable,
    HttpStatusError,
    LanyingError,
    NotAllowed,
    ResponseTooLarge,
    TransportError,
)
from lanying_mcp.engine.client import decode
from lanying_mcp.toolsets import CATALOGUE

LATIN_WORDS = re.compile(r"\b[a-z]{4,}\b")  # an English word in lower case (names like LANYING_X are upper)
IDENTIFIERS = re.compile(
    r"[A-Z_]+=\w+|(?:/[\w.]+)+|access[ -]token|\b[a-z]+(?:_[a-z]+)+\b|https?://\S+|X-Lanying-[A-Za-z-]+|--[a-z-]+|\.jpg|\.jpeg|\.png"
)


# Technical terms Chinese texts keep in Latin letters.
TERMS = {"token", "lanying", "elicitation", "header", "license", "schema", "metadata", "jsonl"}


def english_words(text: str) -> list[str]:
    return [w for w in LATIN_WORDS.findall(IDENTIFIERS.sub("", text)) if w not in TERMS]


def representative() -> list[LanyingError]:
    applied = TransportError("ReadTimeout", code="timeout", may_have_applied=True)
    return [
        ApiError(20013, "permission denied"),
        ApiError(10008, None),
        HttpStatusError(502, "Bad Gateway"),
        HttpStatusError(404, "Not Found"),
        ResponseTooLarge(8 * 1024 * 1024),
        AuditUnavailable("/var/log/audit.jsonl", "EACCES"),
        applied,
        NotAllowed("read-only", zh="只读模式"),
        ArgumentError("user_ids: field required", zh="user_ids:缺少必填参数"),
        LanyingError("boom", code="internal_error", zh="服务器内部故障"),
    ]


@pytest.mark.parametrize("exc", representative(), ids=lambda e: str(e.code))
def test_zh_errors_are_chinese_from_end_to_end(exc):
    zh = error_text.describe(exc, "zh")
    en = error_text.describe(exc, "en")
    text = error_text.paragraph("some_tool", zh)
    assert "下一步" in text and "failed" not in text and "Next step" not in text
    assert not english_words(zh["hint"]), zh["hint"]
    assert not english_words(zh["meaning"]), zh["meaning"]
    if not isinstance(exc, ApiError):  # a Lanying API message stays as the API sent it
        assert not english_words(zh["message"]) or isinstance(exc, HttpStatusError), zh["message"]
    assert "Next step" in error_text.paragraph("some_tool", en)


def test_every_catalogued_code_has_a_chinese_next_step():
    for code, entry in error_text.catalogue().items():
        assert entry.hint_zh and not english_words(entry.hint_zh), code


def test_a_write_that_may_have_applied_never_says_retry():
    for code in list(error_text.catalogue()) + ["http_503", "http_429"]:
        exc = LanyingError("x", code=code, may_have_applied=True)
        for lang in ("en", "zh"):
            err = error_text.describe(exc, lang)
            assert not err["retryable"]
            assert "Retry once" not in err["hint"] and "retry shortly" not in err["hint"], (code, err["hint"])
            assert "may have been applied" in err["hint"] or "可能已生效" in err["hint"]


def test_error_texts_echo_a_bounded_excerpt():
    huge = "9" * 1_000_000
    assert len(error_text.entry(huge).en) < 300
    assert len(error_text.entry(10**5000).en) < 100  # no str() of a 5,000-digit int
    assert "²" in error_text.entry("²").en


def test_a_gateway_code_under_5xx_is_an_http_error_and_a_lanying_code_stays_one():
    import httpx2

    op = CATALOGUE["list_users"]
    request = httpx2.Request("GET", "http://up.test/user/list")
    with pytest.raises(HttpStatusError) as info:
        decode(op, httpx2.Response(503, json={"code": 503}, request=request))
    assert info.value.code == "http_503" and info.value.retryable
    with pytest.raises(ApiError) as api:
        decode(op, httpx2.Response(200, json={"code": 20001, "message": "group not found"}, request=request))
    assert api.value.code == 20001
