"""The one module that imports the MCP SDK: tools, the confirmation resolver, setLevel, resources.

Everything else in the package speaks in its own terms (operations, Outcomes, questions and answers);
this adapter turns them into SDK objects, through the SDK's public API wherever that does the job
(`MCPServer`, `Context`, `Resolve`, `Elicit`, resources, `streamable_http_app`, the types). Each
internal it still reaches, and why the public API does not do that job:

    Tool(...), FuncMetadata, ArgModelBase   `add_tool` derives a tool's schema from a function signature;
                                            ours come from the operation's models (compact, bilingual,
                                            pruned) and the body takes the raw arguments (dispatch validates)
    build_resolver_plans                    a Tool built by hand needs the plan `add_tool` would make for its
                                            confirmation resolver
    _lowlevel_server.add_request_handler    logging/setLevel has no MCPServer hook
    _lowlevel_server.run (serve_stdio)      `run_stdio_async` reads stdin itself; ours answers an unreadable
                                            or oversized line with a JSON-RPC error instead of dropping it
    _handle_list_tools (overridden)         `list_tools` has no request: the listing depends on the caller's
                                            OAuth scopes

A resolver and its tool body share one context (the asked question's nonce, the resolved call), and an
answer counts only for the exact question asked. `tests/test_sdk_contract.py` pins each of these, so an
SDK upgrade that changes one fails there, by name.
"""

from __future__ import annotations

import contextvars
import enum
import logging
import os
import typing
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

import anyio.to_thread
from mcp import MCPError
from mcp.server import MCPServer
from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.server.mcpserver.resolve import build_resolver_plans
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.request_state import RequestStateSecurity
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.auth import ProtectedResourceMetadata
from mcp.types import (
    CallToolResult,
    EmptyResult,
    Icon,
    ListToolsResult,
    PaginatedRequestParams,
    ResourceLink,
    SetLevelRequestParams,
    TextContent,
    ToolAnnotations,
)
from mcp_types import jsonrpc_message_adapter
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import to_json

from ..core import identity
from ..core.errors import StateError
from ..engine import results
from ..engine.call import Outcome
from ..safety.consent import QUESTION_SECONDS
from .stdio import protocol_streams

log = logging.getLogger("lanying_mcp")

# Protocol versions that open a stateful session with an initialize handshake (the 2025 era).
LEGACY_VERSIONS: frozenset[str] = frozenset(HANDSHAKE_PROTOCOL_VERSIONS)

__all__ = [
    "Answer",
    "Answered",
    "Caller",
    "Decision",
    "LEGACY_VERSIONS",
    "Pending",
    "Question",
    "LanyingMCP",
    "ToolSpec",
    "make_tool",
    "to_result",
    "transport_security",
]


class Decision(str, enum.Enum):
    """What the gate decided without asking anyone."""

    GO = "go"  # nothing to confirm
    REFUSE = "refuse"  # a yes is needed and this client cannot be asked
    ABSENT = "absent"  # the question's look-up says the target does not exist: refused, never a yes
    UNRECORDED = "unrecorded"  # a yes is needed, but the question could not be recorded to check its answer
    UNCONFIGURED = "unconfigured"  # a yes is needed, and the operator's chosen channel is not set up
    PENDING = "pending"  # a yes is asked on another channel (the approval page): the call answers approval_pending
    AWAIT = "await"  # the call carries an approval ID: wait for the human's answer there, then run or refuse
    APPROVED = "approved"  # asked outside the protocol (askpass) and the human said yes: redeemed like a form's yes
    DECLINED = "declined"  # asked outside the protocol (askpass) and the answer was no


@dataclass(frozen=True)
class Pending:
    """A yes asked outside the protocol (approval.py): `approval_id` names it; `wait` when the call should
    wait for the answer (a retry carrying the ID) rather than report it pending."""

    approval_id: str
    wait: bool = False


