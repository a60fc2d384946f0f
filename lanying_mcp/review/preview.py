"""`preview_call`: what a call would send and do, answered without sending any write.

The call runs its real path — validation, the operator's policy, handlers, batching, request building —
with a client that records each write instead of sending it and answers it with an empty success.
Reads the call needs to build its requests (a handler's look-ups, the question's names) are sent.
The dry run is made twice: a value that differs between the two runs is fresh (a generated
de-duplication key, a signed upload URL) and is marked so, since applying the call draws it anew.

Beside the requests, a preview gives the reach of a delivery in people (groups counted by their
members), whether a human would be asked and the exact question, and the undo statement. It needs no
consent itself and is never refused for the risk of the call it describes: a refusal of the call by
argument checks, the operator's policy or a read-only app is reported as the call would report it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from ..core import errors
from ..core.spec import READ, ApiModel, Operation, Params, f
from ..engine import effects, roles
from ..engine.call import MASKED, CallContext, Outcome, failure, validate
from ..engine.client import BuiltRequest, Envelope, LanyingClient
from ..engine.dispatch import execute
from ..engine.resolved import ResolvedCall
from ..safety import consent
from . import plan
from .question import describe

PREVIEW_CALL = "preview_call"

SHOWN_REQUESTS = 5  # requests given in full; the rest are counted
SHOWN_ITEMS = 20  # items of a long list inside a shown request; the rest are counted in its place
GROUPS_COUNTED = 20  # groups whose members are counted for the reach; beyond, the reach is a lower bound


@dataclass
class Recorded:
    """One write the call would send, as built: where it goes and what it carries."""

    tool: str
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict[str, str])
    body: Any = None
    upload: bool = False  # a file upload to the storage URL the API handed out (no Lanying credentials)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tool": self.tool, "method": self.method, "path": self.path, "headers": self.headers}
        if self.query:
            out["query"] = self.query
        if self.body is not None:
            out["body"] = self.body
        return out


class DryClient(LanyingClient):
    """A view of a client that sends reads and records writes, answering each with an empty success."""

    def __init__(self, base: LanyingClient, previewed: Operation | None = None) -> None:
        super().__init__(base.settings, retry=base.retry)
        self._transport, self._pool = base._transport, base._pool  # the same connections as the real calls
        self.previewed = previewed  # a read previewed for itself is shown, not sent, like a write
        self.writes: list[Recorded] = []
        self.reads = 0

    def with_settings(self, settings: Any) -> LanyingClient:
        raise errors.LanyingError("a preview cannot switch apps mid-call", code="internal_error")

    async def _send(self, op: Operation, req: BuiltRequest) -> Envelope:
        if op.hints.read_only and op is not self.previewed:
            self.reads += 1
            return await super()._send(op, req)
        headers = {k: MASKED if k == "access-token" else v for k, v in self._auth_headers().items()}
        headers.update(req.headers)
        body: Any = req.json
        if req.content is not None:
            body = req.content.decode("utf-8", "replace")
            headers["Content-Type"] = "application/json"
        elif req.json is not None:
            headers["Content-Type"] = "application/json"
        self.writes.append(Recorded(op.name, req.method, req.path, headers, dict(req.query), body))
        return Envelope(None, {})

    async def upload(self, url: str, method: str, fields: dict[str, str], filename: str, content: bytes) -> None:
        form = dict.fromkeys(fields, MASKED)  # the storage service's signed form: one-time upload credentials
        body = {"form": form, "file": {"name": filename, "bytes": len(content)}}
        self.writes.append(Recorded("(storage upload)", (method or "POST").upper(), url, {}, {}, body, upload=True))


class PreviewCall(Params):
    name: str = f("Tool to preview.", "要预览的工具。", max_length=128)
    arguments: dict[str, Any] = f("Its arguments.", "其参数。", default_factory=dict)


class PreviewResult(ApiModel):
    """What the call would do; nothing of it was sent (README, "Preview", describes each field)."""

    tool: str
    requests: list[dict[str, Any]]
    more_requests: dict[str, Any] | None = None
    not_previewable: str | None = None
    reads: int
    changes: list[dict[str, Any]]
    changes_summary: Any = None
    reach: dict[str, Any] | None = None
    question: str | None = None
    undo: dict[str, Any] | None = None


def _leaves(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in cast(dict[Any, Any], value).items():
            _leaves(v, f"{path}.{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(cast(list[Any], value)):
            _leaves(v, f"{path}[{i}]", out)
    else:
        out[path] = value


def fresh_paths(first: Recorded, second: Recorded) -> list[str]:
    """The parts of a request whose value the two dry runs drew differently: applying draws them anew."""
    if first.upload or second.upload:
        return ["path", *(["body.file"] if first.body != second.body else [])] if first.path != second.path else []
    one: dict[str, Any] = {}
    two: dict[str, Any] = {}
    for name in ("query", "body", "headers"):
        _leaves(getattr(first, name), name, one)
        _leaves(getattr(second, name), name, two)
    if first.path != second.path:
        one["path"], two["path"] = first.path, second.path
    return sorted(k for k in one.keys() | two.keys() if one.get(k) != two.get(k))


def _abridge(value: Any) -> tuple[Any, bool]:
    """A long list inside a request, cut to its first items with the rest counted."""
    if isinstance(value, list):
        items = cast(list[Any], value)
        cut = len(items) > SHOWN_ITEMS
        shown = [_abridge(v)[0] for v in items[:SHOWN_ITEMS]]
        return ([*shown, f"… {len(items) - SHOWN_ITEMS} more"] if cut else shown), cut
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        cut = False
        for k, v in cast(dict[Any, Any], value).items():
            out[k], inner = _abridge(v)
            cut = cut or inner
        return out, cut
    return value, False


def render(writes: list[Recorded], again: list[Recorded] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The requests as a model reads them: the first ones in full, the rest counted; fresh values marked."""
    shown: list[dict[str, Any]] = []
    for i, req in enumerate(writes[:SHOWN_REQUESTS]):
        row = req.as_dict()
        if req.upload:
            row["note"] = "file upload to the storage URL the API hands out; no Lanying credentials"
        if again is not None and i < len(again):
            fresh = fresh_paths(req, again[i])
            if fresh:
                row["fresh"] = fresh
        if "body" in row:
            row["body"], cut = _abridge(row["body"])
            if cut:
                row["abridged"] = True
        shown.append(row)
    rest = writes[SHOWN_REQUESTS:]
    if not rest:
        return shown, None
    counts: dict[str, int] = {}
    for req in rest:
        key = f"{req.method} {req.path}"
        counts[key] = counts.get(key, 0) + 1
    return shown, {"count": len(rest), "by_request": counts, "like": "the ones shown, with the next items"}


