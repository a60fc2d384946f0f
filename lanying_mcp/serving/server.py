"""Wires the MCP server: selection, routing, the confirmation gate and the SDK adapter.

Each listed operation becomes a tool through `sdk.make_tool`: its input schema is the operation's
params model (compacted, in the chosen language), its output schema the result model. Arguments are
not validated by the SDK: they reach `dispatch.execute`, the single error boundary, so a bad
argument, a Lanying code, an HTTP failure and a crash all look the same to the model.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
import httpx2

from ..core import errors, icons
from ..core.cache import Cache
from ..core.identity import Principal, caller_identity
from ..core.json_values import as_object
from ..core.schema import cached, input_schema, output_schema
from ..core.settings import Settings
from ..core.spec import Operation
from ..core.version import __version__
from ..engine import metrics
from ..engine.apps import key_of
from ..engine.call import CallContext, Outcome, failure, output_model
from ..engine.client import LanyingClient, check_alternate_methods
from ..engine.discovery import CALL_TOOL, SEARCH_TOOLS
from ..engine.dispatch import execute
from ..engine.journal import Journal
from ..engine.mentions import prune, prune_schema
from ..engine.resolved import ResolvedCall
from ..engine.results import ResultStore
from ..engine.stores import open_state
from ..review.approval import AWAIT_APPROVAL
from ..review.approval_page import PATH as APPROVAL_PATH
from ..review.approval_page import Listener
from ..review.preview import PREVIEW_CALL
from ..safety.audit import AuditLog
from ..safety.consent import may_ask
from ..safety.policy import Policy
from ..safety.redact import check_maskable, redactor_for, secret_keys
from ..safety.scopes import Access, ScopeNames
from ..toolsets import CATALOGUE, TOOLSETS
from ..toolsets.meta import EXPLAIN_ERROR
from . import guides, limits
from .gate import Gate
from .routing import Router
from .sdk import Answer, Caller, LanyingMCP, ToolSpec, make_tool, to_result
from .selection import OPERATIONS, Selection

log = logging.getLogger("lanying_mcp")


def instructions(selection: Selection, lang: str) -> str:
    """What the model reads first: what the tools are for, and how to reach the ones not listed.

    It names a tool only when the tool is listed, or says how to run it (through call_tool).
    """
    hidden = selection.hidden_toolsets
    listed = selection.listed
    through = CALL_TOOL in listed
    search = SEARCH_TOOLS in listed
    explain = ""
    if EXPLAIN_ERROR.name in listed:
        explain = "explain_error可解释任意错误码。" if lang == "zh" else " explain_error explains any code."
    elif through and EXPLAIN_ERROR.name in selection.reachable:
        explain = (
            "用call_tool调用explain_error可解释任意错误码。"
            if lang == "zh"
            else " call_tool with name explain_error explains any code."
        )
    if lang == "zh":
        text = (
            "蓝莺IM(Lanying IM)应用管理工具:用户、好友、群、消息、推送、文件和AI机器人。ID均为整数。"
            "as_user_id表示以该用户身份调用(管理员token)。调用失败时返回error.code、error.meaning和error.hint:"
            "按hint操作;" + explain
        )
        if hidden and through and search:
            text += f"未列出的工具集({', '.join(hidden)})的工具:用search_tools按关键词查找,再用call_tool调用。"
        return text
    text = (
        "Tools for administering a Lanying IM (蓝莺IM) app: users, friends, groups, messages, push, files and AI "
        "chatbots. IDs are integers. `as_user_id` makes a call as that user (admin token). Failed calls return "
        "error.code, error.meaning and error.hint: follow the hint." + explain
    )
    if hidden and through and search:
        text += (
            f" More tools are in toolsets not listed here ({', '.join(hidden)}): find them with search_tools "
            "and run them with call_tool."
        )
    return text


def profile_of(caller: Caller) -> str | None:
    """The profile the caller's OAuth token selects (LANYING_OAUTH_PROFILES), if any."""
    principal = caller.principal()
    return principal.profile if principal is not None else None


def _open_in_browser(url: str) -> bool:
    import webbrowser  # only when an approval is announced: start-up does not import it

    return webbrowser.open(url)


