"""Our real server on the sandbox, plus the fixtures the official MCP conformance suite calls by name.

    python -m tests.conformance.fixture_server --port 8123

The conformance harness (`@modelcontextprotocol/conformance`, run by tools/interop.sh) tests a server
over streamable HTTP and calls fixed tool, resource and prompt names (`test_simple_text`,
`test://static-text`, `test_simple_prompt`, ...). Those fixtures must never ship, so they are added
here, at test time, to the very server object `lanying-mcp --sandbox --transport http` builds, and it
is served the way the CLI serves it. Whatever the suite says about the protocol (initialize, ping,
tools/list of all our tools, errors, progress, elicitation, DNS-rebinding protection, sessions) is
therefore said about the shipped code; the fixtures only supply the names the suite looks for.

Fixtures are registered with the SDK's public API (`add_tool`, `@tool`, `@resource`, `@prompt`,
`@completion`). One exception is marked where it occurs. Handlers the shipped server should own itself
(`logging/setLevel`) are deliberately not added: the suite must find them in the real server.
"""

from __future__ import annotations

import argparse
import base64
import json
import warnings
from typing import Annotated, Any

import anyio
from mcp import MCPDeprecationWarning
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.server.mcpserver.resolve import Resolve, Sample
from mcp.types import (
    AudioContent,
    CallToolResult,
    Completion,
    CreateMessageResult,
    EmbeddedResource,
    ImageContent,
    InputRequiredResult,
    SamplingMessage,
    TextContent,
    TextResourceContents,
)
from pydantic import BaseModel, Field

from lanying_mcp import cli
from lanying_mcp.core.settings import Settings
from lanying_mcp.serving.server import LanyingServer

# A 1x1 PNG and a tiny WAV: the suite only checks type, MIME type and that data is base64.
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
WAV_B64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

# The broader 2020-12 vocabulary a listing must carry unchanged (SEP-1613, SEP-2106): `$defs` with an
# `$anchor`, `$ref`, composition (`allOf`/`anyOf`) and conditionals (`if`/`then`/`else`).
JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


class UserResponse(BaseModel):
    response: str = Field(description="User's response")


class Sep1034Defaults(BaseModel):
    name: str = Field(default="John Doe", description="User name")
    age: int = Field(default=30, description="User age")
    score: float = Field(default=95.5, description="User score")
    status: str = Field(
        default="active", description="User status", json_schema_extra={"enum": ["active", "inactive", "pending"]}
    )
    verified: bool = Field(default=True, description="Verification status")


