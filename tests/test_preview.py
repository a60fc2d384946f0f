"""preview_call: the requests a call would send, and nothing sent.

For every write tool of the catalogue, a preview in the sandbox and then the call itself: the write
requests the call sent are the ones the preview listed, except the values the preview marks fresh.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import ElicitResult

from lanying_mcp.core.spec import WRITE, ApiModel, Effect, Never, Operation, Params, Target
from lanying_mcp.engine.call import CallContext, validate
from lanying_mcp.engine.client import Envelope
from lanying_mcp.review import preview
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import sandbox_settings
from tests.sandbox.world import World, build, client_for
from tests.test_consent import arguments

WRITES = [op for op in CATALOGUE.values() if not op.hints.read_only]
# (method, path) of every write the catalogue can send; reads never share one with a write.
WRITE_KEYS = {(m, op.path) for op in WRITES for m in (op.method, *op.aliases)}
WRITE_KEYS |= {tuple(call.split(" ", 1)) for op in WRITES for call in op.calls if "{" not in call}  # type: ignore[misc]
WRITE_KEYS -= {(m, op.path) for op in CATALOGUE.values() if op.hints.read_only for m in (op.method, *op.aliases)}


def _by_name(w: World) -> dict[str, Any]:
    """The world's object each argument name means, for the tools' arguments."""
    return {
        "group_id": w.group,
        "as_user_id": w.owner,
        "user_id": w.member,
        "user_ids": [w.member],
        "new_owner": w.member,
        "msg_id": w.msg,
        "conversation_id": w.member,
        "announcement_id": w.announcement,
        "file_id": w.group_file,
        "file_ids": [w.group_file],
        "qr_info": w.qr,
        "device_sn": w.device_sn,
        "from_user_id": w.owner,
        "chatbot_id": w.member,
        "admin_user_id": w.owner,
        "content": "hi",
    }


def _extra(name: str, w: World) -> dict[str, Any]:
    """Arguments beyond the schema's minimum that make the call meaningful in the world."""
    return {
        "accept_friend_request": {"user_id": w.applicant},
        "decline_friend_request": {"user_id": w.applicant},
        "handle_group_application": {"user_id": w.applicant},
        "handle_group_invitation": {"as_user_id": w.invitee, "user_id": w.owner},
        "apply_to_join_group": {"as_user_id": w.stranger},
        "join_group_by_qrcode": {"as_user_id": w.stranger},
        "leave_group": {"as_user_id": w.member},
        "send_friend_request": {"user_id": w.stranger, "reason": "hello"},
        "invite_group_members": {"user_ids": [w.stranger]},
        "remove_group_admins": {"user_ids": [w.admin]},
        "register_user": {"username": "newbie", "password": "pw12345"},
        "send_message": {"user_ids": [w.member], "content": "hi"},
        "send_system_notice": {"user_ids": [w.member], "content": "hi"},
        "send_ai_message": {"user_ids": [w.member], "content": "hi"},
        "send_push": {"user_ids": [w.member], "message": {"title": "t", "body": "b"}},
        "upload_knowledge_document": {"url": "https://files.example/doc.html"},
        "get_user_token": {"username": "owner", "password": "pw"},
        "get_user_token_by_id": {"user_id": w.owner, "password": "pw"},
        "kick_user_device": {"as_user_id": w.owner},
        "set_user_mobile": {"mobile": "13800000001"},
        "update_user_profiles": {"changes": [{"user_id": w.member, "nick_name": "renamed"}]},
        "send_read_ack": {"as_user_id": w.member, "conversation_id": w.owner, "msg_id": w.msg},
    }.get(name, {})


def args_for(op: Operation, w: World) -> dict[str, Any]:
    args = arguments(op)
    names = _by_name(w)
    for key in list(args):
        if key in names:
            args[key] = names[key]
    args.update(_extra(op.name, w))
    if op.name == "send_push":
        args.pop("all_devices")  # one audience: the user named above
    validate(op, args)  # the table itself must be valid
    return args


