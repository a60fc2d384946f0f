"""Consent: every confirmed tool, through every path, with a human who declines — nothing reaches the API.

The paths are the ones a model or an operator can take to an operation: a direct tool call, discovery's
`call_tool` (with and without `arguments`, and nested in itself), the `call` CLI without `--yes`, a
named profile, and batched bulk calls. `dispatch.execute` is also called with no grant at all, to show
that a path which forgot to ask fails closed.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import ElicitResult

from lanying_mcp import cli
from lanying_mcp.core.settings import Settings
from lanying_mcp.core.spec import Operation, Risk, by_name
from lanying_mcp.engine.call import CallContext, validate
from lanying_mcp.engine.dispatch import execute
from lanying_mcp.safety.consent import may_ask, risks
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE

TOKEN = "consent-test-token-0123456789"

# Arguments that make each kind of call risky, beyond the minimum its schema requires.
TRIGGERS: dict[str, dict[str, Any]] = {
    "send_push": {"all_devices": True, "message": {"title": "t", "body": "b"}},
    "broadcast_message": {"content": "to everyone"},
    "send_message": {"user_ids": list(range(1, 1202)), "content": "hi"},
    "send_system_notice": {"user_ids": list(range(1, 1202)), "content": "hi"},
    "send_ai_message": {"user_ids": list(range(1, 1202)), "content": "hi"},
    "add_friends": {"user_ids": list(range(1, 1502))},  # friendships above the reach threshold: a power grant
}
POWER = {"add_group_admins", "bind_device_token", "bind_push_alias", "add_friends"}
REACH_BY_BATCH = {"send_push_many": ("send_push", {"user_ids": list(range(1, 50_001)), "message": {"body": "b"}})}


def _value(node: dict[str, Any]) -> Any:
    if "enum" in node:
        return node["enum"][0]
    if "const" in node:
        return node["const"]
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        return _value(next(o for o in options if o.get("type") != "null"))
    kind = node.get("type")
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array":
        return [_value(node.get("items") or {"type": "integer"})] * max(1, node.get("minItems", 1))
    if kind == "object":
        return {k: _value(v) for k, v in (node.get("properties") or {}).items() if k in node.get("required", [])}
    return "x" * max(1, node.get("minLength", 1))


def arguments(op: Operation) -> dict[str, Any]:
    """Schema-valid arguments for `op` that make the call need a yes."""
    schema = op.params.model_json_schema()
    defs = schema.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].split("/")[-1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    schema = inline(schema)
    args = {k: _value(v) for k, v in schema.get("properties", {}).items() if k in schema.get("required", [])}
    for _, mark in by_name(op.params):  # users by ID or by username: one of them is required
        if mark.required:
            args.setdefault(mark.ids, [1])
    args.update(TRIGGERS.get(op.name, {}))
    if op.name == "upload_knowledge_document":
        args.setdefault("url", "https://files.example/doc.pdf")
    return args


def confirmed() -> list[tuple[str, Operation, dict[str, Any]]]:
    """Every operation that can need a yes, with arguments that make it need one."""
    out = []
    for op in CATALOGUE.values():
        if not may_ask(op):
            continue
        args = arguments(op)
        params = validate(op, args)
        found = risks(op, params)
        if (op.audience is not None or op.consent.grants) and not found:
            continue  # a delivery below the reach threshold needs no yes (covered by the trigger rows)
        assert found, f"{op.name}: the test's arguments do not make it risky"
        out.append((op.name, op, args))
    for label, (name, args) in REACH_BY_BATCH.items():
        out.append((label, CATALOGUE[name], args))
    return out


CASES = confirmed()
IDS = [label for label, _, _ in CASES]


class Recorder:
    """A fake API that records what reached it; reads answer an empty success so questions can be built."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        return httpx2.Response(200, json={"code": 200, "data": {}})

    def writes_of(self, op: Operation) -> list[str]:
        mine = {f"{m} {op.path}" for m in (op.method, *op.aliases)}
        mine |= set(op.calls)
        return [s for s in self.seen if s in mine]


ASKED: list[str] = []


async def decline(context: Any, params: Any) -> ElicitResult:
    ASKED.append(params.message)
    return ElicitResult(action="decline")


def settings(**changes: Any) -> Settings:
    base: dict[str, Any] = {"endpoint": "http://api.test", "app_id": "app", "access_token": TOKEN}
    return Settings(**{**base, **changes})


