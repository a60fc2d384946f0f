"""A question answered some seconds after it was asked still counts, in the 2026-07-28 era.

In that era the answer comes back in a new request, and the server renders the question again to check
the answer was given to it. A question that names a target this server renamed minutes ago once said how
long ago, in seconds ("renamed ... 3 s ago"), so a human who took a second or more to answer was asked again,
and again, until the client gave up (found by the team test, whose replicas answer under load). The note
now gives the rename's own time, which reads the same in every round.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.types import ElicitResult

from .helpers import call, sandbox_client


@pytest.mark.anyio
async def test_a_slow_yes_about_a_renamed_target_runs_the_call():
    asked: list[str] = []

    async def slow_human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        await anyio.sleep(1.5)  # reading the question takes a moment
        return ElicitResult(action="accept", content={"confirm": True})

    async with sandbox_client(mode="auto", elicitation=slow_human) as client:
        uid = (await call(client, "register_user", {"username": "slow_owner", "password": "pw"}))["data"]["user_id"]
        await call(client, "set_user_nickname", {"as_user_id": uid, "nick_name": "Renamed Owner"})
        gid = (await call(client, "create_group", {"as_user_id": uid, "name": "slow"}))["data"]["group_id"]
        with anyio.fail_after(120):  # a hang guard
            result = await client.call_tool("destroy_group", {"as_user_id": uid, "group_id": gid})
    assert not result.is_error
    assert len(asked) == 1, asked
