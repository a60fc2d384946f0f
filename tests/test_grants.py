"""One exact yes: a human's answer runs its call once, for the caller it was given to, with its arguments.

Replays are sent the way a hostile client would: the 2026-07-28 round that carried the yes (its sealed
`request_state` and `input_responses`) sent again, from the same session, from another session, and
with another tenant's per-request credentials over stateless HTTP. In the 2025 era (synchronous
elicitation) a call asks its own question every time, and a state echoed there is ignored. Every
replay must leave the API untouched: the writes are counted at the mock transport.
"""

from __future__ import annotations

import contextlib
import getpass
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, ElicitResult, InputRequiredResult

from lanying_mcp.cli import build_http_app
from lanying_mcp.core.errors import StateError
from lanying_mcp.core.settings import Settings
from lanying_mcp.engine.call import validate
from lanying_mcp.engine.state import MemoryState
from lanying_mcp.safety.consent import fingerprint
from lanying_mcp.serving import sdk
from lanying_mcp.serving.gate import NONCES
from lanying_mcp.serving.server import build_server
from lanying_mcp.toolsets import CATALOGUE

TOKEN = "grants-test-token-0123456789"
TOKEN_B = "grants-other-tenant-token-987654"
TOOL = "broadcast_message"
ARGS = {"content": "to everyone"}
YES = ElicitResult(action="accept", content={"confirm": True})
NO = ElicitResult(action="decline")
BROADCAST = "POST /message/broadcast"


