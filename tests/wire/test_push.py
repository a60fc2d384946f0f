"""Wire table for the push toolset."""

import pytest

from tests.helpers import Case, check_cases

CASES = [
    Case(
        "get_push_task_details",
        {"task_ids": [11, 12]},
        "POST",
        "/push/task/detail",
        json={"list": [11, 12]},
        reply=[{"task_id": 11, "mxpush_target": 3, "mxpush_sent": 3, "mxpush_received": 2, "apns_target": 1}],
    ),
    Case(
        "get_push_certificate",
        {"provider": 7},
        "GET",
        "/push/certificate",
        query={"provider": "7"},
        reply={"name": "fcm-prod", "app_id": "a", "app_key": "k", "app_secret": "s"},
    ),
    Case(
        "get_push_certificate",
        {"provider": 1, "environment": 0},
        "GET",
        "/push/certificate",
        query={"provider": "1", "environment": "0"},
        reply={"name": "apns-dev", "certificate": "-----BEGIN CERTIFICATE-----"},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_push_wire_table(case: Case) -> None:
    await check_cases([case])
