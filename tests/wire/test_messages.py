"""Wire table for the messages toolset: arguments → exactly the documented request."""

import pytest

from tests.helpers import Case, check_cases

ALICE, BOB, GROUP = 2199040544848, 2199040544992, 2306414607729

MESSAGE = {
    "msg_id": 77,
    "from_xid": {"uid": ALICE, "device_sn": 0},
    "to_xid": {"uid": BOB, "device_sn": 0},
    "ctype": "TEXT",
    "content": "hi",
    "status": "READ",
    "timestamp": 1700000000000,
}

CASES = [
    Case(
        "send_system_notice",
        {"user_ids": [BOB], "content": "maintenance at 22:00"},
        "POST",
        "/message/notify",
        json={"targets": [BOB], "type": 1, "content": "maintenance at 22:00", "content_type": 0},
        extras={"msg_ids": [5]},
    ),
    Case(
        "send_system_notice",
        {
            "as_user_id": ALICE,
            "group_ids": [GROUP],
            "content": "",
            "content_type": 6,
            "ext": '{"k":1}',
            "online_only": True,
        },
        "POST",
        "/message/notify",
        json={
            "targets": [GROUP],
            "type": 2,
            "content": "",
            "content_type": 6,
            "ext": '{"k":1}',
            "online_only": True,
        },
        act_as={"user_id": str(ALICE)},
    ),
    Case(
        "broadcast_message",
        {"content": "welcome"},
        "POST",
        "/message/broadcast",
        json={"content": "welcome", "content_type": 0, "type": 1},
        reply={"send_num": 120, "success": True},
    ),
    Case(
        "broadcast_message",
        {"as_user_id": ALICE, "content_type": 1, "attachment": '{"url":"https://x/y.png"}'},
        "POST",
        "/message/broadcast",
        json={"content_type": 1, "attachment": '{"url":"https://x/y.png"}', "type": 1},
        act_as={"user_id": str(ALICE)},
        reply={"send_num": 3, "success": True},
    ),
    Case(
        "recall_message",
        {"as_user_id": ALICE, "conversation_id": BOB, "msg_id": 77},
        "POST",
        "/message/recall",
        json={"conversation_id": BOB, "msg_id": 77},
        act_as={"user_id": str(ALICE)},
    ),
    Case(
        "recall_message",
        {"as_group_id": GROUP, "conversation_id": GROUP, "msg_id": 78},
        "POST",
        "/message/recall",
        json={"conversation_id": GROUP, "msg_id": 78},
        act_as={"group_id": str(GROUP)},
    ),
    Case(
        "send_read_ack",
        {"as_user_id": BOB, "conversation_id": ALICE, "msg_id": 77, "device_sn": 2},
        "GET",
        "/message/ack",
        query={"conversation_id": str(ALICE), "msg_id": "77", "device_sn": "2"},
        act_as={"user_id": str(BOB)},
    ),
    Case(
        "list_conversation_messages",
        {"as_user_id": ALICE, "opposite_id": BOB},
        "GET",
        "/message/conversation",
        query={"opposite_id": str(BOB), "msg_id_start": "0", "limit": "20"},
        act_as={"user_id": str(ALICE)},
        reply={"messages": [MESSAGE], "next_msg_id": 70, "is_last": False},
    ),
    Case(
        "list_conversation_messages",
        {"as_group_id": GROUP, "opposite_id": GROUP, "msg_id_start": 70, "limit": 5},
        "GET",
        "/message/conversation",
        query={"opposite_id": str(GROUP), "msg_id_start": "70", "limit": "5"},
        act_as={"group_id": str(GROUP)},
        reply={"messages": [], "is_last": True},
    ),
    Case(
        "delete_conversation",
        {"as_user_id": ALICE, "conversation_id": BOB},
        "DELETE",
        "/message/conversation",
        query={"conversation_id": str(BOB)},
        act_as={"user_id": str(ALICE)},
    ),
    Case(
        "list_unread_conversations",
        {"as_user_id": BOB},
        "GET",
        "/message/unread",
        act_as={"user_id": str(BOB)},
        reply=[{"conversation_id": {"uid": ALICE}, "num": 3}, {"conversation_id": {"uid": GROUP}, "num": 0}],
    ),
    Case(
        "pin_conversation",
        {"as_user_id": ALICE, "conversation_id": GROUP},
        "POST",
        "/user/conversation/pin",
        json={"conversation_id": GROUP},
        act_as={"user_id": str(ALICE)},
    ),
    Case(
        "unpin_conversation",
        {"as_user_id": ALICE, "conversation_id": GROUP},
        "POST",
        "/user/conversation/unpin",
        json={"conversation_id": GROUP},
        act_as={"user_id": str(ALICE)},
    ),
    Case(
        "list_pinned_conversations",
        {"as_user_id": ALICE},
        "GET",
        "/user/conversation/pin_list",
        act_as={"user_id": str(ALICE)},
        reply={"conversation_ids": [GROUP, BOB]},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_messages_wire_table(case: Case) -> None:
    await check_cases([case])
