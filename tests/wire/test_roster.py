"""Wire table for the roster tools: where each argument travels, including the act-as header."""

import pytest

import lanying_mcp.sandbox  # noqa: F401 - registers the routes
from tests.helpers import Case, check_cases

ME, OTHER = 2302128618880, 2199040544848
ACT = {"user_id": str(ME)}
ITEM = {"user_id": OTHER, "username": "bob", "nick_name": "Bob", "relation": 0, "auth_mode": 1, "alias": "b"}

CASES = [
    Case(
        "add_friends",
        {"as_user_id": ME, "user_ids": [OTHER]},
        "POST",
        "/user/add_roster",
        json={"list": [OTHER]},
        act_as=ACT,
    ),
    Case(
        "list_friends", {"as_user_id": ME}, "GET", "/user/rosters", act_as=ACT, reply=[{"user_id": OTHER, "name": "b"}]
    ),
    Case(
        "send_friend_request",
        {"as_user_id": ME, "user_id": OTHER, "reason": "hi", "alias": "Bobby", "auth_answer": "42"},
        "POST",
        "/roster/apply",
        json={"user_id": OTHER, "reason": "hi", "alias": "Bobby", "auth_answer": "42"},
        act_as=ACT,
    ),
    Case(
        "send_friend_request",
        {"as_user_id": ME, "user_id": OTHER},
        "POST",
        "/roster/apply",
        json={"user_id": OTHER},
        act_as=ACT,
    ),
    Case(
        "send_friend_requests",
        {"as_user_id": ME, "requests": [{"user_id": OTHER, "reason": "hi"}, {"user_id": 7, "alias": "x"}]},
        "POST",
        "/roster/apply/batch",
        json=[{"user_id": OTHER, "reason": "hi"}, {"user_id": 7, "alias": "x"}],
        act_as=ACT,
        reply={"success": [OTHER], "fails": [{"user_id": 7, "reason": "user does not exist"}]},
    ),
    Case(
        "list_friend_requests",
        {"as_user_id": ME, "cursor": "20", "limit": 10},
        "GET",
        "/roster/apply/list",
        query={"cursor": "20", "limit": "10"},
        act_as=ACT,
        reply=[{"user_id": OTHER, "reason": "hi", "status": 0, "expired_time": 1700000000000}],
        extras={"cursor": "30", "version": 4},
    ),
    Case(
        "accept_friend_request",
        {"as_user_id": ME, "user_id": OTHER},
        "POST",
        "/roster/accept",
        query={"user_id": str(OTHER)},
        act_as=ACT,
    ),
    Case(
        "decline_friend_request",
        {"as_user_id": ME, "user_id": OTHER, "reason": "no"},
        "POST",
        "/roster/decline",
        json={"user_id": OTHER, "reason": "no"},
        act_as=ACT,
    ),
    Case(
        "remove_friend",
        {"as_user_id": ME, "user_id": OTHER},
        "POST",
        "/roster/delete",
        query={"user_id": str(OTHER)},
        act_as=ACT,
    ),
    Case(
        "update_friend",
        {"as_user_id": ME, "user_id": OTHER, "alias": "B", "ext": "{}", "mute_notification": False},
        "POST",
        "/roster/ext",
        json={"user_id": OTHER, "alias": "B", "ext": "{}", "mute_notification": False},
        act_as=ACT,
    ),
    Case(
        "list_friend_ids",
        {"as_user_id": ME, "limit": 500},
        "GET",
        "/roster/list",
        query={"limit": "500"},
        act_as=ACT,
        reply=[OTHER, 7],
        extras={"cursor": "", "version": 2},
    ),
    Case(
        "get_friend_details",
        {"as_user_id": ME, "user_ids": [OTHER]},
        "POST",
        "/roster/list",
        json={"list": [OTHER]},
        act_as=ACT,
        reply=[ITEM],
    ),
    Case(
        "block_user",
        {"as_user_id": ME, "user_id": OTHER},
        "POST",
        "/roster/block",
        query={"user_id": str(OTHER)},
        act_as=ACT,
    ),
    Case(
        "unblock_user",
        {"as_user_id": ME, "user_id": OTHER},
        "POST",
        "/roster/unblock",
        query={"user_id": str(OTHER)},
        act_as=ACT,
    ),
    Case("list_blocked_users", {"as_user_id": ME}, "GET", "/roster/blocked_list", act_as=ACT, reply=[OTHER]),
    Case(
        "find_user_by_id",
        {"as_user_id": ME, "user_id": OTHER},
        "GET",
        "/roster/id",
        query={"user_id": str(OTHER)},
        act_as=ACT,
        reply=ITEM,
    ),
    Case("find_user_by_id", {"user_id": OTHER}, "GET", "/roster/id", query={"user_id": str(OTHER)}, reply=ITEM),
    Case(
        "find_user_by_mobile",
        {"mobile": "13800000000"},
        "GET",
        "/roster/mobile",
        query={"mobile": "13800000000"},
        reply=ITEM,
    ),
    Case(
        "find_user_by_name",
        {"as_user_id": ME, "username": "bob"},
        "GET",
        "/roster/name",
        query={"username": "bob"},
        act_as=ACT,
        reply=ITEM,
    ),
    Case(
        "check_may_message",
        {"user_id": ME, "roster_id": OTHER},
        "GET",
        "/roster/may_message",
        query={"user_id": str(ME), "roster_id": str(OTHER)},
        reply=False,
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_roster_wire(case: Case) -> None:
    await check_cases([case])


def test_sandbox_serves_every_method_of_roster_and_token_tools():
    from lanying_mcp.sandbox import ROUTES
    from lanying_mcp.toolsets import roster, tokens

    for op in roster.OPERATIONS + tokens.OPERATIONS:
        for method in (op.method, *op.aliases):
            assert (method, op.path) in ROUTES, f"{op.name}: no sandbox route for {method} {op.path}"