class Sep1330Enums(BaseModel):
    untitledSingle: str = Field(
        description="Simple enum without titles", json_schema_extra={"enum": ["option1", "option2", "option3"]}
    )
    titledSingle: str = Field(
        description="Enum with titled options",
        json_schema_extra={
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ]
        },
    )
    legacyEnum: str = Field(
        description="Legacy enum with enumNames",
        json_schema_extra={"enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
    )
    untitledMulti: list[str] = Field(
        description="Multi-select without titles",
        json_schema_extra={"items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
    )
    titledMulti: list[str] = Field(
        description="Multi-select with titles",
        json_schema_extra={
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            }
        },
    )


async def _elicit(ctx: Context, message: str, schema: type[BaseModel], label: str) -> str:
    result = await ctx.elicit(message=message, schema=schema)
    content = result.data.model_dump_json() if result.action == "accept" else "{}"
    return f"{label}: action={result.action}, content={content}"


def add_tools(server: LanyingServer) -> None:
    @server.tool(description="Tests simple text content response")
    def test_simple_text() -> str:
        return "This is a simple text response for testing."

    @server.tool(description="Tests image content response")
    def test_image_content() -> CallToolResult:
        return CallToolResult(content=[ImageContent(type="image", data=PNG_B64, mime_type="image/png")])

    @server.tool(description="Tests audio content response")
    def test_audio_content() -> CallToolResult:
        return CallToolResult(content=[AudioContent(type="audio", data=WAV_B64, mime_type="audio/wav")])

    @server.tool(description="Tests embedded resource content response")
    def test_embedded_resource() -> CallToolResult:
        resource = TextResourceContents(
            uri="test://embedded-resource", mime_type="text/plain", text="This is an embedded resource content."
        )
        return CallToolResult(content=[EmbeddedResource(type="resource", resource=resource)])

    @server.tool(description="Tests response with multiple content types (text, image, resource)")
    def test_multiple_content_types() -> CallToolResult:
        resource = TextResourceContents(
            uri="test://mixed-content-resource", mime_type="application/json", text='{"test": "data", "value": 123}'
        )
        return CallToolResult(
            content=[
                TextContent(type="text", text="Multiple content types test:"),
                ImageContent(type="image", data=PNG_B64, mime_type="image/png"),
                EmbeddedResource(type="resource", resource=resource),
            ]
        )

    @server.tool(description="Tests tool that emits log messages during execution")
    async def test_tool_with_logging(ctx: Context) -> str:
        for message in ("Tool execution started", "Tool processing data", "Tool execution completed"):
            await ctx.info(message)
            await anyio.sleep(0.05)
        return "Tool with logging executed successfully"

    @server.tool(description="Tests tool that reports progress notifications")
    async def test_tool_with_progress(ctx: Context) -> str:
        for step in (0, 50, 100):
            await ctx.report_progress(progress=step, total=100, message=f"Completed step {step} of 100")
            await anyio.sleep(0.05)
        meta = ctx.request_context.meta or {}
        return str(meta.get("progress_token", 0))

    @server.tool(description="Tests error response handling")
    def test_error_handling() -> str:
        raise ToolError("This tool intentionally returns an error for testing")

    @server.tool(description="Tests server-initiated sampling (LLM completion request)")
    async def test_sampling(prompt: str, ctx: Context) -> str:
        message = SamplingMessage(role="user", content=TextContent(type="text", text=prompt))
        result = await ctx.session.create_message(messages=[message], max_tokens=100, related_request_id=ctx.request_id)
        text = result.content.text if result.content.type == "text" else "No response"
        return f"LLM response: {text}"

    @server.tool(description="Tests server-initiated elicitation (user input request)")
    async def test_elicitation(message: str, ctx: Context) -> str:
        return await _elicit(ctx, message, UserResponse, "User response")

    @server.tool(description="Tests elicitation with default values for all primitive types (SEP-1034)")
    async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
        return await _elicit(ctx, "Please provide user information", Sep1034Defaults, "Elicitation completed")

    @server.tool(description="Tests elicitation with enum schema variations (SEP-1330)")
    async def test_elicitation_sep1330_enums(ctx: Context) -> str:
        return await _elicit(ctx, "Please select values", Sep1330Enums, "Elicitation completed")

    @server.tool(description="Tests SSE polling by closing the stream mid-call (SEP-1699)")
    async def test_reconnection(ctx: Context) -> str:
        await ctx.info("Before disconnect")
        await ctx.close_sse_stream()
        await anyio.sleep(0.2)
        await ctx.info("After reconnect")
        return "Reconnection test completed"

    def json_schema_2020_12_tool(**arguments: Any) -> str:
        return json.dumps(arguments)

    server.add_tool(
        json_schema_2020_12_tool,
        name="json_schema_2020_12_tool",
        description="Tool with JSON Schema 2020-12 features",
    )
    # The one private access: MCPServer derives inputSchema from the signature and has no public way to
    # give a hand-written one (the shipped server passes its schemas to Tool(...) at construction). The
    # SDK's own conformance server sets it the same way.
    server._tool_manager.get_tool("json_schema_2020_12_tool").parameters = JSON_SCHEMA_2020_12  # pyright: ignore[reportPrivateUsage, reportOptionalMemberAccess]


# --- 2026-07-28: multi-round-trip input (SEP-2322). A tool answers `input_required` with the requests
# it needs; the client retries with `inputResponses` under the same keys and the echoed `requestState`,
# which the SDK seals on the way out and verifies on the way back (a tampered state is refused).


def _form(message: str, field: str, kind: str = "string") -> dict[str, Any]:
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return {"method": "elicitation/create", "params": {"message": message, "requestedSchema": schema}}


def _sampling(text: str, max_tokens: int) -> dict[str, Any]:
    message = {"role": "user", "content": {"type": "text", "text": text}}
    return {"method": "sampling/createMessage", "params": {"messages": [message], "maxTokens": max_tokens}}


ROOTS: dict[str, Any] = {"method": "roots/list", "params": {}}


def _ask(requests: dict[str, Any], state: str | None = None) -> InputRequiredResult:
    return InputRequiredResult.model_validate(
        {"inputRequests": requests, **({"requestState": state} if state is not None else {})}
    )


def _answers(ctx: Context) -> dict[str, dict[str, Any]]:
    """The retry's input responses as plain JSON objects, by key."""
    return {
        key: value.model_dump(by_alias=True, mode="json", exclude_none=True)
        for key, value in (ctx.input_responses or {}).items()
    }


def _field(answer: dict[str, Any] | None, name: str) -> Any:
    """A field of an accepted elicitation, or None."""
    if not answer or answer.get("action") != "accept":
        return None
    return (answer.get("content") or {}).get(name)


def _sampled(answer: dict[str, Any] | None) -> str | None:
    content = (answer or {}).get("content")
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    return None


def _roots(answer: dict[str, Any] | None) -> list[str] | None:
    roots = (answer or {}).get("roots")
    return [str(r.get("uri")) for r in roots if isinstance(r, dict)] if isinstance(roots, list) else None


def _ask_to_sample() -> Sample:
    return Sample([SamplingMessage(role="user", content=TextContent(type="text", text="Say hello"))], max_tokens=20)


def add_input_required_tools(server: LanyingServer) -> None:
    name_form = _form("What is your name?", "name")

    @server.tool(description="Asks the user's name (input_required), then greets them")
    async def test_input_required_result_elicitation(ctx: Context) -> InputRequiredResult | str:
        name = _field(_answers(ctx).get("user_name"), "name")
        return f"Hello, {name}!" if isinstance(name, str) else _ask({"user_name": name_form})

    @server.tool(description="Asks the client's model a question (input_required), then returns its answer")
    async def test_input_required_result_sampling(ctx: Context) -> InputRequiredResult | str:
        text = _sampled(_answers(ctx).get("capital_question"))
        ask = {"capital_question": _sampling("What is the capital of France?", 100)}
        return f"The model answered: {text}" if text is not None else _ask(ask)

    @server.tool(description="Asks the client's roots (input_required), then lists them")
    async def test_input_required_result_list_roots(ctx: Context) -> InputRequiredResult | str:
        roots = _roots(_answers(ctx).get("client_roots"))
        return f"Roots: {', '.join(roots)}" if roots is not None else _ask({"client_roots": ROOTS})

    @server.tool(description="Asks a confirmation with a requestState, then checks the echoed state")
    async def test_input_required_result_request_state(ctx: Context) -> InputRequiredResult | str:
        confirm = _answers(ctx).get("confirm")
        if confirm is not None and ctx.request_state == "awaiting-confirmation":
            return f"state-ok: confirmed={_field(confirm, 'ok')}"
        return _ask({"confirm": _form("Please confirm", "ok", "boolean")}, "awaiting-confirmation")

    @server.tool(description="Asks a name, a sampled greeting and the roots at once (input_required)")
    async def test_input_required_result_multiple_inputs(ctx: Context) -> InputRequiredResult | str:
        answers = _answers(ctx)
        wanted = {"user_name": name_form, "greeting": _sampling("Generate a greeting", 50), "client_roots": ROOTS}
        if ctx.request_state == "three-inputs" and set(wanted) <= set(answers):
            name, greeting = _field(answers["user_name"], "name"), _sampled(answers["greeting"])
            return f"{greeting} {name}; roots: {', '.join(_roots(answers['client_roots']) or [])}"
        return _ask(wanted, "three-inputs")

    @server.tool(description="Asks a name, then a colour, with the requestState evolving per round")
    async def test_input_required_result_multi_round(ctx: Context) -> InputRequiredResult | str:
        answers, state = _answers(ctx), ctx.request_state or ""
        if state.startswith("round-2:") and "step2" in answers:
            return f"{state.removeprefix('round-2:')} likes {_field(answers['step2'], 'color')}"
        name = _field(answers.get("step1"), "name")
        if state == "round-1" and isinstance(name, str):
            return _ask({"step2": _form("Step 2: What is your favorite color?", "color")}, f"round-2:{name}")
        return _ask({"step1": _form("Step 1: What is your name?", "name")}, "round-1")

    @server.tool(description="Asks with an integrity-protected requestState; a tampered one is refused")
    async def test_input_required_result_tampered_state(ctx: Context) -> InputRequiredResult | str:
        if ctx.request_state == "untampered" and "user_name" in _answers(ctx):
            return "state verified"
        return _ask({"user_name": name_form}, "untampered")

    @server.tool(description="Asks only for what the client declared it can answer")
    async def test_input_required_result_capabilities(ctx: Context) -> InputRequiredResult | str:
        answers = _answers(ctx)
        if answers:
            return f"answered: {', '.join(sorted(answers))}"
        declared = ctx.session.client_capabilities
        wanted: dict[str, Any] = {}
        if declared and declared.sampling is not None:
            wanted["greeting"] = _sampling("Generate a greeting", 50)
        if declared and declared.elicitation is not None:
            wanted["user_name"] = name_form
        if declared and declared.roots is not None:
            wanted["client_roots"] = ROOTS
        return _ask(wanted) if wanted else "the client declared nothing to ask through"

    @server.prompt(description="A prompt that needs a context from the user first (input_required)")
    async def test_input_required_result_prompt(ctx: Context) -> list[UserMessage] | InputRequiredResult:
        context = _field(_answers(ctx).get("user_context"), "context")
        if not isinstance(context, str):
            return _ask({"user_context": _form("What context should the prompt use?", "context")})
        return [UserMessage(content=TextContent(type="text", text=f"Use this context: {context}"))]

    # SEP-2575: a request that needs a capability the client did not declare is refused with -32021.
    @server.tool(description="Needs the client's sampling capability")
    async def test_missing_capability(
        reply: Annotated[CreateMessageResult, Resolve(_ask_to_sample)],
    ) -> str:
        return f"sampled: {reply.content}"

    # SEP-2575: list-changed notifications reach subscriptions/listen streams.
    @server.tool(description="Changes the tool list and says so to subscribers")
    async def test_trigger_tool_change(ctx: Context) -> str:
        await ctx.notify_tools_changed()
        return "tools list changed"

    @server.tool(description="Changes the prompt list and says so to subscribers")
    async def test_trigger_prompt_change(ctx: Context) -> str:
        await ctx.notify_prompts_changed()
        return "prompts list changed"

    # SEP-2243: an argument mirrored into an `Mcp-Param-Region` header, which the server checks.
    @server.tool(description="Echoes a region that is also sent as the Mcp-Param-Region header")
    def test_custom_headers(
        region: Annotated[str, Field(description="A region name", json_schema_extra={"x-mcp-header": "Region"})],
    ) -> str:
        return f"region: {region}"


def add_resources(server: LanyingServer) -> None:
    @server.resource("test://static-text", mime_type="text/plain", description="A static text resource")
    def static_text() -> str:
        return "This is the content of the static text resource."

    @server.resource("test://static-binary", mime_type="image/png", description="A static binary resource")
    def static_binary() -> bytes:
        return base64.b64decode(PNG_B64)

    @server.resource("test://template/{id}/data", mime_type="application/json", description="A resource template")
    def template(id: str) -> str:
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})

    @server.resource("test://watched-resource", mime_type="text/plain", description="A resource to subscribe to")
    def watched() -> str:
        return "Watched resource content"