async def _group_sizes(ctx: CallContext, ids: list[int]) -> dict[int, int | None]:
    sizes: dict[int, int | None] = {}
    info = ctx.catalogue.get(roles.GROUP_INFO)
    for gid in ids[:GROUPS_COUNTED]:
        sizes[gid] = None
        if info is None:
            continue
        try:
            data = (await ctx.call(info, {"group_id": gid})).data
        except errors.LanyingError:
            continue
        count = cast(dict[str, Any], data).get("count") if isinstance(data, dict) else None
        if isinstance(count, int) and not isinstance(count, bool):
            sizes[gid] = count
    return sizes


async def reach(op: Operation, params: Params, ctx: CallContext) -> dict[str, Any] | None:
    """Who a delivery reaches, in people and devices; groups counted by their members, where a read can say."""
    audience = op.audience
    if audience is None:
        return None
    if consent.everyone(audience, params):
        return {"everyone": True, "people": None, "note": "every user or device of the app; not counted"}
    users = {v for name in audience.users for v in consent.named(params, name)}
    groups = [v for name in audience.groups for v in consent.named(params, name) if isinstance(v, int)]
    tags = [v for name in audience.tags for v in consent.named(params, name)]
    aliases = [v for name in audience.aliases for v in consent.named(params, name)]
    tokens = [v for name in audience.tokens for v in consent.named(params, name)]
    out: dict[str, Any] = {"users": len(users)}
    people = len(users)
    bounded = True
    if groups:
        sizes = await _group_sizes(ctx, groups)
        counted = [n for n in sizes.values() if n is not None]
        people += sum(counted)
        bounded = len(counted) == len(groups)
        out["groups"] = [{"group_id": g, "members": sizes.get(g)} for g in groups[:GROUPS_COUNTED]]
        if len(groups) > GROUPS_COUNTED:
            out["groups_not_counted"] = len(groups) - GROUPS_COUNTED
    if tags:
        out["tags"] = {"count": len(tags), "members": "unbounded: a tag's devices are not listed by the API"}
        bounded = False
    if aliases:
        out["aliases"] = {"count": len(aliases), "members": "each alias names one user's devices"}
        people += len(aliases)
    if tokens:
        out["devices"] = len(tokens)
    out["people"] = people
    out["exact"] = bounded
    if users or groups or aliases:
        out["devices_note"] = "every signed-in device of each person"
    return out