class Api:
    """A fake Lanying API that records each request with the access token it came with."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append((f"{request.method} {request.url.path}", request.headers.get("access-token", "")))
        return httpx2.Response(200, json={"code": 200, "data": {}})

    def broadcasts(self, token: str | None = None) -> int:
        return sum(1 for what, tok in self.seen if what == BROADCAST and (token is None or tok == token))


async def decline(context: Any, params: Any) -> ElicitResult:
    """The human of every session here would say no, if the client asked them itself."""
    return NO


def settings(**changes: Any) -> Settings:
    base: dict[str, Any] = {"endpoint": "http://api.test", "app_id": "app", "access_token": TOKEN, "toolsets": ("all",)}
    return Settings(**{**base, **changes})


async def ask(client: Client, args: dict[str, Any] = ARGS) -> InputRequiredResult:
    """Round one of a confirmed call in the 2026-07-28 era: the question."""
    first = await client.session.call_tool(TOOL, args, allow_input_required=True)
    assert isinstance(first, InputRequiredResult), first
    return first


async def answer(
    client: Client, first: InputRequiredResult, reply: ElicitResult = YES, args: dict[str, Any] = ARGS
) -> CallToolResult | InputRequiredResult | MCPError:
    """Round two: the answer, with the sealed state of round one (a replay sends exactly this again)."""
    try:
        return await client.session.call_tool(
            TOOL,
            args,
            input_responses=dict.fromkeys(first.input_requests, reply),
            request_state=first.request_state,
            allow_input_required=True,
        )
    except MCPError as exc:
        return exc


def asked_again_or_refused(result: Any) -> bool:
    """A replay either gets a new question, or a refusal (a tool error, or the SDK's protocol error)."""
    if isinstance(result, (InputRequiredResult, MCPError)):
        return True
    return isinstance(result, CallToolResult) and result.is_error


def question_text(first: InputRequiredResult) -> str:
    (request,) = first.input_requests.values()
    return request.params.message  # type: ignore[union-attr]


# 2026-07-28 era, in process -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_yes_runs_once_and_its_replays_from_any_session_ask_again():
    api = Api()
    server = build_server(settings(), transport=httpx2.MockTransport(api))
    async with (
        Client(server, mode="auto", elicitation_callback=decline) as one,
        Client(server, mode="auto", elicitation_callback=decline) as other,
    ):
        first = await ask(one)
        done = await answer(one, first)
        assert isinstance(done, CallToolResult) and not done.is_error, done
        assert api.broadcasts() == 1

        for _ in range(3):  # the same session sends the answered round again
            replay = await answer(one, first)
            assert asked_again_or_refused(replay), replay
            assert isinstance(replay, InputRequiredResult)  # the human is asked again...
            assert question_text(replay) != question_text(first)  # ...a new question, with a new nonce
        for _ in range(3):  # another session (whose human would have said no) sends it
            replay = await answer(other, first)
            assert asked_again_or_refused(replay), replay
        assert api.broadcasts() == 1

        # The new question asked by a replay is answered no: still nothing more reaches the API.
        again = await answer(other, first)
        assert isinstance(again, InputRequiredResult)
        declined = await answer(other, again, NO)
        assert isinstance(declined, CallToolResult) and declined.is_error
    assert api.broadcasts() == 1


@pytest.mark.anyio
async def test_a_yes_given_in_one_session_cannot_be_used_by_another_before_it():
    """The nonce is single-use whoever redeems it first: the second use never runs."""
    api = Api()
    server = build_server(settings(), transport=httpx2.MockTransport(api))
    async with (
        Client(server, mode="auto", elicitation_callback=decline) as one,
        Client(server, mode="auto", elicitation_callback=decline) as other,
    ):
        first = await ask(one)
        stolen = await answer(other, first)  # same local user: the nonce is the guard
        assert isinstance(stolen, CallToolResult) and not stolen.is_error
        late = await answer(one, first)
        assert asked_again_or_refused(late), late
    assert api.broadcasts() == 1


@pytest.mark.anyio
async def test_changed_arguments_ask_again():
    api = Api()
    server = build_server(settings(), transport=httpx2.MockTransport(api))
    async with Client(server, mode="auto", elicitation_callback=decline) as client:
        first = await ask(client)
        changed = await answer(client, first, args={"content": "something else entirely"})
        assert asked_again_or_refused(changed), changed
        assert api.broadcasts() == 0
        done = await answer(client, first)  # the original call, answered, still runs once
        assert isinstance(done, CallToolResult) and not done.is_error
    assert api.broadcasts() == 1


@pytest.mark.anyio
async def test_an_expired_question_asks_again():
    api = Api()
    server = build_server(settings(), transport=httpx2.MockTransport(api))
    server.gate.question_seconds = 0.2
    async with Client(server, mode="auto", elicitation_callback=decline) as client:
        first = await ask(client)
        await anyio.sleep(0.5)
        late = await answer(client, first)
        assert isinstance(late, InputRequiredResult), late
        assert question_text(late) != question_text(first)
    assert api.broadcasts() == 0


@pytest.mark.anyio
async def test_an_expired_grant_is_not_used(mode):
    api = Api()

    async def yes(context: Any, params: Any) -> ElicitResult:
        return YES

    server = build_server(settings(), transport=httpx2.MockTransport(api))
    server.gate.grant_seconds = -1.0  # the yes has expired by the time the call would run
    async with Client(server, mode=mode, elicitation_callback=yes) as client:
        result = await client.call_tool(TOOL, ARGS)
    assert result.is_error and "confirmation" in result.content[0].text  # type: ignore[union-attr]
    assert api.broadcasts() == 0


# 2025 era -------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_legacy_every_call_asks_its_own_question_and_an_echoed_state_is_ignored():
    api = Api()
    asked: list[str] = []
    replies = [YES, NO, NO]

    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return replies[len(asked) - 1]

    server = build_server(settings(), transport=httpx2.MockTransport(api))
    async with (
        Client(server, mode="auto", elicitation_callback=decline) as modern,
        Client(server, mode="legacy", elicitation_callback=human) as old,
    ):
        first = await ask(modern)  # a sealed state and a yes from the 2026 era...
        ok = await old.call_tool(TOOL, ARGS)
        assert not ok.is_error and api.broadcasts() == 1
        # ...echoed into the 2025 session, whose human now says no: it asks, and nothing runs.
        echoed = await old.session.call_tool(
            TOOL, ARGS, input_responses=dict.fromkeys(first.input_requests, YES), request_state=first.request_state
        )
        assert echoed.is_error
        again = await old.call_tool(TOOL, ARGS)
        assert again.is_error
    assert len(asked) == 3 and len(set(asked)) == 3  # each its own question (its own nonce)
    assert api.broadcasts() == 1


# Another tenant, over stateless HTTP ----------------------------------------------------------------


def tenant(token: str) -> dict[str, str]:
    return {"X-Lanying-App-Id": "app", "X-Lanying-Access-Token": token, "X-Lanying-Endpoint": "http://api.test"}


@contextlib.asynccontextmanager
async def http_server(api: Api, stateless: bool = True, json_response: bool = True, **changes: Any):
    """The server's HTTP app (stateless unless asked), in process (the upstream API is the mock)."""
    conf = settings(**changes)
    server = build_server(conf, transport=httpx2.MockTransport(api))
    app = build_http_app(server, conf, "http", "127.0.0.1", 8000, stateless=stateless, json_response=json_response)
    async with server.session_manager.run():
        yield app


@contextlib.asynccontextmanager
async def http_client(app: Any, headers: dict[str, str], mode: str = "auto", human: Any = decline):
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000", headers=headers, timeout=60
    )
    async with (
        http,
        Client(
            streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http),
            elicitation_callback=human,
            mode=mode,  # type: ignore[arg-type]
        ) as client,
    ):
        yield client


