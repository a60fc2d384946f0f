"""Run one operation with raw arguments and return an Outcome: the single error boundary.

Everything a tool call can do goes through `execute`: argument validation, the operator's policy,
the HTTP call (split into batches when a list is larger than the API accepts, or a multi-step
handler), result typing, the audit record, and turning every failure into the structured error of
`error_text.describe`. It knows nothing of MCP: the server, the discovery meta-tools and the `call` CLI
all use it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import anyio
from pydantic_core import to_json

from ..core import error_text, errors
from ..core.spec import Operation, Params, Risk
from ..safety import consent, untrusted
from . import names, recent, usernames
from .call import CallContext, Outcome, failure, mask, prepare, scrub, shape, success, validate
from .client import Envelope
from .mentions import prune
from .resolved import ResolvedCall, Route

if TYPE_CHECKING:
    from .journal import Journal

log = logging.getLogger("lanying_mcp")


async def resolve(op: Operation, route: Route, given: Mapping[str, Any], ctx: CallContext) -> ResolvedCall:
    """The call resolved once: its target's arguments validated (usernames turned into user IDs first), whether
    the policy and the token's scopes allow it, its risks and, when a yes is needed, its fingerprint.

    Nothing here raises: arguments that do not validate are kept as the `error` the call reports. A delivery
    to groups counts their members when a yes may be asked: they are read unless the call's grant covers it."""
    target = route.target
    if target is None:
        return ResolvedCall(op, given, route)
    try:
        params = validate(target, await usernames.resolve(target, route.target_arguments, ctx))
    except Exception as exc:  # the call reports it before anything is sent
        return ResolvedCall(op, given, route, error=exc)
    allowed = True
    if ctx.policy is not None:
        try:
            ctx.policy.check(target, params)
        except errors.LanyingError:
            allowed = False
    if allowed and ctx.access is not None and ctx.access.refusal(target, params, ctx.policy):
        allowed = False
    call: str | None = None
    sizes = None
    if ctx.confirm and allowed and consent.needs_sizes(target, params, ctx.policy):
        call = consent.fingerprint(target, params) if ctx.grant.calls else None
        if call is None or not ctx.grant.has(call):
            sizes = await names.group_sizes(target, params, ctx)
    found = consent.risks(target, params, ctx.policy, sizes) if not target.local else ()
    if call is None and ctx.confirm and (found or target.expands is not None):
        call = consent.fingerprint(target, params)
    return ResolvedCall(op, given, route, params, allowed=allowed, risks=found, fingerprint=call)


async def check_consent(
    op: Operation, params: Params, ctx: CallContext, resolved: ResolvedCall | None = None
) -> tuple[Risk, ...]:
    """Refuse a call that needs a human's yes and carries none (fail closed, whatever path led here).

    The call's risks and fingerprint are those it was resolved with (`resolve`): its grant must hold exactly
    that fingerprint. A delivery to groups counts their members: they are read unless the call's yes already
    covers it."""
    confirm = ctx.confirm
    if resolved is not None and resolved.params is params:
        found = resolved.risks
        covered = resolved.fingerprint is not None and ctx.grant.has(resolved.fingerprint)
    else:
        sizes = None
        if confirm and consent.needs_sizes(op, params, ctx.policy) and not ctx.grant.covers(op, params):
            sizes = await names.group_sizes(op, params, ctx)
        found = consent.risks(op, params, ctx.policy, sizes)
        covered = not (found and confirm) or ctx.grant.covers(op, params)
    if found and confirm and not covered:
        raise errors.NotAllowed(
            f"{op.name} needs a human's confirmation ({', '.join(r.value for r in found)}) and none was given "
            "for these exact arguments; nothing was done",
            code="confirmation_required",
        )
    return found


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
        raw = await _close_change(ctx.journal, change[0], raw)
    outcome = scrub(raw, ctx.access_token or "")
    if not outcome.ok and ctx.catalogue:
        outcome = _reachable_hint(op, outcome, ctx)
    if outcome.ok and (marks := untrusted.meta(op, outcome.structured)):
        outcome.meta = {**(outcome.meta or {}), **marks}
    if ctx.audit is not None and not op.hints.read_only and not op.local:
        record(ctx, op, arguments, outcome, entry=entry[0] if entry else None)
    return outcome


def _targets(op: Operation, params: Params, ctx: CallContext) -> list[dict[str, Any]]:
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


