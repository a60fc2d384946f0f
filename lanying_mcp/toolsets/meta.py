"""Tools this server answers itself, without calling the API: explaining error codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import error_text
from ..core.spec import READ, UNPAGED, WRITE, ApiModel, Operation, Params, f
from ..engine import undo
from .changes import LIST_CHANGES

if TYPE_CHECKING:
    from ..engine.call import CallContext


class ExplainError(Params):
    code: int | str | None = f(
        "A Lanying error code (e.g. 20013) or a failure class (e.g. timeout). Omit to list all.",
        "蓝莺IM错误码(如20013)或失败类别(如timeout)。不填则列出全部。",
        None,
    )


class ErrorExplanation(ApiModel):
    code: int | str | None = None
    meaning: str | None = None
    meaning_zh: str | None = None
    hint: str | None = f("Likely cause and next step.", "可能原因和下一步。", None)
    retryable: bool | None = f("true: the same call may succeed later.", "true稍后重试可能成功。", None)


def _explain(code: int | str, lang: str) -> ErrorExplanation:
    e = error_text.entry(code)
    shown: int | str = code if isinstance(code, int) and abs(code) < 2**63 else error_text.excerpt(code)
    return ErrorExplanation(
        code=shown, meaning=e.en, meaning_zh=e.zh, hint=error_text.hint(e, lang), retryable=e.retryable
    )


def _as_code(value: int | str) -> int | str:
    """A numeric string becomes the int code; anything else (a class, "²", a 5,000-digit number) stays as given."""
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
        return text
    return value


async def explain(ctx: CallContext, p: ExplainError) -> Any:
    if p.code is None:
        return [_explain(code, ctx.lang) for code in error_text.catalogue()]
    return [_explain(_as_code(p.code), ctx.lang)]


EXPLAIN_ERROR = Operation(
    name="explain_error",
    http="LOCAL explain_error",
    local=True,
    params=ExplainError,
    result=list[ErrorExplanation],
    handler=explain,
    title=("Explain error code", "解释错误码"),
    description=(
        "What a Lanying error code means (English and Chinese), its likely cause and the next step. "
        "Answered locally, no API call.",
        "解释蓝莺IM错误码的含义(中英文)、可能原因和下一步。本地回答,不调用API。",
    ),
    paging=UNPAGED,
    hints=READ,
    toolset="meta",
    default=True,
)


async def _undo(ctx: CallContext, p: undo.UndoChange) -> Any:
    return await undo.run(ctx, p, UNDO_CHANGE)


UNDO_CHANGE = Operation(
    name="undo_change",
    http="LOCAL undo_change",
    local=True,
    params=undo.UndoChange,
    result=Any,
    handler=_undo,
    expands=undo.expand,
    paging=UNPAGED,
    hints=WRITE,
    toolset="meta",
    title=("Undo change", "撤销变更"),
    description=(
        "Undo a write: runs its inverse with the old values. Refuses if irreversible or changed since.",
        "撤销一次写操作:以写入前的值执行其逆操作。不可撤销或此后已变时拒绝。",
    ),
)

LOCAL_OPERATIONS = [EXPLAIN_ERROR, LIST_CHANGES, UNDO_CHANGE]