def undo_info(op: Operation, lang: str, reachable: Any) -> dict[str, Any] | None:
    effect = op.effect
    if effect is None:
        return None
    said = " ".join(effects.undo_sentences(effect, lang, reachable))
    return {"possible": True, "how": said} if effect.inverse is not None else {"possible": False, "why": said}


class _DryJournal:
    """The journal as a dry run sees it: read as it is (an undo reads its entry), never written."""

    def __init__(self, journal: Any) -> None:
        self._journal = journal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._journal, name)

    async def open(self, **entry: Any) -> str:
        return "(preview: not journaled)"

    async def close(self, change_id: str, **outcome: Any) -> None:
        return None

    async def close_later(self, change_id: str, **outcome: Any) -> None:
        return None


async def _dry_run(
    op: Operation,
    arguments: dict[str, Any],
    ctx: CallContext,
    grant: consent.Grant,
    before: Any = None,
    resolved: ResolvedCall | None = None,
) -> tuple[Outcome, DryClient, Any]:
    client = DryClient(ctx.client, op if op.hints.read_only and op.handler is None else None)
    # The same path as the call, with nothing audited (nothing is sent) and the question described, not asked.
    dry = CallContext(
        client,
        ctx.lang,
        None,
        ctx.catalogue,
        ctx.policy,
        None,
        grant,
        operations=ctx.operations,
        cache=ctx.cache,
        confirm=ctx.confirm,
    )
    dry.reveal_secrets, dry.access_token = ctx.reveal_secrets, ctx.access_token
    dry.journal = cast(Any, _DryJournal(ctx.journal)) if ctx.journal is not None else None
    dry.before = before  # the first run's before-read serves the second (the same call: one read)
    dry.resolved = resolved  # the call as resolved at the edge, when the preview is the question's
    return await execute(op, arguments, dry), client, dry.before


def previewed(arguments: dict[str, Any], reachable: dict[str, Operation]) -> Operation | None:
    """The operation a preview_call names, when it is one a preview can describe."""
    name = arguments.get("name")
    op = reachable.get(name) if isinstance(name, str) else None
    return op if op is not None and op.runs is None and op.name != PREVIEW_CALL else None