async def _close_change(journal: Journal, change_id: str, raw: Outcome) -> Outcome:
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
            resolved = await resolve(op, Route(ctx.client, given, op, given), given, ctx)
        if resolved.params is None:
            raise resolved.error or errors.ArgumentError("arguments could not be resolved")
        params = resolved.params
        if ctx.policy is not None:
            ctx.policy.check(op, params)
        if ctx.access is not None and (why := ctx.access.refusal(op, params, ctx.policy)):
            raise errors.ScopeMissing(why)  # decided on the operation that really runs, whatever the path
        found = await check_consent(op, params, ctx, resolved)
        if ctx.audit is not None and not op.hints.read_only and not op.local:
            # Fail closed: a write whose intent cannot be logged first is not made (AuditUnavailable).
            audit.append(ctx.audit.begin(op.name, op.http_meta, arguments))
        # Fail closed too: a write is journaled before it is sent (JournalUnavailable). The entry is
        # written while the before-read is in flight; the write waits for both.
        before = await _read_before_and_open(op, params, ctx, arguments or {}, change)
        if ctx.state is not None and not op.hints.read_only:
            await recent.record(op, params, ctx)  # a rename keeps the name it replaces, for questions
        attempted = True  # from here on, a write may have reached the API
        if op.handler is not None:
            value = await op.handler(ctx, params)
            if isinstance(value, Outcome):  # a meta-tool that ran another tool returns that tool's outcome
                return value
            envelope = value if isinstance(value, Envelope) else Envelope(value, {})
            enriched = _capped_note(await names.enrich(op, shape(op, envelope), ctx, params), ctx)
            return success(await _effects(op, params, before, mask(op, enriched, ctx, found), ctx), paging=op.paging)
        if op.batch is not None:
            from . import bulk  # bulk builds on this module's outcomes: imported when first needed

            outcome = await bulk.run_batches(op, bulk.split(op, params) or [params], ctx)
            return await _named(op, await _bulk_effects(op, params, before, outcome, ctx), ctx, params)
        params, retry = prepare(op, params)
        try:
            structured = shape(op, await ctx.client.call(op, params, retry=retry))
            if ctx.state is not None and op.audience is not None:
                await recent.remember_users(op, structured, ctx)
            structured = await names.enrich(op, structured, ctx, params)  # names if settings.names; cleans text
            structured = await _effects(op, params, before, _capped_note(structured, ctx), ctx)
            return success(mask(op, structured, ctx, found), params=params, lang=ctx.lang, paging=op.paging)
        except errors.LanyingError as exc:
            key = op.dedup_key
            value = None if key is None else getattr(params, key, None)
            if key is None or value is None:
                raise
            raise exc.with_dedup(key, value) from exc
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


async def _read_before_and_open(
    op: Operation, params: Params, ctx: CallContext, arguments: dict[str, Any], change: list[str]
) -> Any:
    """The before-read, and the journal entry of a write (its ID to `change`), at once; the before-state.

    Either failing fails the call before anything is sent: the entry, if written, is then closed `failed`."""
    journal = ctx.journal
    if journal is None or op.hints.read_only or op.local:
        return await _read_before(op, params, ctx)

    async def open_entry() -> None:
        change.append(
            await journal.open(
                tool=op.name,
                arguments=arguments,
                targets=_targets(op, params, ctx),
                changes=[],
                inverse=None,
                undoes=ctx.undoes,
                plan_id=ctx.plan_id,
            )
        )

    if op.effect is None or getattr(ctx, "before", None) is not None:  # no read to overlap
        await open_entry()
        return await _read_before(op, params, ctx)
    got: dict[str, Any] = {}
    failed: list[Exception] = []

    async def read() -> None:
        try:
            got["before"] = await _read_before(op, params, ctx)
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


async def _read_before(op: Operation, params: Params, ctx: CallContext) -> Any:
    """The write's targets as read before it (changes.py); None for reads, local tools, creates and sends."""
    if op.hints.read_only or op.local or op.effect is None:
        return None
    from . import changes

    # A slow read must not use up the write's own time: after a quarter of the deadline the write goes
    # ahead with its before-values unknown.
    with anyio.move_on_after(ctx.client.settings.call_deadline / 4):
        return await changes.read_before(op, params, ctx)
    return None


async def _effects(
    op: Operation, params: Params, before: Any, structured: dict[str, Any], ctx: CallContext
) -> dict[str, Any]:
    """An applied write's result gains what it changed (`changes`) and whether it can be taken back (`undo`)."""
    if op.hints.read_only or op.local or op.effect is None:
        return structured
    from . import changes

    ctx.reads.clear()  # what was read before this write is stale now
    found = await changes.revealed(op, params, ctx, before)
    journaled = ctx.journal is not None
    return changes.with_effects(op, params, before, structured, ctx.lang, ctx.catalogue or None, journaled, found)


async def _bulk_effects(op: Operation, params: Params, before: Any, outcome: Outcome, ctx: CallContext) -> Outcome:
    if not outcome.ok:
        return outcome
    structured = await _effects(op, params, before, outcome.structured, ctx)
    done = success(structured, outcome.text.partition("\n")[0] if "\n" in outcome.text else None, paging=op.paging)
    done.attachment, done.meta = outcome.attachment, outcome.meta
    return done


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