def test_every_destructive_or_risky_tool_is_covered():
    names = {op.name for _, op, _ in CASES}
    assert {op.name for op in CATALOGUE.values() if op.hints.destructive} <= names
    assert {"reset_user_password", "get_user_token", "broadcast_message", "send_push"} <= names
    assert POWER <= names  # power grants go through every path of the matrix too


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_direct_call_declined_reaches_nothing(label, op, args, mode):
    api = Recorder()
    ASKED.clear()
    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(api))
    async with Client(server, mode=mode, elicitation_callback=decline) as client:
        result = await client.call_tool(op.name, args)
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert len(ASKED) == 1
    assert api.writes_of(op) == []


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_call_tool_declined_reaches_nothing(label, op, args, mode):
    api = Recorder()
    ASKED.clear()
    server = build_server(settings(discovery=True), transport=httpx2.MockTransport(api))
    async with Client(server, mode=mode, elicitation_callback=decline) as client:
        result = await client.call_tool("call_tool", {"name": op.name, "arguments": args})
        nested = await client.call_tool(
            "call_tool", {"name": "call_tool", "arguments": {"name": op.name, "arguments": args}}
        )
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert nested.is_error and "call it directly" in nested.structured_content["error"]["message"]
    assert api.writes_of(op) == []


ALL_OPTIONAL = [(label, op, args) for label, op, args in CASES if not op.params.model_json_schema().get("required")]


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), ALL_OPTIONAL, ids=[c[0] for c in ALL_OPTIONAL])
async def test_call_tool_without_arguments_still_asks(label, op, args, mode):
    api = Recorder()
    server = build_server(settings(discovery=True), transport=httpx2.MockTransport(api))
    async with Client(server, mode=mode, elicitation_callback=None) as client:
        result = await client.call_tool("call_tool", {"name": op.name})
    asked = ("confirmation_required", "approval_pending")  # refused, or waiting for the approval page's human
    if result.is_error and result.structured_content["error"]["code"] not in asked:
        assert result.structured_content["error"]["code"] == "invalid_arguments"  # {} is not a valid call
    else:
        assert result.is_error and result.structured_content["error"]["code"] in asked
    assert api.writes_of(op) == []


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_profile_call_declined_reaches_nothing(label, op, args, tmp_path):
    path = tmp_path / "profiles.toml"
    path.write_text(f'[profiles.main]\nendpoint = "http://api.test"\napp_id = "app"\naccess_token = "{TOKEN}"\n')
    api = Recorder()
    server = build_server(Settings(profiles_file=str(path), toolsets=("all",)), transport=httpx2.MockTransport(api))
    async with Client(server, mode="legacy", elicitation_callback=decline) as client:
        result = await client.call_tool(op.name, {"app": "main", **args})
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert api.writes_of(op) == []


@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
def test_cli_without_yes_reaches_nothing(label, op, args, monkeypatch, capsys):
    api = Recorder()
    monkeypatch.setattr(cli, "build", lambda s, store=None: build_server(s, transport=httpx2.MockTransport(api)))
    argv = ["call", op.name, "--args", json.dumps(args), "--endpoint", "http://api.test", "--app-id", "app"]
    monkeypatch.setenv("LANYING_ACCESS_TOKEN", TOKEN)
    assert cli.main(argv) == 2
    assert "--yes" in capsys.readouterr().err
    assert api.seen == []


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_execute_without_a_grant_fails_closed(label, op, args):
    api = Recorder()
    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(api))
    ctx = CallContext(server.lanying_client, catalogue=server.reachable)
    outcome = await execute(op, args, ctx)
    assert not outcome.ok and outcome.structured["error"]["code"] == "confirmation_required"
    assert api.seen == []


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_preview_with_a_declining_human_reaches_nothing(label, op, args, mode):
    """A preview is a path too: directly, through call_tool, and in discovery mode, it never asks and never writes."""
    ASKED.clear()
    for selection in ({"toolsets": ()}, {"discovery": True}):
        api = Recorder()
        server = build_server(settings(**selection), transport=httpx2.MockTransport(api))
        async with Client(server, mode=mode, elicitation_callback=decline) as client:
            asked = {"name": op.name, "arguments": args}
            direct = await client.call_tool("preview_call", asked)
            through = await client.call_tool("call_tool", {"name": "preview_call", "arguments": asked})
            wrapped = await client.call_tool("preview_call", {"name": "call_tool", "arguments": asked})
        for result in (direct, through):
            assert not result.is_error, result.content
            assert result.structured_content["data"]["question"], "the preview does not show the question"
        assert wrapped.is_error and "cannot be previewed" in wrapped.structured_content["error"]["message"]
        assert api.writes_of(op) == [], api.seen
    assert ASKED == []


