"""Run one operation with raw arguments and return an Outcome: the pipeline of a call, and its one error boundary.

`execute` runs these stages in order; each is named for what it does and lives with its kind:

    resolve          checks.resolve: the call as resolved at the edge, or resolved here (validated params)
    allow            the operator's policy and the OAuth token's scopes, on the operation that really runs
    consent          checks.check_consent: a call that needs a human's yes runs only on its exact grant
    record first     trail: the audit entry and the journal entry, written before a write is sent (fail closed)
    send             a handler's steps, the batches of a split list (bulk), or one request (client.call)
    shape            call.shape / call.mask: the answer typed against the result model, secrets hidden
    name and diff    names.enrich (names beside IDs), trail.effects (what a write changed, its undo)
    close            trail.close_change, call.scrub (the token masked), the audit record closed

Every failure becomes the structured error of `error_text.describe`, with `may_have_applied` when a write
may have reached the API. It knows nothing of MCP: the server, the discovery meta-tools and the `call`
CLI all use it.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import anyio

from ..core import error_text, errors
from ..core.spec import Operation, Params
from ..safety import untrusted
from . import checks, names, recent, trail
from .call import CallContext, Outcome, failure, mask, prepare, scrub, shape, success, with_retry_key
from .client import Envelope
from .mentions import prune
from .resolved import Route

log = logging.getLogger("lanying_mcp")


async def execute(op: Operation, arguments: dict[str, Any] | None, ctx: CallContext) -> Outcome:
    """Validate, check policy, call, type the result, audit; every failure is a structured error Outcome."""
    entry: list[str] = []
    change: list[str] = []  # the change-journal entry opened before the write was sent
    deadline = ctx.client.settings.call_deadline
    raw: Outcome | None = None
    with anyio.move_on_after(deadline):
        raw = await _execute(op, arguments, ctx, entry, change)
    if raw is None:
        # Stopped mid-call: a write may have reached the API.
        late = errors.DeadlineExceeded(deadline, may_have_applied=True if _writes(op) else None)
        raw = failure(op.name, late, ctx.lang)
    if change and ctx.journal is not None:
        raw = await trail.close_change(ctx.journal, change[0], raw)
    outcome = scrub(raw, ctx.access_token or "")
    if not outcome.ok and ctx.catalogue:
        outcome = _reachable_hint(op, outcome, ctx)
    if outcome.ok and (marks := untrusted.meta(op, outcome.structured)):
        outcome.meta = {**(outcome.meta or {}), **marks}
    if ctx.audit is not None and not op.hints.read_only and not op.local:
        trail.record(ctx, op, arguments, outcome, entry=entry[0] if entry else None)
    return outcome


def _writes(op: Operation) -> bool:
    """Whether a call of `op` may change the app: a write, or a plan (whose steps may write)."""
    return not op.hints.read_only and (not op.local or op.plan)


def _reachable_hint(op: Operation, outcome: Outcome, ctx: CallContext) -> Outcome:
    """An error's next step names only tools this server can run."""
    raw = outcome.structured.get("error")
    if not isinstance(raw, dict):
        return outcome
    err = cast(dict[str, Any], raw)
    original = err.get("hint")
    if not isinstance(original, str):
        return outcome
    hint = prune(original, ctx.catalogue, ctx.operations)
    if hint == original:
        return outcome
    err = {**err, "hint": hint}
    return Outcome(False, {**outcome.structured, "error": err}, error_text.paragraph(op.name, err, ctx.lang))


