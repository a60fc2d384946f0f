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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast, get_args

import anyio
from pydantic import BaseModel, ValidationError, create_model
from pydantic_core import to_json

from . import consent, errors, names, recent, scopes, untrusted, usernames
from .client import Envelope, LanyingClient
from .mentions import prune
from .redact import redactor_for
from .resolved import ResolvedCall, Route
from .spec import ApiModel, Operation, Params, Risk, f

if TYPE_CHECKING:
    from .audit import AuditLog
    from .journal import Journal
    from .policy import Policy
    from .state import State

log = logging.getLogger("lanying_mcp")

Progress = Callable[[float, float | None, str | None], Awaitable[None]]


@dataclass
class Outcome:
    ok: bool
    structured: dict[str, Any]
    text: str
    attachment: str | None = None  # a bulk call's full per-item result (compact JSON), served behind a link
    meta: dict[str, Any] | None = None  # the result's `_meta`: which JSON paths hold end-user text
    may_have_applied: bool = False  # a failed write that may still have reached the API


@dataclass
class CallContext:
    """What a call may use: the client, the catalogue, progress reporting, policy and audit."""

    client: LanyingClient
    lang: str = "en"
    progress: Progress | None = None
    catalogue: dict[str, Operation] = field(default_factory=dict[str, Operation])
    policy: Policy | None = None
    audit: AuditLog | None = None
    grant: consent.Grant = field(default_factory=consent.Grant)  # the exact calls a human said yes to
    lookups: int = 0  # look-up requests made so far (handler steps, names); at most settings.max_lookups
    capped: bool = False  # a look-up was refused at the cap: the result may be partial
    journal: Journal | None = None  # the change journal, bound to this call's caller and app (None: off)
    before: Any = None  # changes.Before: the write's targets as read before it, shared with its question
    reads: dict[Any, Any] = field(default_factory=dict[Any, Any])  # answers of look-ups made for this call
    undoes: str | None = None  # the journal entry the writes of this call take back (undo_change)
    plan_id: str | None = None  # set on the calls a plan makes, so their records say which plan they belong to
    state: State | None = None  # what outlives the call (renames this server made, for questions)
    access: scopes.Access | None = None  # what the caller's OAuth token may run (None: no OAuth, nothing narrowed)
    # The settings that decide safety, as the server built this call (None: those of the client's settings).
    confirm: bool | None = None  # a risky call needs a human's yes
    reveal_secrets: bool | None = None  # results keep their secret fields
    access_token: str | None = None  # masked in every result, with its transformed copies
    resolved: ResolvedCall | None = None  # the call as resolved once at the edge (route, params, risks, fingerprint)

    def __post_init__(self) -> None:
        settings = self.client.settings
        if self.confirm is None:
            self.confirm = settings.confirm
        if self.reveal_secrets is None:
            self.reveal_secrets = settings.reveal_secrets
        if self.access_token is None:
            self.access_token = settings.access_token.get_secret_value()

    def lookups_left(self) -> int:
        return max(0, self.client.settings.max_lookups - self.lookups)

    async def call(self, op: Operation | str, params: Params | dict[str, Any]) -> Envelope:
        """One API call on behalf of a handler, with the same de-duplication and retry rules as a tool.

        Each counts against the call's look-up cap (a retry of the same look-up counts once); the tool's
        own request and its declared batches go to the client directly and do not.
        """
        if self.lookups_left() <= 0:
            self.capped = True
            raise errors.LookupCapReached(self.client.settings.max_lookups)
        self.lookups += 1
        target = self.catalogue[op] if isinstance(op, str) else op
        if isinstance(params, dict):
            params = validate(target, params)
        params, retry = prepare(target, params)
        return checked(target, await self.client.call(target, params, retry=retry))

    async def report(self, done: float, total: float | None = None, message: str | None = None) -> None:
        if self.progress is not None:
            await self.progress(done, total, message)


