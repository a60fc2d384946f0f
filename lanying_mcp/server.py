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
from typing import Any

import httpx2
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import ConfigDict

from . import __version__, discovery, errors
from .client import LanyingClient
from .dispatch import CallContext, Outcome, execute, failure, output_model
from .schema import input_schema, output_schema
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


class LanyingServer(MCPServer[Any]):
    """MCPServer that knows the whole catalogue, so a call to an unselected tool gets a clear refusal."""

    def __init__(self, settings: Settings, client: LanyingClient, reachable: list[Operation], **kwargs: Any) -> None:
        self.lanying_settings = settings
        self.lanying_client = client
        # What may be called: the selected operations plus the local ones.
        self.reachable = {op.name: op for op in [*reachable, *LOCAL_OPERATIONS]}
        if settings.discovery:
            meta = discovery.build(lambda: self.reachable, self.refusal)
            listed = [*meta, *LOCAL_OPERATIONS]
            self.reachable.update({op.name: op for op in meta})
        else:
            listed = list(self.reachable.values())
        listed = [op for op in listed if op.name not in settings.exclude_tools]
        self.listed = {op.name: op for op in listed}
        super().__init__(
            name="lanying-mcp",
            title="Lanying IM",
            version=__version__,
            instructions=INSTRUCTIONS,
            tools=[self.make_tool(op) for op in listed],
            **kwargs,
        )

    def refusal(self, name: str) -> str | None:
        """Why a catalogue tool that is not reachable here is off, or None if it is reachable or unknown."""
        if name in self.reachable or name not in CATALOGUE:
            return None
        op = CATALOGUE[name]
        if self.lanying_settings.read_only and not op.hints.read_only:
            return f"tool {name!r} is not available: the server runs in read-only mode and this tool writes"
        return (
            f"tool {name!r} is not available: it is not in the selected tools "
            f"(enable it with --toolsets {op.toolset} or --tools {name})"
        )

    def context(self, ctx: Context[Any, Any] | None) -> CallContext:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            if ctx is not None:
                try:
                    await ctx.report_progress(done, total, message)
                except Exception:  # progress is best effort; never fail the call over it
                    log.debug("progress notification failed", exc_info=True)

        return CallContext(self.lanying_client, self.lanying_settings.lang, progress, CATALOGUE)

    async def run_op(self, op: Operation, arguments: dict[str, Any] | None, ctx: Context[Any, Any] | None) -> Outcome:
        return await execute(op, arguments, self.context(ctx))

    def make_tool(self, op: Operation) -> Tool:
        lang = self.lanying_settings.lang
        title, description = op.text(lang)

        async def fn(ctx: Context[Any, Any], arguments: dict[str, Any]) -> CallToolResult:
            return to_result(await self.run_op(op, arguments, ctx))

        return Tool(
            fn=fn,
            name=op.name,
            title=title,
            description=description,
            parameters=input_schema(op.params, lang),
            fn_metadata=FuncMetadata(arg_model=_RawArguments, output_schema=output_schema(output_model(op), lang)),
            is_async=True,
            context_kwarg="ctx",
            annotations=tool_annotations(op, lang),
            meta={"lanying/http": op.http_meta, "lanying/toolset": op.toolset},
        )

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None) -> Any:
        if name not in self.listed and (why := self.refusal(name)):
            return to_result(failure(name, errors.NotAllowed(why), self.lanying_settings.lang))
        return await super().call_tool(name, arguments, context)


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


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
