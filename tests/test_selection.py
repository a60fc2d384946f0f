"""Toolset selection, read-only mode and discovery mode, through the MCP client."""

from __future__ import annotations

import pytest

from lanying_mcp.core.errors import SettingsError
from lanying_mcp.core.settings import Settings
from lanying_mcp.toolsets import CATALOGUE, TOOLSETS, select
from tests.helpers import call, call_error, sandbox_client


def names(ops) -> set[str]:
    return {op.name for op in ops}


def test_default_selection_is_small_and_useful():
    chosen = names(select(("default",)))
    assert 12 <= len(chosen) <= 25
    assert {"register_user", "create_group", "send_message", "send_push", "list_group_members"} <= chosen


def test_each_toolset_selects_its_own_tools():
    for name in TOOLSETS:
        assert {op.toolset for op in select((name,))} == {name}
    assert names(select(("all",))) == set(CATALOGUE)


def test_unknown_names_fail_with_the_valid_list():
    with pytest.raises(SettingsError, match="valid toolsets: .*groups"):
        select(("grups",))
    with pytest.raises(SettingsError, match="unknown tool 'send_mesage'"):
        select(("default",), tools=("send_mesage",))
    with pytest.raises(SettingsError):
        Settings(lang="fr").validate()


def test_tools_and_exclusions_combine():
    chosen = names(select(("default",), tools=("leave_group",), exclude_tools=("send_push",)))
    assert "leave_group" in chosen and "send_push" not in chosen


@pytest.mark.anyio
async def test_read_only_hides_and_refuses_writes(mode):
    async with sandbox_client(mode=mode, read_only=True) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert listed and all(t.annotations.read_only_hint for t in listed.values())
        assert "register_user" not in listed and "list_group_members" in listed
        err = await call_error(client, "register_user", {"username": "eve", "password": "x"})
        assert err["code"] == "not_allowed" and "read-only" in err["message"]


@pytest.mark.anyio
async def test_unselected_tool_is_refused_with_how_to_enable(mode):
    async with sandbox_client(mode=mode, toolsets=("push",)) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        assert "send_push" in listed and "create_group" not in listed
        err = await call_error(client, "create_group", {"as_user_id": 1, "name": "g"})
        assert err["code"] == "not_allowed" and "--toolsets groups" in err["message"]


@pytest.mark.anyio
async def test_discovery_mode_reaches_everything_through_three_tools(mode):
    async with sandbox_client(mode=mode, toolsets=(), discovery=True) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        # the three meta-tools, and await_approval: a call may wait for the approval page in this mode too
        assert listed == {"search_tools", "get_tool_schema", "call_tool", "await_approval"}

        found = (await call(client, "search_tools", {"query": "register a user"}))["data"]
        assert found[0]["name"] == "register_user"
        zh = (await call(client, "search_tools", {"query": "解散群"}))["data"]
        assert "destroy_group" in [m["name"] for m in zh]

        schema = (await call(client, "get_tool_schema", {"name": "create_group"}))["data"]
        assert "as_user_id" in schema["input_schema"]["properties"] and schema["http"] == "POST /group/create"

        user = await call(
            client, "call_tool", {"name": "register_user", "arguments": {"username": "disco", "password": "pw"}}
        )
        uid = user["data"]["user_id"]
        group = await call(client, "call_tool", {"name": "create_group", "arguments": {"as_user_id": uid, "name": "d"}})
        assert group["data"]["owner_id"] == uid

        err = await call_error(client, "call_tool", {"name": "create_group", "arguments": {"name": "no owner"}})
        assert err["code"] == "invalid_arguments" and "as_user_id" in err["message"]
        err = await call_error(client, "call_tool", {"name": "no_such_tool", "arguments": {}})
        assert err["code"] == "invalid_arguments"


@pytest.mark.anyio
async def test_discovery_honours_read_only():
    async with sandbox_client(toolsets=(), discovery=True, read_only=True) as client:
        err = await call_error(
            client, "call_tool", {"name": "register_user", "arguments": {"username": "x1", "password": "y"}}
        )
        assert err["code"] == "not_allowed"
        found = (await call(client, "search_tools", {"query": "register user"}))["data"]
        assert all(m["read_only"] for m in found)


@pytest.mark.anyio
async def test_chinese_texts_with_lang_zh():
    async with sandbox_client(lang="zh") as client:
        tool = {t.name: t for t in (await client.list_tools()).tools}["create_group"]
        assert tool.title == "创建群"
        assert "群主" in tool.input_schema["properties"]["as_user_id"]["description"]
        err = await call_error(client, "get_group_info", {"group_id": 1})
        assert err["meaning"] == "群组不存在"


@pytest.mark.anyio
async def test_the_change_tools_are_listed_by_default_and_list_changes_reads_the_journal():
    async with sandbox_client(toolsets=()) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        assert {"list_changes", "undo_change", "preview_call"} <= listed
        made = await call(client, "register_user", {"username": "listed_by_default", "password": "pw"})
        page = await call(client, "list_changes", {"target": "listed_by_default"})
        assert [e["id"] for e in page["data"]] == [made["change_id"]]
    async with sandbox_client(toolsets=(), discovery=True) as client:  # discovery mode keeps its three meta-tools only
        listed = {t.name for t in (await client.list_tools()).tools}
        assert "list_changes" not in listed and "call_tool" in listed
