"""Per-call bounds: the look-up requests one tool call may make, and its whole-call deadline.

Upstream requests are counted at the sandbox's door (tests/faults.py records every request).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.types import ElicitResult

from lanying_mcp.core.errors import SettingsError
from lanying_mcp.core.settings import Settings
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server
from tests.faults import FaultInjector
from tests.helpers import call, call_error, sandbox_settings

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def counted(store: Store, elicitation: Any = None, **changes: Any):
    """An MCP client on `store`, and the injector that records (and can slow) every upstream request."""
    door = FaultInjector(build_app(store))
    server = build_server(sandbox_settings(store, **changes), transport=httpx2.ASGITransport(app=door))
    async with Client(server, mode="legacy", elicitation_callback=elicitation) as client:
        yield client, door
    await server.lanying_client.aclose()


def populate(store: Store, n: int, nick: str = "") -> list[int]:
    ids = []
    for i in range(n):
        user = store.add_user(f"user{i:05d}", "pw-123456")
        user.nick_name = f"{nick}{i}"
        ids.append(user.user_id)
    return ids


async def big_group(store: Store, owner: int, members: list[int]) -> int:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=build_app(store)), base_url="http://s") as http:
        answer = await http.post(
            "/group/create",
            headers={"app_id": store.app_id, "access-token": store.admin_token, "user_id": str(owner)},
            json={"name": "everyone", "user_list": members},
        )
    return answer.json()["data"]["group_id"]


async def test_find_by_name_stops_at_the_look_up_cap_and_says_so():
    store = Store()
    populate(store, 1200, nick="nobody")
    async with counted(store) as (client, door):
        door.clear()
        got = await call(client, "find_by_name", {"text": "alice", "max_scan": 1000})
        made = len(door.requests)
    data = got["data"]
    assert made <= 50  # was 1,011: 10 pages of list_users, 1,000 profile look-ups, the exact username
    assert data["complete"] is False
    assert "at most 50 look-ups" in data["summary"]
    assert any("LANYING_MAX_LOOKUPS" in w for w in got["warnings"])


async def test_the_cap_is_a_setting():
    store = Store()
    populate(store, 300)
    async with counted(store, max_lookups=12) as (client, door):
        door.clear()
        got = await call(client, "find_by_name", {"text": "zzz", "max_scan": 200})
        assert len(door.requests) <= 12
        assert got["data"]["scanned"] <= 10


async def test_names_for_a_thousand_members_cost_what_the_readme_says():
    store = Store()
    ids = populate(store, 1000)
    group = await big_group(store, ids[0], ids[1:])
    async with counted(store) as (client, door):
        door.clear()
        got = await call(client, "list_group_members", {"group_id": group, "limit": 1000})
        requests = [r.path for r in door.requests]
    assert len(got["data"]) == 1000 and len(got["users"]) == 1000
    # the page itself, then ten reads of 100 users and the two role reads: the README's numbers
    assert requests.count("/group/member_list") == 1
    assert len(requests) - 1 == 12
    assert "warnings" not in got


async def test_a_look_up_past_the_cap_leaves_names_out_and_marks_the_result():
    store = Store()
    ids = populate(store, 400)
    group = await big_group(store, ids[0], ids[1:])
    async with counted(store, max_lookups=3) as (client, door):
        door.clear()
        got = await call(client, "list_group_members", {"group_id": group, "limit": 400})
        assert len(door.requests) == 1 + 3
    assert len(got["data"]) == 400
    assert len(got.get("users", {})) < 400  # some names are missing, and the result says why
    assert any("partial" in w and "LANYING_MAX_LOOKUPS" in w for w in got["warnings"])


async def test_the_whole_call_has_a_deadline():
    store = Store()
    populate(store, 50)
    async with counted(store, call_deadline=1.0, timeout=30.0) as (client, door):
        door.plan("latency", delay=0.3, times=1000)  # each request answers, slowly
        with anyio.fail_after(60):  # a hang guard
            err = await call_error(client, "find_by_name", {"text": "zzz", "max_scan": 40})
    assert err["code"] == "deadline"
    assert "LANYING_CALL_DEADLINE" in err["message"] and err["hint"]


async def test_a_stopped_write_is_not_offered_for_a_blind_retry():
    store = Store()
    owner = populate(store, 2)[0]
    async with counted(store, call_deadline=0.5, timeout=30.0) as (client, door):
        door.plan("latency", delay=3.0, times=10)
        with anyio.fail_after(60):
            err = await call_error(client, "create_group", {"as_user_id": owner, "name": "slow"})
    assert err["code"] == "deadline"
    assert err["retryable"] is False and "read it back" in err["hint"]


async def test_the_deadline_does_not_count_the_humans_answer():
    store = Store()
    victim = populate(store, 2)[1]

    async def slow_human(context: Any, params: Any) -> ElicitResult:
        await anyio.sleep(2.5)  # longer than the whole-call deadline
        return ElicitResult(action="accept", content={"confirm": True})

    async with counted(store, elicitation=slow_human, call_deadline=1.0) as (client, _):
        with anyio.fail_after(60):
            got = await call(client, "delete_user", {"as_user_id": victim})
    assert "error" not in got
    assert victim not in store.users


@pytest.mark.parametrize(
    ("name", "value"),
    [("call_deadline", 0), ("call_deadline", float("inf")), ("max_lookups", 0), ("max_sessions", -1)],
)
def test_limits_must_be_positive_and_finite(name: str, value: float):
    with pytest.raises(SettingsError, match=name.upper()):
        Settings(sandbox=True, **{name: value}).validate()
