"""A call is resolved once, at the edge: one route, one validation, one risk decision, one fingerprint.

The confirmation resolver and the tool body share the resolved call (`resolved.ResolvedCall`) within a
request; in the 2026-07-28 era, whose resolver runs again on the round that carries the answer, the call
resolved in the first round is kept under its question's nonce and reused. Each count is taken where the
work is done: the params model's validation, `Router.route`, `consent.risks`, `consent.fingerprint` and
`consent.target` (the target look-up).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import CallToolResult, ElicitResult, InputRequiredResult

from lanying_mcp.engine.dispatch import execute
from lanying_mcp.engine.resolved import ResolvedCall
from lanying_mcp.safety import consent
from lanying_mcp.safety.consent import Grant
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving import gate
from lanying_mcp.serving.routing import Router
from lanying_mcp.serving.sdk import Caller
from lanying_mcp.serving.server import LanyingServer, build_server

from .helpers import call, sandbox_settings

YES = ElicitResult(action="accept", content={"confirm": True})


async def say_yes(context: Any, params: Any) -> ElicitResult:
    return YES


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch, server: LanyingServer, *tools: str) -> Iterator[Counter[str]]:
    """Counts, from here on: validations of the tools' params models, routes, risk decisions, fingerprints, targets."""
    seen: Counter[str] = Counter()
    models = {server.reachable[name].params: name for name in tools}
    restore: list[tuple[type[Any], Any]] = []
    for model in models:
        original = model.__dict__.get("model_validate")
        bound = model.model_validate

        def validate(cls: type[Any], *args: Any, _bound: Any = bound, **kwargs: Any) -> Any:
            if cls in models:
                seen[f"validate {models[cls]}"] += 1
            return _bound.__func__(cls, *args, **kwargs)

        restore.append((model, original))
        model.model_validate = classmethod(validate)  # type: ignore[method-assign,assignment]

    def counted(owner: Any, name: str, key: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen[key] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    counted(Router, "route", "route")
    counted(consent, "target", "target")
    counted(consent, "risks", "risks")
    counted(consent, "fingerprint", "fingerprint")
    try:
        yield seen
    finally:
        for model, original in restore:
            if original is None:
                del model.model_validate
            else:
                model.model_validate = original  # type: ignore[method-assign]


@asynccontextmanager
async def served(mode: str, elicitation: Any = say_yes, **changes: Any):
    store = Store()
    server = build_server(sandbox_settings(store, **changes), transport=httpx2.ASGITransport(app=build_app(store)))
    async with Client(server, mode=mode, elicitation_callback=elicitation) as client:
        yield server, client
    await server.lanying_client.aclose()


async def a_group(client: Client) -> dict[str, Any]:
    uid = (await call(client, "register_user", {"username": "owner", "password": "pw"}))["data"]["user_id"]
    gid = (await call(client, "create_group", {"as_user_id": uid, "name": "doomed"}))["data"]["group_id"]
    return {"as_user_id": uid, "group_id": gid}


@pytest.mark.anyio
async def test_a_read_is_routed_validated_and_decided_once(mode, monkeypatch):
    async with served(mode) as (server, client):
        args = await a_group(client)
        with counting(monkeypatch, server, "get_group_info") as seen:
            await call(client, "get_group_info", args)
    assert seen == {"validate get_group_info": 1, "route": 1, "target": 1, "risks": 1}


@pytest.mark.anyio
async def test_a_confirmed_destroy_group_is_resolved_once_in_either_era(mode, monkeypatch):
    asked: list[str] = []

    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return YES

    async with served(mode, human) as (server, client):
        args = await a_group(client)
        with counting(monkeypatch, server, "destroy_group") as seen:
            await call(client, "destroy_group", args)
        assert server.gate.resolved_again == 0
        assert server.gate._kept == {}  # the answered question's call is not kept past its answer
    assert len(asked) == 1
    assert seen == {"validate destroy_group": 1, "route": 1, "target": 1, "risks": 1, "fingerprint": 1}


@pytest.mark.anyio
async def test_call_tool_resolves_its_target_once(mode, monkeypatch):
    """call_tool: the tool it runs is validated once; its own arguments (name, arguments) are read by the
    route (to find the target) and by its own run."""
    async with served(mode, discovery=True) as (server, client):
        args = await a_group(client)
        with counting(monkeypatch, server, "destroy_group", "call_tool") as seen:
            await call(client, "call_tool", {"name": "destroy_group", "arguments": args})
    assert seen["validate destroy_group"] == 1
    assert seen["validate call_tool"] == 2
    assert (seen["route"], seen["target"], seen["risks"], seen["fingerprint"]) == (1, 1, 1, 1)


@pytest.mark.anyio
async def test_apply_plan_is_routed_once_and_its_steps_run_as_planned(mode, monkeypatch):
    """apply_plan: the plan is routed once; its steps are validated and decided by the plan (plan.py), which
    asks one question about them all, and each step's call checks its own grant as any call does."""
    async with served(mode) as (server, client):
        args = await a_group(client)
        plan = {"steps": [{"name": "destroy_group", "arguments": args}]}
        with counting(monkeypatch, server, "destroy_group", "apply_plan") as seen:
            await call(client, "apply_plan", plan)
    assert (seen["route"], seen["target"]) == (1, 1)


# 2026-07-28 era: the round that carries the answer -------------------------------------------------------


async def first_round(client: Client, args: dict[str, Any]) -> InputRequiredResult:
    first = await client.session.call_tool("destroy_group", args, allow_input_required=True)
    assert isinstance(first, InputRequiredResult), first
    return first


async def second_round(client: Client, args: dict[str, Any], first: InputRequiredResult) -> Any:
    return await client.session.call_tool(
        "destroy_group",
        args,
        input_responses=dict.fromkeys(first.input_requests, YES),
        request_state=first.request_state,
        allow_input_required=True,
    )


@pytest.mark.anyio
async def test_the_round_with_the_answer_reuses_the_call_kept_under_its_nonce(monkeypatch):
    async with served("auto") as (server, client):
        args = await a_group(client)
        with counting(monkeypatch, server, "destroy_group") as seen:
            first = await first_round(client, args)
            assert len(server.gate._kept) == 1
            done = await second_round(client, args, first)
    assert isinstance(done, CallToolResult) and not done.is_error, done
    assert server.gate.resolved_again == 0
    assert seen["validate destroy_group"] == 1 and seen["route"] == 1 and seen["fingerprint"] == 1


@pytest.mark.anyio
async def test_without_the_kept_call_the_round_resolves_again_and_counts_it(monkeypatch):
    """Another replica, or a restart, holds nothing kept: the round resolves the call again (the fallback),
    and the same question, with the same nonce, still takes its answer."""
    async with served("auto") as (server, client):
        args = await a_group(client)
        with counting(monkeypatch, server, "destroy_group") as seen:
            first = await first_round(client, args)
            server.gate._kept.clear()
            server.gate._kept_slots.clear()
            done = await second_round(client, args, first)
    assert isinstance(done, CallToolResult) and not done.is_error, done
    assert server.gate.resolved_again == 1
    assert seen["validate destroy_group"] == 2 and seen["route"] == 2


@pytest.mark.anyio
async def test_a_kept_call_expires_with_its_question(monkeypatch):
    async with served("auto") as (server, client):
        args = await a_group(client)
        first = await first_round(client, args)
        now = server.gate.clock()
        monkeypatch.setattr(server.gate, "clock", lambda: now + server.gate.question_seconds + 1)
        again = await second_round(client, args, first)
        assert server.gate.resolved_again == 1  # nothing kept past its question: resolved afresh
        assert isinstance(again, (InputRequiredResult, CallToolResult))


def test_the_kept_calls_are_bounded(monkeypatch):
    monkeypatch.setattr(gate, "KEPT_MAX", 3)
    server: LanyingServer = build_server(
        sandbox_settings(Store()), transport=httpx2.MockTransport(lambda r: httpx2.Response(200))
    )
    kept = server.gate
    for n in range(5):
        kept._keep(f"ref{n}", object(), gate.Question("q", f"ref{n}"), f"slot{n}")  # type: ignore[arg-type]
    assert list(kept._kept) == ["ref2", "ref3", "ref4"]
    assert sorted(kept._kept_slots) == ["slot2", "slot3", "slot4"]


# The fail-closed check: the grant must hold the resolved call's fingerprint -------------------------------


@pytest.mark.anyio
async def test_execute_runs_a_resolved_call_only_under_a_grant_of_its_fingerprint():
    async with served("legacy") as (server, client):
        args = await a_group(client)
        op = server.reachable["destroy_group"]
        resolved = await server.gate.resolve(op, Caller(), args)
        assert resolved.risks and resolved.fingerprint is not None
        other = await server.gate.resolve(op, Caller(), {**args, "group_id": args["group_id"] + 1})
        assert other.fingerprint not in (None, resolved.fingerprint)

        def context(grant: Grant, call: ResolvedCall) -> Any:
            ctx = server.context(None, call.route.client, grant)
            ctx.resolved = call
            return ctx

        for grant in (Grant(), Grant(frozenset({other.fingerprint or ""}))):
            refused = await execute(op, resolved.arguments, context(grant, resolved))
            assert refused.structured["error"]["code"] == "confirmation_required", refused.structured
        # A value resolved for other arguments is not taken for this call: it is resolved afresh.
        mismatched = await execute(op, other.arguments, context(Grant(frozenset({resolved.fingerprint})), resolved))
        assert mismatched.structured["error"]["code"] == "confirmation_required", mismatched.structured
        done = await execute(op, resolved.arguments, context(Grant(frozenset({resolved.fingerprint})), resolved))
        assert done.ok, done.structured


@pytest.mark.anyio
async def test_the_approval_page_previews_the_resolved_call_without_validating_it_again(monkeypatch):
    async with served("legacy", None, approval="page") as (server, client):
        args = await a_group(client)
        with counting(monkeypatch, server, "destroy_group") as seen:
            result = await client.call_tool("destroy_group", args)
    assert result.is_error and result.structured_content is not None
    assert result.structured_content["error"]["code"] == "approval_pending"
    assert seen["validate destroy_group"] == 1 and seen["route"] == 1