@pytest.mark.anyio
async def test_another_tenant_cannot_replay_a_yes_over_stateless_http():
    api = Api()
    async with http_server(api, request_credentials=True, allowed_endpoints=("http://api.test",)) as app:
        async with http_client(app, tenant(TOKEN)) as a:
            first = await ask(a)
            done = await answer(a, first)
            assert isinstance(done, CallToolResult) and not done.is_error, done
        assert api.broadcasts(TOKEN) == 1
        async with http_client(app, tenant(TOKEN_B)) as b:
            for _ in range(2):
                replay = await answer(b, first)
                assert asked_again_or_refused(replay), replay
        async with http_client(app, tenant(TOKEN)) as a_again:  # the same tenant, another connection
            replay = await answer(a_again, first)
            assert asked_again_or_refused(replay), replay
    assert api.broadcasts(TOKEN_B) == 0 and api.broadcasts() == 1


@pytest.mark.anyio
async def test_another_tenant_cannot_use_an_unused_yes():
    """Tenant B holds A's answered round before A sends it: B is refused, and A's own use still works once."""
    api = Api()
    async with http_server(api, request_credentials=True, allowed_endpoints=("http://api.test",)) as app:
        async with http_client(app, tenant(TOKEN)) as a, http_client(app, tenant(TOKEN_B)) as b:
            first = await ask(a)
            stolen = await answer(b, first)
            assert asked_again_or_refused(stolen), stolen
            done = await answer(a, first)
            assert isinstance(done, CallToolResult) and not done.is_error, done
            assert asked_again_or_refused(await answer(a, first))
    assert api.broadcasts(TOKEN_B) == 0 and api.broadcasts(TOKEN) == 1


@pytest.mark.anyio
async def test_anonymous_callers_are_guarded_by_single_use():
    """No bearer and no per-request credentials: callers look alike, so one yes still runs only once."""
    api = Api()
    async with http_server(api) as app:
        async with http_client(app, {}) as one:
            first = await ask(one)
            assert isinstance(await answer(one, first), CallToolResult)
        async with http_client(app, {}) as two:
            assert asked_again_or_refused(await answer(two, first))
    assert api.broadcasts() == 1


# The gate's own checks, below the SDK's sealing -----------------------------------------------------


