"""undo_change: every reversible write, applied then undone in the sandbox, leaves its declared fields as they were.

The state is observed through the API (the declared fields of the target, read the way the write's
before-read reads them) or, for fields the API cannot read back, in the sandbox's own store. Each case
also checks that the write did change what is observed, so an observer that sees nothing cannot pass.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from lanying_mcp.engine import changes
from lanying_mcp.engine import changes_table as table
from lanying_mcp.engine.apps import key_of
from lanying_mcp.engine.call import CallContext, validate
from lanying_mcp.engine.client import LanyingClient
from lanying_mcp.engine.dispatch import execute
from lanying_mcp.engine.journal import Journal
from lanying_mcp.engine.state import MemoryState
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.sandbox.core import User
from lanying_mcp.sandbox.devices import profile
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.toolsets import CATALOGUE
from lanying_mcp.toolsets.meta import UNDO_CHANGE

from .helpers import QUESTIONS, call, call_error, sandbox_client, sandbox_settings
from .sandbox.world import World, build, client_for

REVERSIBLE = [op for op in CATALOGUE.values() if op.effect is not None and op.effect.inverse is not None]

# Reversible by declaration, but not from the journal: the reason undo_change gives, and the result says so.
NOT_FROM_JOURNAL = {
    "register_user": "secret argument password",
    "register_push_user": "secret argument password",
    "change_user_password": "secret argument",
    "bind_push_alias": "were not read",  # the alias before cannot be read through the API
    "set_push_badge": "were not read",
    "unbind_device_token": "were not read",
}

Setup = Callable[[World], Awaitable[None]]
Observe = Callable[["Case", World, CallContext, dict[str, Any]], Awaitable[Any]]


@dataclass
class Case:
    args: Callable[[World], dict[str, Any]]
    setup: Setup | None = None
    observe: Observe | None = None


async def _declared(case: Case, w: World, ctx: CallContext, args: dict[str, Any], name: str = "") -> Any:
    """The declared fields of every target, read as the write's before-read reads them."""
    op = CATALOGUE[name]
    ctx.before = None
    ctx.reads.clear()
    before = await changes.read_before(op, validate(op, args), ctx)
    assert before is not None and before.complete, (name, before)
    declared = set(op.effect.fields) if op.effect else set()
    bulk = table.RULE.get(name) in changes.BULK_OWN_VALUES  # a list of users' own values: every field it names
    return {
        (s.kind, s.id): {k: v for k, v in s.fields.items() if (bulk or k in declared) and k != "mute_minutes"}
        for s in before.targets
    }


def _mute_ends(value: Any) -> Any:
    """Mute ends compared to the minute: an undo re-mutes for the minutes that were left."""
    if isinstance(value, dict) and "until" in value:
        return value["until"][:15]
    if isinstance(value, dict):
        return {k: _mute_ends(v) for k, v in value.items()}
    return value


async def _members(case: Case, w: World, ctx: CallContext, args: dict[str, Any]) -> Any:
    return sorted(groups(w.store).groups[w.group].members)


async def _group_ids(case: Case, w: World, ctx: CallContext, args: dict[str, Any]) -> Any:
    return sorted(g for g, grp in groups(w.store).groups.items() if not getattr(grp, "destroyed", False))


async def _announcements(case: Case, w: World, ctx: CallContext, args: dict[str, Any]) -> Any:
    return sorted(groups(w.store).groups[w.group].announcements)


async def _files(case: Case, w: World, ctx: CallContext, args: dict[str, Any]) -> Any:
    return sorted(groups(w.store).groups[w.group].files)


async def _status(case: Case, w: World, ctx: CallContext, args: dict[str, Any]) -> Any:
    users: dict[int, User] = w.store.users
    return {uid: users[uid].status for uid in args["user_ids"]}


async def _token(case: Case, w: World, ctx: CallContext, args: dict[str, Any]) -> Any:
    dev = profile(w.store, w.owner).devices[w.device_sn]
    return (dev.device_token, dev.notifier_name)


