"""Plans: several calls, one review, run in order, stopped at the first failure, and never past the gate.

The consent matrix gains plans as a path: every confirmed tool as a plan step, declined by the human
(directly and through `call_tool`), or in a client that cannot ask, sends nothing to the API, and not
even the harmless steps before it run.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import ElicitResult

from lanying_mcp.engine.call import CallContext
from lanying_mcp.engine.dispatch import execute
from lanying_mcp.review.plan import ApplyPlan, build, references, resolve, steps_of
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import QUESTIONS, call, sandbox_client, sandbox_settings
from tests.test_consent import CASES, IDS, Recorder, settings

ASKED: list[str] = []


async def decline(context: Any, params: Any) -> ElicitResult:
    ASKED.append(params.message)
    return ElicitResult(action="decline")


def ref(step: int, path: str) -> dict[str, Any]:
    return {"from_step": step, "path": path}


# --- the consent matrix, with plans as a path -------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_plan_step_declined_reaches_nothing(label, op, args, mode):
    api = Recorder()
    ASKED.clear()
    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(api))
    steps = [{"name": "get_user_profile", "arguments": {"as_user_id": 7}}, {"name": op.name, "arguments": args}]
    async with Client(server, mode=mode, elicitation_callback=decline) as client:
        result = await client.call_tool("apply_plan", {"steps": steps})
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert len(ASKED) == 1 and ("Step 2" in ASKED[0])
    assert api.writes_of(op) == []


@pytest.mark.anyio
@pytest.mark.parametrize(("label", "op", "args"), CASES, ids=IDS)
async def test_plan_through_call_tool_declined_reaches_nothing(label, op, args, mode):
    api = Recorder()
    server = build_server(settings(discovery=True), transport=httpx2.MockTransport(api))
    plan = {"steps": [{"name": op.name, "arguments": args}]}
    async with Client(server, mode=mode, elicitation_callback=decline) as client:
        result = await client.call_tool("call_tool", {"name": "apply_plan", "arguments": plan})
    assert result.is_error and result.structured_content["error"]["code"] == "declined", result.content
    assert api.writes_of(op) == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_client_that_cannot_ask_runs_no_step_of_a_risky_plan(mode):
    api = Recorder()
    # approval off: no channel can ask (the approval page's rows are in tests/test_approval_matrix.py)
    server = build_server(settings(toolsets=("all",), approval="off"), transport=httpx2.MockTransport(api))
    steps = [
        {"name": "create_group", "arguments": {"name": "x", "as_user_id": 1}},
        {"name": "destroy_group", "arguments": {"group_id": 5}},
    ]
    async with Client(server, mode=mode, elicitation_callback=None) as client:
        result = await client.call_tool("apply_plan", {"steps": steps})
    assert result.is_error and result.structured_content["error"]["code"] == "confirmation_required"
    assert [s for s in api.seen if not s.startswith("GET")] == []


@pytest.mark.anyio
async def test_a_referring_step_is_refused_by_execute_when_the_grant_does_not_cover_it():
    """The fail-closed wall: a plan run with no grant at all (a path that forgot to ask) sends no risky step."""
    api = Recorder()
    plan = {
        "steps": [
            {"name": "get_group_info", "arguments": {"group_id": 5}},
            {"name": "destroy_group", "arguments": {"group_id": ref(1, "data.group_id")}},
        ]
    }
    api_answer = {"group_id": 5, "name": "g"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        api.seen.append(f"{request.method} {request.url.path}")
        return httpx2.Response(200, json={"code": 200, "data": api_answer})

    server = build_server(settings(toolsets=("all",)), transport=httpx2.MockTransport(handler))
    ctx = CallContext(server.lanying_client, catalogue=server.reachable)
    outcome = await execute(server.reachable["apply_plan"], plan, ctx)
    data = outcome.structured["data"]
    assert [s["status"] for s in data["steps"]] == ["applied", "failed"]
    assert data["steps"][1]["error"]["code"] == "confirmation_required"
    assert not any(s.startswith("DELETE") for s in api.seen)


# --- a yes runs exactly the plan, once ----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_one_yes_covers_every_risky_step_and_runs_each_once(mode):
    store = Store()
    QUESTIONS.clear()
    async with sandbox_client(store, mode=mode) as client:
        owner = (await call(client, "register_user", {"username": "mia", "password": "pw-123456"}))["data"]["user_id"]
        plan = {
            "steps": [
                {"name": "create_group", "arguments": {"name": "beta testers", "as_user_id": owner}},
                {"name": "get_group_info", "arguments": {"group_id": ref(1, "data.group_id")}},
                {"name": "destroy_group", "arguments": {"group_id": ref(1, "data.group_id"), "as_user_id": owner}},
            ]
        }
        out = await call(client, "apply_plan", plan)
        data = out["data"]
        gone = await client.call_tool("get_group_info", {"group_id": data["steps"][0]["result"]["data"]["group_id"]})
    assert gone.is_error  # destroyed, once
    assert (data["applied"], data["failed"], data["not_run"]) == (3, 0, 0)
    assert data["plan_id"].startswith("plan_")
    assert len(QUESTIONS) == 1, QUESTIONS
    question = QUESTIONS[0]
    assert "Step 3" in question and "destroy_group" in question and "Step 2" not in question
    assert data["steps"][1]["result"]["data"]["name"] == "beta testers"


@pytest.mark.anyio
async def test_onboarding_is_one_plan():
    """Onboard 3 users, make them friends with mia, add them to her group: one call."""
    store = Store()
    async with sandbox_client(store) as client:
        mia = (await call(client, "register_user", {"username": "mia", "password": "pw-123456"}))["data"]["user_id"]
        group = (await call(client, "create_group", {"name": "mia's group", "as_user_id": mia}))["data"]["group_id"]
        users = [{"username": f"new{i}", "password": "pw-123456"} for i in range(3)]
        plan = {
            "steps": [
                {"name": "register_users", "arguments": {"users": users}},
                {"name": "add_friends", "arguments": {"as_user_id": mia, "user_ids": ref(1, "data.*.user_id")}},
                {
                    "name": "invite_group_members",
                    "arguments": {"group_id": group, "user_ids": ref(1, "data.*.user_id"), "as_user_id": mia},
                },
            ]
        }
        out = await call(client, "apply_plan", plan)
        data = out["data"]
        assert (data["applied"], data["failed"]) == (3, 0), data
        members = await call(client, "list_group_members", {"group_id": group})
    ids = {m["user_id"] if isinstance(m, dict) else m for m in members["data"]}
    created = [row["user_id"] for row in data["steps"][0]["result"]["data"]]
    assert set(created) <= ids


@pytest.mark.anyio
async def test_it_stops_at_the_first_failure_and_says_what_ran():
    async with sandbox_client() as client:
        plan = {
            "steps": [
                {"name": "register_user", "arguments": {"username": "ok1", "password": "pw-123456"}},
                {"name": "get_group_info", "arguments": {"group_id": 999_999}},
                {"name": "register_user", "arguments": {"username": "never", "password": "pw-123456"}},
            ]
        }
        result = await client.call_tool("apply_plan", plan)
        data = result.structured_content["data"]
        assert [s["status"] for s in data["steps"]] == ["applied", "failed", "not_run"]
        assert (data["applied"], data["failed"], data["not_run"]) == (1, 1, 1)
        assert "1 failed" in result.content[0].text
        found = await client.call_tool("find_by_name", {"name": "never"})
    assert "never" not in str(found.structured_content.get("data", ""))


@pytest.mark.anyio
async def test_a_broken_plan_runs_nothing():
    async with sandbox_client() as client:
        for bad, words in [
            ({"name": "no_such_tool", "arguments": {}}, "no tool named"),
            ({"name": "apply_plan", "arguments": {"steps": []}}, "meta-tool"),
            ({"name": "get_group_info", "arguments": {"group_id": ref(3, "data.group_id")}}, "earlier step"),
            ({"name": "get_group_info", "arguments": {"group_id": "not a number"}}, "step 2"),
        ]:
            plan = {
                "steps": [{"name": "register_user", "arguments": {"username": "first", "password": "pw-123456"}}, bad]
            }
            result = await client.call_tool("apply_plan", plan)
            assert result.is_error, bad
            assert words in result.structured_content["error"]["message"], result.structured_content
        users = await call(client, "list_users", {})
    assert "first" not in str(users)


@pytest.mark.anyio
async def test_a_reference_to_nothing_fails_that_step_only():
    async with sandbox_client() as client:
        plan = {
            "steps": [
                {"name": "register_user", "arguments": {"username": "r1", "password": "pw-123456"}},
                {"name": "get_user_profile", "arguments": {"as_user_id": ref(1, "data.no_such_field")}},
            ]
        }
        data = (await client.call_tool("apply_plan", plan)).structured_content["data"]
    assert [s["status"] for s in data["steps"]] == ["applied", "failed"]
    assert "nothing at data.no_such_field" in data["steps"][1]["error"]["message"]


@pytest.mark.anyio
async def test_the_question_is_in_the_servers_language():
    QUESTIONS.clear()
    async with sandbox_client(lang="zh") as client:
        owner = (await call(client, "register_user", {"username": "zh1", "password": "pw-123456"}))["data"]["user_id"]
        plan = {
            "steps": [
                {"name": "create_group", "arguments": {"name": "g", "as_user_id": owner}},
                {"name": "destroy_group", "arguments": {"group_id": ref(1, "data.group_id"), "as_user_id": owner}},
            ]
        }
        await call(client, "apply_plan", plan)
    assert "第2步" in QUESTIONS[-1] and "«第1步结果的data.group_id»" in QUESTIONS[-1]


@pytest.mark.anyio
async def test_a_read_only_server_has_no_plans():
    store = Store()
    server = build_server(sandbox_settings(store, read_only=True), transport=httpx2.ASGITransport(app=build_app(store)))
    assert "apply_plan" not in server.reachable


# --- references --------------------------------------------------------------------------------------------


def test_references_resolve_keys_indexes_and_every_item():
    results = [{"data": [{"user_id": 1}, {"user_id": 2}]}, {"data": {"group_id": 9}}]
    value = {"a": ref(1, "data.*.user_id"), "b": [ref(2, "data.group_id")], "c": ref(1, "data.-1.user_id"), "d": 3}
    assert resolve(value, results, 3) == {"a": [1, 2], "b": [9], "c": 2, "d": 3}
    assert references(value) == [(1, "data.*.user_id"), (2, "data.group_id"), (1, "data.-1.user_id")]


def test_an_object_with_other_keys_is_not_a_reference():
    assert references({"from_step": 1, "path": "x", "also": 2}) == []


def test_steps_are_checked_against_what_is_reachable():
    catalogue = {"get_group_info": CATALOGUE["get_group_info"], "apply_plan": build()}
    plan = ApplyPlan.model_validate({"steps": [{"name": "destroy_group", "arguments": {"group_id": 1}}]})
    from lanying_mcp.core.errors import LanyingError
    from lanying_mcp.engine.call import validate

    with pytest.raises(LanyingError, match="no tool named"):
        steps_of(plan, catalogue, validate)
    plan = ApplyPlan.model_validate({"steps": [{"name": "apply_plan", "arguments": {"steps": []}}]})
    with pytest.raises(LanyingError, match="meta-tool"):
        steps_of(plan, catalogue, validate)


# --- users by username ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_unknown_username_in_a_later_step_stops_the_plan_before_it_starts():
    async with sandbox_client() as client:
        owner = (await call(client, "register_user", {"username": "own", "password": "pw-123456"}))["data"]["user_id"]
        group = (await call(client, "create_group", {"name": "g", "as_user_id": owner}))["data"]["group_id"]
        plan = {
            "steps": [
                {"name": "register_user", "arguments": {"username": "early", "password": "pw-123456"}},
                {
                    "name": "invite_group_members",
                    "arguments": {"group_id": group, "usernames": ["nobody_here"], "as_user_id": owner},
                },
            ]
        }
        result = await client.call_tool("apply_plan", plan)
        assert result.is_error and "nobody_here" in result.structured_content["error"]["message"]
        found = await call(client, "list_users", {})
    assert "early" not in str(found)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_risky_step_by_usernames_is_asked_once_and_runs_once(mode):
    QUESTIONS.clear()
    async with sandbox_client(mode=mode) as client:
        owner = (await call(client, "register_user", {"username": "boss", "password": "pw-123456"}))["data"]["user_id"]
        await call(client, "register_user", {"username": "leaver", "password": "pw-123456"})
        group = (await call(client, "create_group", {"name": "team", "as_user_id": owner}))["data"]["group_id"]
        plan = {
            "steps": [
                {
                    "name": "invite_group_members",
                    "arguments": {"group_id": group, "usernames": ["leaver"], "as_user_id": owner},
                },
                {
                    "name": "kick_group_members",
                    "arguments": {"group_id": group, "usernames": ["leaver"], "as_user_id": owner},
                },
            ]
        }
        out = await call(client, "apply_plan", plan)
        members = await call(client, "list_group_members", {"group_id": group})
    assert (out["data"]["applied"], out["data"]["failed"]) == (2, 0), out
    assert len(QUESTIONS) == 1 and "leaver" in QUESTIONS[0] and "Step 2" in QUESTIONS[0]
    assert "leaver" not in str(members)


# --- a plan is journaled under its ID, and undone as one ----------------------------------------------------


@pytest.mark.anyio
async def test_a_plan_is_undone_by_its_id_newest_step_first():
    async with sandbox_client() as client:
        owner = (await call(client, "register_user", {"username": "pl1", "password": "pw-123456"}))["data"]["user_id"]
        group = (await call(client, "create_group", {"name": "Before", "as_user_id": owner}))["data"]["group_id"]
        await call(client, "set_group_description", {"group_id": group, "value": "old text", "as_user_id": owner})
        plan = {
            "steps": [
                {"name": "set_group_name", "arguments": {"group_id": group, "value": "After", "as_user_id": owner}},
                {"name": "get_group_info", "arguments": {"group_id": group}},
                {
                    "name": "set_group_description",
                    "arguments": {"group_id": group, "value": "new text", "as_user_id": owner},
                },
            ]
        }
        done = (await call(client, "apply_plan", plan))["data"]
        plan_id = done["plan_id"]
        listed = (await call(client, "list_changes", {"tool": "set_group_name"}))["data"]
        assert any(e.get("plan_id") == plan_id for e in listed), listed
        undone = await call(client, "undo_change", {"change_id": plan_id})
        info = (await call(client, "get_group_info", {"group_id": group}))["data"]
        again = await client.call_tool("undo_change", {"change_id": plan_id})
    assert (info["name"], info["description"]) == ("Before", "old text"), undone
    assert [s["tool"] for s in undone["data"]] == ["set_group_description", "set_group_name"]
    assert again.is_error  # the plan's writes were taken back: they changed since, so a second undo refuses


@pytest.mark.anyio
async def test_a_plan_with_an_irreversible_write_is_not_undone_at_all():
    async with sandbox_client() as client:
        owner = (await call(client, "register_user", {"username": "pl2", "password": "pw-123456"}))["data"]["user_id"]
        group = (await call(client, "create_group", {"name": "Keep", "as_user_id": owner}))["data"]["group_id"]
        plan = {
            "steps": [
                {"name": "set_group_name", "arguments": {"group_id": group, "value": "Renamed", "as_user_id": owner}},
                {"name": "send_message", "arguments": {"group_ids": [group], "content": "hi", "from_user_id": owner}},
            ]
        }
        plan_id = (await call(client, "apply_plan", plan))["data"]["plan_id"]
        result = await client.call_tool("undo_change", {"change_id": plan_id})
        info = (await call(client, "get_group_info", {"group_id": group}))["data"]
    assert result.is_error and "send_message" in result.structured_content["error"]["message"]
    assert info["name"] == "Renamed"  # nothing of the plan was taken back


@pytest.mark.anyio
async def test_a_plan_is_previewed_step_by_step_with_its_one_question_and_nothing_is_sent():
    QUESTIONS.clear()
    async with sandbox_client() as client:
        owner = (await call(client, "register_user", {"username": "pv1", "password": "pw-123456"}))["data"]["user_id"]
        group = (await call(client, "create_group", {"name": "Stays", "as_user_id": owner}))["data"]["group_id"]
        plan = {
            "steps": [
                {"name": "set_group_name", "arguments": {"group_id": group, "value": "Gone?", "as_user_id": owner}},
                {"name": "create_group", "arguments": {"name": "New", "as_user_id": owner}},
                {"name": "destroy_group", "arguments": {"group_id": ref(2, "data.group_id"), "as_user_id": owner}},
            ]
        }
        seen = (await call(client, "preview_call", {"name": "apply_plan", "arguments": plan}))["data"]
        info = (await call(client, "get_group_info", {"group_id": group}))["data"]
        mine = (await call(client, "list_user_groups", {"as_user_id": owner}))["data"]
    assert info["name"] == "Stays" and len(mine) == 1  # nothing was sent
    assert QUESTIONS == []  # a preview asks nobody
    assert [r["step"] for r in seen["requests"]] == [1, 2]
    assert seen["changes"][0]["before"] == "Stays" and seen["changes"][0]["after"] == "Gone?"
    assert "not_previewable" in seen["steps"][2] and "step(s) 2" in seen["steps"][2]["not_previewable"]
    assert seen["question"].startswith("Apply this plan of 3 steps? 1 of them needs your yes")
    assert "Step 3" in seen["question"] and seen["undo"]["possible"] is False
