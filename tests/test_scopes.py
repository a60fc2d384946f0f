"""OAuth scopes decide the surface: what tools/list shows, and what a call may run whatever path it takes.

Everything here goes through the real HTTP app (the OAuth guard in front of the SDK's streamable HTTP
transport), with tokens signed by the test issuer and the sandbox as the Lanying API.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lanying_mcp.cli import build_http_app
from lanying_mcp.safety.scopes import Level, ScopeNames, listed_level
from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.serving.oauth import Verifier
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import sandbox_settings, say_yes
from tests.oauth_issuer import ADMIN, AUDIENCE, ISSUER, READ, WRITE, Issuer

ISSUER_KEYS = Issuer()  # one key pair for the module: generating RSA keys is the slow part


@contextlib.asynccontextmanager
async def served(store: Store, stateless: bool = True, **changes: Any):
    conf = sandbox_settings(store, oauth_issuer=ISSUER, oauth_audience=AUDIENCE, state_file=":memory:", **changes)
    server = build_server(conf, transport=httpx2.ASGITransport(app=build_app(store)))
    app = build_http_app(server, conf, "http", "127.0.0.1", 8000, stateless=stateless, json_response=stateless)
    app.verifier = Verifier(conf, ISSUER_KEYS.client())
    async with server.session_manager.run():
        yield app, server
    await server.state.close()


@contextlib.asynccontextmanager
async def connect(app: Any, scopes: str, mode: str = "auto", **claims: Any):
    token = ISSUER_KEYS.token(scopes, **claims)
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app),
        base_url="http://127.0.0.1:8000",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    async with (
        http,
        Client(
            streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http), elicitation_callback=say_yes
        ) as c,
    ):
        yield c


async def listed(app: Any, scopes: str) -> set[str]:
    async with connect(app, scopes) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


def refusal(result: Any) -> dict[str, Any]:
    assert result.is_error, result
    error = result.structured_content["error"]
    assert error["code"] == "insufficient_scope", error
    return error


def test_levels_follow_the_operations_own_data():
    assert listed_level(CATALOGUE["list_users"]) is Level.READ
    assert listed_level(CATALOGUE["register_user"]) is Level.WRITE
    assert listed_level(CATALOGUE["send_message"]) is Level.WRITE  # reach depends on the arguments
    assert listed_level(CATALOGUE["destroy_group"]) is Level.ADMIN  # destructive
    names = ScopeNames()
    assert names.level({READ}) is Level.READ and names.level({ADMIN}) is Level.ADMIN
    assert names.level({"openid", WRITE}) is Level.WRITE and names.level(set()) is Level.NONE


@pytest.mark.anyio
async def test_the_listing_shows_only_what_the_token_may_run():
    store = Store()
    async with served(store) as (app, server):
        read = await listed(app, READ)
        write = await listed(app, f"{READ} {WRITE}")
        admin = await listed(app, f"{READ} {WRITE} {ADMIN}")
        everything = set(server.listed) - server._hidden  # pyright: ignore[reportPrivateUsage]
    assert read < write < admin == everything
    assert {"list_users", "get_group_info", "explain_error"} <= read
    assert not {n for n in read if not CATALOGUE.get(n, server.reachable[n]).hints.read_only}
    assert {"register_user", "send_message", "apply_plan"} <= write - read
    assert "destroy_group" in admin - write and "destroy_group" not in write


@pytest.mark.anyio
async def test_a_call_beyond_the_scopes_is_refused_directly_and_through_call_tool():
    store = Store()
    users = len(store.users)
    async with served(store, toolsets=()) as (app, _), connect(app, READ) as client:
        direct = refusal(await client.call_tool("register_user", {"username": "eve_1", "password": "pw-123456"}))
        through = refusal(
            await client.call_tool(
                "call_tool", {"name": "register_user", "arguments": {"username": "eve_2", "password": "pw-123456"}}
            )
        )
        plan = refusal(await client.call_tool("apply_plan", {"steps": [{"name": "list_users", "arguments": {}}]}))
    for error in (direct, through):
        assert "register_user needs the OAuth scope 'lanying:write'" in error["message"]
    assert "apply_plan needs the OAuth scope 'lanying:write'" in plan["message"]
    assert len(store.users) == users  # nothing reached the API


@pytest.mark.anyio
async def test_destructive_and_mass_calls_need_admin_whatever_path_they_take():
    store = Store()
    async with served(store, toolsets=()) as (app, _):
        async with connect(app, f"{READ} {WRITE}") as writer:
            owner = await writer.call_tool("register_user", {"username": "owner_1", "password": "pw-123456"})
            owner_id = owner.structured_content["data"]["user_id"]
            created = await writer.call_tool("create_group", {"as_user_id": owner_id, "name": "Ops"})
            assert not created.is_error, created
            group_id = created.structured_content["data"]["group_id"]
            change_id = created.structured_content["change_id"]
            direct = refusal(
                await writer.call_tool(
                    "call_tool", {"name": "destroy_group", "arguments": {"as_user_id": owner_id, "group_id": group_id}}
                )
            )
            steps = [
                {"name": "set_group_name", "arguments": {"group_id": group_id, "value": "Ops 2"}},
                {"name": "destroy_group", "arguments": {"as_user_id": owner_id, "group_id": group_id}},
            ]
            plan = refusal(await writer.call_tool("apply_plan", {"steps": steps}))
            undo = refusal(await writer.call_tool("undo_change", {"change_id": change_id}))
            mass = refusal(
                await writer.call_tool("send_push", {"all_devices": True, "message": {"body": "hello everyone"}})
            )
            assert groups(store).groups[group_id].name == "Ops"  # the plan's first step did not run either
        for error in (direct, plan, undo):
            assert "destroy_group needs the OAuth scope 'lanying:admin' (destructive)" in error["message"]
        assert plan["message"].startswith("step 2: ")
        assert "send_push needs the OAuth scope 'lanying:admin' (reach: everyone)" in mass["message"]
        assert group_id in groups(store).groups  # nothing was destroyed
        async with connect(app, f"{READ} {WRITE} {ADMIN}") as admin:
            undone = await admin.call_tool("undo_change", {"change_id": change_id})
            assert not undone.is_error, undone
        assert group_id not in groups(store).groups and group_id in groups(store).destroyed


@pytest.mark.anyio
async def test_audit_and_journal_entries_name_the_admin(tmp_path: Path):
    store = Store()
    log = tmp_path / "audit.jsonl"
    async with served(store, audit_log=str(log)) as (app, server):
        async with connect(app, f"{READ} {WRITE}", sub="u-42", email="ann@example.com", name="Ann Lee") as client:
            done = await client.call_tool("register_user", {"username": "ann_new", "password": "pw-123456"})
            assert not done.is_error, done
        entries = [json.loads(line) async for line in server.journal.export()]
    who = {"subject": "u-42", "email": "ann@example.com", "name": "Ann Lee"}
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines and all(line["who"] == who and line["caller"] == "oauth:u-42" for line in lines)
    assert entries and all(e["who"] == who and e["caller"] == "oauth:u-42" for e in entries)


@pytest.mark.anyio
async def test_a_profile_selected_by_the_token_holds_the_caller_to_it(tmp_path: Path):
    store = Store()
    apps = tmp_path / "apps.toml"
    app = f'endpoint = "http://sandbox.test"\napp_id = "{SANDBOX_APP_ID}"\naccess_token = "{store.admin_token}"\n'
    apps.write_text(f'default = "prod"\n[profiles.prod]\n{app}[profiles.support]\n{app}')
    rules = ("groups=support:support",)
    async with served(store, toolsets=(), profiles_file=str(apps), oauth_profiles=rules) as (server_app, _):
        async with connect(server_app, READ, groups=["support"]) as client:
            mine = await client.call_tool("list_users", {})
            assert not mine.is_error, mine
            other = await client.call_tool("list_users", {"app": "prod"})
    assert other.is_error and other.structured_content is not None
    assert "your sign-in selects the profile 'support'" in other.structured_content["error"]["message"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_each_request_of_a_stateful_session_is_decided_on_its_own_token(mode: str):
    store = Store()
    async with served(store, stateless=False, toolsets=()) as (app, _):
        async with connect(app, READ, mode=mode) as reader:
            names = {tool.name for tool in (await reader.list_tools()).tools}
            refused = await reader.call_tool("register_user", {"username": "eve_3", "password": "pw-123456"})
        async with connect(app, f"{READ} {WRITE}", mode=mode) as writer:
            more = {tool.name for tool in (await writer.list_tools()).tools}
            done = await writer.call_tool("register_user", {"username": "ann_3", "password": "pw-123456"})
    assert "register_user" not in names and "register_user" in more and names < more
    refusal(refused)
    assert not done.is_error, done


@pytest.mark.anyio
async def test_search_tools_finds_only_what_the_token_may_run():
    store = Store()
    async with served(store, toolsets=()) as (app, _):
        found: dict[str, set[str]] = {}
        for scopes in (READ, f"{READ} {WRITE} {ADMIN}"):
            async with connect(app, scopes) as client:
                result = await client.call_tool("search_tools", {"query": "destroy delete group", "limit": 10})
                assert not result.is_error, result
                found[scopes] = {m["name"] for m in result.structured_content["data"]}
    assert "destroy_group" in found[f"{READ} {WRITE} {ADMIN}"]
    assert found[READ] and not {n for n in found[READ] if not CATALOGUE[n].hints.read_only}