async def _api(w: World, method: str, path: str, *, act: int | None = None, **kw: Any) -> None:
    await w.ok(method, path, act=act, **kw)


def _setup(*steps: tuple[str, str, dict[str, Any]]) -> Setup:
    """API calls that put the world in the state a write needs (a muted member for an unmute...)."""

    async def run(w: World) -> None:
        for method, path, kw in steps:
            kw = json.loads(json.dumps(kw).replace('"@owner"', str(w.owner)))
            kw = json.loads(json.dumps(kw).replace('"@group"', str(w.group)))
            kw = json.loads(json.dumps(kw).replace('"@member"', str(w.member)))
            kw = json.loads(json.dumps(kw).replace('"@admin"', str(w.admin)))
            act = kw.pop("act", None)
            await _api(w, method, path, act=act, **kw)

    return run


async def _disabled(w: World) -> None:
    w.store.users[w.stranger].status = 1


async def _avatars(w: World) -> None:
    """An avatar to set back: the API takes no empty avatar."""
    for uid in (w.owner, w.member):
        w.store.users[uid].avatar = "http://x/old.png"


async def _infos(w: World) -> None:
    """Profile texts to set back: the API takes no empty info text."""
    w.store.users[w.owner].public_info = "was public"
    w.store.users[w.owner].private_info = "was private"


