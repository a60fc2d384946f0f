"""One tool call as a value: what it may use (`CallContext`), what it gives back (`Outcome`), and the
pure steps that turn an API answer into that result (typing, shaping, masking, scrubbing, the text).

This module is the engine's ground floor: the modules that check, run, name and journal a call build on
it, and it imports none of them. One call, followed a module a step:

    tools/call (MCP request)
      -> serving/sdk.py         make_tool: the SDK's tool; its confirmation resolver runs, then its body
      -> serving/gate.py        ask: the call routed (serving/routing.py) and resolved once (engine/checks.py
                                resolve -> engine/resolved.py ResolvedCall); the question (review/question.py)
      -> serving/server.py      run_op: the same ResolvedCall, the caller's CallContext (this module)
      -> serving/gate.py        settle: the human's yes, redeemed once against the call's fingerprint
      -> engine/dispatch.py     execute: the pipeline; policy and scopes, checks.check_consent, the audit and
                                journal entries first (engine/trail.py), then the request
      -> engine/client.py       call: the HTTP request, retries, the decoded envelope (or a core/errors.py error)
      <- engine/call.py         shape, mask: the envelope typed against the operation's result model, secrets hidden
      <- engine/names.py        enrich: names beside IDs; engine/trail.py effects: what a write changed, its undo
      <- engine/call.py         success / failure: the Outcome, structured content and the text a model reads
      <- serving/sdk.py         to_result: the MCP CallToolResult
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast, get_args

from pydantic import BaseModel, ValidationError, create_model
from pydantic_core import to_json

from ..core import error_text, errors
from ..core.cache import Cache
from ..core.spec import ApiModel, Operation, Paging, Params, Risk, f
from ..safety import untrusted
from ..safety.consent import Grant
from ..safety.redact import redactor_for
from .client import Envelope, LanyingClient
from .paging import page_line
from .resolved import ResolvedCall

if TYPE_CHECKING:
    from ..safety.audit import AuditLog
    from ..safety.policy import Policy
    from ..safety.scopes import Access
    from .journal import Journal
    from .state import State

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
    """What a call may use: the client, the catalogue, progress reporting, policy, audit, the server's cache."""

    client: LanyingClient
    lang: str = "en"
    progress: Progress | None = None
    catalogue: dict[str, Operation] = field(default_factory=dict[str, Operation])  # what the caller can reach
    policy: Policy | None = None
    audit: AuditLog | None = None
    grant: Grant = field(default_factory=Grant)  # the exact calls a human said yes to
    lookups: int = 0  # look-up requests made so far (handler steps, names); at most settings.max_lookups
    capped: bool = False  # a look-up was refused at the cap: the result may be partial
    journal: Journal | None = None  # the change journal, bound to this call's caller and app (None: off)
    before: Any = None  # changes.Before: the write's targets as read before it, shared with its question
    reads: dict[Any, Any] = field(default_factory=dict[Any, Any])  # answers of look-ups made for this call
    undoes: str | None = None  # the journal entry the writes of this call take back (undo_change)
    plan_id: str | None = None  # set on the calls a plan makes, so their records say which plan they belong to
    state: State | None = None  # what outlives the call (renames this server made, for questions)
    access: Access | None = None  # what the caller's OAuth token may run (None: no OAuth, nothing narrowed)
    # Every operation, listed or not, for the engine's own look-ups (names, group sizes, usernames) and for
    # telling a tool name in a sentence from a word; handed in by whoever builds the context.
    operations: Mapping[str, Operation] = field(default_factory=dict[str, Operation])
    cache: Cache = field(default_factory=Cache)  # what the server remembers between calls (names, sizes)
    # The settings that decide safety, as the server built this call (None: those of the client's settings).
    confirm: bool | None = None  # a risky call needs a human's yes
    reveal_secrets: bool | None = None  # results keep their secret fields
    access_token: str | None = None  # masked in every result, with its transformed copies
    resolved: ResolvedCall | None = None  # the call as resolved once at the edge (route, params, risks, fingerprint)

    def __post_init__(self) -> None:
        if not self.operations:  # a script's context: its catalogue is every operation it knows
            self.operations = self.catalogue
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


def with_retry_key(op: Operation, params: Params, exc: errors.LanyingError) -> errors.LanyingError | None:
    """The failure of a send that `prepare` gave a de-duplication key, naming that key so a retry can reuse
    it (None when the operation has no key or the call carried none)."""
    key = op.dedup_key
    value = None if key is None else getattr(params, key, None)
    return None if key is None or value is None else exc.with_dedup(key, value)


def failure(tool: str, exc: errors.LanyingError, lang: str = "en") -> Outcome:
    err = error_text.describe(exc, lang)
    return Outcome(
        False, {"error": err}, error_text.paragraph(tool, err, lang), may_have_applied=bool(exc.may_have_applied)
    )


def success(
    structured: dict[str, Any],
    text: str | None = None,
    params: Params | None = None,
    lang: str = "en",
    paging: Paging | None = None,
) -> Outcome:
    """Compact text for a model's context: a one-line summary (a list's size and its next page), then JSON.

    The summary is `text`, or else read from the operation's declared `paging` (paging.py).

    Indented JSON cost half as much again as the structured content it repeats; Chinese stays readable.
    """
    line = text or page_line(paging, structured, params, lang)
    body = to_json(structured).decode("utf-8")
    return Outcome(True, structured, f"{line}\n{body}" if line else body)


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
        + error_text.excerpt(what, 300)
        + "); it is given in raw_data as sent, cleaned of hidden characters"
    )
    # End users write much of what an answer holds: off the documented shape, nothing says where, so
    # all of it loses its hidden characters here and is marked as untrusted (untrusted.paths).
    out.update({"raw_data": untrusted.clean_tree(envelope.data), "warnings": [warning]})
    if extras_raw:
        out["warnings"].append(
            "unexpected envelope fields: " + error_text.excerpt(untrusted.clean(to_json(extras_raw).decode()), 300)
        )
    return out
