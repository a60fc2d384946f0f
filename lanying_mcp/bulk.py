"""Bulk calls: a list larger than the API accepts is split into batches, and the answer is summarised.

The batches run at most `Batch.concurrency` at a time; a failed batch does not lose the others. A result
with per-item rows stays inline while it is small; beyond that the model gets counts, the failed items
with their codes and a username → ID map, and the full rows travel as the Outcome's attachment, which
the server stores behind a resource link (see results.py and sdk.to_result).
"""

from __future__ import annotations

from typing import Any, cast

import anyio
from pydantic import ValidationError
from pydantic_core import to_json

from . import errors
from .client import Envelope
from .dispatch import (
    BatchResult,
    BulkSummary,
    CallContext,
    Outcome,
    failure,
    output_model,
    prepare,
    shape,
    success,
)
from .spec import Operation, Params


def split(op: Operation, params: Params) -> list[Params] | None:
    """The per-batch params when a list argument is larger than one call may carry, else None."""
    assert op.batch is not None
    for name in op.batch.fields:
        items = getattr(params, name, None)
        if items and len(items) > op.batch.size:
            size = op.batch.size
            return [params.model_copy(update={name: list(items[i : i + size])}) for i in range(0, len(items), size)]
    return None


# A bulk result's per-item rows stay inline while they fit this; beyond, the model gets a summary and
# the rows go behind a link. The caps keep a summary well under 8 KB of text, whatever the list size.
INLINE_BYTES = 4096
FAILED_ROWS, FAILED_ROW_BYTES, REASONS, FAILED_BATCHES, CREATED_BYTES = 20, 2000, 5, 5, 2500


async def run_batches(op: Operation, parts: list[Params], ctx: CallContext) -> Outcome:
    """Send each batch (at most `concurrency` at once) and sum up; one part is one plain call.

    A failed batch does not lose the others. Per-item rows are checked for shape (a list of objects)
    but not typed one by one: for 10,000 rows that cost more than all the API calls.
    """
    assert op.batch is not None
    if len(parts) == 1:  # not split: its failure is the call's failure, as for any tool
        params, retry = prepare(op, parts[0])
        try:
            envelope = await ctx.client.call(op, params, retry=retry)
        except errors.LanyingError as exc:
            exc.retry_key = getattr(params, "transaction_id", None)  # type: ignore[attr-defined]
            raise
        if _rows(envelope.data) is None:
            return success(shape(op, envelope), lang=ctx.lang)
        return _bulk_outcome(op, envelope.data, [], ctx.lang)
    results: list[BatchResult | None] = [None] * len(parts)
    done = 0
    limiter = anyio.CapacityLimiter(op.batch.concurrency)
    sizes = [len(getattr(p, name) or []) for p in parts for name in op.batch.fields if getattr(p, name, None)]

    async def one(index: int, params: Params) -> None:
        nonlocal done
        async with limiter:
            result = BatchResult(index=index, items=sizes[index], ok=True)
            try:
                params, retry = prepare(op, params)
                result.data = (await ctx.client.call(op, params, retry=retry)).data
            except errors.LanyingError as exc:
                result.ok, result.error = False, errors.describe(exc, ctx.lang)
            results[index] = result
            done += 1
            await ctx.report(done, len(parts), f"{op.name}: {done}/{len(parts)} batches")

    async with anyio.create_task_group() as tg:
        for index, params in enumerate(parts):
            tg.start_soon(one, index, params)
    batches = [r for r in results if r is not None]
    failed = [b for b in batches if not b.ok]
    if len(failed) == len(batches):
        first = failed[0].error or {}
        codes: dict[str, int] = {}
        for b in failed:
            code = str((b.error or {}).get("code", "error"))
            codes[code] = codes.get(code, 0) + 1
        exc = errors.LanyingError(
            f"all {len(batches)} batches failed; first: {first.get('message', '')}",
            code=first.get("code", "error"),
            details={"batches": len(batches), "codes": codes},
        )
        exc.retryable = bool(first.get("retryable"))
        return failure(op.name, exc, ctx.lang)
    rows = [_rows(b.data) for b in batches if b.ok]
    if any(r is None for r in rows):  # not per-item rows (e.g. push task IDs): every batch keeps its own
        data = next(b.data for b in batches if b.ok)
        structured = {"data": data, "batches": batches, "failed_batches": len(failed)}
        try:
            shaped = output_model(op).model_validate(structured).model_dump(mode="json", exclude_none=True)
        except ValidationError:  # off the documented shape: given as sent, as for an unsplit call
            dumped = [b.model_dump(mode="json", exclude_none=True) for b in batches]
            shaped = {**shape(op, Envelope(data, {})), "batches": dumped, "failed_batches": len(failed)}
        return success(shaped, _batch_line(len(batches), len(failed), ctx.lang))
    for b in batches:
        b.data = None  # the rows are merged into `data`: no batch carries its own copy
    return _bulk_outcome(op, [item for r in rows for item in (r or [])], batches, ctx.lang)


