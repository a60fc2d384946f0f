"""Run one operation with raw arguments and return an Outcome: the single error boundary.

Everything a tool call can do goes through `execute`: argument validation, the HTTP call (or a
multi-step handler), result typing, and turning every failure into the structured error of
`errors.describe`. It knows nothing of MCP: the server, the discovery meta-tools and the `call`
CLI all use it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from . import errors
from .client import Envelope, LanyingClient
from .spec import ApiModel, Operation, Params, f

log = logging.getLogger("lanying_mcp")

Progress = Callable[[float, float | None, str | None], Awaitable[None]]


@dataclass
class Outcome:
    ok: bool
    structured: dict[str, Any]
    text: str


@dataclass
class CallContext:
    """What a multi-step handler may use: the client, the catalogue and progress reporting."""

    client: LanyingClient
    lang: str = "en"
    progress: Progress | None = None
    catalogue: dict[str, Operation] = field(default_factory=dict)

    async def call(self, op: Operation | str, params: Params | dict[str, Any], **kwargs: Any) -> Envelope:
        target = self.catalogue[op] if isinstance(op, str) else op
        if isinstance(params, dict):
            params = validate(target, params)
        return await self.client.call(target, params, **kwargs)

    async def report(self, done: float, total: float | None = None, message: str | None = None) -> None:
        if self.progress is not None:
            await self.progress(done, total, message)


# Top-level envelope fields that some operations return beside `data`.
_EXTRAS: dict[str, tuple[Any, Any]] = {
    "cursor": (
        str | None,
        f(
            "Paging cursor: pass it back as `cursor` for the next page; empty or absent on the last page.",
            "分页游标:作为cursor传回可取下一页;最后一页时为空或不返回。",
            None,
        ),
    ),
    "total": (int | None, f("Total number of items, when the API reports it.", "总数(API返回时)。", None)),
    "version": (int | None, f("Data version of the list.", "列表数据版本。", None)),
    "msg_ids": (
        list[int] | None,
        f(
            "IDs of the sent messages (returned when there is exactly one target).",
            "发送的消息ID(仅单个目标时返回)。",
            None,
        ),
    ),
}


@lru_cache(maxsize=512)
def output_model(op: Operation) -> type[BaseModel]:
    """The tool's result model: the envelope's `data`, typed, plus the extras the API returns."""
    fields: dict[str, Any] = {"data": (op.result | None, None)}
    for name in op.extras:
        fields[name] = _EXTRAS[name]
    camel = "".join(part.title() for part in op.name.split("_"))
    return create_model(f"{camel}Result", __base__=ApiModel, **fields)


def validate(op: Operation, arguments: dict[str, Any]) -> Params:
    try:
        return op.params.model_validate(arguments)
    except ValidationError as exc:
        raise errors.ArgumentError(_validation_message(exc)) from None


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            msg = "unknown argument (not in the tool's schema)"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts[:10]) + (f"; and {len(parts) - 10} more" if len(parts) > 10 else "")


def failure(tool: str, exc: errors.LanyingError, lang: str = "en") -> Outcome:
    err = errors.describe(exc, lang)
    return Outcome(False, {"error": err}, errors.error_text(tool, err))


def success(structured: dict[str, Any]) -> Outcome:
    return Outcome(True, structured, json.dumps(structured, ensure_ascii=False, indent=2))


async def execute(op: Operation, arguments: dict[str, Any] | None, ctx: CallContext) -> Outcome:
    """Validate, call, type the result; every failure becomes a structured error Outcome."""
    try:
        if arguments is not None and not isinstance(arguments, dict):
            raise errors.ArgumentError("arguments must be a JSON object")
        params = validate(op, arguments or {})
        if op.handler is not None:
            value = await op.handler(ctx, params)
            if isinstance(value, Outcome):  # a meta-tool that ran another tool returns that tool's outcome
                return value
            envelope = value if isinstance(value, Envelope) else Envelope(value, {})
        else:
            envelope = await ctx.client.call(op, params)
        return success(shape(op, envelope))
    except errors.LanyingError as exc:
        log.info("tool %s failed: code=%s", op.name, exc.code)
        return failure(op.name, exc, ctx.lang)
    except Exception:
        log.exception("tool %s crashed", op.name)
        return failure(
            op.name, errors.LanyingError("unexpected failure inside the server", code="internal_error"), ctx.lang
        )


def shape(op: Operation, envelope: Envelope) -> dict[str, Any]:
    """Typed structured content; an off-shape answer is an error that still carries the raw data."""
    model = output_model(op)
    raw = {"data": envelope.data, **{k: v for k, v in envelope.extras.items() if k in op.extras}}
    try:
        return model.model_validate(raw).model_dump(mode="json", by_alias=True, exclude_none=True)
    except ValidationError as exc:
        err = errors.InvalidResponse(
            "the call succeeded at Lanying but its data did not match the documented shape: "
            + _validation_message(exc),
            details={"raw": raw},
        )
        err.may_have_applied = not (op.hints.read_only)
        raise err from None