@dataclass(frozen=True)
class Question:
    """What the human is asked, and the nonce that makes this asking unique.

    `text` already names `ref`, so the sealed request state (which commits to the exact question)
    commits to the nonce: an answer is only taken for the question it was given to."""

    text: str
    ref: str


@dataclass(frozen=True)
class Answered:
    """A question the gate asked itself, off the protocol (an askpass program), with its nonce and answer.

    A yes is settled exactly as a form's yes: the tool body redeems `ref` for this caller and call."""

    ref: str
    yes: bool


# The nonce of the question a tool's resolver asked during this request, for the tool body to redeem.
# The SDK runs a tool's resolvers and then its body in the same task, so the body sees what was set.
_ASKED: contextvars.ContextVar[str | None] = contextvars.ContextVar("lanying_asked", default=None)
# What the resolver resolved the call into (Caller.resolved), handed to the tool body the same way.
_HANDED: contextvars.ContextVar[Any] = contextvars.ContextVar("lanying_handed", default=None)


class Answer(str, enum.Enum):
    """The human's answer, or the gate's decision, as the tool function receives it."""

    YES = "yes"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    CANNOT_ASK = "cannot_ask"
    NOT_ASKED = "not_asked"
    ABSENT = "absent"
    UNRECORDED = "unrecorded"
    UNCONFIGURED = "unconfigured"
    PENDING = "pending"
    AWAIT = "await"


# The one yes/no the human is asked (elicitation schemas must be flat). `confirm` is typed `Any` with a
# boolean schema so that the answer reaches us untouched: only the JSON boolean `true` is a yes; "yes",
# 1 or "on" are not (pydantic's lax bool would accept them). The schema's title and descriptions are what
# the human sees beside the question, so they are short, in the server's language, and have no docstring
# (pydantic would send a docstring as the form's description).
class ConfirmAnswer(BaseModel):
    confirm: Annotated[Any, WithJsonSchema({"type": "boolean"})] = Field()


_FORM_TEXT: dict[str, tuple[str, str, str]] = {
    # (form title, field title, field description)
    "en": ("Confirm", "Go ahead", "Yes runs it now; no does nothing."),
    "zh": ("确认", "继续执行", "选“是”立即执行;选“否”不做任何操作。"),
}


class _ConfirmEn(ConfirmAnswer):
    model_config = ConfigDict(title=_FORM_TEXT["en"][0])
    confirm: Annotated[
        Any, WithJsonSchema({"type": "boolean", "title": _FORM_TEXT["en"][1], "description": _FORM_TEXT["en"][2]})
    ] = Field()


class _ConfirmZh(ConfirmAnswer):
    model_config = ConfigDict(title=_FORM_TEXT["zh"][0])
    confirm: Annotated[
        Any, WithJsonSchema({"type": "boolean", "title": _FORM_TEXT["zh"][1], "description": _FORM_TEXT["zh"][2]})
    ] = Field()


def confirm_form(lang: str) -> type[ConfirmAnswer]:
    """The confirmation form in the server's language."""
    return _ConfirmZh if lang == "zh" else _ConfirmEn


class _Verdict(BaseModel):
    """The resolver's value when nothing is asked."""

    decision: Decision


def _answer(value: Any) -> Answer:
    # The SDK hands a resolver's plain return value over wrapped as an accepted elicitation.
    if isinstance(value, AcceptedElicitation) and isinstance(value.data, _Verdict):  # pyright: ignore[reportUnknownMemberType]
        value = value.data  # pyright: ignore[reportUnknownMemberType]
    if isinstance(value, _Verdict):
        return {
            Decision.GO: Answer.NOT_ASKED,
            Decision.REFUSE: Answer.CANNOT_ASK,
            Decision.ABSENT: Answer.ABSENT,
            Decision.UNRECORDED: Answer.UNRECORDED,
            Decision.UNCONFIGURED: Answer.UNCONFIGURED,
            Decision.PENDING: Answer.PENDING,
            Decision.AWAIT: Answer.AWAIT,
            Decision.APPROVED: Answer.YES,
            Decision.DECLINED: Answer.DECLINED,
        }[value.decision]
    if isinstance(value, AcceptedElicitation):
        data = cast(AcceptedElicitation[BaseModel], value).data
        return Answer.YES if isinstance(data, ConfirmAnswer) and data.confirm is True else Answer.DECLINED
    if isinstance(value, CancelledElicitation):
        return Answer.CANCELLED
    return Answer.DECLINED


