"""Wire table for the quick guide's operations: arguments → exactly the documented request."""

import pytest

from tests.helpers import Case, check_cases

CASES = [
    Case(
        "register_user",
        {"username": "test_user", "password": "asd"},
        "POST",
        "/user/register/v2",
        json={"username": "test_user", "password": "asd"},
        reply={"user_id": 1},
    ),
    Case(
        "add_friends",
        {"as_user_id": 2302128618880, "user_ids": [2199040544848, 2199040544992]},
        "POST",
        "/user/add_roster",
        json={"list": [2199040544848, 2199040544992]},
        act_as={"user_id": "2302128618880"},
    ),
    Case(
        "list_friends",
        {"as_user_id": 2302128618880},
        "GET",
        "/user/rosters",
        act_as={"user_id": "2302128618880"},
        reply=[{"user_id": 2199040544848, "name": "a"}],
    ),
    Case(
        "create_group",
        {"as_user_id": 2302128618880, "name": "g001", "description": "test-group"},
        "POST",
        "/group/create",
        json={"name": "g001", "description": "test-group"},
        act_as={"user_id": "2302128618880"},
        reply={"group_id": 2306414607729},
    ),
    Case(
        "invite_group_members",
        {"as_user_id": 2302128618880, "group_id": 2306414607729, "user_ids": [2199040544848, 2199040544992]},
        "POST",
        "/group/invite",
        json={"group_id": 2306414607729, "user_list": [2199040544848, 2199040544992]},
        act_as={"user_id": "2302128618880"},
        reply=[{"result": "success", "user_id": 2199040544848}],
    ),
    Case(
        "list_group_members",
        {"as_user_id": 2302128618880, "group_id": 2306414607729, "limit": 50},
        "GET",
        "/group/member_list",
        query={"group_id": "2306414607729", "limit": "50"},
        act_as={"user_id": "2302128618880"},
        reply=[{"user_id": 1, "join_time": 2}],
        extras={"version": 3},
    ),
    Case(
        "list_group_members",
        {"group_id": 5, "cursor": "abc"},
        "GET",
        "/group/member_list",
        query={"group_id": "5", "cursor": "abc", "limit": "40"},  # a default page a model can afford
        reply=[],
    ),
    Case(
        "destroy_group",
        {"as_user_id": 2302128618880, "group_id": 2306414607729},
        "DELETE",
        "/group/destroy",
        query={"group_id": "2306414607729"},
        act_as={"user_id": "2302128618880"},
    ),
    Case(
        "send_message",
        {"user_ids": [2302128618880], "content": "hello"},
        "POST",
        "/message/send",
        json={"targets": [2302128618880], "type": 1, "content": "hello", "content_type": 0},
        extras={"msg_ids": [9]},
    ),
    Case(
        "send_message",
        {"group_ids": [7, 8], "content": "hi all", "from_user_id": 3, "transaction_id": 42},
        "POST",
        "/message/send",
        json={
            "targets": [7, 8],
            "type": 2,
            "content": "hi all",
            "content_type": 0,
            "from_user_id": 3,
            "transaction_id": 42,
        },
    ),
    Case(
        "send_push",
        {"all_devices": True, "message": {"type": "text", "title": "this is push title", "body": "this is push body"}},
        "POST",
        "/push/notify",
        json={
            "audience": "all",
            "message": {"type": "text", "title": "this is push title", "body": "this is push body"},
        },
        reply={"task_id": 1},
    ),
    Case(
        "send_push",
        {
            "push_tokens": ["token1", "token2"],
            "message": {"type": "image", "attachment_url": "https://xxx.com/images/1.jpg"},
        },
        "POST",
        "/push/notify",
        json={
            "audience": {"push_token": ["token1", "token2"]},
            "message": {"type": "image", "attachment_url": "https://xxx.com/images/1.jpg"},
        },
    ),
    Case(
        "send_push",
        {"tags": ["beijing", "shanghai"], "message": {"type": "cmd", "ext": {"key1": 12345, "key2": "xxx"}}},
        "POST",
        "/push/notify",
        json={
            "audience": {"tag": ["beijing", "shanghai"]},
            "message": {"type": "cmd", "ext": {"key1": 12345, "key2": "xxx"}},
        },
    ),
    Case(
        "get_chat_file_upload_url",
        {"as_user_id": 11, "file_type": 100, "to_type": 1, "to_id": 22},
        "GET",
        "/file/upload/chat",
        query={"file_type": "100", "to_type": "1", "to_id": "22"},
        act_as={"user_id": "11"},
        reply={"upload_url": "u", "download_url": "d"},
    ),
    Case(
        "upload_knowledge_document",
        {"chatbot_id": 22, "admin_user_id": 11, "url": "https://example.com/doc.html"},
        "POST",
        "/message/send",
        json={
            "targets": [22],
            "type": 1,
            "content": "https://example.com/doc.html",
            "content_type": 0,
            "from_user_id": 11,
            "ext": '{"ai": {"metadata": {}}}',
        },
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_foundation_wire_table(case: Case) -> None:
    await check_cases([case])
