"""The SDK internals lanying_mcp/serving/sdk.py relies on, pinned one by one.

An SDK upgrade that changes any of these fails here, by name, before it breaks a tool in a subtler way.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.server.elicitation import AcceptedElicitation
from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.resolve import build_resolver_plans
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import ElicitResult

from lanying_mcp.engine.call import Outcome
from lanying_mcp.serving import sdk

PACKAGE = Path(sdk.__file__).resolve().parent


def spec(name: str = "echo") -> sdk.ToolSpec:
    return sdk.ToolSpec(
        name=name,
        title="Echo",
        description="Echo the arguments.",
        input_schema={"type": "object", "properties": {"x": {"type": "integer"}}},
        output_schema={"type": "object"},
        read_only=True,
        destructive=False,
        idempotent=True,
        open_world=False,
    )


async def echo(caller: sdk.Caller, arguments: dict[str, Any], answer: sdk.Answer) -> Outcome:
    return Outcome(True, {"arguments": arguments, "answer": answer.value}, "ok")


def test_only_sdk_py_imports_mcp():
    importers = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            if any(n == "mcp" or n.startswith("mcp.") for n in names):
                importers.append(path.name)
    assert sorted(set(importers)) == ["sdk.py"]


def test_tool_constructor_takes_the_keywords_we_pass():
    params = inspect.signature(Tool).parameters
    for name in (
        "fn",
        "name",
        "title",
        "description",
        "parameters",
        "fn_metadata",
        "is_async",
        "context_kwarg",
        "resolved_params",
        "resolver_plans",
        "annotations",
        "meta",
    ):
        assert name in params, f"Tool() no longer takes {name}"
    assert {"arg_model", "output_schema"} <= set(inspect.signature(FuncMetadata).parameters)


def test_arg_model_base_dump_one_level_is_what_the_tool_receives():
    # The SDK calls model_dump_one_level() to build the tool function's keyword arguments.
    assert hasattr(ArgModelBase, "model_dump_one_level")
    raw = sdk._RawArguments.model_validate({"a": 1, "b": [2]})  # pyright: ignore[reportPrivateUsage]
    assert raw.model_dump_one_level() == {"arguments": {"a": 1, "b": [2]}}


def test_build_resolver_plans_accepts_a_gate_that_reads_the_arguments():
    async def gate(ctx: Context[Any, Any], arguments: dict[str, Any]) -> Any:
        return None

    plans = build_resolver_plans({"confirm": (Resolve(gate), True)}, {"arguments"})
    assert plans


def test_lowlevel_server_takes_extra_request_handlers():
    server = sdk.LanyingMCP(tools=[], hidden=set(), instructions="", version="0")
    assert hasattr(server._lowlevel_server, "add_request_handler")  # pyright: ignore[reportPrivateUsage]


def test_the_lowlevel_server_runs_on_streams_we_give_it():
    """serve_stdio runs the low-level server on its own protocol streams, as `run_stdio_async` does on stdin's."""
    server = sdk.LanyingMCP(tools=[], hidden=set(), instructions="", version="0")
    lowlevel = server._lowlevel_server  # pyright: ignore[reportPrivateUsage]
    assert list(inspect.signature(lowlevel.run).parameters)[:2] == ["read_stream", "write_stream"]
    assert lowlevel.create_initialization_options() is not None
    assert "self._lowlevel_server.run(" in inspect.getsource(MCPServer.run_stdio_async)


def test_tools_list_goes_through_the_overridable_handler_with_the_http_request():
    """sdk.LanyingMCP narrows tools/list per OAuth principal by overriding `_handle_list_tools(ctx, params)`;
    the SDK must call it through `self` and hand it the request context whose `request` is the HTTP request."""
    source = inspect.getsource(MCPServer.__init__)
    assert "on_list_tools=self._handle_list_tools" in source
    assert list(inspect.signature(MCPServer._handle_list_tools).parameters) == ["self", "ctx", "params"]  # pyright: ignore[reportPrivateUsage]
    assert "request" in ServerRequestContext.__dataclass_fields__


def test_the_protected_resource_metadata_model_keeps_the_urls_as_given():
    document = sdk.protected_resource_metadata("https://mcp.example.com/mcp", "https://idp.example", ["a"], "n")
    assert document["resource"] == "https://mcp.example.com/mcp"
    assert document["authorization_servers"] == ["https://idp.example"]  # no trailing slash added