CASES: dict[str, Case] = {
    "update_user_profile": Case(lambda w: {"as_user_id": w.owner, "nick_name": "Boss", "description": "d"}),
    "update_user_profiles": Case(lambda w: {"changes": [{"user_id": w.member, "nick_name": "M"}]}),
    "update_user_settings": Case(lambda w: {"as_user_id": w.owner, "no_push": True, "no_sounds": True}),
    "set_user_auth_mode": Case(lambda w: {"as_user_id": w.owner, "value": 2}),
    "set_user_avatar": Case(lambda w: {"as_user_id": w.owner, "avatar": "http://x/a.png"}, setup=_avatars),
    "set_user_avatars": Case(
        lambda w: {"avatars": [{"user_id": w.member, "avatar": "http://x/b.png"}]}, setup=_avatars
    ),
    "disable_users": Case(lambda w: {"user_ids": [w.stranger]}, observe=_status),
    "enable_users": Case(lambda w: {"user_ids": [w.stranger]}, setup=_disabled, observe=_status),
    "set_user_mobile": Case(lambda w: {"as_user_id": w.member, "mobile": "13900000001"}),
    "set_user_nickname": Case(
        lambda w: {"as_user_id": w.owner, "nick_name": "Chief"},
        setup=_setup(("POST", "/user/nickname", {"act": "@owner", "params": {"nick_name": "Owner"}})),
    ),
    "set_username": Case(lambda w: {"as_user_id": w.stranger, "username": "renamed_user"}),
    "set_user_private_info": Case(lambda w: {"as_user_id": w.owner, "info": "secret stuff"}, setup=_infos),
    "set_user_public_info": Case(lambda w: {"as_user_id": w.owner, "info": "hello all"}, setup=_infos),
    "set_user_auto_download": Case(lambda w: {"as_user_id": w.owner, "enabled": True}),
    "set_user_push_disabled": Case(lambda w: {"as_user_id": w.owner, "disabled": True}),
    "set_user_push_detail_hidden": Case(lambda w: {"as_user_id": w.owner, "hidden": True}),
    "set_user_quiet_hours": Case(lambda w: {"as_user_id": w.owner, "no_push_start_hour": 22, "no_push_end_hour": 7}),
    "set_user_push_nickname": Case(
        lambda w: {"as_user_id": w.owner, "push_nick_name": "Pusher"},
        setup=_setup(
            ("POST", "/user/settings", {"act": "@owner", "json": {"user_id": "@owner", "push_nick_name": "Was"}})
        ),
    ),
    "set_user_sound_muted": Case(lambda w: {"as_user_id": w.owner, "muted": True}),
    "set_user_vibration": Case(lambda w: {"as_user_id": w.owner, "enabled": True}),
    "add_push_tags": Case(lambda w: {"as_user_id": w.owner, "tags": ["beta", "vip"]}),
    "remove_push_tags": Case(
        lambda w: {"as_user_id": w.owner, "tags": ["beta"]},
        setup=_setup(("POST", "/user/push/tag", {"act": "@owner", "json": {"tags": ["beta", "vip"]}})),
    ),
    "clear_push_tags": Case(
        lambda w: {"as_user_id": w.owner},
        setup=_setup(("POST", "/user/push/tag", {"act": "@owner", "json": {"tags": ["beta", "vip"]}})),
    ),
    "bind_device_token": Case(
        lambda w: {"as_user_id": w.owner, "device_sn": w.device_sn, "device_token": "apns-1", "notifier_name": "n"},
        observe=_token,
    ),
    "add_friends": Case(lambda w: {"as_user_id": w.owner, "user_ids": [w.stranger, w.admin]}),
    "accept_friend_request": Case(lambda w: {"as_user_id": w.owner, "user_id": w.applicant}),
    "remove_friend": Case(lambda w: {"as_user_id": w.owner, "user_id": w.member}),
    "update_friend": Case(
        lambda w: {"as_user_id": w.owner, "user_id": w.member, "alias": "Mem", "ext": "e1"},
        setup=_setup(
            ("POST", "/roster/ext", {"act": "@owner", "json": {"user_id": "@member", "alias": "Old", "ext": "e0"}})
        ),
    ),
    "block_user": Case(lambda w: {"as_user_id": w.owner, "user_id": w.stranger}),
    "unblock_user": Case(
        lambda w: {"as_user_id": w.owner, "user_id": w.member},
        setup=_setup(("POST", "/roster/block", {"act": "@owner", "params": {"user_id": "@member"}})),
    ),
    "create_group": Case(
        lambda w: {"as_user_id": w.owner, "name": "fresh", "user_ids": [w.member]}, observe=_group_ids
    ),
    "invite_group_members": Case(lambda w: {"group_id": w.group, "user_ids": [w.stranger]}),
    "set_group_name": Case(lambda w: {"group_id": w.group, "value": "renamed"}),
    "set_group_description": Case(lambda w: {"group_id": w.group, "value": "about"}),
    "set_group_avatar": Case(lambda w: {"group_id": w.group, "value": "http://x/g.png"}),
    "set_group_ext": Case(lambda w: {"group_id": w.group, "value": '{"k":1}'}),
    "set_group_member_invite": Case(lambda w: {"group_id": w.group, "value": False}),
    "set_group_member_modify": Case(lambda w: {"group_id": w.group, "value": True}),
    "set_group_read_ack": Case(lambda w: {"group_id": w.group, "value": True}),
    "set_group_hide_member_info": Case(lambda w: {"group_id": w.group, "value": True}),
    "set_group_history_visible": Case(lambda w: {"group_id": w.group, "value": True}),
    "set_group_apply_approval": Case(lambda w: {"group_id": w.group, "apply_approval": 2}),
    "add_group_admins": Case(lambda w: {"group_id": w.group, "user_ids": [w.member]}),
    "remove_group_admins": Case(lambda w: {"group_id": w.group, "user_ids": [w.admin]}),
    "transfer_group_owner": Case(lambda w: {"group_id": w.group, "new_owner": w.member}),
    "kick_group_members": Case(lambda w: {"group_id": w.group, "user_ids": [w.member]}, observe=_members),
    "leave_group": Case(lambda w: {"as_user_id": w.member, "group_id": w.group}, observe=_members),
    "set_group_display_name": Case(lambda w: {"as_user_id": w.member, "group_id": w.group, "value": "Memo"}),
    "set_group_msg_mute_mode": Case(lambda w: {"as_user_id": w.member, "group_id": w.group, "msg_mute_mode": 1}),
    "set_group_msg_push_mode": Case(lambda w: {"as_user_id": w.member, "group_id": w.group, "msg_push_mode": 2}),
    "mute_group_members": Case(lambda w: {"group_id": w.group, "user_ids": [w.member], "duration": 30}),
    "unmute_group_members": Case(
        lambda w: {"group_id": w.group, "user_ids": [w.member]},
        setup=_setup(
            ("POST", "/group/ban", {"json": {"group_id": "@group", "user_list": ["@member"], "duration": 45}})
        ),
    ),
    "mute_group": Case(lambda w: {"group_id": w.group, "duration": 20}),
    "unmute_group": Case(
        lambda w: {"group_id": w.group},
        setup=_setup(("POST", "/group/settings/ban_all", {"json": {"group_id": "@group", "duration": 90}})),
    ),
    "block_group_members": Case(lambda w: {"group_id": w.group, "user_ids": [w.member]}),
    "unblock_group_members": Case(
        lambda w: {"group_id": w.group, "user_ids": [w.member]},
        setup=_setup(("POST", "/group/block", {"json": {"group_id": "@group", "user_list": ["@member"]}})),
    ),
    "join_group_by_qrcode": Case(lambda w: {"as_user_id": w.stranger, "qr_info": w.qr}, observe=_members),
    "create_group_announcement": Case(
        lambda w: {"group_id": w.group, "title": "News", "content": "Read me"}, observe=_announcements
    ),
    "add_group_file": Case(
        lambda w: {"group_id": w.group, "name": "n.txt", "size": 3, "url": "http://x/n.txt"}, observe=_files
    ),
    "rename_group_file": Case(lambda w: {"group_id": w.group, "file_id": w.group_file, "name": "renamed.txt"}),
    "pin_conversation": Case(lambda w: {"as_user_id": w.owner, "conversation_id": w.member}),
    "unpin_conversation": Case(
        lambda w: {"as_user_id": w.owner, "conversation_id": w.member},
        setup=_setup(("POST", "/user/conversation/pin", {"act": "@owner", "json": {"conversation_id": "@member"}})),
    ),
    # Not from the journal (NOT_FROM_JOURNAL): applied, then the undo is refused with its reason.
    "register_user": Case(lambda w: {"username": "newbie", "password": "pw-123456"}),
    "register_push_user": Case(lambda w: {"username": "pushie", "password": "pw-123456"}),
    "change_user_password": Case(lambda w: {"as_user_id": w.owner, "old_password": "pw", "new_password": "pw2-abc"}),
    "bind_push_alias": Case(lambda w: {"as_user_id": w.owner, "alias": "boss"}),
    "set_push_badge": Case(lambda w: {"as_user_id": w.owner, "badge": 7}),
    "unbind_device_token": Case(
        lambda w: {"as_user_id": w.owner, "device_sn": w.device_sn},
        setup=_setup(
            (
                "POST",
                "/user/token/bind",
                {"act": "@owner", "json": {"device_sn": 1, "device_token": "t", "notifier_name": "n"}},
            )
        ),
    ),
}


