"""Builds the MCP server from the selected operations. The only module (with cli.py) that knows MCP.

Each operation becomes an SDK `Tool` whose advertised input schema is the operation's params model
(compacted, in the chosen language) and whose output schema is its result model. The SDK's own
argument validation is bypassed on purpose: arguments reach `dispatch.execute`, the single error
boundary, which validates them against the real model and returns our structured error — so a bad
argument, a Lanying code, an HTTP failure and a crash all look the same to the model.
"""

from __future__ import annotations

import json
import logging
import warnings
from typing import Any

import httpx2
from mcp import MCPError
from mcp.server import MCPServer
from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation
from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.resolve import build_resolver_plans
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.request_state import RequestStateSecurity
from mcp.types import CallToolResult, EmptyResult, SetLevelRequestParams, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from . import __version__, discovery, errors, guides
from .apps import load_profiles, request_credentials
from .audit import AuditLog
from .client import LanyingClient
from .confirm import describe, may_need_confirmation, needs_confirmation
from .dispatch import CallContext, Outcome, execute, failure, output_model, record, validate
from .policy import Policy
from .schema import cached, input_schema, output_schema
from .settings import Settings
from .spec import Operation
from .toolsets import CATALOGUE, select
from .toolsets.meta import LOCAL_OPERATIONS

log = logging.getLogger("lanying_mcp")

INSTRUCTIONS = (
    "Tools for administering a Lanying IM (蓝莺IM) app: users, friends, groups, messages, push, files and AI "
    "chatbots. IDs are integers. `as_user_id` makes a call as that user (admin token). Failed calls return "
    "error.code, error.meaning and error.hint: follow the hint; explain_error explains any code."
)