def test_cli_push_to_every_device_needs_yes(monkeypatch, capsys):
    """The CLI used to decide before it had the arguments, so all_devices ran without --yes."""
    api = Recorder()
    monkeypatch.setattr(cli, "build", lambda s, store=None: build_server(s, transport=httpx2.MockTransport(api)))
    monkeypatch.setenv("LANYING_ACCESS_TOKEN", TOKEN)
    args = json.dumps({"all_devices": True, "message": {"title": "t", "body": "b"}})
    base = ["call", "send_push", "--args", args, "--endpoint", "http://api.test", "--app-id", "app"]
    assert cli.main(base) == 2 and api.seen == []
    assert "everyone" in capsys.readouterr().err
    assert cli.main([*base, "--yes"]) == 0 and api.seen == ["POST /push/notify"]


@pytest.mark.anyio
@pytest.mark.parametrize("loose", ["yes", 1, "on", "true"])
async def test_only_the_boolean_true_is_a_yes(loose, mode):
    api = Recorder()

    async def sloppy(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"confirm": loose})

    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(api))
    async with Client(server, mode=mode, elicitation_callback=sloppy) as client:
        result = await client.call_tool("broadcast_message", {"content": "hi"})
    assert result.is_error and api.writes_of(CATALOGUE["broadcast_message"]) == []


@pytest.mark.anyio
async def test_a_yes_runs_exactly_the_confirmed_call(mode):
    api = Recorder()

    async def yes(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"confirm": True})

    server = build_server(settings(discovery=True), transport=httpx2.MockTransport(api))
    async with Client(server, mode=mode, elicitation_callback=yes) as client:
        result = await client.call_tool("call_tool", {"name": "broadcast_message"})
    assert not result.is_error, result.content
    assert api.writes_of(CATALOGUE["broadcast_message"]) == ["POST /message/broadcast"]


def test_mass_reach_counts_listed_recipients():
    op = CATALOGUE["send_push"]
    few = validate(op, {"user_ids": list(range(1, 1001)), "message": {"body": "b"}})
    many = validate(op, {"user_ids": list(range(1, 1002)), "message": {"body": "b"}})
    assert risks(op, few) == () and risks(op, many) == (Risk.REACH,)


# Power grants ---------------------------------------------------------------------------------------------


def test_power_grants_are_declared_risks_and_creations_are_not():
    for name in ("add_group_admins", "bind_device_token", "bind_push_alias"):
        assert Risk.POWER in CATALOGUE[name].consent.risks, name
    friends = CATALOGUE["add_friends"]
    few = validate(friends, {"as_user_id": 1, "user_ids": list(range(2, 1002))})
    many = validate(friends, {"as_user_id": 1, "user_ids": list(range(2, 1003))})
    assert risks(friends, few) == () and risks(friends, many) == (Risk.POWER,)
    # Creating a user, a group or a membership: the inverse is destructive, the creation is no power grant.
    for name, args in (
        ("register_user", {"username": "u1", "password": "pw123456"}),
        ("create_group", {"as_user_id": 1, "name": "g", "user_ids": [2, 3]}),
        ("invite_group_members", {"group_id": 5, "user_ids": [2, 3]}),
    ):
        assert risks(CATALOGUE[name], validate(CATALOGUE[name], args)) == (), name


# Reach counts people: a group counts as its members -----------------------------------------------------


class Groups(Recorder):
    """Groups of 400 members each (or a batch read that fails), and a recorded send."""

    def __init__(self, size: int | None = 400) -> None:
        super().__init__()
        self.size = size

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/group/info/batch":
            if self.size is None:
                return httpx2.Response(200, json={"code": 500, "message": "internal"})
            ids = json.loads(request.content)["group_list"]
            rows = [{"group_id": g, "name": f"team {g}", "count": self.size} for g in ids]
            return httpx2.Response(200, json={"code": 200, "data": rows})
        return httpx2.Response(200, json={"code": 200, "data": True})


@pytest.mark.anyio
@pytest.mark.parametrize("size", [400, None], ids=["3x400", "size-unreadable"])
async def test_three_groups_of_400_need_a_yes(size, mode):
    api = Groups(size)
    ASKED.clear()
    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(api))
    args = {"group_ids": [11, 12, 13], "content": "all hands at 3"}
    async with Client(server, mode=mode, elicitation_callback=decline) as client:
        result = await client.call_tool("send_message", args)
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert "POST /message/send" not in api.seen
    (asked,) = ASKED
    if size is not None:
        assert "This reaches 1200 people (each group counted by its members)." in asked
        assert '"team 11" (ID 11, 400 members)' in asked and '"all hands at 3"' in asked
    else:
        assert "could not be read" in asked