class Tap(httpx2.AsyncBaseTransport):
    """The sandbox, with every request that reaches it kept."""

    def __init__(self, store: Store) -> None:
        self.inner = httpx2.ASGITransport(app=build_app(store))
        self.seen: list[httpx2.Request] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        self.seen.append(request)
        return await self.inner.handle_async_request(request)

    def writes(self) -> list[httpx2.Request]:
        return [r for r in self.seen if (r.method, r.url.path) in WRITE_KEYS or r.url.path.startswith("/_upload")]


async def world() -> tuple[Store, World]:
    store = Store()
    async with client_for(store) as http:
        w = await build(http, store)
    return store, w


ASKED: list[str] = []


async def yes(context: Any, params: Any) -> ElicitResult:
    ASKED.append(params.message)
    return ElicitResult(action="accept", content={"confirm": True})


def _drop(value: Any, path: list[str]) -> Any:
    """`value` without the part at `path` (keys and [i] indices), for comparing all but fresh values."""
    if not path or value is None:
        return value
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        if head not in value:
            return value
        out = dict(value)
        if rest:
            out[head] = _drop(out[head], rest)
        else:
            del out[head]
        return out
    return value


def _split(fresh: str) -> tuple[str, list[str]]:
    where, _, rest = fresh.partition(".")
    return where, [p for p in rest.replace("[", ".[").split(".") if p]


# Writes whose target only the state after them names (joining by QR code: the group is found by reading
# the user's groups after the write), so the preview cannot say how to take them back.
ANSWER_NAMES_TARGET = {"join_group_by_qrcode"}


def _same_target(previewed: dict[str, Any], applied: dict[str, Any]) -> bool:
    """The same target; a created one has its ID only once the API answers."""
    keys = [k for k in ("kind", "id", "name") if previewed[k] is not None]  # a name may come from the answer
    return all(previewed[k] == applied[k] for k in keys)


def assert_same(shown: dict[str, Any], sent: httpx2.Request, token: str) -> None:
    """The previewed request is the one sent, but for its fresh values."""
    fresh = [_split(f) for f in shown.get("fresh", [])]
    assert sent.method == shown["method"]
    if shown["tool"] == "(storage upload)":
        if ("path", []) not in fresh:
            assert str(sent.url) == shown["path"]
        assert shown["body"]["file"]["name"].encode() in sent.content
        return
    assert sent.url.path == shown["path"]
    query = dict(sent.url.params)
    expected_query = shown.get("query", {})
    for where, path in fresh:
        if where == "query":
            query, expected_query = _drop(query, path), _drop(expected_query, path)
    assert query == expected_query
    for key, value in shown["headers"].items():
        if key == "access-token":
            assert value == "[masked]" and sent.headers[key] == token
        else:
            assert sent.headers[key] == value, key
    assert "access-token" in shown["headers"] or "access-token" not in sent.headers
    body = sent.content.decode()
    if "body" not in shown:
        assert body == ""
        return
    got: Any = json.loads(body) if isinstance(shown["body"], (dict, list)) else body
    expected = shown["body"]
    for where, path in fresh:
        if where == "body":
            got, expected = _drop(got, path), _drop(expected, path)
    assert got == expected


CASES = [(op.name, op) for op in WRITES]
CASES.append(("upload_knowledge_document[file]", CATALOGUE["upload_knowledge_document"]))