def checked(op: Operation, envelope: Envelope) -> Envelope:
    """A handler's step answered off the documented shape is a failed read, never data to compute with.

    A tool's own answer off-shape is still given to the model (as `raw_data`); a step's answer is read
    by code that relies on its shape (a list of rows, an object of fields), so it is refused here.
    """
    try:
        output_model(op).model_validate({"data": envelope.data})
    except ValidationError as exc:
        raise errors.InvalidResponse(
            f"the answer to {op.name} ({op.http}) is not of the documented shape ({_validation_message(exc)}); "
            "it was not used"
        ) from None
    return envelope


class BatchResult(ApiModel):
    index: int
    items: int
    ok: bool
    data: Any = f("This batch's answer (e.g. its push task_id).", "该批的返回(如推送task_id)。", None)
    error: dict[str, Any] | None = None


class BulkFailure(ApiModel):
    # One reason items failed for: how many, and which; `more` are not listed here but at full_result.
    # (No docstring: it would become a description in two tools' output schemas.)
    reason: str
    count: int = f("Items failed for it", "因此失败的条数", ...)
    user_ids: list[int] | None = None
    usernames: list[str] | None = None
    more: int


class BulkSummary(ApiModel):
    """A bulk call's answer when its per-item rows would not fit a model's context."""

    items: int
    succeeded: int
    failed: int  # refused one by one, or in a failed batch (not applied)
    failures: list[BulkFailure] | None = None  # by reason, each with its IDs up to a byte budget
    users: dict[str, Any] | None = None  # user_id → {username, nick_name} of the listed IDs, where known
    created: dict[str, int] | None = None  # username → new user_id, the first ones
    failed_batches: list[dict[str, Any]] | None = None  # index, items, error: not applied
    full_result: str | None = None  # every row, behind a resource link


# Top-level fields some results carry beside `data`: the envelope's paging extras, and batching.
_EXTRAS: dict[str, tuple[Any, Any]] = {
    "cursor": (
        str | None,
        f(
            "Pass it as `cursor` for the next page; empty or absent on the last.",
            "作为cursor传回取下一页;末页为空或无。",
            None,
        ),
    ),
    "total": (int | None, f("Total items, when the API gives it.", "总数(API返回时)。", None)),
    "version": (int | None, f("Data version of the list.", "列表数据版本。", None)),
    "msg_ids": (
        list[int] | None,
        f("Sent message IDs (one target only).", "发送的消息ID(仅单个目标时)。", None),
    ),
    "batches": (
        list[BatchResult] | None,
        f("Per-batch outcomes, when split.", "拆分调用时每批的结果。", None),
    ),
    "failed_batches": (
        int | None,
        f("Failed batches (not applied).", "失败的批次数(未生效)。", None),
    ),
    "summary": (
        BulkSummary | None,
        f(
            "Instead of data when rows are many; every row is at full_result (resources/read, 15 min).",
            "行数多时代替data;全部行见full_result(resources/read,15分钟)。",
            None,
        ),
    ),
}


@lru_cache(maxsize=512)
def output_model(op: Operation) -> type[BaseModel]:
    """The tool's result model: the envelope's `data`, typed, plus the extras the API returns.

    A result may also carry `warnings` (a list of sentences: a masked secret, an answer off the
    documented shape). It is left out of the schema on purpose: it is rare, self-explaining, and
    declaring it would add its description to every tool of the listing.
    """
    camel = "".join(part.title() for part in op.name.split("_"))
    if op.runs is not None or op.expands is not None:  # it answers with the result of the tool(s) it runs
        return create_model(f"{camel}Result", __base__=ApiModel)
    fields: dict[str, Any] = {"data": (op.result | None, None)}
    names = list(op.extras)
    if op.batch and getattr(op.result, "__origin__", None) is list:
        names.append("summary")  # per-item rows: split or many, they come as a summary
    elif op.batch:
        names += ["batches", "failed_batches"]
    for name in names:
        fields[name] = _EXTRAS[name]
    return create_model(f"{camel}Result", __base__=ApiModel, **fields)


