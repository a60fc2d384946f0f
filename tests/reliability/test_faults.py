"""Every fault class × a sample of tools, through a real MCP client, against a faulty sandbox.

Each case builds a fresh sandbox wrapped in `FaultInjector`, seeds two users and a group, arms one
fault for the tool's HTTP path, calls the tool once and then checks, against the retry contract:

- the call returns a result (success, or a well-formed structured error), never a protocol error;
- the server serves the next call;
- no write is applied twice (counted in the sandbox's own state), and a write whose answer was lost
  is reported as "may have been applied";
- reads, idempotent writes and message sends are retried on transient faults (connection errors,
  timeouts, 429, 5xx) and succeed after one fault; other writes and Lanying error codes are never
  retried.

`python -m tests.reliability.test_faults` prints the fault matrix (fault × tool → outcome).
"""

from __future__ import annotations

import itertools
import re
import sys
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from lanying_mcp.engine.client import LanyingClient, RetryPolicy
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.sandbox.messages import messages
from lanying_mcp.serving.server import build_server
from tests.faults import KINDS, FaultInjector
from tests.helpers import sandbox_settings, say_yes
from tests.reliability.conftest import REPORT

# Tiny delays so the suite stays fast; three attempts as in production.
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, total=2.0)

TRANSIENT = ("drop", "refuse", "timeout", "http_500", "http_502", "http_503", "http_429")
# The hint's warning that a write whose answer was lost may still have happened.
MAY_HAVE_APPLIED = re.compile(r"may have been (applied|delivered)")


def warns(err: dict[str, Any] | None) -> bool:
    return bool(err) and bool(MAY_HAVE_APPLIED.search(err.get("hint", "")))


@dataclass(frozen=True)
class Target:
    """A tool under test: its HTTP path, its retry class, its arguments and the state it changes."""

    tool: str
    path: str
    kind: str  # read | idempotent | send | write
    counter: str | None = None  # users | groups | messages: what one applied call adds one of


TARGETS = {
    t.tool: t
    for t in [
        Target("get_group_info", "/group/info", "read"),
        Target("list_group_members", "/group/member_list", "read"),
        Target("set_group_name", "/group/info/name", "idempotent"),
        Target("send_message", "/message/send", "send", "messages"),
        Target("send_system_notice", "/message/notify", "send", "messages"),
        Target("create_group", "/group/create", "write", "groups"),
        Target("register_user", "/user/register/v2", "write", "users"),
    ]
}

CASES = [(k, w) for k in KINDS for w in ("before", "after") if not (k == "refuse" and w == "after")]


@dataclass
class World:
    alice: int
    bob: int
    gid: int


def arguments(tool: str, w: World) -> dict[str, Any]:
    return {
        "get_group_info": {"group_id": w.gid},
        "list_group_members": {"group_id": w.gid},
        "set_group_name": {"as_user_id": w.alice, "group_id": w.gid, "value": "renamed"},
        "send_message": {"group_ids": [w.gid], "from_user_id": w.alice, "content": "hello"},
        "send_system_notice": {"user_ids": [w.bob], "content": "maintenance at noon"},
        "create_group": {"as_user_id": w.alice, "name": "second"},
        "register_user": {"username": "carol", "password": "pw"},
    }[tool]


def counts(store: Store) -> dict[str, int]:
    return {
        "users": len(store.users),
        "groups": len(groups(store).groups),
        "messages": len(messages(store).log),
    }


@dataclass
class Row:
    """What one case did: the observed outcome, for the matrix and for the checks."""

    tool: str
    fault: str
    when: str
    ok: bool
    error: dict[str, Any] | None
    attempts: int  # requests that reached the injector for the tool's path
    applied: int | None  # how many times the write changed state (None: not counted)
    name_after: str = ""
    next_call_ok: bool = False
    texts: list[str] = field(default_factory=list)  # every text the client saw, for leak checks

    def cell(self) -> str:
        if self.ok:
            out = "ok"
        else:
            assert self.error is not None
            out = f"E {self.error['code']}"
            if self.error.get("retryable"):
                out += " R"
            if warns(self.error):
                out += " M"
        out += f" ×{self.attempts}"
        if self.applied:
            out += f" +{self.applied}"
        return out


async def fault_client(store: Store, injector: FaultInjector) -> tuple[Any, LanyingClient]:
    settings = sandbox_settings(store)
    client = LanyingClient(settings, transport=httpx2.ASGITransport(app=injector), retry=FAST)
    return build_server(settings, client=client), client


async def seed(mcp: Client) -> World:
    async def data(tool: str, args: dict[str, Any]) -> Any:
        result = await mcp.call_tool(tool, args)
        assert not result.is_error, result.content
        return result.structured_content["data"]

    alice = (await data("register_user", {"username": "alice", "password": "pw"}))["user_id"]
    bob = (await data("register_user", {"username": "bob", "password": "pw"}))["user_id"]
    gid = (await data("create_group", {"as_user_id": alice, "name": "first", "user_ids": [bob]}))["group_id"]
    return World(alice, bob, gid)