def test_every_write_tool_is_covered():
    assert {name for name, _ in CASES} >= {op.name for op in CATALOGUE.values() if not op.hints.read_only}


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op"), CASES, ids=[label for label, _ in CASES])
async def test_preview_then_apply_sends_what_was_previewed(label: str, op: Operation):
    store, w = await world()
    args = args_for(op, w)
    if label.endswith("[file]"):
        args.pop("url")
        args.update(file_base64=base64.b64encode(b"knowledge").decode(), file_name="k.txt")
    tap = Tap(store)
    server = build_server(sandbox_settings(store), transport=tap)
    token = store.admin_token
    ASKED.clear()
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        result = await client.call_tool("preview_call", {"name": op.name, "arguments": args})
        assert not result.is_error, result.content
        assert ASKED == [], "a preview asked a human"
        assert tap.writes() == [], "a preview sent a write"
        assert token not in json.dumps(result.structured_content) and token not in result.content[0].text
        shown = result.structured_content["data"]
        assert shown["tool"] == op.name and "more_requests" not in shown
        assert shown["requests"], f"{op.name}: the preview lists no request"
        assert shown["changes"], f"{op.name}: the preview names no change"
        assert ("how" if shown["undo"]["possible"] else "why") in shown["undo"]
        applied = await client.call_tool(op.name, args)
    if not applied.is_error:  # the call reports the changes previewed, less the items the API refused
        done = applied.structured_content
        for change in done["changes"]:
            target = change["target"]
            like = [c for c in shown["changes"] if c["field"] == change["field"] and _same_target(c["target"], target)]
            assert like and like[0]["before"] == change["before"], (change, shown["changes"])
        if op.name not in ANSWER_NAMES_TARGET:
            assert shown["undo"] == done["undo"]
    sent = tap.writes()
    assert len(sent) == len(shown["requests"]), (applied.content, [f"{r.method} {r.url}" for r in sent])
    for row, request in zip(shown["requests"], sent, strict=True):
        assert_same(row, request, token)
    if shown.get("question") is None:
        assert ASKED == []
    else:
        assert len(ASKED) == 1 and ASKED[0].startswith(shown["question"]), (ASKED, shown["question"])
    await server.lanying_client.aclose()


@pytest.mark.anyio
async def test_batches_are_listed_and_each_fresh_key_is_marked():
    store, w = await world()
    tap = Tap(store)
    server = build_server(sandbox_settings(store), transport=tap)
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        ids = list(range(1, 1202))
        result = await client.call_tool(
            "preview_call", {"name": "invite_group_members", "arguments": {"group_id": w.group, "user_ids": ids}}
        )
        shown = result.structured_content["data"]
        assert [len(r["body"]["user_list"]) for r in shown["requests"]] == [21, 21, 21]  # 20 shown, then "… n more"
        assert shown["requests"][2]["body"]["user_list"][-1] == "… 181 more" and shown["requests"][0]["abridged"]
        push = {"user_ids": list(range(1, 50_001)), "message": {"body": "b"}}
        result = await client.call_tool("preview_call", {"name": "send_push", "arguments": push})
        assert not result.is_error, result.content
        many = result.structured_content["data"]
        assert tap.writes() == []
    assert len(many["requests"]) == preview.SHOWN_REQUESTS
    batches = -(-len(push["user_ids"]) // CATALOGUE["send_push"].batch.size)  # type: ignore[union-attr]
    assert many["more_requests"]["count"] == batches - preview.SHOWN_REQUESTS
    assert many["reach"]["people"] == len(push["user_ids"]) and many["question"]  # above the reach threshold
    await server.lanying_client.aclose()


@pytest.mark.anyio
async def test_reach_counts_groups_by_their_members():
    store, w = await world()
    server = build_server(sandbox_settings(store), transport=Tap(store))
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        args = {"from_user_id": w.owner, "group_ids": [w.group], "content": "hi"}
        result = await client.call_tool("preview_call", {"name": "send_message", "arguments": args})
        assert not result.is_error, result.content
        reach = result.structured_content["data"]["reach"]
        info = await client.call_tool("get_group_info", {"group_id": w.group})
        members = info.structured_content["data"]["count"]
    assert reach["groups"] == [{"group_id": w.group, "members": members}] and members >= 3
    assert reach["people"] == members and reach["exact"] is True
    await server.lanying_client.aclose()


@pytest.mark.anyio
async def test_refusals_are_reported_as_the_call_reports_them(tmp_path):
    store, w = await world()
    policy = tmp_path / "policy.toml"
    policy.write_text(f'deny_tools = ["delete_user"]\n[allow]\nusers = [{w.member}]\n')
    tap = Tap(store)
    server = build_server(sandbox_settings(store, policy_file=str(policy)), transport=tap)
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        for name, args in [
            ("send_message", {"user_ids": [w.stranger], "content": "hi"}),  # outside [allow]
            ("send_message", {"user_ids": [w.member], "bogus": 1}),  # an unknown argument
            ("set_group_name", {"group_id": w.group}),  # a missing argument
            ("delete_user", {"as_user_id": w.member}),  # denied by the policy
        ]:
            previewed = await client.call_tool("preview_call", {"name": name, "arguments": args})
            called = await client.call_tool(name, args)
            assert previewed.is_error and called.is_error
            assert previewed.structured_content == called.structured_content, name
    assert tap.writes() == []
    await server.lanying_client.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["default", "discovery", "explicit", "read_only"])