def validate(op: Operation, arguments: dict[str, Any]) -> Params:
    try:
        return op.params.model_validate(arguments)
    except ValidationError as exc:
        raise errors.ArgumentError(_validation_message(exc), zh=_validation_message(exc, "zh")) from None


# Chinese for the validation failures a model meets most; others keep pydantic's English detail.
_ZH_KINDS = {
    "missing": "缺少必填参数",
    "extra_forbidden": "未知参数(不在工具的参数结构中)",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为字符串",
    "bool_type": "应为布尔值",
    "bool_parsing": "应为布尔值",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "string_too_short": "字符串太短",
    "string_too_long": "字符串太长",
    "too_short": "元素太少",
    "too_long": "元素太多",
    "string_pattern_mismatch": "格式不符合要求",
}


def _validation_message(exc: ValidationError, lang: str = "en") -> str:
    parts: list[str] = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or ("参数" if lang == "zh" else "arguments")
        msg = str(err.get("msg", "invalid"))
        if lang == "zh":
            kind = _ZH_KINDS.get(str(err.get("type")))
            msg = f"{kind}({msg})" if kind and kind != _ZH_KINDS["extra_forbidden"] else kind or msg
        elif err.get("type") == "extra_forbidden":
            msg = "unknown argument (not in the tool's schema)"
        parts.append(f"{where}: {msg}")
    more = len(parts) - 10
    tail = (f";另有{more}处" if lang == "zh" else f"; and {more} more") if more > 0 else ""
    return "; ".join(parts[:10]) + tail


def prepare(op: Operation, params: Params) -> tuple[Params, bool]:
    """Give sends a de-duplication key, and say whether the call is safe to retry.

    Reads and idempotent writes are safe. A send with a de-duplication key (`op.dedup_key`) is safe
    too: the API delivers a retried send with the same key once. Anything else is sent once.
    """
    key = op.dedup_key
    if key is None:
        return params, op.hints.read_only or op.hints.idempotent
    if getattr(params, key, None) is None:
        params = params.model_copy(update={key: secrets.randbits(62)})
    return params, True


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
            sizes = await consent.group_sizes(target, params, ctx)
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
            sizes = await consent.group_sizes(op, params, ctx)
        found = consent.risks(op, params, ctx.policy, sizes)
        covered = not (found and confirm) or ctx.grant.covers(op, params)
    if found and confirm and not covered:
        raise errors.NotAllowed(
            f"{op.name} needs a human's confirmation ({', '.join(r.value for r in found)}) and none was given "
            "for these exact arguments; nothing was done",
            code="confirmation_required",
        )
    return found


def failure(tool: str, exc: errors.LanyingError, lang: str = "en") -> Outcome:
    err = errors.describe(exc, lang)
    return Outcome(
        False, {"error": err}, errors.error_text(tool, err, lang), may_have_applied=bool(exc.may_have_applied)
    )


def success(
    structured: dict[str, Any], text: str | None = None, params: Params | None = None, lang: str = "en"
) -> Outcome:
    """Compact text for a model's context: a one-line summary (a list's size and its next page), then JSON.

    Indented JSON cost half as much again as the structured content it repeats; Chinese stays readable.
    """
    line = text or _page_line(structured, params, lang)
    body = to_json(structured).decode("utf-8")
    return Outcome(True, structured, f"{line}\n{body}" if line else body)


