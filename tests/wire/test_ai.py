"""Wire table for the ai toolset (send_ai_message; the upload flow's URL path is in test_foundation)."""

import pytest

from tests.helpers import Case, check_cases

BOT, ASKER = 2199040500001, 2199040500002

CASES = [
    Case(
        "send_ai_message",
        {"user_ids": [BOT], "from_user_id": ASKER, "content": "What is Lanying?"},
        "POST",
        "/ai/message/send",
        json={"targets": [BOT], "type": 1, "content": "What is Lanying?", "content_type": 0, "from_user_id": ASKER},
        reply={
            "message_quota_usage": 1.5,
            "messages": [
                {
                    "msg_id": 9,
                    "type": "CHAT",
                    "ctype": "TEXT",
                    "content": "An IM cloud.",
                    "from_xid": {"uid": BOT, "device_sn": 0},
                    "to_xid": {"uid": ASKER, "device_sn": 0},
                    "timestamp": 1700000000000,
                }
            ],
        },
    ),
    Case(
        "send_ai_message",
        {"as_user_id": ASKER, "user_ids": [BOT], "content": "again", "transaction_id": 7, "config": "{}"},
        "POST",
        "/ai/message/send",
        json={"targets": [BOT], "type": 1, "content": "again", "content_type": 0, "transaction_id": 7, "config": "{}"},
        act_as={"user_id": str(ASKER)},
        reply={"message_quota_usage": 0, "messages": []},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_ai_wire_table(case: Case) -> None:
    await check_cases([case])