def test_every_reversible_write_has_a_case() -> None:
    assert sorted(CASES) == sorted(op.name for op in REVERSIBLE)


async def _context(w: World) -> tuple[CallContext, LanyingClient]:
    settings = sandbox_settings(w.store, confirm=False)
    client = LanyingClient(settings, transport=httpx2.ASGITransport(app=build_app(w.store)))
    reachable = {**CATALOGUE, UNDO_CHANGE.name: UNDO_CHANGE}
    journal = Journal(MemoryState()).bound(caller="test", app={"id": settings.app_id}, app_key=key_of(settings))
    return CallContext(client, catalogue=reachable, journal=journal), client


async def _observe(case: Case, name: str, w: World, ctx: CallContext, args: dict[str, Any]) -> Any:
    if case.observe is not None:
        return await case.observe(case, w, ctx, args)
    return _mute_ends(await _declared(case, w, ctx, args, name))


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(CASES))
async def test_apply_then_undo_restores_the_declared_fields(name: str) -> None:
    store = Store()
    async with client_for(store) as http:
        w = await build(http, store)
        case = CASES[name]
        if case.setup is not None:
            await case.setup(w)
        ctx, client = await _context(w)
        async with client:
            args = case.args(w)
            before = await _observe(case, name, w, ctx, args) if name not in NOT_FROM_JOURNAL else None
            applied = await execute(CATALOGUE[name], args, ctx)
            assert applied.ok, applied.text
            assert isinstance(applied.structured.get("change_id"), str)
            assert applied.structured.get("changes"), applied.structured
            if name in NOT_FROM_JOURNAL:
                undone = await execute(UNDO_CHANGE, {"change_id": applied.structured["change_id"]}, ctx)
                assert not undone.ok and NOT_FROM_JOURNAL[name] in undone.structured["error"]["message"], undone.text
                if NOT_FROM_JOURNAL[name] == "were not read":  # the result said so up front
                    assert applied.structured["undo"]["possible"] is False
                return
            assert applied.structured["undo"]["possible"] is True, applied.structured["undo"]
            middle = await _observe(case, name, w, ctx, args)
            assert middle != before, f"{name} changed nothing that is observed: {before}"
            undone = await execute(UNDO_CHANGE, {"change_id": applied.structured["change_id"]}, ctx)
            assert undone.ok, undone.text
            assert undone.structured.get("undoes") == applied.structured["change_id"]
            after = await _observe(case, name, w, ctx, args)
            assert after == before, f"{name}: before {before}, after the undo {after}"
            # Each inverse call is journaled as undoing the change, with a change_id of its own (undoable in turn).
            steps = undone.structured["data"] if "change_id" not in undone.structured else [undone.structured]
            assert ctx.journal is not None
            for step in steps:
                entry = await ctx.journal.get(step["change_id"], ctx.journal.app_key)
                assert entry is not None and entry["undoes"] == applied.structured["change_id"], entry