def _page_line(structured: dict[str, Any], params: Params | None, lang: str) -> str | None:
    """How many items came back and how to ask for the next page, in the words of the tool's arguments."""
    data = structured.get("data")
    nxt: str | None = None
    last = False
    page = cast(dict[str, Any], data) if isinstance(data, dict) else None
    if page is not None and isinstance(page.get("messages"), list):  # message history pages by message ID
        count, noun = len(page["messages"]), ("messages", "条消息")
        if page.get("is_last") or not page.get("next_msg_id"):
            last = True
        else:
            nxt = f"msg_id_start={page['next_msg_id']}"
    elif isinstance(data, list):
        count, noun = len(cast(list[Any], data)), ("items", "项")
        by_number = params is not None and "page_num" in type(params).model_fields
        if "cursor" in structured:
            last = not structured["cursor"]
            nxt = None if last else f"cursor={to_json(structured['cursor']).decode()}"
        elif by_number:
            size = getattr(params, "page_size", None)
            last = count == 0 or (size is not None and count < size)
            nxt = None if last else f"page_num={(getattr(params, 'page_num', None) or 1) + 1}"
    else:
        return None
    total = structured.get("total")
    if lang == "zh":
        line = f"本页{count}{noun[1]}" + (f"(共{total})" if total is not None else "") + "。"
        return line + ("已是最后一页。" if last else f"下一页:{nxt}。" if nxt else "")
    word = noun[0] if count != 1 else noun[0][:-1]  # "1 item", "1 message"
    line = f"{count} {word}" + (f" of {total}" if total is not None else "") + "."
    return line + (" Last page." if last else f" Next page: {nxt}." if nxt else "")


async def execute(op: Operation, arguments: dict[str, Any] | None, ctx: CallContext) -> Outcome:
    """Validate, check policy, call, type the result, audit; every failure is a structured error Outcome."""
    entry: list[str] = []
    change: list[str] = []  # the change-journal entry opened before the write was sent
    deadline = ctx.client.settings.call_deadline
    raw: Outcome | None = None
    with anyio.move_on_after(deadline):
        raw = await _execute(op, arguments, ctx, entry, change)
    if raw is None:
        late = errors.DeadlineExceeded(deadline)
        if _writes(op):
            late.may_have_applied = True  # stopped mid-call: a write may have reached the API
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
    """What a write is aimed at, from its arguments: the group and users it names, with names already known."""
    found: list[dict[str, Any]] = []
    group = getattr(params, "group_id", None)
    if isinstance(group, int):
        found.append({"kind": "group", "id": group, "name": names.known(ctx, "g", [group]).get(group)})
    ids: list[int] = []
    for key in ("user_id", "user_ids", "member_ids"):
        value = getattr(params, key, None)
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
    hint = prune(original, ctx.catalogue)
    if hint == original:
        return outcome
    err = {**err, "hint": hint}
    return Outcome(False, {**outcome.structured, "error": err}, errors.error_text(op.name, err, ctx.lang))


def scrub(outcome: Outcome, secret: str) -> Outcome:
    """Mask the access token, and its transformed copies, in every string of a result (see redact.py)."""
    if not secret:
        return outcome
    r = redactor_for((secret,))
    attachment = r.text(outcome.attachment) if outcome.attachment is not None else None
    text = r.text(outcome.text)
    # A success's text is its structured content as JSON (see success()), keys included: when the text
    # holds no copy, neither does the structured content, and walking every string again is skipped.
    clean = outcome.structured if outcome.ok and text == outcome.text else r.clean(outcome.structured)
    return Outcome(outcome.ok, clean, text, attachment, outcome.meta)


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
            return success(await _effects(op, params, before, mask(op, enriched, ctx, found), ctx))
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
            return success(mask(op, structured, ctx, found), params=params, lang=ctx.lang)
        except errors.LanyingError as exc:
            if op.dedup_key is not None:
                exc.retry_key = getattr(params, op.dedup_key, None)  # type: ignore[attr-defined]
            raise
    except errors.LanyingError as exc:
        log.info("tool %s failed: code=%s", op.name, exc.code)
        return failure(op.name, exc, ctx.lang)
    except Exception:
        log.exception("tool %s crashed", op.name)
        crash = errors.LanyingError("unexpected failure inside the server", code="internal_error")
        if attempted and _writes(op):
            # The write may have reached the API before the failure: never invite a blind retry.
            crash.may_have_applied = True
            crash.retryable = False
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
    done = success(structured, outcome.text.partition("\n")[0] if "\n" in outcome.text else None)
    done.attachment, done.meta = outcome.attachment, outcome.meta
    return done