@pytest.mark.anyio
async def test_raw_arguments_reach_the_tool_untouched_and_unlisted_tools_still_run(mode):
    tools = [sdk.make_tool(spec("echo"), echo, None), sdk.make_tool(spec("hidden"), echo, None)]
    server = sdk.LanyingMCP(tools=tools, hidden={"hidden"}, instructions="", version="0")
    async with Client(server, mode=mode) as client:
        assert [t.name for t in (await client.list_tools()).tools] == ["echo"]
        result = await client.call_tool("echo", {"x": 1, "anything": {"nested": True}})
        assert result.structured_content == {"arguments": {"x": 1, "anything": {"nested": True}}, "answer": "not_asked"}
        hidden = await client.call_tool("hidden", {"y": 2})
        assert hidden.structured_content == {"arguments": {"y": 2}, "answer": "not_asked"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (ElicitResult(action="accept", content={"confirm": True}), "yes"),
        (ElicitResult(action="accept", content={"confirm": False}), "declined"),
        (ElicitResult(action="accept", content={"confirm": "yes"}), "declined"),
        (ElicitResult(action="decline"), "declined"),
        (ElicitResult(action="cancel"), "cancelled"),
    ],
)
async def test_the_resolver_asks_and_the_answer_arrives_in_both_eras(reply, expected, mode):
    asked: list[str] = []

    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return reply

    async def ask(caller: sdk.Caller, arguments: dict[str, Any]) -> Any:
        return f"Really echo {arguments['x']}?"

    server = sdk.LanyingMCP(tools=[sdk.make_tool(spec(), echo, ask)], hidden=set(), instructions="", version="0")
    async with Client(server, mode=mode, elicitation_callback=human) as client:
        result = await client.call_tool("echo", {"x": 7})
    assert asked == ["Really echo 7?"]
    assert result.structured_content is not None and result.structured_content["answer"] == expected


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("decision", "expected"),
    [(sdk.Decision.GO, "not_asked"), (sdk.Decision.REFUSE, "cannot_ask"), (sdk.Decision.ABSENT, "absent")],
)
async def test_a_resolver_value_that_asks_nothing_arrives_wrapped_as_accepted(decision, expected, mode):
    async def ask(caller: sdk.Caller, arguments: dict[str, Any]) -> Any:
        return decision

    server = sdk.LanyingMCP(tools=[sdk.make_tool(spec(), echo, ask)], hidden=set(), instructions="", version="0")
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("echo", {})
    assert result.structured_content is not None and result.structured_content["answer"] == expected
    assert AcceptedElicitation is not None and Elicit is not None  # the names sdk.py imports still exist


@pytest.mark.anyio
async def test_the_tool_body_sees_the_nonce_its_resolver_asked_with(mode):
    """The SDK runs a tool's resolver and then its body in one task: what the resolver set, the body reads."""
    asked: list[str] = []

    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async def ask(caller: sdk.Caller, arguments: dict[str, Any]) -> Any:
        return sdk.Question(f"Really echo {arguments['x']}? (ref n1)", "n1")

    async def body(caller: sdk.Caller, arguments: dict[str, Any], answer: sdk.Answer) -> Outcome:
        return Outcome(True, {"answer": answer.value, "ref": caller.ref}, "ok")

    server = sdk.LanyingMCP(tools=[sdk.make_tool(spec(), body, ask)], hidden=set(), instructions="", version="0")
    async with Client(server, mode=mode, elicitation_callback=human) as client:
        result = await client.call_tool("echo", {"x": 7})
    assert asked == ["Really echo 7? (ref n1)"]
    assert result.structured_content == {"answer": "yes", "ref": "n1"}


@pytest.mark.anyio
async def test_an_answer_echoed_to_a_reworded_question_asks_again():
    """The 2026-07-28 state pins an answer to the exact question: a question that changed is asked afresh."""
    from mcp.types import InputRequiredResult

    refs = iter(["n1", "n1", "n2"])

    async def ask(caller: sdk.Caller, arguments: dict[str, Any]) -> Any:
        ref = next(refs)
        return sdk.Question(f"Really? (ref {ref})", ref)

    async def human(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="decline")

    server = sdk.LanyingMCP(tools=[sdk.make_tool(spec(), echo, ask)], hidden=set(), instructions="", version="0")
    async with Client(server, mode="auto", elicitation_callback=human) as client:
        first = await client.session.call_tool("echo", {}, allow_input_required=True)
        assert isinstance(first, InputRequiredResult)
        yes = dict.fromkeys(first.input_requests, ElicitResult(action="accept", content={"confirm": True}))
        done = await client.session.call_tool(
            "echo", {}, input_responses=yes, request_state=first.request_state, allow_input_required=True
        )
        assert not isinstance(done, InputRequiredResult) and done.structured_content["answer"] == "yes"  # type: ignore[index]
        again = await client.session.call_tool(
            "echo", {}, input_responses=yes, request_state=first.request_state, allow_input_required=True
        )
        assert isinstance(again, InputRequiredResult)