def add_prompts(server: LanyingServer) -> None:
    @server.prompt(description="A simple prompt without arguments")
    def test_simple_prompt() -> list[UserMessage]:
        return [UserMessage(content=TextContent(type="text", text="This is a simple prompt for testing."))]

    @server.prompt(description="A prompt with required arguments")
    def test_prompt_with_arguments(arg1: str, arg2: str) -> list[UserMessage]:
        text = f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
        return [UserMessage(content=TextContent(type="text", text=text))]

    @server.prompt(description="A prompt that includes an embedded resource")
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:
        resource = TextResourceContents(
            uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
        )
        return [
            UserMessage(content=EmbeddedResource(type="resource", resource=resource)),
            UserMessage(content=TextContent(type="text", text="Please process the embedded resource above.")),
        ]

    @server.prompt(description="A prompt that includes image content")
    def test_prompt_with_image() -> list[UserMessage]:
        return [
            UserMessage(content=ImageContent(type="image", data=PNG_B64, mime_type="image/png")),
            UserMessage(content=TextContent(type="text", text="Please analyze the image above.")),
        ]

    @server.completion()
    async def complete(ref: Any, argument: Any, context: Any) -> Completion:
        return Completion(values=[], total=0, has_more=False)


def build(settings: Settings) -> LanyingServer:
    """What `lanying-mcp --sandbox` builds (default toolsets, in-process sandbox), plus the fixtures."""
    server: LanyingServer = cli.build(settings)
    add_tools(server)
    add_input_required_tools(server)
    add_resources(server)
    add_prompts(server)
    return server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Our server on the sandbox plus the conformance fixtures, on loopback.")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1", choices=("127.0.0.1", "localhost", "::1"), help="loopback only")
    ns = p.parse_args(argv)
    # Protocol logging and sampling are deprecated for 2026-07-28 but current on the 2025-era wire the
    # suite speaks; the warnings would only be noise in this process's log.
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    # No LANYING_* variables: the result must not depend on the environment CI happens to have.
    # The suite opens a session per scenario from one address and leaves them open: one client's share
    # of sessions is the server's whole limit here.
    settings = Settings.from_env({}, sandbox=True, max_client_sessions=100).validate()
    server = build(settings)
    # As `lanying-mcp --sandbox --transport http` serves it (cli.cmd_serve): stateful sessions, SSE
    # responses, the same Host/Origin checks.
    app = cli.build_http_app(server, settings, "http", ns.host, ns.port)
    cli.serve_http(app, ns.host, ns.port, "WARNING")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