async def preview(
    op: Operation, arguments: dict[str, Any], ctx: CallContext, resolved: ResolvedCall | None = None
) -> Outcome | PreviewResult:
    """The preview of `op` with `arguments`, or the Outcome the call itself would fail with before sending.

    `resolved`: the call as already resolved (the approval page's question): its params are used as they are."""
    if op.plan:
        return await _preview_plan(op, arguments, ctx)
    if resolved is not None and (not resolved.runs(op) or resolved.arguments != arguments):
        resolved = None
    try:
        params: Params | None = resolved.params if resolved is not None else validate(op, arguments)
    except errors.LanyingError:
        params = None  # the dry run reports it exactly as the call does
    pairs: list[tuple[Operation, Params]] = [(op, params)] if params is not None else []
    if params is not None and op.expands is not None:  # an undo: the calls it runs are covered, as a yes covers them
        try:
            pairs += await op.expands(ctx, params)
        except errors.LanyingError:
            pass  # the dry run reports the refusal
    grant = consent.Grant.of(pairs)
    outcome, first, before = await _dry_run(op, arguments, ctx, grant, resolved=resolved)
    if params is None or (not outcome.ok and not first.writes):
        return outcome  # refused or failed before any write: the call reports exactly this
    again: list[Recorded] | None = None
    reads = first.reads
    if outcome.ok and first.writes:
        _, second, _ = await _dry_run(op, arguments, ctx, grant, before, resolved)
        again = second.writes
        reads += second.reads
    requests, more = render(first.writes, again)
    found = outcome.structured
    shown = found.get("changes")
    result = PreviewResult(
        tool=op.name,
        requests=requests,
        more_requests=more,
        reads=0,
        changes=cast(list[dict[str, Any]], shown) if isinstance(shown, list) else [],
        changes_summary=found.get("changes_summary"),
        undo=found.get("undo") if isinstance(found.get("undo"), dict) else undo_info(op, ctx.lang, ctx.catalogue),
    )
    if not outcome.ok:
        err: dict[str, Any] = outcome.structured.get("error") or {}
        result.not_previewable = (
            "the steps after the writes listed depend on the answer to them, which a preview does not have "
            f"({err.get('message', 'unknown')})"
        )
    before = ctx.lookups
    result.reach = await reach(op, params, ctx)
    result.question = await question(op, params, ctx)
    result.reads = reads + ctx.lookups - before
    return result


_PLAN_UNDO = (
    "undo_change with the plan_id from apply_plan's result takes back every applied write, newest first, "
    "or none if one of them cannot be",
    "用apply_plan结果中的plan_id调用undo_change,按倒序撤销所有已生效的写操作;若其中有不可撤销的则全部不撤销",
)


async def _preview_plan(op: Operation, arguments: dict[str, Any], ctx: CallContext) -> Outcome | PreviewResult:
    """A plan's preview: each step's as if it were called alone, and the one question the plan asks.

    Every step is previewed against the app as it is now (an earlier step's changes are not applied
    first); a step whose arguments come from an earlier step's result cannot be, and says so.
    """
    lang = ctx.lang
    try:
        steps = await plan.prepared(
            plan.steps_of(cast(plan.ApplyPlan, validate(op, arguments)), ctx.catalogue, validate), ctx
        )
    except errors.LanyingError as exc:
        return failure(op.name, exc, lang)
    requests: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    shown: list[dict[str, Any]] = []
    reads = 0
    irreversible: list[str] = []
    for step in steps:
        row: dict[str, Any] = {"step": step.index, "tool": step.op.name}
        if step.op.effect is not None and step.op.effect.inverse is None:
            irreversible.append(f"{step.index} ({step.op.name})")
        if step.params is None:
            sources = sorted({source for source, _ in plan.references(step.arguments)})
            row["not_previewable"] = (
                f"its arguments come from the result of step(s) {', '.join(map(str, sources))}"
                if lang != "zh"
                else f"其参数来自第{'、'.join(map(str, sources))}步的结果"
            )
            shown.append(row)
            continue
        found = await preview(step.op, step.arguments, ctx)
        if isinstance(found, Outcome):
            row["error"] = found.structured.get("error")
        else:
            for request in found.requests:
                requests.append({"step": step.index, **request})
            changes += [{"step": step.index, **c} for c in found.changes]
            reads += found.reads
            row["requests"] = len(found.requests) + int((found.more_requests or {}).get("count", 0) or 0)
            if found.not_previewable:
                row["not_previewable"] = found.not_previewable
            if found.reach:
                row["reach"] = found.reach
        shown.append(row)
    more = None
    if len(requests) > SHOWN_REQUESTS * 2:
        more = {"count": len(requests) - SHOWN_REQUESTS * 2}
        requests = requests[: SHOWN_REQUESTS * 2]
    result = PreviewResult(tool=op.name, requests=requests, more_requests=more, reads=reads, changes=changes[:20])
    if irreversible:
        why = (
            "steps {} cannot be undone, so undo_change on the plan_id refuses"
            if lang != "zh"
            else "第{}步不可撤销,因此无法按plan_id撤销"
        )
        result.undo = {"possible": False, "why": why.format(", ".join(irreversible))}
    else:
        result.undo = {"possible": True, "how": _PLAN_UNDO[1 if lang == "zh" else 0]}
    if ctx.confirm:
        asked = await plan.asks(op, arguments, ctx, ctx.policy)
        if asked:
            result.question = await plan.question(op, arguments, asked, ctx, lang)
    setattr(result, "steps", shown)  # noqa: B010 - an extra field: every result model allows them
    return result


