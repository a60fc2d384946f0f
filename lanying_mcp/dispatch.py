"""Run one operation with raw arguments and return an Outcome: the single error boundary.

Everything a tool call can do goes through `execute`: argument validation, the operator's policy,
the HTTP call (split into batches when a list is larger than the API accepts, or a multi-step
handler), result typing, the audit record, and turning every failure into the structured error of
`errors.describe`. It knows nothing of MCP: the server, the discovery meta-tools and the `call` CLI
all use it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel, ValidationError, create_model
from pydantic_core import to_json

from . import errors
from .client import Envelope, LanyingClient
from .spec import ApiModel, Operation, Params, f

if TYPE_CHECKING:
    from .audit import AuditLog
    from .policy import Policy

log = logging.getLogger("lanying_mcp")

Progress = Callable[[float, float | None, str | None], Awaitable[None]]


@dataclass
class Outcome:
    ok: bool
    structured: dict[str, Any]
    text: str


@dataclass
class CallContext:
    """What a call may use: the client, the catalogue, progress reporting, policy and audit."""

    client: LanyingClient
    lang: str = "en"
    progress: Progress | None = None
    catalogue: dict[str, Operation] = field(default_factory=dict)
    policy: Policy | None = None
    audit: AuditLog | None = None

    async def call(self, op: Operation | str, params: Params | dict[str, Any]) -> Envelope:
        """One API call on behalf of a handler, with the same de-duplication and retry rules as a tool."""
        target = self.catalogue[op] if isinstance(op, str) else op
        if isinstance(params, dict):
            params = validate(target, params)
        params, retry = prepare(target, params)
        return await self.client.call(target, params, retry=retry)

    async def report(self, done: float, total: float | None = None, message: str | None = None) -> None:
        if self.progress is not None:
            await self.progress(done, total, message)


class BatchResult(ApiModel):
    index: int
    items: int
    ok: bool
    data: Any = None
    error: dict[str, Any] | None = None


# Top-level fields some results carry beside `data`: the envelope's paging extras, and batching.
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
    "batches": (
        list[BatchResult] | None,
        f("Per-batch outcomes, when split.", "拆分调用时每批的结果。", None),
    ),
    "failed_batches": (
        int | None,
        f("Failed batches (not applied).", "失败的批次数(未生效)。", None),
    ),
}


@lru_cache(maxsize=512)
def output_model(op: Operation) -> type[BaseModel]:
    """The tool's result model: the envelope's `data`, typed, plus the extras the API returns."""
    fields: dict[str, Any] = {"data": (op.result | None, None)}
    names = list(op.extras) + (["batches", "failed_batches"] if op.batch else [])
    for name in names:
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


def prepare(op: Operation, params: Params) -> tuple[Params, bool]:
    """Give sends a de-duplication key, and say whether the call is safe to retry.

    Reads and idempotent writes are safe. A send with a `transaction_id` is safe too: the API
    delivers a retried send with the same key once. Anything else is sent once, never repeated.
    """
    if "transaction_id" in type(params).model_fields and getattr(params, "transaction_id") is None:
        params = params.model_copy(update={"transaction_id": secrets.randbits(62)})
    keyed = getattr(params, "transaction_id", None) is not None
    return params, op.hints.read_only or op.hints.idempotent or keyed


def failure(tool: str, exc: errors.LanyingError, lang: str = "en") -> Outcome:
    err = errors.describe(exc, lang)
    return Outcome(False, {"error": err}, errors.error_text(tool, err))


def success(structured: dict[str, Any], text: str | None = None) -> Outcome:
    body = to_json(structured, indent=2).decode("utf-8")  # the same JSON as json.dumps, much faster on big results
    return Outcome(True, structured, f"{text}\n{body}" if text else body)


async def execute(op: Operation, arguments: dict[str, Any] | None, ctx: CallContext) -> Outcome:
    """Validate, check policy, call, type the result, audit; every failure is a structured error Outcome."""
    outcome = scrub(await _execute(op, arguments, ctx), ctx.client.settings.access_token.get_secret_value())
    if ctx.audit is not None and not op.hints.read_only and not op.local:
        record(ctx, op, arguments, outcome)
    return outcome


def scrub(outcome: Outcome, secret: str) -> Outcome:
    """Mask the access token wherever the API (or anything else) echoed it into a result."""
    if len(secret) < 6 or secret not in outcome.text:
        return outcome  # the text holds the structured content too, so this check covers both

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(secret, "[redacted]")
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return Outcome(outcome.ok, clean(outcome.structured), clean(outcome.text))


def record(ctx: CallContext, op: Operation, arguments: Any, outcome: Outcome, note: str | None = None) -> None:
    if ctx.audit is None:
        return
    code = outcome.structured.get("error", {}).get("code") if not outcome.ok else None
    if outcome.ok and outcome.structured.get("failed_batches"):
        note = note or f"{outcome.structured['failed_batches']} batch(es) failed"
    ctx.audit.record(op.name, op.http_meta, arguments, outcome.ok, code, note)


async def _execute(op: Operation, arguments: dict[str, Any] | None, ctx: CallContext) -> Outcome:
    try:
        if arguments is not None and not isinstance(arguments, dict):
            raise errors.ArgumentError("arguments must be a JSON object")
        params = validate(op, arguments or {})
        if ctx.policy is not None:
            ctx.policy.check(op, params)
        if op.handler is not None:
            value = await op.handler(ctx, params)
            if isinstance(value, Outcome):  # a meta-tool that ran another tool returns that tool's outcome
                return value
            envelope = value if isinstance(value, Envelope) else Envelope(value, {})
            return success(shape(op, envelope))
        if op.batch is not None and (split := _split(op, params)) is not None:
            return await _run_batches(op, split, ctx)
        params, retry = prepare(op, params)
        try:
            return success(shape(op, await ctx.client.call(op, params, retry=retry)))
        except errors.LanyingError as exc:
            exc.retry_key = getattr(params, "transaction_id", None)  # type: ignore[attr-defined]
            raise
    except errors.LanyingError as exc:
        log.info("tool %s failed: code=%s", op.name, exc.code)
        return failure(op.name, exc, ctx.lang)
    except Exception:
        log.exception("tool %s crashed", op.name)
        return failure(
            op.name, errors.LanyingError("unexpected failure inside the server", code="internal_error"), ctx.lang
        )


def _split(op: Operation, params: Params) -> list[Params] | None:
    """The per-batch params when a list argument is larger than one call may carry, else None."""
    assert op.batch is not None
    for name in op.batch.fields:
        items = getattr(params, name, None)
        if items and len(items) > op.batch.size:
            size = op.batch.size
            return [params.model_copy(update={name: list(items[i : i + size])}) for i in range(0, len(items), size)]
    return None


async def _run_batches(op: Operation, parts: list[Params], ctx: CallContext) -> Outcome:
    assert op.batch is not None
    results: list[BatchResult | None] = [None] * len(parts)
    done = 0
    limiter = anyio.CapacityLimiter(op.batch.concurrency)
    sizes = [len(getattr(p, name) or []) for p in parts for name in op.batch.fields if getattr(p, name, None)]

    async def one(index: int, params: Params) -> None:
        nonlocal done
        async with limiter:
            try:
                params, retry = prepare(op, params)
                env = await ctx.client.call(op, params, retry=retry)
                results[index] = BatchResult(index=index, items=sizes[index], ok=True, data=env.data)
            except errors.LanyingError as exc:
                results[index] = BatchResult(
                    index=index, items=sizes[index], ok=False, error=errors.describe(exc, ctx.lang)
                )
            done += 1
            await ctx.report(done, len(parts), f"{op.name}: {done}/{len(parts)} batches")

    async with anyio.create_task_group() as tg:
        for index, params in enumerate(parts):
            tg.start_soon(one, index, params)
    batches = [r for r in results if r is not None]
    failed = [b for b in batches if not b.ok]
    if len(failed) == len(batches):
        first = failed[0].error or {}
        exc = errors.LanyingError(
            f"all {len(batches)} batches failed; first: {first.get('message', '')}",
            code=first.get("code", "error"),
            details={"batches": [b.model_dump() for b in batches]},
        )
        exc.retryable = bool(first.get("retryable"))
        return failure(op.name, exc, ctx.lang)
    ok_data = [b.data for b in batches if b.ok]
    if all(isinstance(d, list) for d in ok_data):
        # Per-item results: merged into `data`, so each batch need not carry its own copy.
        merged: Any = [item for data in ok_data for item in data]
        for b in batches:
            b.data = None
    else:
        merged = ok_data[0]  # e.g. push task IDs: each batch keeps its own
    structured = {"data": merged, "batches": batches, "failed_batches": len(failed)}
    text = (
        f"PARTIAL: {len(failed)} of {len(batches)} batches failed; their items were not applied."
        if failed
        else f"All {len(batches)} batches succeeded."
    )
    return success(output_model(op).model_validate(structured).model_dump(mode="json", exclude_none=True), text)


def shape(op: Operation, envelope: Envelope) -> dict[str, Any]:
    """Typed structured content. A success whose data is off-shape is still a success: the write may
    have taken effect, and an error would invite the model to repeat it. Its data comes back as sent
    in `raw_data`, with `warnings`: extra top-level fields that every result model allows, kept out
    of the declared schema (where `data`'s documented type would reject them) and of the listing budget.
    """
    model = output_model(op)
    extras = {k: v for k, v in envelope.extras.items() if k in op.extras}
    try:
        return model.model_validate({"data": envelope.data, **extras}).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    except ValidationError as exc:
        what = _validation_message(exc)
    try:
        out = model.model_validate(extras).model_dump(mode="json", by_alias=True, exclude_none=True)
    except ValidationError:
        out = {}  # the paging extras are off-shape too: they stay in raw_data's neighbour below
        extras_raw = extras
    else:
        extras_raw = {}
    warning = (
        "the call succeeded, but its data did not match the documented shape ("
        + errors.excerpt(what, 300)
        + "); it is given unchanged in raw_data"
    )
    out.update({"raw_data": envelope.data, "warnings": [warning]})
    if extras_raw:
        out["warnings"].append("unexpected envelope fields: " + errors.excerpt(to_json(extras_raw).decode(), 300))
    return out