def _rows(data: Any) -> list[dict[str, Any]] | None:
    """Per-item rows (a list of objects), or None when the answer is something else."""
    if not isinstance(data, list):
        return None
    items = cast(list[Any], data)
    if all(isinstance(item, dict) for item in items):
        return cast(list[dict[str, Any]], items)
    return None


def _batch_line(total: int, failed: int, lang: str) -> str:
    if lang == "zh":
        return f"部分失败:{total}批中{failed}批失败,其中各项未生效。" if failed else f"全部{total}批成功。"
    return (
        f"PARTIAL: {failed} of {total} batches failed; their items were not applied."
        if failed
        else (f"All {total} batches succeeded.")
    )


def _failed_row(row: dict[str, Any]) -> bool:
    """A row the API refused: `success: false` (registration) or a `result` other than success (invitations)."""
    result = row.get("result")
    if result == "success":  # the common row, decided without a second look-up
        return row.get("success") is False
    if row.get("success") is False:
        return True
    return isinstance(result, str) and result.lower() != "success"


def _bulk_outcome(op: Operation, rows: list[dict[str, Any]], batches: list[BatchResult], lang: str) -> Outcome:
    """The rows inline when they fit; otherwise counts, the failures, a username → ID map, and an attachment."""
    failed_batches = [b for b in batches if not b.ok]
    full: dict[str, Any] = {"data": rows}
    if batches:
        full.update(batches=[b.model_dump(exclude_none=True) for b in batches], failed_batches=len(failed_batches))
    attachment = to_json(full).decode("utf-8")
    if not batches and len(attachment) <= INLINE_BYTES:
        return success(output_model(op).model_validate(full).model_dump(mode="json", by_alias=True, exclude_none=True))
    bad = [row for row in rows if _failed_row(row)]
    not_applied = sum(b.items for b in failed_batches)
    summary = BulkSummary(items=len(rows) + not_applied, succeeded=len(rows) - len(bad), failed=len(bad) + not_applied)
    if bad:
        summary.failed_items = _capped(bad, FAILED_ROWS, FAILED_ROW_BYTES)
        reasons: dict[str, int] = {}
        for row in bad:
            reason = str(row.get("reason") or row.get("result") or "unknown")[:100]
            reasons[reason] = reasons.get(reason, 0) + 1
        summary.failure_reasons = dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:REASONS])
    summary.created = _created(rows) or None
    if failed_batches:
        summary.failed_batches = [
            {**b.model_dump(exclude={"data", "error"}), "error": _brief_error(b.error)}
            for b in failed_batches[:FAILED_BATCHES]
        ]
    structured: dict[str, Any] = {"summary": summary.model_dump(exclude_none=True)}
    line = _bulk_line(summary, len(summary.created or ()), len(batches), len(failed_batches), lang)
    outcome = success(structured, line)
    outcome.attachment = attachment
    return outcome


def _capped(rows: list[dict[str, Any]], most: int, budget: int) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    used = 0
    for row in rows[:most]:
        used += len(to_json(row))
        if used > budget:
            break
        kept.append(row)
    return kept


def _created(rows: list[dict[str, Any]]) -> dict[str, int]:
    """username → user_id of the rows that created a user, first ones up to a byte budget."""
    created: dict[str, int] = {}
    used = 0
    for row in rows:
        name = row.get("username")
        if name is None:  # invitations carry no usernames: nothing was created
            continue
        uid = row.get("user_id")
        if isinstance(name, str) and isinstance(uid, int) and not _failed_row(row):
            used += len(name.encode("utf-8")) + len(str(uid)) + 4
            if used > CREATED_BYTES:
                break
            created[name] = uid
    return created


def _brief_error(error: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (error or {}).items() if k in ("code", "message", "retryable")}


def _bulk_line(counts: BulkSummary, created: int, batches: int, failed_batches: int, lang: str) -> str:
    """The summary sentence: what happened to how many, and where the rest of the answer is."""
    made = counts.succeeded if created else 0
    if lang == "zh":
        line = f"{counts.items}项:{counts.succeeded}项成功,{counts.failed}项失败"
        line += f"({batches}批中{failed_batches}批失败,其中各项未生效)" if failed_batches else ""
        line += "。"
        if made and created < made:
            line += f"summary.created列出前{created}个用户名→user_id。"
        return line
    line = f"{counts.items} items: {counts.succeeded} succeeded, {counts.failed} failed"
    line += f" ({failed_batches} of {batches} batches failed; their items were not applied)" if failed_batches else ""
    line += "."
    if made and created < made:
        line += f" summary.created lists the first {created} username → user_id pairs."
    return line
