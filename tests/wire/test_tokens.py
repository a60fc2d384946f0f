"""Wire table for the token tools: credentials in the JSON body, no act-as header."""

import pytest

from tests.helpers import Case, check_cases

TOKEN = {
    "token": "u-abc",
    "user_id": 2199040544848,
    "expire": 1700000000000,
    "push_token": "pt-1",
    "store_token": "st-1",
    "access_key_secret": "k",
    "public_key": "",
    "encrypt_type": 0,
}

CASES = [
    Case(
        "get_user_token",
        {"username": "bob", "password": "pw"},
        "POST",
        "/token/user",
        json={"name": "bob", "password": "pw"},
        reply=TOKEN,
    ),
    Case(
        "get_user_token_by_id",
        {"user_id": 2199040544848, "password": "pw", "device_guid": "dev-1"},
        "POST",
        "/token/id",
        json={"user_id": 2199040544848, "password": "pw", "device_guid": "dev-1"},
        reply=TOKEN,
    ),
    Case(
        "get_user_token_by_login",
        {"login_name": "bob@example.com", "password": "pw"},
        "POST",
        "/token/login",
        json={"login_name": "bob@example.com", "password": "pw"},
        reply={"token": "u-abc", "user_id": 2199040544848},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_tokens_wire(case: Case) -> None:
    await check_cases([case])