@pytest.mark.anyio
async def test_a_nonce_redeems_only_for_its_caller_and_its_exact_call():
    server = build_server(settings(), transport=httpx2.MockTransport(Api()))
    gate, op = server.gate, CATALOGUE[TOOL]
    params = validate(op, ARGS)
    other = validate(op, {"content": "changed"})

    class Headers(sdk.Caller):
        def __init__(self, headers: dict[str, str] | None, ref: str | None) -> None:
            super().__init__(None, ref)
            self._headers = headers

        def headers(self) -> dict[str, str] | None:
            return self._headers

    me = "local:" + getpass.getuser()
    ref = await gate._issue(me, fingerprint(op, params))
    assert (
        await gate._redeem(Headers(tenant(TOKEN_B), ref), fingerprint(op, params))
        == "this answer was given to another caller"
    )
    ref = await gate._issue(me, fingerprint(op, params))
    assert await gate._redeem(Headers(None, ref), fingerprint(op, other)) == "this answer was given for other arguments"
    ref = await gate._issue(me, fingerprint(op, params))
    assert await gate._issue(me, fingerprint(op, params)) == ref  # the open question is asked again as it was
    assert await gate._redeem(Headers(None, ref), fingerprint(op, params)) is None
    assert await gate.state.get(NONCES, ref) is None
    assert (
        await gate._redeem(Headers(None, ref), fingerprint(op, params))
        == "this answer was already used, or its question expired"
    )
    assert await gate._issue(me, fingerprint(op, params)) != ref  # a used question is never asked again


@pytest.mark.anyio
async def test_a_question_that_cannot_be_recorded_is_refused(mode):
    """No nonce, no yes: when the state store fails, the call is refused with a reason and nothing is sent."""
    api = Api()

    class Broken(MemoryState):
        async def add(self, ns: str, key: str, value: str, ttl: float) -> bool:
            raise StateError("the state file is not writable")

    async def yes(context: Any, params: Any) -> ElicitResult:
        return YES

    server = build_server(settings(lang="zh"), transport=httpx2.MockTransport(api))
    server.gate.state = Broken()
    async with Client(server, mode=mode, elicitation_callback=yes) as client:
        result = await client.call_tool(TOOL, ARGS)
    assert result.is_error and result.structured_content["error"]["code"] == "confirmation_required"  # type: ignore[index]
    assert api.broadcasts() == 0


@pytest.mark.anyio
async def test_the_question_names_its_code_in_the_servers_language():
    api = Api()
    server = build_server(settings(lang="zh"), transport=httpx2.MockTransport(api))
    async with Client(server, mode="auto", elicitation_callback=decline) as client:
        first = await ask(client)
    text = question_text(first)
    assert text.endswith(")") and "(确认编号 " in text
    ref = text.rsplit("(确认编号 ", 1)[1].rstrip(")")
    assert await server.gate.state.get(NONCES, ref) is not None  # the code named is the nonce kept


# Every replay, in both eras: the same session, another session, another tenant --------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("era", "who"),
    [
        ("auto", "same session"),
        ("auto", "another session"),
        ("auto", "another tenant"),
        ("legacy", "another session"),
        ("legacy", "another tenant"),
    ],
)
async def test_a_used_yes_replayed_in_either_era_never_runs_again(era: str, who: str):
    """A 2026-07-28 round answered yes and used once, then sent again over stateful HTTP by a client of
    either era: from the session that used it, from another session of the same tenant, and from another
    tenant. Every human here would decline; the broadcast reaches the API once. (A 2025 session replaying
    into itself after its own yes: test_legacy_every_call_asks_its_own_question_and_an_echoed_state_is_ignored.)"""
    api = Api()
    creds = {"request_credentials": True, "allowed_endpoints": ("http://api.test",)}
    async with http_server(api, stateless=False, **creds) as app:
        async with http_client(app, tenant(TOKEN)) as a:
            first = await ask(a)
            done = await answer(a, first)
            assert isinstance(done, CallToolResult) and not done.is_error, done
            assert api.broadcasts() == 1
            headers = tenant(TOKEN_B if who == "another tenant" else TOKEN)
            if who == "same session" and era == "auto":
                replays = [await answer(a, first) for _ in range(2)]
            else:
                async with http_client(app, headers, mode=era) as other:
                    replays = [await answer(other, first) for _ in range(2)]
        for replay in replays:
            assert asked_again_or_refused(replay), (era, who, replay)
    assert api.broadcasts() == 1 and api.broadcasts(TOKEN_B) == 0
