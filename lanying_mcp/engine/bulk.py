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

from ..core import error_text, errors
from ..core.spec import Operation, Params
from .call import (
    BatchResult,
    BulkFailure,
    BulkSummary,
    CallContext,
    Outcome,
    failure,
    output_model,
    prepare,
    shape,
    success,
    with_retry_key,
)
from .client import Envelope


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
# the rows go behind a link. A summary's JSON stays within SUMMARY_BYTES (its text adds one sentence and
# the link), whatever the list size: each failure reason gets a fair share of FAILURE_BYTES for its IDs,
# rarest first, so a reason with two IDs is never crowded out by one with thousands.
INLINE_BYTES = 4096
SUMMARY_BYTES = 7000
FAILURE_BYTES, NAME_BYTES, CREATED_BYTES = 4400, 1200, 1500
REASONS, FAILED_BATCHES, REASON_CHARS = 12, 5, 120
NAMED = 50  # user IDs a summary names at most: what NAME_BYTES holds


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
            if (keyed := with_retry_key(op, params, exc)) is None:
                raise
            raise keyed from exc
        if _rows(envelope.data) is None:
            return success(shape(op, envelope), lang=ctx.lang, paging=op.paging)
        return await _bulk_outcome(op, envelope.data, [], parts, ctx)
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
                result.ok, result.error = False, error_text.describe(exc, ctx.lang)
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
            retryable=bool(first.get("retryable")),
        )
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
    merged: list[dict[str, Any]] = []
    for r in rows:
        merged.extend(r or ())
    return await _bulk_outcome(op, merged, batches, parts, ctx)


def _rows(data: Any) -> list[dict[str, Any]] | None:
    """Per-item rows (a list of objects), or None when the answer is something else."""
    if not isinstance(data, list):
        return None
    items = cast(list[Any], data)
    if set(map(type, items)) <= {dict}:  # one C-speed pass over thousands of rows
        return cast(list[dict[str, Any]], items)
    if all(isinstance(item, dict) for item in items):  # subclasses of dict
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


async def _bulk_outcome(
    op: Operation, rows: list[dict[str, Any]], batches: list[BatchResult], parts: list[Params], ctx: CallContext
) -> Outcome:
    """The rows inline when they fit; otherwise counts, the failures by reason with their IDs, and an attachment."""
    failed_batches = [b for b in batches if not b.ok]
    full: dict[str, Any] = {"data": rows}
    if batches:
        full.update(batches=[b.model_dump(exclude_none=True) for b in batches], failed_batches=len(failed_batches))
    attachment = to_json(full).decode("utf-8")
    if not batches and len(attachment) <= INLINE_BYTES:
        structured = output_model(op).model_validate(full).model_dump(mode="json", by_alias=True, exclude_none=True)
        return success(structured, paging=op.paging)
    # The common row (`result: success`, no `success: false`) is passed over without a function call.
    bad = [row for row in rows if (row.get("result") != "success" or "success" in row) and _failed_row(row)]
    not_applied = sum(b.items for b in failed_batches)
    summary = BulkSummary(items=len(rows) + not_applied, succeeded=len(rows) - len(bad), failed=len(bad) + not_applied)
    groups = _reasons(bad, [(b, parts[b.index]) for b in failed_batches], op)
    names = await _names(groups, ctx) if groups else {}
    summary.created = _created(rows) or None
    if failed_batches:
        summary.failed_batches = [
            {**b.model_dump(exclude={"data", "error"}), "error": _brief_error(b.error)}
            for b in failed_batches[:FAILED_BATCHES]
        ]
    budget = FAILURE_BYTES
    while True:  # IDs and names up to the budget; shrink it in the rare case long names overflow the summary
        summary.failures, summary.users = _listed(groups, names, budget)
        structured: dict[str, Any] = {"summary": summary.model_dump(exclude_none=True)}
        line = _bulk_line(summary, len(summary.created or ()), len(batches), len(failed_batches), ctx.lang)
        if budget < 200 or len(to_json(structured)) + len(line.encode("utf-8")) <= SUMMARY_BYTES:
            break
        budget = budget * 2 // 3
    outcome = success(structured, line)
    outcome.attachment = attachment
    return outcome