async def _execute(
    op: Operation, arguments: dict[str, Any] | None, ctx: CallContext, audit: list[str], change: list[str]
) -> Outcome:
    """The call itself; the ids of the audit and journal entries opened before a write go to `audit`, `change`."""
    attempted = False
    try:
        # The annotation is what callers promise; JSON from a client or the command line may still differ.
        if arguments is not None and not isinstance(arguments, dict):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise errors.ArgumentError("arguments must be a JSON object")
        # The call as resolved at the edge (the gate's question and grant are about it), else resolved here:
        # usernames become user IDs before validation, as in the confirmation gate (usernames.py).
        resolved = ctx.resolved
        if resolved is None or not resolved.runs(op) or resolved.arguments != (arguments or {}):
            given = arguments or {}
            resolved = await checks.resolve(op, Route(ctx.client, given, op, given), given, ctx)
        if resolved.params is None:
            raise resolved.error or errors.ArgumentError("arguments could not be resolved")
        params = resolved.params
        if ctx.policy is not None:
            ctx.policy.check(op, params)
        if ctx.access is not None and (why := ctx.access.refusal(op, params, ctx.policy)):
            raise errors.ScopeMissing(why)  # decided on the operation that really runs, whatever the path
        found = await checks.check_consent(op, params, ctx, resolved)
        if ctx.audit is not None and not op.hints.read_only and not op.local:
            # Fail closed: a write whose intent cannot be logged first is not made (AuditUnavailable).
            audit.append(ctx.audit.begin(op.name, op.http_meta, arguments))
        # Fail closed too: a write is journaled before it is sent (JournalUnavailable). The entry is
        # written while the before-read is in flight; the write waits for both.
        before = await trail.read_before_and_open(op, params, ctx, arguments or {}, change)
        if ctx.state is not None and not op.hints.read_only:
            await recent.record(op, params, ctx)  # a rename keeps the name it replaces, for questions
        attempted = True  # from here on, a write may have reached the API
        if op.handler is not None:
            value = await op.handler(ctx, params)
            if isinstance(value, Outcome):  # a meta-tool that ran another tool returns that tool's outcome
                return value
            envelope = value if isinstance(value, Envelope) else Envelope(value, {})
            enriched = _capped_note(await names.enrich(op, shape(op, envelope), ctx, params), ctx)
            return success(
                await trail.effects(op, params, before, mask(op, enriched, ctx, found), ctx), paging=op.paging
            )
        if op.batch is not None:
            from . import bulk  # loaded by the first call that splits (start-up does without it)

            outcome = await bulk.run_batches(op, bulk.split(op, params) or [params], ctx)
            return await _named(op, await trail.bulk_effects(op, params, before, outcome, ctx), ctx, params)
        params, retry = prepare(op, params)
        try:
            structured = shape(op, await ctx.client.call(op, params, retry=retry))
            if ctx.state is not None and op.audience is not None:
                await recent.remember_users(op, structured, ctx)
            structured = await names.enrich(op, structured, ctx, params)  # names if settings.names; cleans text
            structured = await trail.effects(op, params, before, _capped_note(structured, ctx), ctx)
            return success(mask(op, structured, ctx, found), params=params, lang=ctx.lang, paging=op.paging)
        except errors.LanyingError as exc:
            if (keyed := with_retry_key(op, params, exc)) is None:
                raise
            raise keyed from exc
    except errors.LanyingError as exc:
        log.info("tool %s failed: code=%s", op.name, exc.code)
        return failure(op.name, exc, ctx.lang)
    except Exception:
        log.exception("tool %s crashed", op.name)
        # A write may have reached the API before the failure: never invite a blind retry.
        applied = True if attempted and _writes(op) else None
        crash = errors.LanyingError(
            "unexpected failure inside the server", code="internal_error", may_have_applied=applied
        )
        return failure(op.name, crash, ctx.lang)


async def _named(op: Operation, outcome: Outcome, ctx: CallContext, params: Params) -> Outcome:
    """A bulk call's rows, when inline, get names beside their IDs as any result does; its line stays."""
    if not outcome.ok or "data" not in outcome.structured or op.ids is None:
        return outcome
    structured = await names.enrich(op, dict(outcome.structured), ctx, params)
    if structured == outcome.structured:
        return outcome
    named = success(structured, outcome.text.partition("\n")[0] if "\n" in outcome.text else None, paging=op.paging)
    named.attachment, named.meta = outcome.attachment, outcome.meta
    return named


def _capped_note(structured: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Say so when the look-up cap stopped part of the work (names left out, a scan cut short)."""
    if not ctx.capped:
        return structured
    cap = ctx.client.settings.max_lookups
    note = (
        f"partial: this call reached the server's cap of {cap} look-up requests per call "
        "(LANYING_MAX_LOOKUPS), so some look-ups (names, scanned rows, checks) were skipped; ask for less per call "
        "to get them all"
        if ctx.lang != "zh"
        else f"结果不完整:此调用达到了每次调用{cap}次查询请求的上限(LANYING_MAX_LOOKUPS),部分名称或检查被省略;"
        "每次少取一些即可得到完整结果"
    )
    return {**structured, "warnings": [*structured.get("warnings", []), note]}