@dataclass
class Caller:
    """What generic code may know of the MCP request behind a call: headers, elicitation, progress,
    the nonce of the question this call's answer was given to (`ref`, None when none was asked), and
    the call as the resolver resolved it (`resolved`: set by the resolver, read by the tool body)."""

    ctx: Any = None
    ref: str | None = None
    resolved: Any = None

    def resumed(self) -> bool:
        """Whether this request continues a call asked in an earlier round (it carries the sealed state)."""
        try:
            return bool(self.ctx.request_state) if self.ctx is not None else False
        except Exception:  # no request behind this call
            return False

    def headers(self) -> Mapping[str, str] | None:
        if self.ctx is None:
            return None
        try:
            return self.ctx.headers
        except Exception:  # no HTTP request behind this call (stdio, in-memory)
            return None

    def principal(self) -> identity.Principal | None:
        """The OAuth principal the HTTP guard validated for this request (oauth.py); None without OAuth."""
        if self.ctx is None:
            return None
        try:
            request = self.ctx.request_context.request
        except Exception:  # no request behind this call (stdio, in-memory)
            return None
        return request_principal(request)

    def can_elicit(self) -> bool:
        caps = self.ctx.client_capabilities if self.ctx is not None else None
        elicitation = caps.elicitation if caps is not None else None
        return elicitation is not None and not (elicitation.form is None and elicitation.url is not None)

    async def progress(self, done: float, total: float | None, message: str | None) -> None:
        if self.ctx is None:
            return
        try:
            await self.ctx.report_progress(done, total, message)
        except Exception:  # progress is best effort; never fail the call over it
            log.debug("progress notification failed", exc_info=True)


Ask = Callable[[Caller, dict[str, Any]], Awaitable["str | Question | Pending | Answered | Decision"]]
Run = Callable[[Caller, dict[str, Any], Answer], Awaitable[Outcome]]


@dataclass(frozen=True)
class ToolSpec:
    """One tool as this package describes it, before the SDK sees it."""

    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool
    meta: dict[str, Any] = field(default_factory=dict[str, Any])
    icon: str | None = None  # the `src` of the tool's icon (its toolset's), a data: URI


class _RawArguments(ArgModelBase):
    """Accepts any arguments and hands them on untouched; validation happens in dispatch.execute."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"arguments": dict(self.model_extra or {})}


def request_principal(request: Any) -> identity.Principal | None:
    """The Principal the OAuth guard put in the ASGI scope of the HTTP request behind a message."""
    scope = getattr(request, "scope", None)
    found = cast(Mapping[str, Any], scope).get(identity.PRINCIPAL_KEY) if isinstance(scope, Mapping) else None
    return found if isinstance(found, identity.Principal) else None


def caller_identity(ctx: Any) -> str:
    """Who is behind a Context (of a tool call or a resource read): see identity.py."""
    caller = Caller(ctx)
    return identity.caller_identity(caller.headers(), caller.principal())


def state_principal(request_context: Any) -> str:
    """The principal a sealed request state is bound to: the caller behind the SDK's request context."""
    request = getattr(request_context, "request", None)
    return identity.caller_identity(getattr(request, "headers", None), request_principal(request))


def protected_resource_metadata(resource: str, issuer: str, scopes: list[str], name: str) -> dict[str, Any]:
    """The RFC 9728 document, checked by the SDK's own model (the one its clients parse it with)."""
    document = ProtectedResourceMetadata.model_validate(
        {
            "resource": resource,
            "authorization_servers": [issuer],
            "scopes_supported": scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": name,
        }
    )
    return document.model_dump(mode="json", exclude_none=True)