@pytest.mark.anyio
async def test_small_groups_need_no_yes_and_execute_counts_members_too(mode):
    api = Groups(3)
    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(api))
    async with Client(server, mode=mode, elicitation_callback=None) as client:
        result = await client.call_tool("send_message", {"group_ids": [11, 12, 13], "content": "hi"})
    assert not result.is_error, result.content
    assert api.seen.count("POST /message/send") == 1
    # The last line of defence reads the sizes as well: no grant, 3 x 400 people, nothing sent.
    big = Groups(400)
    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(big))
    ctx = CallContext(server.lanying_client, catalogue=server.reachable)
    outcome = await execute(CATALOGUE["send_message"], {"group_ids": [21, 22, 23], "content": "hi"}, ctx)
    assert not outcome.ok and outcome.structured["error"]["code"] == "confirmation_required"
    assert "POST /message/send" not in big.seen


def test_reach_counts_group_members_when_known():
    op = CATALOGUE["send_message"]
    params = validate(op, {"group_ids": [1, 2, 3], "content": "hi"})
    assert risks(op, params) == ()  # without the sizes, a lower bound: 3
    assert risks(op, params, sizes={1: 400, 2: 400, 3: 400}) == (Risk.REACH,)
    assert risks(op, params, sizes={1: 300, 2: 300, 3: 300}) == ()
    assert risks(op, params, sizes={1: 3, 2: 3}) == (Risk.REACH,)  # a size not read counts as unbounded


# A look-up failure while building a question never grants ------------------------------------------------


class Disagreeing(Recorder):
    """An upstream whose read and write disagree: the group look-up says 20001, the destroy succeeds."""

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        if request.method == "GET":
            return httpx2.Response(200, json={"code": 20001, "message": "group not found"})
        return httpx2.Response(200, json={"code": 200, "data": True})


@pytest.mark.anyio
@pytest.mark.parametrize("discovery", [False, True], ids=["direct", "call_tool"])
async def test_a_failed_question_lookup_never_grants(mode, discovery):
    api = Disagreeing()

    async def yes(context: Any, params: Any) -> ElicitResult:
        ASKED.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    changes: dict[str, Any] = {"discovery": True} if discovery else {"toolsets": ("all",)}
    server = build_server(settings(lang="zh", **changes), transport=httpx2.MockTransport(api))
    async with Client(server, mode=mode, elicitation_callback=yes) as client:
        if discovery:
            result = await client.call_tool("call_tool", {"name": "destroy_group", "arguments": {"group_id": 5}})
        else:
            result = await client.call_tool("destroy_group", {"group_id": 5})
    assert result.is_error and result.structured_content["error"]["code"] == "confirmation_required"
    assert "目标不存在" in result.structured_content["error"]["message"]
    assert api.writes_of(CATALOGUE["destroy_group"]) == []


def test_cli_group_reach_needs_yes_and_yes_covers_it(monkeypatch, capsys):
    api = Groups(400)
    monkeypatch.setattr(cli, "build", lambda s, store=None: build_server(s, transport=httpx2.MockTransport(api)))
    monkeypatch.setenv("LANYING_ACCESS_TOKEN", TOKEN)
    args = json.dumps({"group_ids": [11, 12, 13], "content": "all hands"})
    base = ["call", "send_message", "--args", args, "--endpoint", "http://api.test", "--app-id", "app"]
    assert cli.main(base) != 0 and "POST /message/send" not in api.seen
    assert "confirmation" in capsys.readouterr().err
    assert cli.main([*base, "--yes"]) == 0 and api.seen.count("POST /message/send") == 1


@pytest.mark.anyio
async def test_a_group_the_read_does_not_describe_reaches_nobody(mode):
    """A send to a group that does not exist asks nothing and gets the API's own answer."""
    api = Groups(400)
    ASKED.clear()

    def missing(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/group/info/batch":
            api.seen.append("POST /group/info/batch")
            return httpx2.Response(200, json={"code": 200, "data": []})
        return api(request)

    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(missing))
    async with Client(server, mode=mode, elicitation_callback=decline) as client:
        result = await client.call_tool("send_message", {"group_ids": [99], "content": "hi"})
    assert not result.is_error and ASKED == []