async def _named(op: Operation, outcome: Outcome, ctx: CallContext, params: Params) -> Outcome:
    """A bulk call's rows, when inline, get names beside their IDs as any result does; its line stays."""
    if not outcome.ok or "data" not in outcome.structured or op.ids is None:
        return outcome
    structured = await names.enrich(op, dict(outcome.structured), ctx, params)
    if structured == outcome.structured:
        return outcome
    named = success(structured, outcome.text.partition("\n")[0] if "\n" in outcome.text else None)
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


MASKED = "[masked]"


def _norm(key: str) -> str:
    """`appSecret`, `APP_SECRET` and `app-secret` are one key."""
    return key.replace("_", "").replace("-", "").casefold()


def _model_keys(tp: Any, seen: set[str]) -> None:
    """Every field name and alias of the pydantic models `tp` is made of, normalised, into `seen`."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, info in tp.model_fields.items():
            seen.update(_norm(n) for n in (name, info.alias) if n)
            _model_keys(info.annotation, seen)
    for arg in get_args(tp):
        _model_keys(arg, seen)


@lru_cache(maxsize=64)
def _documented(op: Operation) -> frozenset[str]:
    keys: set[str] = set()
    _model_keys(op.result, keys)
    return frozenset(keys - {_norm(k) for k in op.secret_fields})


def mask(op: Operation, structured: dict[str, Any], ctx: CallContext, found: tuple[Risk, ...]) -> dict[str, Any]:
    """Hide the secrets a result carries, unless the operator reveals them or a human confirmed handing them over.

    By key, over the whole result: `data`, an off-shape answer's `raw_data`, nested objects and lists,
    whatever the value's type. Inside the API's answer, a key the result model does not document is
    hidden too, since a secret the API starts to send under a new name must not slip through; so is
    an off-shape answer that is a bare string or number (it may be the secret itself).
    """
    if not op.secret_fields or ctx.reveal_secrets:
        return structured
    if Risk.SECRET in found and ctx.confirm:
        return structured  # the human was asked exactly this and said yes
    secret = frozenset(_norm(k) for k in op.secret_fields)
    documented = _documented(op)
    hidden: list[str] = []
    unknown: list[str] = []

    def hide(value: Any) -> bool:
        return value is not None and value != "" and not isinstance(value, bool)

    def walk(value: Any, answer: bool, loose: bool) -> Any:
        """`answer`: inside the API's data; `loose`: a bare value there with no documented key above it."""
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, item in cast(dict[Any, Any], value).items():
                norm = _norm(key) if isinstance(key, str) else str(key)
                if norm in secret and hide(item):
                    out[key] = MASKED
                    hidden.append(str(key))
                elif answer and norm not in documented and hide(item):
                    out[key] = MASKED
                    unknown.append(str(key))
                else:
                    out[key] = walk(item, answer, False)
            return out
        if isinstance(value, list):
            return [walk(v, answer, loose) for v in cast(list[Any], value)]
        if loose and hide(value):
            unknown.append("raw_data")
            return MASKED
        return value

    masked = {
        key: value if key == "warnings" else walk(value, key in ("data", "raw_data"), key == "raw_data")
        for key, value in structured.items()
    }
    if not hidden and not unknown:
        return structured
    note = (
        f"masked secret field(s) {', '.join(sorted(set(hidden + unknown)))}: the server hides secrets from the "
        "assistant; the operator can reveal them with LANYING_REVEAL_SECRETS=true"
    )
    if unknown:
        note += f" (undocumented in this secret-bearing result, so masked too: {', '.join(sorted(set(unknown)))})"
    return {**masked, "warnings": [*structured.get("warnings", []), note]}


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
        + "); it is given in raw_data as sent, cleaned of hidden characters"
    )
    # End users write much of what an answer holds: off the documented shape, nothing says where, so
    # all of it loses its hidden characters here and is marked as untrusted (untrusted.paths).
    out.update({"raw_data": untrusted.clean_tree(envelope.data), "warnings": [warning]})
    if extras_raw:
        out["warnings"].append(
            "unexpected envelope fields: " + errors.excerpt(untrusted.clean(to_json(extras_raw).decode()), 300)
        )
    return out