async def to_result(
    outcome: Outcome, ctx: Any = None, store: results.ResultStore | None = None, lang: str = "en"
) -> CallToolResult:
    """The CallToolResult of an Outcome: a bulk call's attachment is stored and linked, never inlined."""
    structured, text = outcome.structured, outcome.text
    content: list[Any] = []
    if outcome.attachment is not None and store is not None:
        failed = False
        try:
            rid = await store.put(caller_identity(ctx), outcome.attachment)
        except StateError as exc:  # the call itself was made: its summary still goes back
            log.warning("a bulk result could not be kept: %s", exc)
            rid, failed = None, True
        uri = results.PREFIX + rid if rid is not None else None
        head, _, body = text.partition("\n")
        if uri is not None:
            structured = {**structured, "summary": {**structured.get("summary", {}), "full_result": uri}}
            body = to_json(structured).decode("utf-8")  # a summary: small, cheap to write again
            content.append(
                ResourceLink(
                    type="resource_link",
                    uri=uri,
                    name="full-result",
                    title="完整逐项结果" if lang == "zh" else "Full per-item result",
                    mime_type="application/json",
                    size=len(outcome.attachment.encode("utf-8")),
                )
            )
        text = f"{head}{results.link_sentence(uri, lang, failed)}\n{body}"
    content.insert(0, TextContent(type="text", text=text))
    return CallToolResult(
        content=content, structured_content=structured, is_error=not outcome.ok, _meta=outcome.meta or None
    )


def make_tool(
    spec: ToolSpec, run: Run, ask: Ask | None, store: results.ResultStore | None = None, lang: str = "en"
) -> Tool:
    """An SDK Tool that passes raw arguments to `run`, after `ask` (when given) settled consent."""

    async def fn(ctx: Context[Any, Any], arguments: dict[str, Any], confirm: Any = None) -> CallToolResult:
        answer = _answer(confirm) if ask is not None else Answer.NOT_ASKED
        ref = _ASKED.get() if ask is not None else None
        handed = _HANDED.get() if ask is not None else None
        return await to_result(await run(Caller(ctx, ref, handed), arguments, answer), ctx, store, lang)

    resolved: dict[str, Any] = {}
    plans: dict[Any, Any] = {}
    if ask is not None:

        async def gate(ctx: Context[Any, Any], arguments: dict[str, Any]) -> Any:
            _ASKED.set(None)
            _HANDED.set(None)
            caller = Caller(ctx)
            decided = await ask(caller, arguments)
            _HANDED.set(caller.resolved)
            if isinstance(decided, Decision):
                return _Verdict(decision=decided)
            if isinstance(decided, Pending):  # the tool body reads the approval's ID as the asked "nonce"
                _ASKED.set(decided.approval_id)
                return _Verdict(decision=Decision.AWAIT if decided.wait else Decision.PENDING)
            if isinstance(decided, Answered):  # asked off the protocol: the body redeems its nonce as a form's
                _ASKED.set(decided.ref)
                return _Verdict(decision=Decision.APPROVED if decided.yes else Decision.DECLINED)
            if isinstance(decided, Question):
                _ASKED.set(decided.ref)
                decided = decided.text
            return Elicit(decided, confirm_form(lang))

        # The SDK keys a resolver's state in the multi-round (2026-07-28) protocol by the resolver's
        # `module:qualname`. Every gate is this same closure, so give each tool's its own stable name:
        # any replica then resumes a confirmation another replica asked.
        gate.__name__ = gate.__qualname__ = f"confirm_{spec.name}"
        # Its annotations, resolved once for every gate: the SDK reads them when it plans the gate, and
        # strings (this module defers annotations) would be evaluated again for each of ~50 tools.
        gate.__annotations__ = _gate_hints(gate)
        resolved = {"confirm": (Resolve(gate), True)}
        plans = build_resolver_plans(resolved, {"arguments"})
    return Tool(
        fn=fn,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        parameters=spec.input_schema,
        fn_metadata=FuncMetadata(arg_model=_RawArguments, output_schema=spec.output_schema),
        is_async=True,
        context_kwarg="ctx",
        resolved_params=resolved,
        resolver_plans=plans,
        # The title lives once, at the tool's top level (annotations.title is its older, duplicate home).
        annotations=tool_annotations(spec),
        meta=spec.meta,
        icons=[Icon(src=spec.icon)] if spec.icon else None,
    )