async def test_preview_is_reachable_in_every_selection(how: str):
    store, w = await world()
    changes: dict[str, Any] = {
        "default": {"toolsets": ()},
        "discovery": {"discovery": True},
        "explicit": {"toolsets": ("groups",)},
        "read_only": {"toolsets": (), "read_only": True},
    }[how]
    tap = Tap(store)
    server = build_server(sandbox_settings(store, **changes), transport=tap)
    args = {"name": "set_group_name", "arguments": {"group_id": w.group, "value": "renamed"}}
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        assert ("preview_call" in listed) is (how in ("default", "read_only"))
        direct = await client.call_tool("preview_call", args)
        if how != "explicit":
            through = await client.call_tool("call_tool", {"name": "preview_call", "arguments": args})
            assert through.structured_content == direct.structured_content
    if how == "read_only":  # the write is not reachable: said as the call would say it
        assert direct.is_error and "read-only" in direct.structured_content["error"]["message"]
    else:
        assert not direct.is_error, direct.content
        assert direct.structured_content["data"]["requests"][0]["path"] == "/group/info/name"
    assert tap.writes() == []
    await server.lanying_client.aclose()


@pytest.mark.anyio
async def test_a_read_only_profile_refuses_the_preview_of_a_write(tmp_path):
    store, w = await world()
    path = tmp_path / "profiles.toml"
    path.write_text(
        f'[profiles.main]\nendpoint = "http://sandbox.test"\napp_id = "{store.app_id}"\n'
        f'access_token = "{store.admin_token}"\nread_only = true\n'
    )
    tap = Tap(store)
    from lanying_mcp.core.settings import Settings

    server = build_server(Settings(profiles_file=str(path), toolsets=()), transport=tap)
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        schema = next(t for t in (await client.list_tools()).tools if t.name == "preview_call").input_schema
        assert "app" in schema["properties"]
        args = {"group_id": w.group, "value": "x"}
        previewed = await client.call_tool("preview_call", {"app": "main", "name": "set_group_name", "arguments": args})
        called = await client.call_tool("set_group_name", {"app": "main", **args})
    assert previewed.is_error and previewed.structured_content == called.structured_content
    assert tap.writes() == []
    await server.lanying_client.aclose()


class Step(Params):
    group_id: int


class Made(ApiModel):
    id: int | None = None


async def _two_steps(ctx: CallContext, p: Step) -> Envelope:
    made = await ctx.call(
        CATALOGUE["create_group_announcement"], {"group_id": p.group_id, "title": "t", "content": "c"}
    )
    announcement = made.data["id"]  # a later step that needs the answer to the write before it
    await ctx.call(CATALOGUE["delete_group_announcement"], {"group_id": p.group_id, "announcement_id": announcement})
    return Envelope({"id": announcement}, {})


TWO_STEPS = Operation(
    name="post_and_take_down",
    http="POST /group/announcement/edit",
    calls=("POST /group/announcement/edit", "POST /group/announcement/delete"),
    params=Step,
    result=Made,
    handler=_two_steps,
    title=("t", "t"),
    description=("d", "d"),
    hints=WRITE,
    effect=Effect(Target.GROUP, ("announcement",), irreversible=Never.DELETED),
)