@pytest.mark.anyio
async def test_an_undo_refuses_when_the_target_changed_since_and_says_who() -> None:
    store = Store()
    async with client_for(store) as http:
        w = await build(http, store)
        ctx, client = await _context(w)
        async with client:
            op = CATALOGUE["set_group_name"]
            first = await execute(op, {"group_id": w.group, "value": "first"}, ctx)
            second = await execute(op, {"group_id": w.group, "value": "second"}, ctx)
            assert first.ok and second.ok
            refused = await execute(UNDO_CHANGE, {"change_id": first.structured["change_id"]}, ctx)
            assert not refused.ok
            err = refused.structured["error"]
            assert err["code"] == "changed_since"
            assert "'second'" in err["message"] and "'first'" in err["message"]
            assert second.structured["change_id"] in err["message"]  # who changed it, from the journal
            assert groups(store).groups[w.group].name == "second"  # nothing was sent
            forced = await execute(UNDO_CHANGE, {"change_id": first.structured["change_id"], "force": True}, ctx)
            assert forced.ok, forced.text
            assert groups(store).groups[w.group].name == "g"
            # A change made outside this server (not in the journal) is refused too, and said so.
            third = await execute(op, {"group_id": w.group, "value": "third"}, ctx)
            groups(store).groups[w.group].name = "by hand"
            refused = await execute(UNDO_CHANGE, {"change_id": third.structured["change_id"]}, ctx)
            assert refused.structured["error"]["code"] == "changed_since"
            assert "'by hand'" in refused.structured["error"]["message"]