_GATE_HINTS: dict[str, Any] = {}


def _gate_hints(gate: Callable[..., Any]) -> dict[str, Any]:
    """The resolved annotations shared by every confirmation gate (they all have the same signature)."""
    if not _GATE_HINTS:
        _GATE_HINTS.update(typing.get_type_hints(gate))
    return dict(_GATE_HINTS)


def tool_annotations(spec: ToolSpec) -> ToolAnnotations:
    """A tool's hints, without those the spec gives no meaning or that say its default.

    readOnlyHint is always sent. destructiveHint and idempotentHint mean something only when the tool is
    not read-only, so a read-only tool leaves them out; openWorldHint defaults to true, so only a tool
    that reaches no outside system (answered locally) sends it, as false.
    """
    writes = not spec.read_only
    return ToolAnnotations(
        read_only_hint=spec.read_only,
        destructive_hint=spec.destructive if writes else None,
        idempotent_hint=spec.idempotent if writes else None,
        open_world_hint=None if spec.open_world else False,
    )


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}


class LanyingMCP(MCPServer[Any]):
    """MCPServer plus what the SDK does not offer publicly: a refusal for unserved tools, setLevel, state keys."""

    def __init__(
        self,
        *,
        tools: list[Tool],
        hidden: set[str],
        instructions: str,
        version: str,
        state_key: str = "",
        unserved: Callable[[str], Outcome | None] = lambda name: None,
        cannot_ask: Callable[[str, str], Outcome] | None = None,
        icon: str | None = None,
        **kwargs: Any,
    ) -> None:
        if icon:  # the server's icon (`src`, a data: URI), shown by hosts beside its name
            kwargs.setdefault("icons", [Icon(src=icon)])
        # The sealed state of a multi-round (confirmation) call: replicas must share the key, so any of them
        # can resume a call another asked; without one, a key of this process. The state lives as long as
        # its question, and is bound to the caller (local user, or the digest of the bearer and per-request
        # credentials), so another caller's echo of it is refused.
        key = state_key.encode() if state_key else os.urandom(32)
        kwargs.setdefault(
            "request_state_security",
            RequestStateSecurity(keys=[key], ttl=QUESTION_SECONDS, bind_principal=state_principal),
        )
        super().__init__(
            name="lanying-mcp", title="Lanying IM", version=version, instructions=instructions, tools=tools, **kwargs
        )
        self._unserved = unserved
        self._caller_documents: dict[str, Callable[[Caller], str]] = {}
        self._cannot_ask = cannot_ask
        self._hidden = hidden
        self._ours = frozenset(tool.name for tool in tools)

        async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
            logging.getLogger("lanying_mcp").setLevel(_LEVELS.get(str(params.level), logging.INFO))
            return EmptyResult()

        with warnings.catch_warnings():  # protocol logging is deprecated in the SDK, but hosts still send it
            warnings.simplefilter("ignore")
            self._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)

    def add_document(self, uri: str, name: str, title: str, description: str, read: Callable[[], str]) -> None:
        self.resource(uri, name=name, title=title, mime_type="application/json", description=description)(read)

    async def serve_stdio(self, max_line: int | None = None) -> None:
        """What `run("stdio")` does, except that a line the SDK cannot read (or longer than `max_line`
        bytes) still gets a JSON-RPC error reply."""

        def validate(line: str) -> Any:
            return jsonrpc_message_adapter.validate_json(line, by_name=False)

        lowlevel = self._lowlevel_server  # the SDK's own run_stdio_async does exactly this
        limit = {} if max_line is None else {"limit": max_line}
        with protocol_streams(validate, **limit) as (stdin, stdout):
            async with stdio_server(stdin=stdin, stdout=stdout) as (read, write):
                await lowlevel.run(read, write, lowlevel.create_initialization_options())

    def add_results(self, store: results.ResultStore) -> None:
        """Serve `lanying://results/{result_id}`: the caller's own stored results, else not-found."""

        async def read(result_id: str, ctx: Context[Any, Any]) -> str:
            try:
                text = await store.get(caller_identity(ctx), result_id)
            except StateError as exc:
                raise ResourceError(f"{results.PREFIX}{result_id} cannot be read now: {exc}") from None
            if text is None:
                raise ResourceNotFoundError(
                    f"no result {results.PREFIX}{result_id} for this caller: it expired "
                    f"({results.TTL_SECONDS // 60} min), was evicted, or another caller made it"
                )
            return text

        read.__annotations__["ctx"] = Context  # the SDK finds the Context parameter by its (resolved) annotation
        self.resource(
            results.PREFIX + "{result_id}",
            name="results",
            title="Full results of bulk calls",
            mime_type="application/json",
            description="The full per-item result a bulk tool call linked to; for the caller that made it, 15 minutes.",
        )(read)

    def add_caller_document(
        self, uri: str, name: str, title: str, description: str, read: Callable[[Caller], str]
    ) -> None:
        """A fixed resource whose content depends on who reads it (the SDK gives static resources no Context).

        `read` may raise `LookupError` with a sentence saying why this caller is not served."""
        self._caller_documents[uri] = read
        self.add_document(uri, name, title, description, lambda: "")

    async def read_resource(self, uri: Any, context: Context[Any, Any] | None = None) -> Any:
        read = self._caller_documents.get(str(uri))
        if read is None:
            return await super().read_resource(uri, context)
        try:
            text = await anyio.to_thread.run_sync(read, Caller(context))  # it may read a file
        except LookupError as exc:
            raise ResourceNotFoundError(str(exc.args[0]) if exc.args else f"{uri} is not served here") from None
        return [ReadResourceContents(content=text, mime_type="application/json")]

    def add_recipe(self, name: str, title: str, description: str, render: Callable[..., str]) -> None:
        self.prompt(name=name, title=title, description=description)(render)

    async def list_tools(self) -> Any:
        """All but the hidden tools: those stay callable by name once search_tools has shown them."""
        return [tool for tool in await super().list_tools() if tool.name not in self._hidden]

    async def _handle_list_tools(self, ctx: Any, params: PaginatedRequestParams | None) -> ListToolsResult:
        """tools/list for this request: with OAuth, only the tools its token's scopes may run."""
        tools = await self.list_tools()
        principal = request_principal(getattr(ctx, "request", None))
        if principal is not None:
            tools = [tool for tool in tools if self.may_list(tool.name, principal)]
        return ListToolsResult(tools=tools)

    def may_list(self, name: str, principal: identity.Principal) -> bool:
        """Whether a token of `principal` may see this tool listed (the server narrows it by scope)."""
        return True

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None) -> Any:
        if (refused := self._unserved(name)) is not None:
            return await to_result(refused)
        try:
            return await super().call_tool(name, arguments, context)
        except MCPError as exc:
            # The only MCPError our tools can raise is the SDK failing to ask the confirmation question
            # (e.g. stateless HTTP with a 2025-era client has no channel for it). Nothing was done. A tool
            # added to this server by other code keeps the protocol error (-32021 for a capability the
            # client did not declare), as the SDK raised it.
            if self._cannot_ask is None or name not in self._ours:
                raise
            log.info("confirmation for %s could not be asked: %s", name, exc.error.message)
            return await to_result(self._cannot_ask(name, exc.error.message))


def transport_security(hosts: list[str], origins: list[str]) -> TransportSecuritySettings:
    """Host/Origin checks against DNS rebinding for the HTTP transports."""
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)