async def question(op: Operation, params: Params, ctx: CallContext) -> str | None:
    """The exact question a human would be asked, without its one-time confirmation number; None if none.

    An operation that runs other calls (an undo) asks one question about each of them that needs a yes."""
    if not ctx.confirm:
        return None
    calls: list[tuple[Operation, Params]] = [(op, params)]
    if op.expands is not None:
        try:
            calls = await op.expands(ctx, params)
        except errors.LanyingError:
            return None
    texts: list[str] = []
    for call, args in calls:
        found = consent.risks(call, args, ctx.policy)
        if found and (text := await describe(call, args, ctx, found)) is not None:
            texts.append(text)  # None: the target does not exist, and the call fails without asking
    if texts and op.expands is not None:  # as the gate asks it: "Undo change: …"
        texts.insert(0, op.text(ctx.lang)[0] + (":" if ctx.lang == "zh" else ":"))
    return " ".join(texts) or None


def build(reachable: Callable[[], dict[str, Operation]], refuse: Callable[[str], str | None]) -> Operation:
    """The preview meta-tool over `reachable()` operations; `refuse(name)` says why a known tool is off."""

    def find(name: str) -> Operation:
        ops = reachable()
        op = previewed({"name": name}, ops)
        if op is not None:
            return op
        if name in ops:
            raise errors.ArgumentError(f"{name} cannot be previewed; preview the tool it runs instead")
        why = refuse(name)
        if why:
            raise errors.NotAllowed(why)
        raise errors.ArgumentError(f"no tool named {name!r}")

    async def run(ctx: CallContext, p: PreviewCall) -> Any:
        try:
            op = find(p.name)
        except errors.LanyingError as exc:
            return failure(p.name, exc, ctx.lang)
        found = await preview(op, p.arguments, ctx)
        return found if isinstance(found, Outcome) else found.model_dump(mode="json", exclude_none=True)

    return Operation(
        name=PREVIEW_CALL,
        http="LOCAL preview_call",
        local=True,
        params=PreviewCall,
        result=dict[str, Any],  # a PreviewResult, its fields left out of the listing, whose budget is tight
        handler=run,
        hints=READ,
        toolset="discovery",
        title=("Preview call", "预览调用"),
        description=(
            "Dry run of a tool call: exact requests, changes, reach, question and undo. Sends no write.",
            "试运行:工具调用将发送的确切请求、变更、触达范围、确认问题与撤销方式。不发送任何写操作。",
        ),
    )
