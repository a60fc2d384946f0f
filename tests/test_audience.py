"""Who reads what a write carries: every operation that puts free text in front of other users or groups
declares them as its audience, so the operator's `[allow]` lists and the mass-reach rule see them."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel

from lanying_mcp.core.spec import Operation, Risk
from lanying_mcp.engine.call import validate
from lanying_mcp.safety.consent import risks
from lanying_mcp.safety.policy import Policy
from lanying_mcp.sandbox import Store
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.sandbox.roster import rosters
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import call, call_error, sandbox_client

# Who acts, not who reads: the account the call is made as, or the sender.
ACTORS = {"as_user_id", "as_group_id", "from_user_id", "admin_user_id"}
# Free text that stays with the account that writes it, or is not text anyone reads.
KEPT = {
    ("send_friend_request", "alias"): "the applicant's own remark name for the other user, in the applicant's roster",
    ("send_friend_requests", "requests[].alias"): "the applicant's own remark name, in the applicant's roster",
    ("update_friend", "alias"): "the acting user's private remark name for a friend",
    ("update_friend", "ext"): "the acting user's private data about a friend",
    ("get_user_token_by_id", "password"): "the account's own credential, checked and never shown",
    ("get_user_token_by_id", "device_guid"): "an identifier of the account's own device",
    ("join_group_by_qrcode", "qr_info"): "a signed code read from a QR image, not text",
}
# ID fields that name where something happens, or whose own account is written, rather than who reads it.
PLACES = {
    ("invite_group_members", "group_id"): "the group the invitees are asked into; its members read nothing of it",
    ("update_user_profiles", "changes[].user_id"): "each row edits that user's own profile, as as_user_id does",
    ("set_user_avatars", "avatars[].user_id"): "each row sets that user's own avatar, as as_user_id does",
}


def _leaves(model: type[BaseModel], prefix: str = "") -> list[tuple[str, set[Any]]]:
    """(path, leaf types) of every argument, with list items of nested models as `field[].sub`."""
    out: list[tuple[str, set[Any]]] = []
    for name, info in model.model_fields.items():
        kinds: set[Any] = set()
        nested: list[tuple[str, set[Any]]] = []
        stack: list[tuple[Any, str]] = [(info.annotation, prefix + name)]
        while stack:
            ann, path = stack.pop()
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                nested += _leaves(ann, path + ".")
            elif typing.get_origin(ann) in (list, tuple, set):
                stack += [
                    (arg, path + "[]" if arg is not str and arg is not int else path) for arg in typing.get_args(ann)
                ]
            elif typing.get_args(ann):
                stack += [(arg, path) for arg in typing.get_args(ann)]
            else:
                kinds.add(ann)
        if kinds:
            out.append((prefix + name, kinds))
        out += nested
    return out


def _is_id(path: str) -> bool:
    leaf = path.split(".")[-1].removesuffix("[]")
    # `usernames` name users (resolved to user IDs before the call): not text anyone reads.
    return leaf.endswith(("user_id", "user_ids", "group_id", "group_ids")) or leaf in (
        "new_owner",
        "chatbot_id",
        "usernames",
    )


def free_text(op: Operation) -> list[str]:
    return [path for path, kinds in _leaves(op.params) if str in kinds and not _is_id(path)]


def people(op: Operation) -> list[str]:
    """The arguments naming users or groups other than the one acting: who can read what the call writes."""
    ids = [path for path, kinds in _leaves(op.params) if int in kinds and _is_id(path)]
    return [p for p in ids if p.split(".")[-1] not in ACTORS and (op.name, p) not in PLACES]


def text_reaching_others() -> dict[str, tuple[list[str], list[str]]]:
    """Every write whose free text reaches another user or group: {tool: (text fields, recipient fields)}."""
    found = {}
    for op in CATALOGUE.values():
        if op.hints.read_only or op.local:
            continue
        texts = [t for t in free_text(op) if (op.name, t) not in KEPT]
        readers = people(op)
        if texts and readers:
            found[op.name] = (texts, readers)
    return found


def test_every_text_that_reaches_another_user_or_group_has_a_declared_audience() -> None:
    found = text_reaching_others()
    # The finder sees what it must: the sends, and the three ways around [allow] a red team used.
    assert {"send_message", "send_push", "send_friend_request", "invite_group_members", "create_group"} <= set(found)
    problems = []
    for name, (texts, readers) in sorted(found.items()):
        aud = CATALOGUE[name].audience
        if aud is None:
            problems.append(f"{name}: {texts} reach {readers}, but no audience is declared")
            continue
        covered = {*aud.users, *aud.groups, *aud.tags, *aud.aliases, *aud.tokens}
        if missing := [r for r in readers if r not in covered]:
            problems.append(f"{name}: recipients {missing} are not in its audience")
        # An audience with no `text` delivers on every call; one with `text` must name each free-text field.
        if aud.text and (unnamed := [t for t in texts if t not in aud.text]):
            problems.append(f"{name}: free text {unnamed} is not in audience.text")
    assert not problems, "\n".join(problems)


def test_the_exemptions_still_name_real_fields() -> None:
    for (name, field), _ in {**KEPT, **PLACES}.items():
        op = CATALOGUE[name]
        assert field in free_text(op) or field in [p for p, _ in _leaves(op.params)], (name, field)


def test_the_reach_rule_counts_invitees_only_when_the_invitation_carries_text() -> None:
    op = CATALOGUE["invite_group_members"]
    many = list(range(1, 1002))
    assert Risk.REACH not in risks(op, validate(op, {"group_id": 5, "user_ids": many}))
    assert Risk.REACH in risks(op, validate(op, {"group_id": 5, "user_ids": many, "reason": "join us"}))
    policy = Policy(confirm_reach=0)
    one = CATALOGUE["send_friend_request"]
    args = {"as_user_id": 1, "user_id": 2, "reason": "hi"}
    assert Risk.REACH in risks(one, validate(one, args), policy)  # a single-ID recipient counts as one
    batch = CATALOGUE["send_friend_requests"]
    reqs = {"as_user_id": 1, "requests": [{"user_id": u, "reason": "hi"} for u in (2, 3)]}
    assert Risk.REACH in risks(batch, validate(batch, reqs), Policy(confirm_reach=1))


# --- end to end: [allow] users = [alice] -------------------------------------------------------
def world() -> tuple[Store, int, int]:
    store = Store()
    return store, store.add_user("alice", "pw").user_id, store.add_user("outsider", "pw").user_id


@pytest.mark.anyio
async def test_allow_users_stops_text_reaching_anyone_else(tmp_path, mode) -> None:
    store, alice, outsider = world()
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[allow]\nusers = [{alice}]\n")
    async with sandbox_client(store, mode=mode) as admin:  # no policy: the operator sets up a group
        gid = (await call(admin, "create_group", {"as_user_id": alice, "name": "Ops"}))["data"]["group_id"]
    async with sandbox_client(store, mode=mode, policy_file=str(policy)) as client:
        refused = [
            ("send_friend_request", {"as_user_id": alice, "user_id": outsider, "reason": "Click evil.example"}),
            ("send_friend_requests", {"as_user_id": alice, "requests": [{"user_id": outsider, "reason": "x"}]}),
            ("invite_group_members", {"group_id": gid, "user_ids": [outsider], "reason": "Click evil.example"}),
            ("invite_group_members", {"group_id": gid, "user_ids": [outsider]}),  # the group's name reaches them
            ("create_group", {"as_user_id": alice, "name": "Click evil.example", "user_ids": [outsider]}),
            ("decline_friend_request", {"as_user_id": alice, "user_id": outsider, "reason": "x"}),
        ]
        for tool, args in refused:
            err = await call_error(client, tool, args)
            assert err["code"] == "not_allowed" and str(outsider) in err["message"], (tool, err)
            assert "allow.users" in err["message"], err
        # Group texts reach every member: without allow.groups they are refused too.
        err = await call_error(client, "set_group_name", {"group_id": gid, "value": "Click evil.example"})
        assert err["code"] == "not_allowed" and "allow.groups" in err["message"]
        # Nothing reached the outsider.
        assert rosters(store).inbox.get(outsider, {}) == {}
        assert all(outsider not in g.members and not g.invitations for g in groups(store).groups.values())
        assert [g.name for g in groups(store).groups.values()] == ["Ops"]
        # What stays within the allowed users still works.
        mine = await call(client, "create_group", {"as_user_id": alice, "name": "Notes"})
        assert mine["data"]["name"] == "Notes"
        await call(client, "send_friend_request", {"as_user_id": outsider, "user_id": alice, "reason": "hello"})
        assert outsider in rosters(store).of(alice) or outsider in rosters(store).inbox.get(alice, {})


@pytest.mark.anyio
async def test_allow_groups_lets_the_listed_group_be_renamed(tmp_path) -> None:
    store, alice, _ = world()
    async with sandbox_client(store) as admin:
        gid = (await call(admin, "create_group", {"as_user_id": alice, "name": "Ops"}))["data"]["group_id"]
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[allow]\nusers = [{alice}]\ngroups = [{gid}]\n")
    async with sandbox_client(store, policy_file=str(policy)) as client:
        await call(client, "set_group_name", {"group_id": gid, "value": "Ops room"})
        err = await call_error(client, "set_group_name", {"group_id": gid + 1, "value": "x"})
        assert err["code"] == "not_allowed" and str(gid + 1) in err["message"]
    assert groups(store).groups[gid].name == "Ops room"