async def run_case(tool: str, fault: str, when: str, times: int = 1) -> Row:
    """One tool call with one armed fault, on a fresh sandbox; returns what happened."""
    target = TARGETS[tool]
    store = Store()
    injector = FaultInjector(build_app(store))
    server, client = await fault_client(store, injector)
    try:
        async with Client(server, mode="legacy", elicitation_callback=say_yes) as mcp:
            world = await seed(mcp)
            before = counts(store)
            injector.clear()
            injector.plan(fault, path=target.path, when=when, times=times, delay=0.02, retry_after="1")
            with anyio.fail_after(20):
                result = await mcp.call_tool(tool, arguments(tool, world))
            after = counts(store)
            injector.plans.clear()  # a fault that outlived the call must not hit the follow-up call
            structured = result.structured_content or {}
            row = Row(
                tool,
                fault,
                when,
                ok=not result.is_error,
                error=structured.get("error") if result.is_error else None,
                attempts=len(injector.calls(target.path)),
                applied=after[target.counter] - before[target.counter] if target.counter else None,
                name_after=groups(store).groups[world.gid].name,
                texts=[c.text for c in result.content if hasattr(c, "text")],
            )
            with anyio.fail_after(10):
                follow = await mcp.call_tool("get_group_info", {"group_id": world.gid})
            row.next_call_ok = not follow.is_error
            if tool.startswith("send_") and row.ok:
                # the msg_ids the tool reports are the one message the sandbox logged
                logged = [m.msg_id for m in messages(store).log][before["messages"] :]
                assert structured.get("msg_ids") == logged, (structured, logged)
            return row
    finally:
        await client.aclose()


def check(row: Row, token: str | None = None) -> None:
    """The retry contract, asserted on one observed case."""
    target = TARGETS[row.tool]
    label = f"{row.tool} with {row.fault}/{row.when}: {row.cell()}"
    assert row.next_call_ok, f"{label}: the server did not serve the next call"

    if not row.ok:
        err = row.error
        assert isinstance(err, dict), f"{label}: error result without a structured error"
        for key, typ in (("code", (int, str)), ("message", str), ("meaning", str), ("hint", str), ("retryable", bool)):
            assert isinstance(err.get(key), typ), f"{label}: error.{key} missing or mistyped: {err}"
        assert err["hint"], f"{label}: empty hint"

    # Exactly-once: never twice; once whenever the handler ran or the tool reports success.
    if row.applied is not None:
        assert row.applied <= 1, f"{label}: the write was applied {row.applied} times"
        handler_ran = row.when == "after" or row.fault == "latency"
        if row.ok or handler_ran:
            assert row.applied == 1, f"{label}: expected the write applied once, got {row.applied}"
        elif row.attempts == 1:
            assert row.applied == 0, f"{label}: a refused request still changed state"
    if row.tool == "set_group_name" and row.ok:
        assert row.name_after == "renamed", f"{label}: reported success but the name is {row.name_after!r}"

    if row.fault == "latency":
        assert row.ok and row.attempts == 1, f"{label}: a slow answer must simply succeed"
    elif row.fault == "api_error":
        assert not row.ok and row.error["code"] == 20000, f"{label}: the Lanying code must come through"
        assert row.attempts == 1, f"{label}: a Lanying error code must never be retried"
        assert not warns(row.error), f"{label}: the service said it failed"
    elif row.fault in TRANSIENT and target.kind in ("read", "idempotent", "send"):
        assert row.ok, f"{label}: one transient fault must be absorbed by a retry"
        assert row.attempts == 2, f"{label}: expected one retry"

    if target.kind == "write":
        assert row.attempts == 1, f"{label}: a non-idempotent write must never be retried"
        if not row.ok and row.fault != "api_error":
            if row.fault == "refuse":
                assert not warns(row.error), f"{label}: a refused connection applied nothing"
            else:
                assert warns(row.error), f"{label}: the hint must warn the write may be applied"
    if target.kind == "send" and not row.ok and row.when == "after" and row.fault != "api_error":
        assert warns(row.error), f"{label}: the hint must warn the message may be sent"

    if token:
        for text in [*row.texts, repr(row.error)]:
            assert token not in text, f"{label}: the admin token leaked into the result"


@pytest.mark.anyio
@pytest.mark.parametrize("tool", list(TARGETS))
@pytest.mark.parametrize(("fault", "when"), CASES, ids=[f"{k}-{w}" for k, w in CASES])
async def test_fault(tool: str, fault: str, when: str):
    row = await run_case(tool, fault, when)
    REPORT.setdefault("faults", {}).setdefault((fault, when), {})[tool] = row.cell()
    check(row)


