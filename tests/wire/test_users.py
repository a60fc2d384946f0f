"""Wire table for the users area: arguments → exactly the documented `/user/*` request."""

import pytest

from tests.helpers import Case, call_error, check_cases, sandbox_client

U = 2199040544848
U2 = 2199040544992
SETTINGS = {"user_id": U, "auth_mode": 0, "group_confirm": False, "no_push": False}

CASES = [
    Case(
        "register_users",
        {"users": [{"username": "alice_1", "password": "p1"}, {"username": "bob_2", "password": "p2"}]},
        "POST",
        "/user/register/batch",
        json={"list": [{"username": "alice_1", "password": "p1"}, {"username": "bob_2", "password": "p2"}]},
        reply=[
            {"user_id": U, "username": "alice_1", "success": True, "reason": None},
            {"user_id": None, "username": "bob_2", "success": False, "reason": "user exists"},
        ],
    ),
    Case(
        "register_push_user",
        {"username": "dev_user", "password": "pw", "push_token": "tok", "alias": "a1", "device_guid": "g"},
        "POST",
        "/user/register/push",
        json={"username": "dev_user", "password": "pw", "push_token": "tok", "alias": "a1", "device_guid": "g"},
        reply=SETTINGS,
    ),
    Case(
        "list_users",
        {},
        "GET",
        "/user/list",
        query={"page_size": "50"},
        reply=[{"user_id": U, "username": "alice_1", "status": 0}],
    ),
    Case(
        "list_users",
        {"page_num": 3, "page_size": 20},
        "GET",
        "/user/list",
        query={"page_num": "3", "page_size": "20"},
        reply=[],
    ),
    Case(
        "get_user_profile",
        {"as_user_id": U},
        "GET",
        "/user/profile",
        act_as={"user_id": str(U)},
        reply={"user_id": U, "username": "alice_1", "nick_name": "Alice", "public_info": "{}"},
    ),
    Case(
        "update_user_profile",
        {"as_user_id": U, "nick_name": "Alice", "public_info": '{"level":3}'},
        "POST",
        "/user/profile",
        json={"nick_name": "Alice", "public_info": '{"level":3}'},
        act_as={"user_id": str(U)},
    ),
    Case(
        "update_user_profiles",
        {"changes": [{"user_id": U, "nick_name": "A"}, {"user_id": U2, "description": "d"}]},
        "POST",
        "/user/profile/batch",
        json={"list": [{"user_id": U, "nick_name": "A"}, {"user_id": U2, "description": "d"}]},
        reply=[{"user_id": U, "success": True}, {"user_id": U2, "success": False, "reason": "no such user"}],
    ),
    Case(
        "get_user_settings",
        {"as_user_id": U},
        "GET",
        "/user/settings",
        act_as={"user_id": str(U)},
        reply={**SETTINGS, "auth_answer": "42", "push_token": "t"},
    ),
    Case(
        "update_user_settings",
        {"as_user_id": U, "auth_mode": 2, "auth_question": "6*7?", "auth_answer": "42", "no_push_start_hour": 22},
        "POST",
        "/user/settings",
        json={"user_id": U, "auth_mode": 2, "auth_question": "6*7?", "auth_answer": "42", "no_push_start_hour": 22},
        act_as={"user_id": str(U)},
    ),
    Case(
        "update_user_settings",
        {"as_user_id": U, "group_confirm": False},
        "POST",
        "/user/settings",
        json={"user_id": U, "group_confirm": False},
        act_as={"user_id": str(U)},
    ),
    Case(
        "set_user_auth_mode",
        {"as_user_id": U, "value": 3},
        "POST",
        "/user/authmode",
        query={"value": "3"},
        act_as={"user_id": str(U)},
    ),
    Case(
        "set_user_avatar",
        {"as_user_id": U, "avatar": "https://cdn.example.com/a.png"},
        "POST",
        "/user/avatar",
        json={"avatar": "https://cdn.example.com/a.png"},
        act_as={"user_id": str(U)},
    ),
    Case(
        "set_user_avatars",
        {"avatars": [{"user_id": U, "avatar": "https://x/a.png"}]},
        "POST",
        "/user/avatar/batch",
        json={"list": [{"user_id": U, "avatar": "https://x/a.png"}]},
        reply=[{"user_id": U, "success": True, "reason": None}],
    ),
    Case(
        "change_user_password",
        {"as_user_id": U, "old_password": "old", "new_password": "new"},
        "POST",
        "/user/change_password",
        json={"old_password": "old", "new_password": "new"},
        act_as={"user_id": str(U)},
    ),
    Case(
        "reset_user_password",
        {"as_user_id": U, "password": "fresh"},
        "POST",
        "/user/change_password_admin",
        json={"password": "fresh"},
        act_as={"user_id": str(U)},
    ),
    Case(
        "delete_user",
        {"as_user_id": U},
        "POST",
        "/user/delete",
        json={},
        act_as={"user_id": str(U)},
    ),
    Case(
        "delete_user",
        {"as_user_id": U, "password": "pw"},
        "POST",
        "/user/delete",
        json={"password": "pw"},
        act_as={"user_id": str(U)},
    ),
    Case("disable_users", {"user_ids": [U, U2]}, "PUT", "/user/disable", json={"list": [U, U2]}),
    Case("enable_users", {"user_ids": [U]}, "PUT", "/user/enable", json={"list": [U]}),
    Case(
        "set_user_mobile",
        {"as_user_id": U, "mobile": "13800000000"},
        "POST",
        "/user/mobile",
        query={"mobile": "13800000000"},
        act_as={"user_id": str(U)},
    ),
    Case(
        "set_user_nickname",
        {"as_user_id": U, "nick_name": "小蓝"},
        "POST",
        "/user/nickname",
        query={"nick_name": "小蓝"},
        act_as={"user_id": str(U)},
    ),
    Case(
        "set_username",
        {"as_user_id": U, "username": "alice_new"},
        "POST",
        "/user/username",
        query={"username": "alice_new"},
        act_as={"user_id": str(U)},
    ),
    Case(
        "get_user_online_status",
        {"as_user_id": U},
        "GET",
        "/user/online_status",
        act_as={"user_id": str(U)},
        reply={"online": True},
    ),
    Case(
        "set_user_private_info",
        {"as_user_id": U, "info": '{"vip":true}'},
        "POST",
        "/user/private",
        raw='{"vip":true}',
        act_as={"user_id": str(U)},
    ),
    Case(
        "set_user_public_info",
        {"as_user_id": U, "info": "plain text"},
        "POST",
        "/user/public",
        raw="plain text",
        act_as={"user_id": str(U)},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_users_wire_table(case: Case) -> None:
    await check_cases([case])


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("register_users", {"users": [{"username": "12345", "password": "p"}]}),
        ("register_users", {"users": [{"username": "maxim_x", "password": "p"}]}),
        ("register_users", {"users": []}),
        ("set_username", {"as_user_id": U, "username": "bad name"}),
        ("set_user_auth_mode", {"as_user_id": U, "value": 4}),
        ("list_users", {"page_num": 0}),
        ("update_user_settings", {"as_user_id": U, "no_push_end_hour": 24}),
        ("disable_users", {"user_ids": []}),
        ("get_user_profile", {}),
    ],
)
async def test_users_arguments_rejected_before_any_request(tool, args):
    """Bad arguments never reach the API: the schema refuses them with an argument error."""
    async with sandbox_client() as client:
        err = await call_error(client, tool, args)
    assert err["code"] == "invalid_arguments"
