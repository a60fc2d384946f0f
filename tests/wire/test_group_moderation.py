"""Wire table for group moderation: mutes, blacklist, invitations, applications, QR codes."""

import pytest

from tests.helpers import Case, check_cases

G = 2306414607729
U1, U2 = 2199040544848, 2199040544992
ADMIN = 2302128618880
RELATION = [{"user_id": U1, "result": "success"}]

CASES = [
    Case(
        "mute_group_members",
        {"as_user_id": ADMIN, "group_id": G, "user_ids": [U1, U2], "duration": 30},
        "POST",
        "/group/ban",
        json={"group_id": G, "user_list": [U1, U2], "duration": 30},
        act_as={"user_id": str(ADMIN)},
        reply=RELATION,
    ),
    Case(
        "mute_group_members",
        {"as_group_id": G, "group_id": G, "user_ids": [U1], "duration": 5},
        "POST",
        "/group/ban",
        json={"group_id": G, "user_list": [U1], "duration": 5},
        act_as={"group_id": str(G)},
        reply=RELATION,
    ),
    Case(
        "unmute_group_members",
        {"group_id": G, "user_ids": [U1]},
        "POST",
        "/group/unban",
        json={"group_id": G, "user_list": [U1]},
        reply=RELATION,
    ),
    Case(
        "list_muted_group_members",
        {"as_user_id": ADMIN, "group_id": G, "cursor": "10", "limit": 10, "version": 0},
        "GET",
        "/group/banned_list",
        query={"group_id": str(G), "cursor": "10", "limit": "10", "version": "0"},
        act_as={"user_id": str(ADMIN)},
        reply=[{"user_id": U1, "join_time": 1, "expired_time": 1700000000000}],
        extras={"cursor": "", "total": 11, "version": 7},
    ),
    Case(
        "mute_group",
        {"group_id": G, "duration": 60},
        "POST",
        "/group/settings/ban_all",
        json={"group_id": G, "duration": 60},
        reply={"ban_expire_time": 1700003600},
    ),
    Case(
        "unmute_group",
        {"as_user_id": ADMIN, "group_id": G},
        "POST",
        "/group/settings/unban_all",
        json={"group_id": G},
        act_as={"user_id": str(ADMIN)},
    ),
    Case(
        "block_group_members",
        {"group_id": G, "user_ids": [U1]},
        "POST",
        "/group/block",
        json={"group_id": G, "user_list": [U1]},
        reply=RELATION,
    ),
    Case(
        "unblock_group_members",
        {"as_group_id": G, "group_id": G, "user_ids": [U1, U2]},
        "POST",
        "/group/unblock",
        json={"group_id": G, "user_list": [U1, U2]},
        act_as={"group_id": str(G)},
        reply=RELATION,
    ),
    Case(
        "list_group_blocked_users",
        {"group_id": G},
        "GET",
        "/group/blocked_list",
        query={"group_id": str(G), "limit": "40"},
        reply=[{"group_id": G, "user_id": U1, "created_at": "2024-01-01T00:00:00Z"}],
        extras={"cursor": "", "total": 1, "version": 1},
    ),
    Case(
        "list_group_invitations",
        {"as_user_id": U1, "limit": 20},
        "GET",
        "/group/invitation_list",
        query={"limit": "20"},
        act_as={"user_id": str(U1)},
        reply=[
            {
                "group_id": G,
                "inviter_id": ADMIN,
                "invitee_id": U1,
                "reason": "join us",
                "status": 0,
                "expired_time": 1700000000000,
                "updated_at": "2024-01-01T00:00:00Z",
            }
        ],
        extras={"cursor": "20", "total": 30, "version": 2},
    ),
    Case(
        "handle_group_invitation",
        {"as_user_id": U1, "group_id": G, "user_id": ADMIN, "approval": True},
        "POST",
        "/group/invite/handle",
        json={"group_id": G, "user_id": ADMIN, "approval": True},
        act_as={"user_id": str(U1)},
    ),
    Case(
        "apply_to_join_group",
        {"as_user_id": U2, "group_id": G, "reason": "hi"},
        "POST",
        "/group/apply",
        json={"group_id": G, "reason": "hi"},
        act_as={"user_id": str(U2)},
        reply={"user_id": U2, "result": "success"},
    ),
    Case(
        "handle_group_application",
        {"as_user_id": ADMIN, "group_id": G, "user_id": U2, "approval": False},
        "POST",
        "/group/apply/handle",
        json={"group_id": G, "user_id": U2, "approval": False},
        act_as={"user_id": str(ADMIN)},
        reply={"user_id": U2, "result": "success"},
    ),
    Case(
        "list_group_applications",
        {"as_user_id": ADMIN, "group_ids": [G, 7], "cursor": "abc", "limit": 50, "version": 3},
        "POST",
        "/group/application_list",
        query={"cursor": "abc", "limit": "50", "version": "3"},
        json={"group_list": [G, 7]},
        act_as={"user_id": str(ADMIN)},
        reply=[{"group_id": G, "applicant_id": U2, "reason": "hi", "status": 0, "expired_time": 1}],
        extras={"cursor": "", "total": 1, "version": 3},
    ),
    Case(
        "get_group_qrcode",
        {"as_user_id": ADMIN, "group_id": G},
        "GET",
        "/group/qrcode/sign",
        query={"group_id": str(G)},
        act_as={"user_id": str(ADMIN)},
        reply={"qr_info": "abc", "create_at": 1, "expire_at": 2},
    ),
    Case(
        "join_group_by_qrcode",
        {"as_user_id": U2, "qr_info": "abc"},
        "POST",
        "/group/qrcode/invite",
        json={"qr_info": "abc"},
        act_as={"user_id": str(U2)},
        reply={},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_group_moderation_wire(case: Case) -> None:
    await check_cases([case])


def test_every_tool_has_a_case() -> None:
    from lanying_mcp.toolsets import group_moderation

    assert {op.name for op in group_moderation.OPERATIONS} == {c.tool for c in CASES}


def test_methods_and_aliases() -> None:
    from lanying_mcp.toolsets import CATALOGUE

    assert CATALOGUE["unblock_group_members"].aliases == ("DELETE",)
    assert CATALOGUE["handle_group_invitation"].aliases == ("PUT",)
    assert CATALOGUE["handle_group_application"].aliases == ("PUT",)