class LanyingServer(LanyingMCP):
    """The whole server: what is listed and reachable, where calls go, and who must say yes first."""

    # Opens the approval page in the admin's browser (tests replace it: see tests/conftest.py).
    open_url: Callable[[str], Any] = staticmethod(_open_in_browser)
    # The page's base address when this server's own HTTP app serves it (cli.build_http_app sets it);
    # None on stdio, where a listener on 127.0.0.1 serves it while approvals are pending.
    approval_base: str | None = None

    def __init__(self, settings: Settings, client: LanyingClient, **kwargs: Any) -> None:
        self.lanying_settings = settings
        self.lanying_client = client
        self.policy = Policy.load(settings.policy_file, set(CATALOGUE)) if settings.policy_file else None
        self.cache = Cache()  # names, roles, group sizes and usernames this server looked up, for every call
        token = settings.access_token.get_secret_value()
        self.redactor = redactor_for((token,))
        # The arguments the catalogue declares secret, worked out at the first write logged (it reads every
        # operation's model, which start-up does not load).
        secrets = functools.cache(lambda: secret_keys(OPERATIONS.values()))
        self.audit = (
            AuditLog(settings.audit_log, redactor=self.redactor, declared=secrets) if settings.audit_log else None
        )
        self.selection = Selection(settings, self.policy)
        self.reachable = self.selection.reachable
        self.listed = self.selection.listed
        self.router = Router(settings, client, lambda: self.reachable)
        self.profiles = self.router.profiles
        # what outlives a call, opened at first use: the state file, or the Redis shared by replicas
        self.state = open_state(settings.state_file, settings.state_url.get_secret_value())
        self.gate = Gate(settings, self.policy, self.router, self.context, self.state)
        self.gate.announce = self.announce_approval
        self.approval_listener = Listener(self.gate.approvals, settings.lang, time.time)
        self.results = ResultStore(self.state)  # bulk calls' full results, behind resource links
        self.journal = (
            Journal(
                self.state,
                days=settings.journal_days,
                max_entries=settings.journal_max_entries,
                redactor=self.redactor,
                declared=secrets,
            )
            if settings.journal
            else None
        )
        kwargs.setdefault("lifespan", self._session_life)
        super().__init__(
            tools=[self.make_tool(op) for op in self.reachable.values()],
            hidden=set(self.reachable) - set(self.listed),
            instructions=prune(instructions(self.selection, settings.lang), self.reachable, OPERATIONS),
            version=__version__,
            state_key=settings.state_key.get_secret_value(),
            unserved=self._unserved,
            cannot_ask=self.gate.cannot_ask,
            icon=icons.server(),
            **kwargs,
        )
        self.add_results(self.results)
        self._register_extras()
        self.limiter = limits.CallLimiter(self.state, settings.calls_per_minute)
        self.metrics: metrics.Metrics | None = None  # on with `enable_metrics` (the HTTP transports)

    def enable_metrics(self) -> metrics.Metrics:
        """Count calls, errors, latency, upstream status and consent from now on (once per server)."""
        if self.metrics is None:
            self.metrics = metrics.Metrics(frozenset(self.reachable))
        return self.metrics

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        """Every tool call: the caller's per-minute limit first (HTTP only), then the call, counted."""
        started = time.perf_counter()
        with metrics.observing(self.metrics):
            try:
                result = await self._limited(name, context)
                if result is None:
                    result = await super().call_tool(name, arguments, context)
            except Exception:  # a protocol error (an unknown tool, a question that could not be sent)
                if self.metrics is not None:
                    self.metrics.observe_call(name, time.perf_counter() - started, "protocol_error")
                raise
        if self.metrics is not None:
            if hasattr(result, "is_error"):
                self.metrics.observe_call(name, time.perf_counter() - started, _error_code(result))
            else:  # a round of the multi-round protocol that asks the human: the call goes on in the next one
                self.metrics.calls.labels(self.metrics.tool_label(name), "input_required").inc()
        return result

    async def _limited(self, name: str, context: Any) -> Any:
        """The refusal of a call over its caller's limit, or None to let it run."""
        headers = Caller(context).headers()
        if headers is None:  # stdio and in-process callers are the local user: not limited
            return None
        wait = await self.limiter.check(limits.who(headers, limits.request_scope(context)))
        if wait is None:
            return None
        log.info("refused a call to %s: the caller is over LANYING_CALLS_PER_MINUTE", name)
        exc = errors.RateLimited(self.limiter.per_minute, wait)
        return await to_result(failure(name, exc, self.lanying_settings.lang))

    @contextlib.asynccontextmanager
    async def _session_life(self, app: Any) -> AsyncGenerator[dict[str, Any]]:
        """A session's life: on stdio, the process's. The approval page's listener ends with it."""
        try:
            yield {}
        finally:
            await self.approval_listener.stop()

    def refusal(self, name: str) -> str | None:
        return self.selection.refusal(name)

    async def flush(self) -> None:
        """Write what is deferred past the answers (the journal's closes): at shutdown, of every transport."""
        if self.journal is not None:
            with anyio.CancelScope(shield=True):
                await self.journal.flush()

    async def serve_stdio(self, max_line: int | None = None) -> None:
        try:
            await super().serve_stdio(max_line)
        finally:
            await self.flush()

    def streamable_http_app(self, *args: Any, **kwargs: Any) -> Any:
        return self._flushed_at_shutdown(super().streamable_http_app(*args, **kwargs))

    def sse_app(self, *args: Any, **kwargs: Any) -> Any:
        return self._flushed_at_shutdown(super().sse_app(*args, **kwargs))

    def _flushed_at_shutdown(self, app: Any) -> Any:
        """The Starlette app, whose lifespan ends by flushing (uvicorn runs it on SIGINT/SIGTERM)."""
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(a: Any) -> AsyncGenerator[Any]:
            async with inner(a) as state:
                try:
                    yield state
                finally:
                    await self.flush()

        app.router.lifespan_context = lifespan
        return app

    def _unserved(self, name: str) -> Outcome | None:
        if name not in self.reachable and (why := self.refusal(name)):
            return failure(name, errors.NotAllowed(why), self.lanying_settings.lang)
        return None

    def context(self, caller: Caller | None, client: LanyingClient | None = None, grant: Any = None) -> CallContext:
        client = client or self.lanying_client
        ctx = CallContext(
            client,
            self.lanying_settings.lang,
            caller.progress if caller is not None else None,
            self.reachable,
            self.policy,
            self.audit_for(caller, client),
            operations=OPERATIONS,
            cache=self.cache,
            confirm=self.lanying_settings.confirm,
            reveal_secrets=self.lanying_settings.reveal_secrets,
            access_token=client.settings.access_token.get_secret_value(),
        )
        ctx.state = self.state
        if grant is not None:
            ctx.grant = grant
        principal = caller.principal() if caller is not None else None
        if principal is not None:
            ctx.access = self.access(principal)
        if self.journal is not None:
            headers = caller.headers() if caller is not None else None
            ctx.journal = self.journal.bound(
                app=self.router.app_of(client),
                app_key=key_of(client.settings),
                caller=caller_identity(headers, principal),
                who=principal.who() if principal is not None else None,
            )
        return ctx

    def access(self, principal: Principal) -> Access:
        """What this OAuth principal's token may run: its scopes, against the configured scope names."""
        s = self.lanying_settings
        return Access.of(principal.scopes, ScopeNames(s.oauth_read_scope, s.oauth_write_scope, s.oauth_admin_scope))

    def may_list(self, name: str, principal: Principal) -> bool:
        op = self.reachable.get(name)
        return op is None or self.access(principal).may_list(op)

    def audit_for(self, caller: Caller | None, client: LanyingClient) -> AuditLog | None:
        """The audit log as this call writes it: every entry names the app and who called (by name with OAuth)."""
        if self.audit is None:
            return None
        headers = caller.headers() if caller is not None else None
        principal = caller.principal() if caller is not None else None
        return self.audit.bound(
            app=self.router.app_of(client),
            app_key=key_of(client.settings),
            caller=caller_identity(headers, principal),
            who=principal.who() if principal is not None else None,
        )

    def read_audit(self, caller: Caller) -> str:
        """The audit resource for one caller: the last entries of the apps it holds credentials for, only."""
        assert self.audit is not None
        headers = caller.headers()
        if headers is not None and not self.lanying_settings.audit_over_http:
            raise LookupError(
                "the audit log is not served over HTTP; the operator can turn it on with LANYING_AUDIT_OVER_HTTP "
                "(each caller then reads only its own app's entries)"
            )
        try:
            apps = self.router.apps_of(headers)
        except errors.LanyingError as exc:
            raise LookupError(f"the audit log is not served for this request: {exc.message}") from None
        if not apps:
            raise LookupError(
                "the audit log is served only to a caller with its app's credentials: send the X-Lanying-App-Id "
                "and X-Lanying-Access-Token headers"
            )
        entries = self.audit.tail(100, {key_of(s) for s in apps})
        for entry in entries:
            entry.pop("app_key", None)
        return json.dumps(entries, ensure_ascii=False, indent=1)

    async def announce_approval(self, approval_id: str, secret: str) -> None:
        """Show a new approval to the human: the page opened in the browser (and on stderr when the
        operator asked for it). The address holds the one-time secret: it never goes to a result or a log."""
        try:
            base = self.approval_base or await self.approval_listener.ensure()
        except OSError as exc:
            log.warning("the approval page could not be served: %s", exc)
            return
        url = f"{base}{APPROVAL_PATH}{approval_id}?s={secret}"
        if self.lanying_settings.approval_secret_stderr:
            print(f"lanying-mcp: approve or decline {approval_id} at {url}", file=sys.stderr, flush=True)
        try:
            await anyio.to_thread.run_sync(self.open_url, url)
        except Exception as exc:
            log.warning("the approval page could not be opened in a browser (%s)", type(exc).__name__)

    async def await_approval(self, caller: Caller, arguments: dict[str, Any]) -> Outcome:
        """await_approval: wait for the page's answer, then run the sealed call once (through the gate)."""
        lang = self.lanying_settings.lang
        approval_id = arguments.get("approval_id")
        if not isinstance(approval_id, str) or not approval_id:
            exc = errors.ArgumentError("approval_id is required: the ID an approval_pending result gave")
            return failure(AWAIT_APPROVAL, exc, lang)
        try:
            record = await self.gate.approvals.get(approval_id)
        except Exception as exc:  # the state store failed: nothing runs
            log.warning("an approval could not be read: %s", exc)
            record = None
        if record is None or record.get("caller") != caller_identity(caller.headers(), caller.principal()):
            return self.gate._expired(AWAIT_APPROVAL)  # pyright: ignore[reportPrivateUsage]
        op = self.reachable.get(str(record.get("tool")))
        if op is None:
            return self.gate._expired(AWAIT_APPROVAL)  # pyright: ignore[reportPrivateUsage]
        return await self.run_op(op, Caller(caller.ctx, approval_id), dict(record["arguments"]), Answer.AWAIT)

    async def run_op(self, op: Operation, caller: Caller, arguments: dict[str, Any], answer: Answer) -> Outcome:
        """Run the call as its resolver resolved it (the same request), else resolve it here, once."""
        call = caller.resolved
        if not isinstance(call, ResolvedCall) or not call.made_for(op, arguments or {}):
            if answer is Answer.NOT_ASKED:  # nothing to settle: execute resolves the call, within its deadline
                try:
                    route = self.gate.route(op, caller, arguments or {})
                except errors.LanyingError as exc:
                    return failure(op.name, exc, self.lanying_settings.lang)
                return await execute(op, route.arguments, self.context(caller, route.client))
            try:
                call = await self.gate.resolve(op, caller, arguments or {})
            except errors.LanyingError as exc:
                return failure(op.name, exc, self.lanying_settings.lang)
        settled = await self.gate.settle(op, call, answer, caller)
        if isinstance(settled, Outcome):
            return settled
        ctx = self.context(caller, call.route.client, settled)
        ctx.resolved = call
        return await execute(op, call.route.arguments, ctx)

    def make_tool(self, op: Operation) -> Any:
        lang = self.lanying_settings.lang
        title, description = op.text(lang)
        reach = self.reachable
        spec = ToolSpec(
            name=op.name,
            title=title,
            description=prune(description, reach, OPERATIONS),
            input_schema=prune_schema(self._parameters(op, lang), reach, OPERATIONS),
            output_schema=self._output_schema(op, lang),
            read_only=op.hints.read_only,
            destructive=op.hints.destructive,
            idempotent=op.hints.idempotent,
            open_world=not op.local or op.plan or op.name == AWAIT_APPROVAL,  # it runs the approved API call
            meta={"lanying/http": op.http_meta},  # the toolset shows in its icon, search_tools and lanying://toolsets
            icon=icons.for_toolset(op.toolset),
        )

        async def run(caller: Caller, arguments: dict[str, Any], answer: Answer) -> Outcome:
            if op.name == AWAIT_APPROVAL:
                return await self.await_approval(caller, arguments)
            return await self.run_op(op, caller, arguments, answer)

        async def ask(caller: Caller, arguments: dict[str, Any]) -> Any:
            return await self.gate.ask(op, caller, arguments)

        return make_tool(spec, run, ask if may_ask(op, self.policy) else None, self.results, lang)

    def _output_schema(self, op: Operation, lang: str) -> dict[str, Any]:
        if op.name == AWAIT_APPROVAL:  # it answers with the result of the call it runs, as call_tool does
            return {"properties": {}, "type": "object"}
        schema = cached(op.name, lang, "output") or output_schema(output_model(op), lang)
        return prune_schema(schema, self.reachable, OPERATIONS)

    def _parameters(self, op: Operation, lang: str) -> dict[str, Any]:
        schema = cached(op.name, lang, "input") or input_schema(op.params, lang)
        if self.profiles is not None and (not op.local or op.runs is not None or op.name == PREVIEW_CALL):
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

    def _register_extras(self) -> None:
        """Resources and prompts hosts show to people."""
        served = self.listed
        self.add_document(
            "lanying://errors",
            "errors",
            "Lanying error codes",
            "Every Lanying error code: meaning (en/zh), likely cause, next step.",
            guides.error_catalogue,
        )
        self.add_document(
            "lanying://toolsets",
            "toolsets",
            "Toolsets and tools",
            "The toolsets, what each holds, and which of their tools are listed or reached through search_tools.",
            lambda: guides.toolset_list(served, self.reachable, TOOLSETS),
        )
        if self.audit is not None:
            self.add_caller_document(
                "lanying://audit-log",
                "audit-log",
                "Audit log (last 100 writes)",
                "The last 100 write calls to your app and their outcomes.",
                self.read_audit,
            )
        self.add_recipe(
            "onboard_users",
            "Onboard users into a new group",
            "Register or find users, create a group, invite them, confirm.",
            guides.onboard_users,
        )
        self.add_recipe(
            "announce_to_group",
            "Announce to a group and push it",
            "Post a group announcement, message the group, push to its members.",
            guides.announce,
        )
        self.add_recipe(
            "diagnose_push",
            "Why did a user not get a push?",
            "Check settings, devices, tags and push statistics for one user.",
            guides.diagnose_push,
        )


def _error_code(result: Any) -> Any:
    """The error code of a failed call's result, None for a success."""
    if not getattr(result, "is_error", False):
        return None
    content: dict[str, Any] = getattr(result, "structured_content", None) or {}
    error = as_object(content.get("error"))
    return error.get("code", "other") if error is not None else "other"


def build_server(
    settings: Settings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    client: LanyingClient | None = None,
    **kwargs: Any,
) -> LanyingServer:
    """The MCP server for `settings`. `transport` lets tests and `--sandbox` route HTTP in-process."""
    settings.validate()
    if token := settings.access_token.get_secret_value():
        check_maskable(token)
    check_alternate_methods(settings.alternate_methods, CATALOGUE)
    client = client or LanyingClient(settings, transport=transport)
    return LanyingServer(settings, client, **kwargs)