@pytest.mark.anyio
@pytest.mark.parametrize("tool", ["get_group_info", "set_group_name", "send_message"])
async def test_retries_are_bounded(tool: str):
    """A fault that never clears gets exactly `attempts` tries and then a retryable error."""
    row = await run_case(tool, "http_503", "before", times=10)
    assert not row.ok and row.error["code"] == "http_503" and row.error["retryable"] is True
    assert row.attempts == FAST.attempts
    assert row.next_call_ok


@pytest.mark.anyio
async def test_persistent_drop_after_send_is_delivered_once():
    """Every answer lost while each attempt is applied: still one message, and the model is warned."""
    row = await run_case("send_message", "drop", "after", times=10)
    assert row.attempts == FAST.attempts
    assert row.applied == 1, f"the retried send was delivered {row.applied} times"
    assert not row.ok and warns(row.error)


@pytest.mark.anyio
async def test_retry_after_is_honoured():
    """After a 429 the next attempt waits for Retry-After (capped by the policy), not the tiny backoff."""
    store = Store()
    injector = FaultInjector(build_app(store))
    server, client = await fault_client(store, injector)
    try:
        async with Client(server, mode="legacy", elicitation_callback=say_yes) as mcp:
            world = await seed(mcp)
            injector.clear()
            injector.plan("http_429", path="/group/info", retry_after="1")
            result = await mcp.call_tool("get_group_info", {"group_id": world.gid})
            assert not result.is_error
            first, second = injector.calls("/group/info")
            # base_delay 0.01 gives at most 0.01 s; Retry-After: 1 capped at max_delay gives 0.05 s
            assert second.at - first.at >= FAST.max_delay * 0.8
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_caller_transaction_id_deduplicates():
    """A caller who repeats a send with the same transaction_id gets the same msg_ids and one message."""
    store = Store()
    injector = FaultInjector(build_app(store))
    server, client = await fault_client(store, injector)
    try:
        async with Client(server, mode="legacy", elicitation_callback=say_yes) as mcp:
            world = await seed(mcp)
            args = {"group_ids": [world.gid], "from_user_id": world.alice, "content": "once", "transaction_id": 77}
            first = await mcp.call_tool("send_message", args)
            second = await mcp.call_tool("send_message", args)
            assert not first.is_error and not second.is_error
            assert first.structured_content["msg_ids"] == second.structured_content["msg_ids"]
            assert [m.content for m in messages(store).log].count("once") == 1
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_unsafe_write_error_is_not_advertised_as_retryable():
    """A create_group whose answer was lost must not tell the model to just retry (it would duplicate)."""
    row = await run_case("create_group", "http_503", "after")
    assert not row.ok and warns(row.error)
    assert row.error["retryable"] is False, row.error


@pytest.mark.anyio
async def test_injector_records_and_disarms():
    """The injector fires exactly `times` times, only on its path, and says what it did."""
    store = Store()
    injector = FaultInjector(build_app(store))
    transport = httpx2.ASGITransport(app=injector)
    headers = {"app_id": store.app_id, "access-token": store.admin_token}
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as http:
        injector.plan("http_502", path="/user/list", times=2)
        statuses = [(await http.get("/user/list")).status_code for _ in range(3)]
        assert statuses == [502, 502, 200]
        assert (await http.get("/user/online_status", params={"user_id": 1})).status_code == 200
        injector.plan("truncated", when="after")
        body = (await http.post("/user/register/v2", json={"username": "dan", "password": "pw"})).content
        assert body and not body.endswith(b"}")
        assert "dan" in store.by_username  # applied, answer spoiled
        injector.plan("drop")
        with pytest.raises(httpx2.RemoteProtocolError):
            await http.get("/user/list")
    assert [r.fault for r in injector.requests] == [
        "http_502/before",
        "http_502/before",
        None,
        None,
        "truncated/after",
        "drop/before",
    ]
    assert injector.pending() == 0
    with pytest.raises(ValueError):
        injector.plan("gremlins")


async def matrix() -> str:
    """The fault matrix as a Markdown table: one row per fault/when, one column per tool."""
    tools = list(TARGETS)
    lines = [
        "| fault | when | " + " | ".join(tools) + " |",
        "|---|---|" + "---|" * len(tools),
    ]
    failures = []
    for (fault, when), tool in itertools.product(CASES, tools):
        if tool == tools[0]:
            lines.append(f"| {fault} | {when} |")
        row = await run_case(tool, fault, when)
        try:
            check(row)
            lines[-1] += f" {row.cell()} |"
        except AssertionError as exc:
            lines[-1] += f" **{row.cell()}** ✗ |"
            failures.append(str(exc).splitlines()[0])
    legend = (
        "\nok / E <code>: outcome; R: error says retryable; M: hint says the change may have been applied; "
        "×n: requests that reached the API; +n: writes applied; ✗: breaks the contract"
    )
    return "\n".join([*lines, legend, *(f"- {f}" for f in failures)])


if __name__ == "__main__":  # pragma: no cover - a report for humans
    sys.stdout.write(anyio.run(matrix) + "\n")
