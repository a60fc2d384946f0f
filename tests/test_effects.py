"""Every write declares what it changes and how it is undone (or why not); questions say exactly that."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx2
import pytest
from mcp.types import ElicitResult

from lanying_mcp.core.spec import Effect, Never, Operation, Target, undo
from lanying_mcp.engine import effects
from lanying_mcp.engine.call import CallContext
from lanying_mcp.engine.client import LanyingClient
from lanying_mcp.engine.mentions import unreachable
from lanying_mcp.review import question
from lanying_mcp.sandbox import Store
from lanying_mcp.serving.selection import OPERATIONS
from lanying_mcp.toolsets import CATALOGUE

from .helpers import sandbox_client, sandbox_settings

WRITES = [op for op in CATALOGUE.values() if not op.hints.read_only]


def test_every_write_declares_an_inverse_or_why_not() -> None:
    assert len(WRITES) > 80
    found = [p for op in CATALOGUE.values() for p in effects.problems(op, CATALOGUE)]
    assert found == []


def test_reads_declare_no_effect() -> None:
    assert [op.name for op in CATALOGUE.values() if op.hints.read_only and op.effect is not None] == []


def _with(name: str, effect: Effect | None) -> Operation:
    return dataclasses.replace(CATALOGUE[name], effect=effect)


@pytest.mark.parametrize(
    ("effect", "complaint"),
    [
        (None, "declares no effect"),
        (Effect(Target.GROUP, ("name",)), "exactly one"),
        (
            Effect(
                Target.GROUP,
                ("name",),
                undo("set_group_name", "group_id", value="before.name"),
                irreversible=Never.DELETED,
            ),
            "exactly one",
        ),
        (Effect(Target.GROUP, ("name",), undo("rename_everything", "group_id")), "unknown operation"),
        (Effect(Target.GROUP, ("name",), undo("get_group_info", "group_id")), "read-only"),
        (
            Effect(Target.GROUP, ("name",), undo("set_group_name", "group_id", title="before.name")),
            "has no argument title",
        ),
        (
            Effect(Target.GROUP, ("name",), undo("set_group_name", "group_id", value="new_name")),
            "comes from new_name",
        ),
        (
            Effect(Target.GROUP, ("name",), undo("set_group_name", "group_id", value="before.owner_id")),
            "comes from before.owner_id",
        ),
        (
            Effect(Target.GROUP, ("name",), undo("set_group_name", "group_id", value="result.name")),
            "comes from result.name",
        ),
        (Effect(Target.GROUP, ("name",), undo("set_group_name", "group_id", value="item")), "comes from item"),
        (Effect(Target.GROUP, ("name",), undo("set_group_name", "group_id")), "needs ['value']"),
        (Effect(Target.GROUP, ("name",), irreversible=("", "")), "both an English and a Chinese"),
        (Effect(Target.GROUP, ("name",), irreversible=Never.SENT, recall="unsend_everything"), "recall names"),
    ],
)
def test_a_bad_declaration_is_caught(effect: Effect | None, complaint: str) -> None:
    found = effects.problems(_with("set_group_name", effect), CATALOGUE)
    assert any(complaint in p for p in found), found


def test_list_and_result_sources_are_checked() -> None:
    good = _with("create_group", Effect(Target.GROUP, ("group",), undo("destroy_group", group_id="result.group_id")))
    assert effects.problems(good, CATALOGUE) == []
    bad = _with("create_group", Effect(Target.GROUP, ("group",), undo("destroy_group", group_id="result.nope")))
    assert any("result.nope" in p for p in effects.problems(bad, CATALOGUE))
    wrapped = _with(
        "leave_group", Effect(Target.MEMBER, ("m",), undo("invite_group_members", "group_id", user_ids="[x]"))
    )
    assert any("comes from x" in p for p in effects.problems(wrapped, CATALOGUE))
    per = _with("add_friends", Effect(Target.FRIENDSHIP, ("f",), undo("remove_friend", each="nope", user_id="item")))
    assert any("per item of nope" in p for p in effects.problems(per, CATALOGUE))


def test_the_former_undo_tools_are_kept() -> None:
    """The eight operations whose question named an undo tool still name the same one."""
    before = {
        "disable_users": "enable_users",
        "block_user": "unblock_user",
        "set_user_push_disabled": "set_user_push_disabled",
        "remove_push_tags": "add_push_tags",
        "remove_group_admins": "add_group_admins",
        "mute_group_members": "unmute_group_members",
        "mute_group": "unmute_group",
        "block_group_members": "unblock_group_members",
    }
    for name, tool in before.items():
        inverse = (CATALOGUE[name].effect or Effect(Target.USER, ())).inverse
        assert inverse is not None and inverse.tool == tool, name


def test_sends_deletes_and_password_resets_are_irreversible() -> None:
    for name in (
        "send_message",
        "broadcast_message",
        "send_push",
        "destroy_group",
        "delete_user",
        "delete_group_files",
        "reset_user_password",
    ):
        effect = CATALOGUE[name].effect
        assert effect is not None and effect.inverse is None and effect.irreversible, name
    send = CATALOGUE["send_message"].effect
    assert send is not None and send.recall == "recall_message"


def test_kicks_and_transfers_are_reversible() -> None:
    kick = CATALOGUE["kick_group_members"].effect
    assert kick is not None and kick.inverse is not None
    assert kick.inverse.tool == "invite_group_members" and kick.inverse.note is not None
    transfer = CATALOGUE["transfer_group_owner"].effect
    assert transfer is not None and transfer.inverse is not None
    assert dict(transfer.inverse.args)["new_owner"] == "before.owner_id"


def expected(op: Operation, lang: str) -> list[str]:
    """The undo sentences, written out here from the declaration (not from effects.py)."""
    effect = op.effect
    assert effect is not None
    zh = lang == "zh"
    if effect.inverse is not None:
        said = [f"可用{effect.inverse.tool}撤销。" if zh else f"It can be undone with {effect.inverse.tool}."]
        if effect.inverse.note:
            said.append(effect.inverse.note[1 if zh else 0])
        return said
    assert effect.irreversible is not None
    return [f"此操作无法撤销:{effect.irreversible[1]}。" if zh else f"This cannot be undone: {effect.irreversible[0]}."]


def _refuse(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={"code": 500, "message": "no look-ups in this test"})


async def _ask(op: Operation, lang: str, catalogue: dict[str, Operation], args: dict[str, Any] | None = None) -> str:
    async with LanyingClient(sandbox_settings(Store()), transport=httpx2.MockTransport(_refuse)) as client:
        ctx = CallContext(client, lang=lang, catalogue=catalogue)
        params = op.params.model_construct(**(args or {}))
        text = await question.describe(op, params, ctx)
    assert text is not None
    return text


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_question_says_what_the_declaration_says(lang: str) -> None:
    """Any write can be asked about (an operator's confirm_tools): each question's undo sentence is the declared one."""
    wrong = {}
    for op in WRITES:
        text = await _ask(op, lang, CATALOGUE)
        sentences = expected(op, lang)
        if not all(s in text for s in sentences):
            wrong[op.name] = text
        reversible = op.effect is not None and op.effect.inverse is not None
        if reversible and ("cannot be undone" in text or "无法撤销" in text):
            wrong[op.name] = text
    assert wrong == {}


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_three_false_claims_are_gone(lang: str) -> None:
    """A kick, an owner transfer and the transfer back said they could not be undone."""
    kick = await _ask(CATALOGUE["kick_group_members"], lang, CATALOGUE, {"group_id": 5, "user_ids": [7]})
    there = await _ask(CATALOGUE["transfer_group_owner"], lang, CATALOGUE, {"group_id": 5, "new_owner": 7})
    back = await _ask(CATALOGUE["transfer_group_owner"], lang, CATALOGUE, {"group_id": 5, "new_owner": 3})
    for text in (kick, there, back):
        assert "cannot be undone" not in text and "无法撤销" not in text, text
    if lang == "en":
        assert "It can be undone with invite_group_members. A member whose settings ask" in kick
        assert "It can be undone with transfer_group_owner. The new owner then becomes an ordinary member" in there
    else:
        assert "可用invite_group_members撤销。设置了入群邀请需本人同意的成员" in kick
        assert "可用transfer_group_owner撤销。转回后新群主成为普通成员" in there


@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_questions_name_no_tool_the_selection_cannot_reach(lang: str) -> None:
    """Served alone, each write's question names only itself, and still says truthfully whether it can be undone."""
    for op in WRITES:
        alone = {op.name: op}
        text = await _ask(op, lang, alone)
        assert unreachable(text, alone, OPERATIONS) == [], (op.name, text)
        effect = op.effect
        assert effect is not None
        if effect.inverse is not None and effect.inverse.tool != op.name:
            assert ("It can be undone, though not with the tools this server serves." in text) or (
                "此操作可以撤销,但本服务提供的工具无法撤销它。" in text
            ), text
    send = await _ask(CATALOGUE["send_message"], lang, CATALOGUE)
    assert "recall_message" in send
    alone = await _ask(CATALOGUE["send_message"], lang, {"send_message": CATALOGUE["send_message"]})
    assert "recall_message" not in alone and ("cannot be undone" in alone or "无法撤销" in alone)


def _recording(asked: list[str]) -> Any:
    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="decline")

    return human