@pytest.mark.anyio
async def test_steps_after_a_write_whose_answer_they_need_are_marked_not_previewable():
    store, w = await world()
    tap = Tap(store)
    server = build_server(sandbox_settings(store), transport=tap)
    ctx = server.context(None)
    ctx.catalogue = {**ctx.catalogue, TWO_STEPS.name: TWO_STEPS}
    found = await preview.preview(TWO_STEPS, {"group_id": w.group}, ctx)
    assert isinstance(found, preview.PreviewResult)
    assert [r["path"] for r in found.requests] == ["/group/announcement/edit"]
    assert found.not_previewable and "depend on the answer" in found.not_previewable
    assert tap.writes() == []
    await server.lanying_client.aclose()


@pytest.mark.anyio
async def test_an_undo_is_previewed_with_the_calls_it_runs_and_nothing_journaled():
    store, w = await world()
    tap = Tap(store)
    server = build_server(sandbox_settings(store), transport=tap)
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        renamed = await client.call_tool("set_group_name", {"group_id": w.group, "value": "renamed"})
        change_id = renamed.structured_content["change_id"]
        tap.seen.clear()
        journaled = await client.call_tool("list_changes", {}) if "list_changes" in server.reachable else None
        result = await client.call_tool("preview_call", {"name": "undo_change", "arguments": {"change_id": change_id}})
        assert not result.is_error, result.content
        shown = result.structured_content["data"]
        assert tap.writes() == []
        assert [(r["path"], r["body"]) for r in shown["requests"]] == [
            ("/group/info/name", {"group_id": w.group, "value": "g"})
        ]
        assert shown["changes"][0]["before"] == "renamed" and shown["changes"][0]["after"] == "g"
        if journaled is not None:  # the preview left no entry behind
            assert (await client.call_tool("list_changes", {})).structured_content == journaled.structured_content
        undone = await client.call_tool("undo_change", {"change_id": change_id})
        assert not undone.is_error, undone.content
    sent = tap.writes()
    assert len(sent) == 1
    assert_same(shown["requests"][0], sent[0], store.admin_token)
    await server.lanying_client.aclose()


@pytest.mark.anyio
async def test_an_undo_that_needs_a_yes_shows_the_question_it_will_ask():
    store, w = await world()
    tap = Tap(store)
    server = build_server(sandbox_settings(store), transport=tap)
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        made = await client.call_tool("create_group", {"as_user_id": w.owner, "name": "short-lived"})
        change_id = made.structured_content["change_id"]
        result = await client.call_tool("preview_call", {"name": "undo_change", "arguments": {"change_id": change_id}})
        assert not result.is_error, result.content
        shown = result.structured_content["data"]
        assert [r["path"] for r in shown["requests"]] == ["/group/destroy"] and tap.writes()[
            -1
        ].url.path != "/group/destroy"
        ASKED.clear()
        undone = await client.call_tool("undo_change", {"change_id": change_id})
        assert not undone.is_error, undone.content
    assert shown["question"] and "destroy_group" in shown["question"]
    assert len(ASKED) == 1 and ASKED[0].startswith(shown["question"]), (ASKED, shown["question"])
    await server.lanying_client.aclose()


@pytest.mark.anyio
async def test_a_read_is_shown_not_sent():
    store, w = await world()
    tap = Tap(store)
    server = build_server(sandbox_settings(store), transport=tap)
    async with Client(server, mode="legacy", elicitation_callback=yes) as client:
        tap.seen.clear()
        args = {"name": "get_group_info", "arguments": {"group_id": w.group}}
        result = await client.call_tool("preview_call", args)
    assert not result.is_error, result.content
    shown = result.structured_content["data"]["requests"]
    assert [(r["method"], r["path"], r["query"]) for r in shown] == [("GET", "/group/info", {"group_id": str(w.group)})]
    assert tap.seen == []
    await server.lanying_client.aclose()