class _RawArguments(ArgModelBase):
    """Accepts any arguments and hands them on untouched; validation happens in dispatch.execute."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"arguments": dict(self.model_extra or {})}


def to_result(outcome: Outcome) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=outcome.text)],
        structured_content=outcome.structured,
        is_error=not outcome.ok,
    )


def tool_annotations(op: Operation, lang: str) -> ToolAnnotations:
    # The title lives once, at the tool's top level (annotations.title is its older, duplicate home).
    return ToolAnnotations(
        read_only_hint=op.hints.read_only,
        destructive_hint=op.hints.destructive,
        idempotent_hint=op.hints.idempotent,
        open_world_hint=not op.local,
    )


def _headers(ctx: Context[Any, Any]) -> Any:
    try:
        return ctx.headers
    except Exception:  # no HTTP request behind this call (stdio, in-memory)
        return None


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


class ConfirmAnswer(BaseModel):
    """What the human is asked: one yes/no (elicitation schemas must be flat)."""

    confirm: bool = Field(description="Yes, do it")


class Gate(BaseModel):
    """A decision made without asking: go ahead, or refuse because nobody can be asked."""

    decision: str


GO, REFUSE = Gate(decision="go"), Gate(decision="refuse")


class LanyingServer(MCPServer[Any]):
    """MCPServer that knows the whole catalogue, asks a human before destructive calls, and refuses clearly."""

    def __init__(self, settings: Settings, client: LanyingClient, reachable: list[Operation], **kwargs: Any) -> None:
        self.lanying_settings = settings
        self.lanying_client = client
        self.policy = Policy.load(settings.policy_file, set(CATALOGUE)) if settings.policy_file else None
        self.profiles = load_profiles(settings.profiles_file) if settings.profiles_file else None
        self.app_clients = {
            name: client.with_settings(
                settings.with_(endpoint=app.endpoint, app_id=app.app_id, access_token=app.access_token)
            )
            for name, app in (self.profiles.apps.items() if self.profiles else ())
        }
        self.audit = AuditLog(settings.audit_log) if settings.audit_log else None
        denied = self.policy.deny_tools if self.policy else frozenset()
        # What may be called: the selected operations plus the local ones.
        self.reachable = {op.name: op for op in [*reachable, *LOCAL_OPERATIONS] if op.name not in denied}
        if settings.discovery:
            meta = discovery.build(lambda: self.reachable, self.refusal)
            listed = [*meta, *LOCAL_OPERATIONS]
            self.reachable.update({op.name: op for op in meta})
        else:
            listed = list(self.reachable.values())
        listed = [op for op in listed if op.name not in settings.exclude_tools]
        self.listed = {op.name: op for op in listed}
        key = settings.state_key.get_secret_value()
        if key:  # replicas must share it, so any of them can resume a multi-round (confirmation) call
            kwargs.setdefault("request_state_security", RequestStateSecurity(keys=[key.encode()]))
        super().__init__(
            name="lanying-mcp",
            title="Lanying IM",
            version=__version__,
            instructions=INSTRUCTIONS,
            tools=[self.make_tool(op) for op in listed],
            **kwargs,
        )
        self._register_extras()

    def _register_extras(self) -> None:
        """Resources and prompts hosts show to people, and the logging/setLevel handler."""
        served = self.listed

        @self.resource(
            "lanying://errors",
            name="errors",
            title="Lanying error codes",
            mime_type="application/json",
            description="Every Lanying error code: meaning (en/zh), likely cause, next step.",
        )
        def _errors() -> str:
            return guides.error_catalogue()

        @self.resource(
            "lanying://toolsets",
            name="toolsets",
            title="Toolsets and tools",
            mime_type="application/json",
            description="The toolsets and the tools this server serves in each.",
        )
        def _toolsets() -> str:
            return guides.toolset_list(served)

        if self.audit is not None:
            audit = self.audit

            @self.resource(
                "lanying://audit-log",
                name="audit-log",
                title="Audit log (last 100 writes)",
                mime_type="application/json",
                description="The last 100 write calls and their outcomes.",
            )
            def _audit() -> str:
                return json.dumps(audit.tail(100), ensure_ascii=False, indent=1)

        @self.prompt(
            name="onboard_users",
            title="Onboard users into a new group",
            description="Register or find users, create a group, invite them, confirm.",
        )
        def _onboard(usernames: str, group_name: str) -> str:
            return guides.onboard_users(usernames, group_name)

        @self.prompt(
            name="announce_to_group",
            title="Announce to a group and push it",
            description="Post a group announcement, message the group, push to its members.",
        )
        def _announce(group_id: str, message: str) -> str:
            return guides.announce(group_id, message)

        @self.prompt(
            name="diagnose_push",
            title="Why did a user not get a push?",
            description="Check settings, devices, tags and push statistics for one user.",
        )
        def _diagnose(user_id: str) -> str:
            return guides.diagnose_push(user_id)

        async def set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
            logging.getLogger("lanying_mcp").setLevel(_LEVELS.get(str(params.level), logging.INFO))
            return EmptyResult()

        with warnings.catch_warnings():  # protocol logging is deprecated in the SDK, but hosts still send it
            warnings.simplefilter("ignore")
            self._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)

    def refusal(self, name: str) -> str | None:
        """Why a catalogue tool that is not reachable here is off, or None if it is reachable or unknown."""
        if name in self.reachable or name not in CATALOGUE:
            return None
        op = CATALOGUE[name]
        if self.policy is not None and name in self.policy.deny_tools:
            return f"tool {name!r} is not available: the operator's policy denies it"
        if self.lanying_settings.read_only and not op.hints.read_only:
            return f"tool {name!r} is not available: the server runs in read-only mode and this tool writes"
        return (
            f"tool {name!r} is not available: it is not in the selected tools "
            f"(enable it with --toolsets {op.toolset} or --tools {name})"
        )

    def route(
        self, op: Operation, ctx: Context[Any, Any] | None, arguments: dict[str, Any]
    ) -> tuple[LanyingClient, dict[str, Any]]:
        """The client for this call's app (profile, or this request's credentials) and the API arguments."""
        args = dict(arguments)
        client = self.lanying_client
        if self.profiles is not None:
            name = args.pop("app", None) or self.profiles.default
            if name not in self.app_clients:
                raise errors.ArgumentError(
                    f"app {name!r} is not a configured profile; use one of {', '.join(sorted(self.app_clients))}"
                )
            client = self.app_clients[name]
            target, _ = self._target(op, args)
            if self.profiles.apps[name].read_only and target is not None and not target.hints.read_only:
                raise errors.NotAllowed(f"app {name!r} is read-only in the profiles file; {target.name} writes")
        if self.lanying_settings.request_credentials and ctx is not None:
            try:
                creds = request_credentials(_headers(ctx), self.lanying_settings.allowed_endpoints)
            except PermissionError as exc:
                raise errors.NotAllowed(str(exc)) from None
            if creds:
                client = client.with_settings(client.settings.with_(**creds))
        target, _ = self._target(op, args)
        if target is None or target.local:
            return client, args  # answered locally (or unknown): no app credentials involved
        if not client.settings.app_id or not client.settings.access_token.get_secret_value():
            raise errors.NotAllowed(
                "no Lanying credentials for this request: send the X-Lanying-App-Id and X-Lanying-Access-Token headers",
                code="missing_credentials",
            )
        return client, args

    def context(self, ctx: Context[Any, Any] | None, client: LanyingClient | None = None) -> CallContext:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            if ctx is not None:
                try:
                    await ctx.report_progress(done, total, message)
                except Exception:  # progress is best effort; never fail the call over it
                    log.debug("progress notification failed", exc_info=True)

        return CallContext(
            client or self.lanying_client, self.lanying_settings.lang, progress, CATALOGUE, self.policy, self.audit
        )

    async def run_op(self, op: Operation, arguments: dict[str, Any] | None, ctx: Context[Any, Any] | None) -> Outcome:
        try:
            client, args = self.route(op, ctx, arguments or {})
        except errors.LanyingError as exc:
            return failure(op.name, exc, self.lanying_settings.lang)
        return await execute(op, args, self.context(ctx, client))

    # --- confirmation -----------------------------------------------------------------------
    def _target(self, op: Operation, arguments: dict[str, Any]) -> tuple[Operation | None, Any]:
        """The operation a call will really run: for discovery's call_tool, the named tool."""
        if op.name == "call_tool" and op.local:
            name = arguments.get("name")
            return (self.reachable.get(name) if isinstance(name, str) else None), arguments.get("arguments")
        return op, arguments

    def _gate(self, op: Operation) -> Any:
        async def gate(ctx: Context[Any, Any], arguments: dict[str, Any]) -> Any:
            try:
                client, arguments = self.route(op, ctx, arguments)
            except errors.LanyingError:
                return GO  # the call itself reports it
            target, args = self._target(op, arguments)
            if target is None or target.local or not self.lanying_settings.confirm or not isinstance(args, dict):
                return GO
            try:
                params = validate(target, args)
                if self.policy is not None:
                    self.policy.check(target, params)
            except errors.LanyingError:
                return GO  # the call itself reports the bad arguments or the policy refusal
            if not needs_confirmation(target, params, self.policy):
                return GO
            caps = ctx.client_capabilities
            elicitation = caps.elicitation if caps is not None else None
            if elicitation is None or (elicitation.form is None and elicitation.url is not None):
                return REFUSE
            question = await describe(target, params, self.context(ctx, client))
            if question is None:
                return GO  # the target does not exist: the call fails on its own, nothing to confirm
            return Elicit(question, ConfirmAnswer)

        gate.__name__ = gate.__qualname__ = f"confirm_{op.name}"
        return gate

    def _confirmed(self, op: Operation, arguments: dict[str, Any], answer: Any) -> Outcome | None:
        """None to go ahead, or the Outcome that ends the call without doing anything."""
        data = answer.data if isinstance(answer, AcceptedElicitation) else None
        if isinstance(data, Gate) and data.decision == "go":
            return None
        if isinstance(data, ConfirmAnswer) and data.confirm:
            return None
        target, args = self._target(op, arguments)
        name = target.name if target else op.name
        if isinstance(data, Gate):
            exc: errors.LanyingError = errors.NotAllowed(
                f"{name} needs a human's confirmation, and this MCP client cannot ask (it does not support "
                "elicitation); nothing was done",
                code="confirmation_required",
            )
        else:
            how = "cancelled" if isinstance(answer, CancelledElicitation) else "declined"
            exc = errors.NotAllowed(f"the human {how} {name}; nothing was done", code="declined")
        outcome = failure(name, exc, self.lanying_settings.lang)
        if target is not None and not target.hints.read_only:
            record(self.context(None), target, args, outcome, note=str(exc.code))
        return outcome

    def make_tool(self, op: Operation) -> Tool:
        lang = self.lanying_settings.lang
        title, description = op.text(lang)
        gated = may_need_confirmation(op, self.policy) or (op.name == "call_tool" and op.local)

        async def fn(ctx: Context[Any, Any], arguments: dict[str, Any], confirm: Any = None) -> CallToolResult:
            if gated and (stop := self._confirmed(op, arguments, confirm)) is not None:
                return to_result(stop)
            return to_result(await self.run_op(op, arguments, ctx))

        resolved: dict[str, Any] = {}
        plans: dict[Any, Any] = {}
        if gated:
            resolved = {"confirm": (Resolve(self._gate(op)), True)}
            plans = build_resolver_plans(resolved, {"arguments"})
        return Tool(
            fn=fn,
            name=op.name,
            title=title,
            description=description,
            parameters=self._parameters(op, lang),
            fn_metadata=FuncMetadata(arg_model=_RawArguments, output_schema=self._output(op, lang)),
            is_async=True,
            context_kwarg="ctx",
            resolved_params=resolved,
            resolver_plans=plans,
            annotations=tool_annotations(op, lang),
            meta={"lanying/http": op.http_meta, "lanying/toolset": op.toolset},
        )

    @staticmethod
    def _output(op: Operation, lang: str) -> dict[str, Any]:
        return cached(op.name, lang, "output") or output_schema(output_model(op), lang)

    def _parameters(self, op: Operation, lang: str) -> dict[str, Any]:
        schema = cached(op.name, lang, "input") or input_schema(op.params, lang)
        if self.profiles is not None and not op.local or (self.profiles is not None and op.name == "call_tool"):
            names = sorted(self.profiles.apps)
            text = (
                f"Which app to call (default {self.profiles.default})."
                if lang == "en"
                else f"调用哪个应用(默认{self.profiles.default})。"
            )
            schema["properties"] = {
                "app": {"type": "string", "enum": names, "description": text},
                **schema.get("properties", {}),
            }
        return schema

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None) -> Any:
        if name not in self.listed and (why := self.refusal(name)):
            return to_result(failure(name, errors.NotAllowed(why), self.lanying_settings.lang))
        try:
            return await super().call_tool(name, arguments, context)
        except MCPError as exc:
            # The only MCPError our tools can raise is the SDK failing to ask the confirmation question
            # (e.g. stateless HTTP with a 2025-era client has no channel for it). Nothing was done.
            log.info("confirmation for %s could not be asked: %s", name, exc.error.message)
            why = errors.NotAllowed(
                f"{name} needs a human's confirmation, and it could not be asked over this connection "
                f"({exc.error.message}); nothing was done",
                code="confirmation_required",
            )
            return to_result(failure(name, why, self.lanying_settings.lang))


def build_server(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    client: LanyingClient | None = None,
    **kwargs: Any,
) -> LanyingServer:
    """The MCP server for `settings`. `transport` lets tests and `--sandbox` route HTTP in-process."""
    settings.validate()
    reachable = select(settings.effective_toolsets, settings.tools, settings.exclude_tools, settings.read_only)
    client = client or LanyingClient(settings, transport=transport)
    return LanyingServer(settings, client, reachable, **kwargs)