@pytest.mark.anyio
@pytest.mark.parametrize("deny", [False, True])
async def test_the_server_asks_with_the_declared_sentence(tmp_path: Any, deny: bool) -> None:
    """Through the server: a kick's question names the re-invite, unless the operator's policy denies it."""
    store = Store()
    owner = store.add_user("own", "pw").user_id
    member = store.add_user("mem", "pw").user_id
    extra: dict[str, Any] = {}
    if deny:
        policy = tmp_path / "policy.toml"
        policy.write_text('deny_tools = ["invite_group_members"]\n', encoding="utf-8")
        extra["policy_file"] = str(policy)
    asked: list[str] = []
    async with sandbox_client(store, elicitation=_recording(asked), **extra) as client:
        made = await client.call_tool("create_group", {"as_user_id": owner, "name": "Crew", "user_ids": [member]})
        assert made.structured_content is not None
        gid = made.structured_content["data"]["group_id"]
        result = await client.call_tool("kick_group_members", {"group_id": gid, "user_ids": [member]})
        assert result.is_error  # declined: nothing done
    assert len(asked) == 1 and "cannot be undone" not in asked[0]
    if deny:
        assert "invite_group_members" not in asked[0]
        assert "It can be undone, though not with the tools this server serves." in asked[0]
    else:
        assert "It can be undone with invite_group_members." in asked[0]
