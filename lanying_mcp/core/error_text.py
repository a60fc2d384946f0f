"""What a failed call tells the model: the structured error a tool returns, and its one-paragraph text.

`describe()` turns any `errors.LanyingError` into `{"code", "message", "meaning", "hint", "retryable"}`
(plus `retry_after` and `details` when the failure has them): what the code means (`error_codes.py`),
the likely cause in this call, and the next step, wholly in the server's language (English or Chinese).
The access token is never part of any of these texts.
"""

from __future__ import annotations

import math
from typing import Any

from .error_codes import CODES, HTTP, RANGES, Entry
from .errors import ApiError, LanyingError

EXCERPT = 80  # characters of a caller's input that an error text may echo


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """A bounded, printable rendering of caller input for an error text (huge ints are never str()'d)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    text = value if isinstance(value, str) else repr(value)
    return text[:limit] + (f"…(+{len(text) - limit} characters)" if len(text) > limit else "")


def hint(e: Entry, lang: str) -> str:
    """The entry's next step in `lang` (English when it has no Chinese one)."""
    return e.hint_zh if lang == "zh" and e.hint_zh else e.hint


def entry(code: int | str) -> Entry:
    """The catalogue entry for any code; unknown codes get a useful answer from their range."""
    if code in CODES:
        return CODES[code]
    if isinstance(code, str) and code.startswith("http_") and code[5:].isdigit():
        status = int(code[5:])
        if status in HTTP:
            return HTTP[status]
        if status >= 500:
            return Entry(
                f"HTTP {status} server error",
                f"HTTP {status} 服务器错误",
                "The Lanying service failed; retry shortly.",
                True,
                "蓝莺IM服务出错;请稍后重试。",
            )
        return Entry(
            f"HTTP {status}",
            f"HTTP {status} 状态异常",
            "Unexpected HTTP status; check the endpoint and arguments.",
            hint_zh="意外的HTTP状态;请检查端点和参数。",
        )
    if isinstance(code, int) and not isinstance(code, bool):
        for low, high, en, zh in RANGES:
            if low <= code <= high:
                return Entry(
                    f"Undocumented {en} {code}",
                    f"未收录的{zh} {code}",
                    "Read the message for details; check the IDs and permissions involved.",
                    hint_zh="请阅读消息中的详情;检查涉及的ID和权限。",
                )
    shown = excerpt(code)
    return Entry(
        f"Unknown error code {shown}",
        f"未知错误码 {shown}",
        "Read the message for details; the code is not in the documented catalogue.",
        hint_zh="请阅读消息中的详情;该错误码不在文档收录的目录中。",
    )


def catalogue() -> dict[int | str, Entry]:
    return dict(CODES)


def describe(exc: LanyingError, lang: str = "en") -> dict[str, Any]:
    """The structured error a tool returns for `exc`, wholly in `lang` (an upstream message stays as sent)."""
    e = entry(exc.code)
    zh = lang == "zh"
    next_step = hint(e, lang)
    dedup = exc.dedup if not isinstance(exc, ApiError) else None
    if dedup is not None:
        argument, key = dedup
        next_step += (
            f"可能已送达:如要安全重试,请带上{argument}={key}再次调用(相同key的发送只会投递一次)。"
            if zh
            else f" It may have been delivered: to retry safely, call again with {argument}={key} "
            "(the API delivers a send with the same key once)."
        )
    elif exc.may_have_applied:
        applied = (
            "请求已到达服务端,改动可能已生效:重复之前请先读取核实,不要直接重试。"
            if zh
            else "The request reached the service, so the change may have been applied: "
            "read it back before repeating it; do not simply retry."
        )
        # The entry's own advice may say to retry; for a write that may have happened it must not.
        next_step = applied if ("retry" in next_step.lower() or "重试" in next_step) else f"{next_step} {applied}"
    retryable = exc.retryable
    if exc.may_have_applied and exc.dedup is None:
        retryable = False  # repeating a write that may have happened could apply it twice
    message = exc.message_zh if zh and exc.message_zh else exc.message
    payload: dict[str, Any] = {
        "code": exc.code,
        "message": message,
        "meaning": e.zh if zh else e.en,
        "hint": next_step,
        "retryable": retryable,
    }
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        payload["retry_after"] = max(1, math.ceil(retry_after))
    if exc.details is not None:
        payload["details"] = exc.details
    return payload


def paragraph(tool: str, err: dict[str, Any], lang: str | None = None) -> str:
    """One readable paragraph for clients that only show text, in the language of `err`."""
    if lang is None:  # the meaning is always written in the server's language
        lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in str(err.get("meaning", ""))) else "en"
    if lang == "zh":
        message = f":{err['message']}" if err.get("message") else ""
        return f"{tool} 调用失败 — 错误码 {err['code']}({err['meaning']}){message}。下一步:{err['hint']}" + (
            "(可重试)" if err.get("retryable") else ""
        )
    message = f": {err['message']}" if err.get("message") else ""
    return f"{tool} failed — code {err['code']} ({err['meaning']}){message}. Next step: {err['hint']}" + (
        " (retryable)" if err.get("retryable") else ""
    )
