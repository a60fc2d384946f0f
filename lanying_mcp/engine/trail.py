"""What a call leaves behind, around the request it sends: the audit record, the change journal's
entry (opened before a write is sent, closed with its outcome), the write's targets as read before it,
and, after it, what it changed (`changes`) and whether it can be taken back (`undo`).

`dispatch` calls these as stages of its pipeline; each fails closed where the record must come first (an
audit entry that cannot be written, a journal that cannot open its entry: the write is not sent).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import anyio
from pydantic_core import to_json

from ..core.spec import Operation, Params
from . import changes, names
from .call import CallContext, Outcome, success

if TYPE_CHECKING:
    from .journal import Journal

log = logging.getLogger("lanying_mcp")


def record(
    ctx: CallContext, op: Operation, arguments: Any, outcome: Outcome, note: str | None = None, entry: str | None = None
) -> None:
    """The outcome in the audit log: closing the entry `begin` opened, or alone for a call refused before it."""
    if ctx.audit is None:
        return
    code = outcome.structured.get("error", {}).get("code") if not outcome.ok else None
    summary: dict[str, Any] = outcome.structured.get("summary") or {}
    if outcome.ok and outcome.structured.get("failed_batches"):
        note = note or f"{outcome.structured['failed_batches']} batch(es) failed"
    elif outcome.ok and summary.get("failed"):  # a bulk summary: items refused or in failed batches
        note = note or f"{summary['failed']} of {summary.get('items')} item(s) failed"
    if entry is not None:
        ctx.audit.finish(entry, op.name, op.http_meta, arguments, outcome.ok, code, note)
        return
    try:
        ctx.audit.record(op.name, op.http_meta, arguments, outcome.ok, code, note)
    except OSError as exc:  # nothing was sent for this call; say so in the log, never crash the call
        log.warning("audit log could not record a refused %s call: %s", op.name, exc.strerror)


def journal_targets(op: Operation, params: Params, ctx: CallContext) -> list[dict[str, Any]]:
    """What a write is aimed at, from its declared arguments (`op.named`): the group and users it names, with
    names already known."""
    found: list[dict[str, Any]] = []
    group = getattr(params, op.named.group, None) if op.named.group else None
    if isinstance(group, int):
        found.append({"kind": "group", "id": group, "name": names.known(ctx, "g", [group]).get(group)})
    ids: list[int] = []
    for key in (op.named.user, op.named.users):
        value = getattr(params, key, None) if key else None
        items = cast(list[Any], value)[:100] if isinstance(value, list) else [value]  # 100 are named at most
        ids += [u for u in items if isinstance(u, int)]
    known: dict[int, dict[str, str]] = names.known(ctx, "u", ids[:100])
    found += [{"kind": "user", "id": u, "name": known.get(u, {}).get("username")} for u in ids[:100]]
    if not found and op.effect is not None:
        found.append({"kind": op.effect.target.value, "id": None, "name": None})
    return found


async def read_before_and_open(
    op: Operation, params: Params, ctx: CallContext, arguments: dict[str, Any], change: list[str]
) -> Any:
    """The before-read, and the journal entry of a write (its ID to `change`), at once; the before-state.

    Either failing fails the call before anything is sent: the entry, if written, is then closed `failed`."""
    journal = ctx.journal
    if journal is None or op.hints.read_only or op.local:
        return await read_before(op, params, ctx)

    async def open_entry() -> None:
        change.append(
            await journal.open(
                tool=op.name,
                arguments=arguments,
                targets=journal_targets(op, params, ctx),
                changes=[],
                inverse=None,
                undoes=ctx.undoes,
                plan_id=ctx.plan_id,
            )
        )

    if op.effect is None or getattr(ctx, "before", None) is not None:  # no read to overlap
        await open_entry()
        return await read_before(op, params, ctx)
    got: dict[str, Any] = {}
    failed: list[Exception] = []

    async def read() -> None:
        try:
            got["before"] = await read_before(op, params, ctx)
        except Exception as exc:
            failed.append(exc)

    async def opened() -> None:
        try:
            await open_entry()
        except Exception as exc:
            failed.insert(0, exc)  # the journal's refusal is the reason given first

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)  # first: its request goes out, then the entry is written while it is answered
        tg.start_soon(opened)
    if failed:
        raise failed[0]
    return got.get("before")


async def read_before(op: Operation, params: Params, ctx: CallContext) -> Any:
    """The write's targets as read before it (changes.py); None for reads, local tools, creates and sends."""
    if op.hints.read_only or op.local or op.effect is None:
        return None
    # A slow read must not use up the write's own time: after a quarter of the deadline the write goes
    # ahead with its before-values unknown.
    with anyio.move_on_after(ctx.client.settings.call_deadline / 4):
        return await changes.read_before(op, params, ctx)
    return None


async def close_change(journal: Journal, change_id: str, raw: Outcome) -> Outcome:
    """Close the write's journal entry with its outcome; an applied write's result carries its `change_id`."""
    if raw.ok:
        state, error = "applied", None
    else:
        err: dict[str, Any] = raw.structured.get("error") or {}
        state = "unknown" if raw.may_have_applied else "failed"
        error = f"{err.get('code')}: {err.get('message')}"
    found: Any = raw.structured.get("changes") if raw.ok else None
    changes = cast(list[dict[str, Any]], found) if isinstance(found, list) else None
    # The write happened: its entry is closed even if the call is cancelled. The close itself runs after
    # the answer is on its way (close_later); until then the entry reads `unknown`, which is true.
    with anyio.CancelScope(shield=True):
        await journal.close_later(change_id, outcome=state, changes=changes, error=error, result=raw.structured)
    if not raw.ok:
        return raw
    structured = {**raw.structured, "change_id": change_id}
    body = to_json(raw.structured).decode("utf-8")
    text = raw.text[: -len(body)] + to_json(structured).decode("utf-8") if raw.text.endswith(body) else raw.text
    return Outcome(True, structured, text, raw.attachment, raw.meta)


async def effects(
    op: Operation, params: Params, before: Any, structured: dict[str, Any], ctx: CallContext
) -> dict[str, Any]:
    """An applied write's result gains what it changed (`changes`) and whether it can be taken back (`undo`)."""
    if op.hints.read_only or op.local or op.effect is None:
        return structured
    ctx.reads.clear()  # what was read before this write is stale now
    found = await changes.revealed(op, params, ctx, before)
    journaled = ctx.journal is not None
    return changes.with_effects(op, params, before, structured, ctx.lang, ctx.catalogue or None, journaled, found)


async def bulk_effects(op: Operation, params: Params, before: Any, outcome: Outcome, ctx: CallContext) -> Outcome:
    if not outcome.ok:
        return outcome
    structured = await effects(op, params, before, outcome.structured, ctx)
    done = success(structured, outcome.text.partition("\n")[0] if "\n" in outcome.text else None, paging=op.paging)
    done.attachment, done.meta = outcome.attachment, outcome.meta
    return done