class _Reason:
    """The failed items of one reason, in the order the API answered."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.user_ids: list[int] = []
        self.usernames: list[str] = []
        self.count = 0

    def add(self, item: Any) -> None:
        self.count += 1
        if isinstance(item, int) and not isinstance(item, bool):
            self.user_ids.append(item)
        elif isinstance(item, str):
            self.usernames.append(item)


def _reasons(bad: list[dict[str, Any]], failed: list[tuple[BatchResult, Params]], op: Operation) -> list[_Reason]:
    """Failed rows and the items of failed batches, grouped by reason; most common first, at most REASONS.

    Reasons beyond REASONS (rare on a real API, whose reasons are a few error codes) are folded into one.
    """
    by: dict[str, _Reason] = {}
    for row in bad:
        reason = str(row.get("reason") or row.get("result") or "unknown")[:REASON_CHARS]
        uid = row.get("user_id")
        by.setdefault(reason, _Reason(reason)).add(uid if isinstance(uid, int) else row.get("username"))
    assert op.batch is not None
    for batch, params in failed:
        err = batch.error or {}
        reason = f"{err.get('code', 'error')} {err.get('message', '')}".strip()[: REASON_CHARS - 20]
        group = by.setdefault(reason + " (batch not applied)", _Reason(reason + " (batch not applied)"))
        for name in op.batch.fields:
            for item in getattr(params, name, None) or ():
                group.add(item if isinstance(item, (int, str)) else getattr(item, "username", None))
    ordered = sorted(by.values(), key=lambda g: -g.count)
    if len(ordered) > REASONS:
        rest = _Reason(f"{len(ordered) - REASONS + 1} other reasons")
        for g in ordered[REASONS - 1 :]:
            rest.count += g.count
            rest.user_ids += g.user_ids
            rest.usernames += g.usernames
        ordered = [*ordered[: REASONS - 1], rest]
    return ordered


async def _names(groups: list[_Reason], ctx: CallContext) -> dict[int, dict[str, str]]:
    """Names of the user IDs a summary can list (when names are on); a failed look-up leaves them out."""
    if not ctx.client.settings.names:
        return {}
    wanted: list[int] = []
    for g in sorted(groups, key=lambda g: g.count):  # rarest first: theirs are named first
        wanted += g.user_ids[:NAMED]
    # The look-up acts as the first of the users it names: one of the most common reason is likeliest to
    # exist (a rare reason is often "user does not exist").
    common = max(groups, key=lambda g: g.count).user_ids[:1]
    wanted = common + [uid for uid in wanted if uid not in common]
    from . import names

    return await names.users(ctx, wanted[:NAMED])  # one look-up call of the API at most


def _listed(
    groups: list[_Reason], names: dict[int, dict[str, str]], budget: int
) -> tuple[list[BulkFailure] | None, dict[str, dict[str, str]] | None]:
    """Each reason with as many of its IDs as `budget` bytes allow, and the names of those IDs.

    The rarest reason is served first and each gets a fair share of what is left, so every reason with
    a few items lists them all and the large ones fill the rest.
    """
    if not groups:
        return None, None
    shown: dict[int, tuple[list[int], list[str]]] = {}
    left = budget - sum(len(g.reason) + 60 for g in groups)
    order = sorted(range(len(groups)), key=lambda i: groups[i].count)
    for n, i in enumerate(order):
        share = max(left, 0) // (len(order) - n)
        used = 0
        ids: list[int] = []
        usernames: list[str] = []
        for uid in groups[i].user_ids:
            used += len(str(uid)) + 1
            if used > share:
                break
            ids.append(uid)
        for name in groups[i].usernames if used <= share else ():
            used += len(to_json(name)) + 1
            if used > share:
                break
            usernames.append(name)
        used = min(used, share)
        shown[i] = (ids, usernames)
        left -= used
    users: dict[str, dict[str, str]] = {}
    named = 0
    for i in order:  # names of the listed IDs, rarest reason first, up to NAME_BYTES scaled like the IDs
        for uid in shown[i][0]:
            entry = names.get(uid)
            if entry is None:
                continue
            named += len(to_json(entry)) + len(str(uid)) + 4
            if named > NAME_BYTES * budget // FAILURE_BYTES:
                break
            users[str(uid)] = entry
    failures = [
        BulkFailure(
            reason=g.reason,
            count=g.count,
            user_ids=shown[i][0] or None,
            usernames=shown[i][1] or None,
            more=g.count - len(shown[i][0]) - len(shown[i][1]),
        )
        for i, g in enumerate(groups)
    ]
    return failures, users or None


def _created(rows: list[dict[str, Any]]) -> dict[str, int]:
    """username → user_id of the rows that created a user, first ones up to a byte budget."""
    created: dict[str, int] = {}
    used = 0
    for row in [row for row in rows if "username" in row]:  # invitations carry none: nothing was created
        name = row["username"]
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
    """The summary sentence: what happened to how many, why they failed, and where the rest of the answer is."""
    made = counts.succeeded if created else 0
    failures = counts.failures or []
    more = sum(f.more for f in failures)
    if lang == "zh":
        line = f"{counts.items}项:{counts.succeeded}项成功,{counts.failed}项失败"
        line += f"({batches}批中{failed_batches}批失败,其中各项未生效)" if failed_batches else ""
        if failures:
            line += ":" + ";".join(f"{f.count}项「{f.reason[:60]}」" for f in failures)
        line += "。"
        if failures:
            line += "summary.failures按原因列出失败项的ID"
            line += f",另有{more}项未列出,见full_result。" if more else "(全部列出)。"
        if made and created < made:
            line += f"summary.created列出前{created}个用户名→user_id。"
        return line
    line = f"{counts.items} items: {counts.succeeded} succeeded, {counts.failed} failed"
    line += f" ({failed_batches} of {batches} batches failed; their items were not applied)" if failed_batches else ""
    if failures:
        line += ": " + "; ".join(f"{f.count} × {f.reason[:60]}" for f in failures)
    line += "."
    if failures:
        line += " summary.failures lists the failed IDs by reason"
        line += f", and {more} more not listed there are in full_result." if more else " (all of them)."
    if made and created < made:
        line += f" summary.created lists the first {created} username → user_id pairs."
    return line
