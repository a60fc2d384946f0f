"""The Redis state store as replicas use it: one state for every server, and refusals when it is gone.

The store contract itself runs on Redis in `tests/test_state.py`. Here: two stores (two replicas) on one
Redis; two whole servers sharing it (a bulk result link made on one is read on the other, a confirmation
asked on one is redeemed once on the other); and a Redis stopped in the middle of a session: risky calls
are refused with nothing sent, reads go on, and it all works again when Redis is back.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.types import CallToolResult, ElicitResult

from lanying_mcp.core.errors import SettingsError, StateError
from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.state import State
from lanying_mcp.engine.state_redis import RedisState, where
from lanying_mcp.engine.stores import open_state
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server
from tests.helpers import sandbox_settings
from tests.redis_server import RedisServer, unique_prefix
from tests.test_grants import ARGS, TOOL, YES, Api, answer, ask, asked_again_or_refused, decline, settings

STATE_KEY = "redis-replicas-shared-state-key-0123456789"


async def always_yes(context: Any, params: Any) -> ElicitResult:
    return YES


# --- two stores on one Redis ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_two_stores_on_one_redis_see_each_other_and_take_once(redis_server: RedisServer):
    prefix = unique_prefix()
    one, two = RedisState(redis_server.url, prefix=prefix), RedisState(redis_server.url, prefix=prefix)
    await one.put("results", "k", "from one", ttl=60)
    assert await two.get("results", "k") == "from one"
    await two.add("grant", "n", "nonce", ttl=60)
    got: list[str | None] = []

    async def take(s: State) -> None:
        got.append(await s.take("grant", "n"))

    async with anyio.create_task_group() as tg:
        for s in (one, two) * 10:
            tg.start_soon(take, s)
    assert got.count("nonce") == 1 and got.count(None) == 19
    counts = []
    async with anyio.create_task_group() as tg:
        for s in (one, two) * 10:
            tg.start_soon(lambda s: s.hit("rate", "caller", 60), s)
    counts.append(await one.hit("rate", "caller", 60))
    assert counts == [21]  # every hit from both replicas counted once
    await one.close()
    await two.close()


@pytest.mark.anyio
async def test_the_servers_clock_expires_values_and_an_idle_namespace_frees_itself(redis_server: RedisServer):
    """Without a clock of its own the store uses Redis's TIME; each namespace's keys carry a Redis TTL."""
    import redis.asyncio as redis

    prefix = unique_prefix()
    s = RedisState(redis_server.url, prefix=prefix)
    await s.put("short", "k", "v", ttl=0.3)
    await s.put("long", "k", "v", ttl=600)
    assert await s.get("short", "k") == "v"
    await anyio.sleep(1.0)
    assert await s.get("short", "k") is None
    assert await s.get("long", "k") == "v"
    raw = redis.Redis.from_url(redis_server.url)
    names = [n.decode() for n in await raw.keys(f"{prefix}:*")]
    assert names and all(n.startswith(f"{prefix}:{{long}}:") for n in names)  # the short namespace is gone
    for name in names:
        assert 0 < await raw.pttl(name) <= 601_000  # freed by Redis after its longest-lived value
    await raw.aclose()
    await s.close()


@pytest.mark.anyio
async def test_an_unreachable_redis_is_a_state_error_that_never_shows_the_password(tmp_path):
    dead = RedisServer(tmp_path / "dead")  # its port is free: nothing listens there
    s = RedisState(f"redis://:hunter2-secret@127.0.0.1:{dead.port}/0")
    with anyio.fail_after(60):
        with pytest.raises(StateError) as caught:
            await s.put("results", "k", "v", ttl=60)
        with pytest.raises(StateError):
            await s.ping()
        with pytest.raises(StateError, match="Redis state store"):
            await s.append("journal", "c1", "entry")
    message = str(caught.value)
    assert f"127.0.0.1:{dead.port}" in message and "hunter2" not in message
    await s.close()


def test_the_url_is_checked_and_picks_the_backend(redis_server: RedisServer):
    assert isinstance(open_state("", redis_server.url), RedisState)
    assert isinstance(open_state(":memory:", redis_server.url), RedisState)  # the URL wins over the file
    for bad, why in (
        ("http://redis-host:6379", "must start with redis://"),
        ("redis://:pw@/0", "names no host"),
        ("redis://host:port/0", "port that is not a number"),
    ):
        with pytest.raises(SettingsError, match=why) as caught:
            Settings(sandbox=True, state_url=bad).validate()
        assert "pw" not in str(caught.value) or "pw" not in bad
        with pytest.raises(StateError, match=why):
            RedisState(bad)
    assert Settings(sandbox=True, state_url="rediss://:pw@redis-host:6380/1").validate()
    assert where("rediss://user:pw@redis-host/2") == "rediss://redis-host:6379/2"  # never the credentials
    assert where("unix:///run/redis.sock?db=1") == "unix:/run/redis.sock"
    assert Settings.from_env({"LANYING_STATE_URL": redis_server.url}).state_url.get_secret_value() == redis_server.url


# --- two servers sharing one Redis ---------------------------------------------------------------


def shared(redis: RedisServer, **changes: Any) -> Settings:
    return settings(state_url=redis.url, state_key=STATE_KEY, **changes)


@pytest.mark.anyio
async def test_a_yes_asked_on_one_server_is_redeemed_once_on_another(redis_server: RedisServer):
    api = Api()
    one = build_server(shared(redis_server), transport=httpx2.MockTransport(api))
    two = build_server(shared(redis_server), transport=httpx2.MockTransport(api))
    assert isinstance(one.state, RedisState) and isinstance(two.state, RedisState)
    async with (
        Client(one, mode="auto", elicitation_callback=decline) as first_replica,
        Client(two, mode="auto", elicitation_callback=decline) as second_replica,
    ):
        first = await ask(first_replica)
        done = await answer(second_replica, first)  # the nonce issued on one is found on two
        assert isinstance(done, CallToolResult) and not done.is_error, done
        assert api.broadcasts() == 1
        for replica in (second_replica, first_replica):  # and it is used up on both
            replay = await answer(replica, first)
            assert asked_again_or_refused(replay), replay
    assert api.broadcasts() == 1
    await one.state.close()
    await two.state.close()


@pytest.mark.anyio
async def test_a_bulk_result_link_made_on_one_server_is_read_on_another(redis_server: RedisServer):
    store = Store()
    owner = store.add_user("owner_links", "pw").user_id
    ids = [store.add_user(f"r{i}", "pw").user_id for i in range(700)]
    conf = sandbox_settings(store).with_(state_url=redis_server.url)
    one = build_server(conf, transport=httpx2.ASGITransport(app=build_app(store)))
    two = build_server(conf, transport=httpx2.ASGITransport(app=build_app(store)))
    assert isinstance(one.state, RedisState) and isinstance(two.state, RedisState)
    async with Client(one, mode="auto") as on_one, Client(two, mode="auto") as on_two:
        created = await on_one.call_tool("create_group", {"as_user_id": owner, "name": "replicas"})
        gid = created.structured_content["data"]["group_id"]  # type: ignore[index]
        result = await on_one.call_tool("invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": ids})
        link = result.content[1]
        assert link.type == "resource_link"
        read = await on_two.read_resource(link.uri)
    assert len(json.loads(read.contents[0].text)["data"]) == 700  # type: ignore[union-attr]
    for server in (one, two):
        await server.lanying_client.aclose()
        await server.state.close()


@pytest.mark.anyio
async def test_a_change_made_through_one_server_is_in_the_journal_another_reads(redis_server: RedisServer):
    from lanying_mcp.engine.apps import key_of

    api = Api()
    conf = shared(redis_server, app_id=f"app-{unique_prefix()}")  # an app of this test alone
    one = build_server(conf, transport=httpx2.MockTransport(api))
    two = build_server(conf, transport=httpx2.MockTransport(api))
    assert one.journal is not None and two.journal is not None
    async with Client(one, mode="auto", elicitation_callback=always_yes) as client:
        done = await client.call_tool(TOOL, ARGS)
        assert not done.is_error, done
    entries, _ = await two.journal.page(key_of(conf))
    assert [e.get("tool") for e in entries] == [TOOL]
    assert entries[0].get("outcome") == "applied"
    await one.state.close()
    await two.state.close()


@pytest.mark.anyio
async def test_when_redis_stops_risky_calls_are_refused_and_reads_go_on(own_redis: RedisServer, mode):
    api = Api()
    server = build_server(shared(own_redis), transport=httpx2.MockTransport(api))
    with anyio.fail_after(120):
        async with Client(server, mode=mode, elicitation_callback=always_yes) as client:
            ok = await client.call_tool(TOOL, ARGS)
            assert not ok.is_error, ok
            assert api.broadcasts() == 1

            own_redis.stop()
            refused = await client.call_tool(TOOL, ARGS)
            assert refused.is_error
            assert refused.structured_content["error"]["code"] == "confirmation_required"  # type: ignore[index]
            assert "could not be recorded" in refused.content[0].text  # type: ignore[union-attr]
            assert api.broadcasts() == 1  # nothing was sent
            before = len(api.seen)
            read = await client.call_tool("list_users", {})
            assert api.seen[before:] and api.seen[-1][0] == "GET /user/list"  # the read reached the API
            assert "confirmation" not in json.dumps(read.structured_content or {})

            own_redis.start()  # Redis is back on the same port: confirmations work again
            again = await client.call_tool(TOOL, ARGS)
            assert not again.is_error, again
            assert api.broadcasts() == 2
    await server.state.close()