@pytest.mark.anyio
async def test_irreversible_failed_and_unknown_changes_are_refused_with_the_reason() -> None:
    store = Store()
    async with client_for(store) as http:
        w = await build(http, store)
        ctx, client = await _context(w)
        async with client:
            sent = await execute(
                CATALOGUE["send_message"],
                {"from_user_id": w.owner, "content": "hi", "user_ids": [w.member]},
                ctx,
            )
            assert sent.ok, sent.text
            assert sent.structured["undo"]["possible"] is False
            refused = await execute(UNDO_CHANGE, {"change_id": sent.structured["change_id"]}, ctx)
            assert refused.structured["error"]["code"] == "irreversible"
            assert "delivered message cannot be taken back" in refused.structured["error"]["message"]
            unknown = await execute(UNDO_CHANGE, {"change_id": "ch_0000"}, ctx)
            assert unknown.structured["error"]["code"] == "unknown_change"
            failed = await execute(CATALOGUE["set_group_name"], {"group_id": 999, "value": "x"}, ctx)
            assert not failed.ok
            entries, _ = (
                await ctx.journal.page(ctx.journal.app_key, tool="set_group_name") if ctx.journal else ([], None)
            )
            assert entries and entries[0]["outcome"] == "failed"
            refused = await execute(UNDO_CHANGE, {"change_id": entries[0]["id"]}, ctx)
            assert refused.structured["error"]["code"] == "cannot_undo"
            assert "was not applied" in refused.structured["error"]["message"]


@pytest.mark.anyio
async def test_undo_is_confirmed_like_the_write_it_runs_and_a_no_sends_nothing() -> None:
    """Undoing a group's creation destroys it: the human is asked about destroy_group, and a no keeps the group."""
    store = Store()
    owner = store.add_user("owner_u", "pw").user_id

    async def say_no(context: Any, params: Any) -> Any:
        from mcp.types import ElicitResult

        QUESTIONS.append(params.message)
        return ElicitResult(action="decline")

    async with sandbox_client(store, elicitation=say_no) as client:
        made = await call(client, "create_group", {"as_user_id": owner, "name": "keepme"})
        gid = made["data"]["group_id"]
        QUESTIONS.clear()
        refused = await call_error(client, "undo_change", {"change_id": made["change_id"]})
        assert refused["code"] == "declined"
        assert QUESTIONS and "destroy_group" in QUESTIONS[0] and "keepme" in QUESTIONS[0]
        assert QUESTIONS[0].startswith("Undo change: ")
        assert gid in groups(store).groups
    async with sandbox_client(store) as client:  # the default test human says yes
        QUESTIONS.clear()
        # another server process of the same user shares the journal (the state file)
        undone = await call(client, "undo_change", {"change_id": made["change_id"]})
        assert QUESTIONS and "destroy_group" in QUESTIONS[0]
        assert undone["undoes"] == made["change_id"]
        assert undone["changes"][0]["target"]["id"] == gid


@pytest.mark.anyio
async def test_undo_runs_through_call_tool_in_the_discovery_selection(mode: str) -> None:
    store = Store()
    owner = store.add_user("owner_d", "pw").user_id
    async with sandbox_client(store, mode=mode, toolsets=(), discovery=True) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        assert "undo_change" not in listed and "call_tool" in listed
        made = await call(
            client, "call_tool", {"name": "create_group", "arguments": {"as_user_id": owner, "name": "d"}}
        )
        renamed = await call(
            client,
            "call_tool",
            {"name": "set_group_name", "arguments": {"group_id": made["data"]["group_id"], "value": "e"}},
        )
        undone = await call(
            client, "call_tool", {"name": "undo_change", "arguments": {"change_id": renamed["change_id"]}}
        )
        assert undone["undoes"] == renamed["change_id"]
        assert groups(store).groups[made["data"]["group_id"]].name == "d"


@pytest.mark.anyio
async def test_undo_change_is_listed_by_default_and_not_in_read_only_mode() -> None:
    async with sandbox_client(Store(), toolsets=()) as client:
        assert "undo_change" in {t.name for t in (await client.list_tools()).tools}
    async with sandbox_client(Store(), toolsets=(), read_only=True) as client:
        assert "undo_change" not in {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("undo_change", {"change_id": "ch_1"})
        assert refused.is_error
