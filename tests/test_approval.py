"""Approval channels and the approval page: a human's yes where the client cannot ask.

The page is reached as a browser reaches it: over HTTP on 127.0.0.1, at the address the server handed
to its opener (tests/conftest.py records it instead of opening a browser). The model's side is an MCP
client without elicitation, in both protocol eras. What reaches the Lanying API is counted at the
sandbox or at a recording transport.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx2
import pytest
from mcp import Client

from lanying_mcp.cli import build_http_app
from lanying_mcp.review import approval
from lanying_mcp.review.approval import AWAIT_APPROVAL, Channel, channel_for
from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.serving.server import build_server
from tests.helpers import call, sandbox_settings, say_yes

pytestmark = pytest.mark.anyio


class Counting:
    """The sandbox behind a transport that counts the requests reaching it by method and path."""

    def __init__(self, store: Store) -> None:
        self.app = build_app(store)
        self.seen: list[str] = []

    def transport(self) -> httpx2.AsyncBaseTransport:
        outer = self

        class _T(httpx2.AsyncBaseTransport):
            def __init__(self) -> None:
                self.inner = httpx2.ASGITransport(app=outer.app)

            async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
                outer.seen.append(f"{request.method} {request.url.path}")
                return await self.inner.handle_async_request(request)

        return _T()

    def count(self, what: str) -> int:
        return sum(1 for s in self.seen if s == what)


DESTROY = "DELETE /group/destroy"


async def team(store: Store) -> tuple[int, int]:
    """A user and their group "Team Rocket", made by a client that can ask."""
    server = build_server(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
    async with Client(server, mode="legacy", elicitation_callback=say_yes) as admin:
        user = await call(admin, "register_user", {"username": "alice", "password": "pw123456"})
        uid = user["data"]["user_id"]
        group = await call(admin, "create_group", {"as_user_id": uid, "name": "Team Rocket"})
    return uid, group["data"]["group_id"]


def secret_of(url: str) -> str:
    return url.split("?s=", 1)[1]


async def page(url: str, **changes: Any) -> httpx2.Response:
    async with httpx2.AsyncClient() as http:
        return await http.get(url, **changes)


def csrf_of(body: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', body)
    assert found, body
    return found.group(1)


async def answer(
    url: str, decision: str, *, csrf: str | None = None, headers: dict[str, str] | None = None
) -> httpx2.Response:
    """Press a button of the page: the form as the page sends it (or without its CSRF token)."""
    shown = await page(url)
    form = {"s": secret_of(url), "decision": decision}
    if csrf is None:  # the page's own token; a page that is not shown (403) has none to give
        csrf = csrf_of(shown.text) if shown.status_code == 200 else "none-shown"
    form["csrf"] = csrf
    async with httpx2.AsyncClient() as http:
        return await http.post(url.split("?", 1)[0], data=form, headers=headers or {})


async def refused(url: str, decision: str = "approve") -> bool:
    """The page refuses an answer (403), or is no longer served at all: the listener of a desktop server
    stops once no approval is pending."""
    try:
        return (await answer(url, decision)).status_code == 403
    except httpx2.ConnectError:
        return True


class Setup:
    def __init__(self, store: Store, api: Counting, server: Any, uid: int, gid: int) -> None:
        self.store, self.api, self.server, self.uid, self.gid = store, api, server, uid, gid

    @property
    def args(self) -> dict[str, Any]:
        return {"group_id": self.gid, "as_user_id": self.uid}


async def setup(**changes: Any) -> Setup:
    store = Store()
    uid, gid = await team(store)
    api = Counting(store)
    server = build_server(sandbox_settings(store, **changes), transport=api.transport())
    return Setup(store, api, server, uid, gid)


def channel_rows() -> list[tuple[str, bool, Channel]]:
    return [
        ("auto", True, Channel.ELICITATION),
        ("auto", False, Channel.PAGE),
        ("elicitation", True, Channel.ELICITATION),
        ("elicitation", False, Channel.OFF),
        ("page", True, Channel.PAGE),
        ("page", False, Channel.PAGE),
        ("askpass", True, Channel.ASKPASS),
        ("askpass", False, Channel.ASKPASS),
        ("off", True, Channel.OFF),
        ("off", False, Channel.OFF),
    ]


@pytest.mark.parametrize(("setting", "elicits", "expected"), channel_rows())
def test_channel_choice(setting, elicits, expected):
    assert channel_for(setting, elicits) is expected


ASKED: list[str] = []


async def record_question(context: Any, params: Any) -> Any:
    ASKED.append(params.message)
    return await say_yes(context, params)


@pytest.mark.parametrize(
    ("setting", "elicits", "code"),
    [
        ("auto", True, None),  # asked by elicitation, and the yes runs it
        ("auto", False, "approval_pending"),
        ("elicitation", False, "confirmation_required"),
        ("page", True, "approval_pending"),  # a host that advertises elicitation but does not render it
        ("askpass", True, "confirmation_required"),  # no LANYING_ASKPASS: askpass cannot ask
        ("off", True, "confirmation_required"),
        ("off", False, "confirmation_required"),
    ],
)
async def test_the_channel_each_setting_gives_a_call(setting, elicits, code, mode, opened):
    s = await setup(approval=setting)
    ASKED.clear()
    async with Client(s.server, mode=mode, elicitation_callback=record_question if elicits else None) as client:
        result = await client.call_tool("destroy_group", s.args)
    if code is None:
        assert not result.is_error, result.content
        assert len(ASKED) == 1 and s.api.count(DESTROY) == 1
        assert opened == []
        return
    assert result.is_error and result.structured_content["error"]["code"] == code, result.content
    assert ASKED == []  # a forced page never elicits
    assert s.api.count(DESTROY) == 0
    assert len(opened) == (1 if code == "approval_pending" else 0)
    if setting == "askpass":
        assert "LANYING_ASKPASS" in result.structured_content["error"]["message"]


async def test_approve_on_the_page_runs_the_call_once(mode, opened, caplog):
    caplog.set_level(logging.INFO)
    s = await setup()
    async with Client(s.server, mode=mode, elicitation_callback=None) as client:
        pending = await client.call_tool("destroy_group", s.args)
        err = pending.structured_content["error"]
        assert pending.is_error and err["code"] == "approval_pending"
        approval_id = err["details"]["approval_id"]
        assert "Team Rocket" in err["details"]["waiting"] and "await_approval" in err["message"]
        (url,) = opened
        secret = secret_of(url)
        wire = json.dumps(pending.structured_content) + "".join(c.text for c in pending.content if c.type == "text")
        assert secret not in wire and "http://" not in wire and "/approve/" not in wire  # no link, no secret

        shown = await page(url)
        assert shown.status_code == 200
        assert "Team Rocket" in shown.text and "/group/destroy" in shown.text and "cannot be undone" in shown.text
        assert "[masked]" in shown.text and s.store.admin_token not in shown.text
        csp = shown.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'none'" in csp and "<script" not in shown.text
        assert s.api.count(DESTROY) == 0

        assert (await answer(url, "approve")).status_code == 200
        assert s.api.count(DESTROY) == 0  # a yes alone sends nothing: the model's call runs it
        done = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
        assert not done.is_error, done.content
        assert s.api.count(DESTROY) == 1

        again = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})  # a used approval
        assert again.is_error and again.structured_content["error"]["code"] == "approval_expired"
        retry = await client.call_tool("destroy_group", {**s.args, "approval_id": approval_id})
        assert retry.is_error and s.api.count(DESTROY) == 1
        assert await refused(url)  # the page of a used approval is gone
    # the server's own log lines (this test's HTTP client, playing the browser, logs the address it fetched)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("lanying_mcp", "uvicorn", "mcp")))
    assert approval_id in logged and secret not in logged and s.store.admin_token not in logged


async def test_a_retry_carrying_the_approval_id_runs_it(opened):
    s = await setup()
    async with Client(s.server, mode="auto", elicitation_callback=None) as client:
        pending = await client.call_tool("destroy_group", s.args)
        approval_id = pending.structured_content["error"]["details"]["approval_id"]
        other = {**s.args, "group_id": s.gid + 1, "approval_id": approval_id}
        assert (await answer(opened[0], "approve")).status_code == 200
        wrong = await client.call_tool("destroy_group", other)  # the yes was for another group
        assert wrong.is_error and wrong.structured_content["error"]["code"] == "confirmation_required"
        assert "other arguments" in wrong.structured_content["error"]["message"]
        assert s.api.count(DESTROY) == 0
        # that use spent it: a yes is good once, whatever the call that tried it
        again = await client.call_tool("destroy_group", {**s.args, "approval_id": approval_id})
        assert again.is_error and s.api.count(DESTROY) == 0

        pending = await client.call_tool("destroy_group", s.args)
        approval_id = pending.structured_content["error"]["details"]["approval_id"]
        assert (await answer(opened[1], "approve")).status_code == 200
        done = await client.call_tool("destroy_group", {**s.args, "approval_id": approval_id})
        assert not done.is_error, done.content
        assert s.api.count(DESTROY) == 1


async def test_decline_sends_nothing(mode, opened):
    s = await setup()
    async with Client(s.server, mode=mode, elicitation_callback=None) as client:
        pending = await client.call_tool("destroy_group", s.args)
        approval_id = pending.structured_content["error"]["details"]["approval_id"]
        said = await answer(opened[0], "decline")
        assert said.status_code == 200 and "Declined" in said.text
        result = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
        assert result.is_error and result.structured_content["error"]["code"] == "declined"
        assert await refused(opened[0])  # no second answer
        again = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
        assert again.is_error
    assert s.api.count(DESTROY) == 0


async def test_a_human_who_never_answers_leads_to_expiry(mode, opened):
    s = await setup(approval_seconds=1.5, approval_wait_seconds=0.3)
    async with Client(s.server, mode=mode, elicitation_callback=None) as client:
        pending = await client.call_tool("destroy_group", s.args)
        approval_id = pending.structured_content["error"]["details"]["approval_id"]
        still = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})  # waits 0.3 s, then says so
        assert still.is_error and still.structured_content["error"]["code"] == "approval_pending"
        clock = s.server.gate.approvals
        later = clock.clock() + 2.0
        clock.clock = lambda: later  # the approval's time is over
        gone = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
        assert gone.is_error and gone.structured_content["error"]["code"] == "approval_expired"
        assert (await page(opened[0])).status_code == 403
    assert s.api.count(DESTROY) == 0


async def test_the_page_needs_its_secret_and_its_csrf_token(opened):
    s = await setup(approval_wait_seconds=0.5)
    async with Client(s.server, mode="legacy", elicitation_callback=None) as client:
        pending = await client.call_tool("destroy_group", s.args)
        approval_id = pending.structured_content["error"]["details"]["approval_id"]
        url = opened[0]
        bare = url.split("?", 1)[0]
        assert (await page(bare)).status_code == 403
        assert (await page(bare + "?s=" + "x" * 32)).status_code == 403
        assert (await answer(url, "approve", csrf="")).status_code == 403
        assert (await answer(url, "approve", csrf="forged")).status_code == 403
        cross = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
        assert (await answer(url, "approve", headers=cross)).status_code == 403
        async with httpx2.AsyncClient() as http:  # a form without the secret, from a page that knows the ID
            shown = await page(url)
            no_secret = await http.post(bare, data={"csrf": csrf_of(shown.text), "decision": "approve"})
        assert no_secret.status_code == 403
        result = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
        assert result.structured_content["error"]["code"] == "approval_pending"  # still nobody said yes
    assert s.api.count(DESTROY) == 0


async def test_the_page_speaks_the_servers_language(opened):
    s = await setup(lang="zh")
    async with Client(s.server, mode="legacy", elicitation_callback=None) as client:
        await client.call_tool("destroy_group", s.args)
        shown = await page(opened[0])
    assert shown.status_code == 200 and 'lang="zh"' in shown.text and "批准" in shown.text and "拒绝" in shown.text


@pytest.mark.parametrize(
    ("changes", "listed"),
    [
        ({}, True),
        ({"approval": "page"}, True),
        ({"approval": "askpass"}, True),
        ({"approval": "elicitation"}, False),
        ({"approval": "off"}, False),
        ({"discovery": True}, True),
        ({"toolsets": ("groups",)}, True),
        ({"confirm": False}, False),
    ],
)
async def test_await_approval_is_listed_where_the_page_can_ask(changes, listed):
    store = Store()
    server = build_server(sandbox_settings(store, **changes), transport=httpx2.ASGITransport(app=build_app(store)))
    async with Client(server, mode="legacy") as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert (AWAIT_APPROVAL in names) is listed


BEARER = "approval-bearer-token-0123456789"


async def test_over_http_the_page_is_a_route_whose_proof_is_the_secret_not_the_bearer(opened):
    s = await setup(auth_token=BEARER)
    app = build_http_app(s.server, s.server.lanying_settings, "http", "127.0.0.1", 8765)
    bearer = {"Authorization": f"Bearer {BEARER}"}
    async with Client(s.server, mode="legacy", elicitation_callback=None) as client:
        pending = await client.call_tool("destroy_group", s.args)
        approval_id = pending.structured_content["error"]["details"]["approval_id"]
        (url,) = opened
        assert url.startswith(f"http://127.0.0.1:8765/approve/{approval_id}?s=")
        asgi = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=asgi, base_url="http://127.0.0.1:8765") as http:
            assert (await http.get(f"/approve/{approval_id}", headers=bearer)).status_code == 403
            shown = await http.get(url.split("8765", 1)[1])  # no bearer token: a browser has none
            assert shown.status_code == 200 and "Team Rocket" in shown.text
            token = csrf_of(shown.text)
            form = {"csrf": token, "decision": "approve"}
            assert (await http.post(f"/approve/{approval_id}", data=form, headers=bearer)).status_code == 403
            assert (await http.post("/mcp", json={})).status_code == 401  # the MCP endpoint keeps its guard
            said = await http.post(f"/approve/{approval_id}", data={**form, "s": secret_of(url)})
            assert said.status_code == 200
        done = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
        assert not done.is_error, done.content
    assert s.api.count(DESTROY) == 1


@pytest.mark.parametrize("opt_in", [False, True])
async def test_the_secret_reaches_stderr_only_on_the_operators_opt_in(opt_in, opened, capsys):
    s = await setup(approval_secret_stderr=opt_in)
    async with Client(s.server, mode="legacy", elicitation_callback=None) as client:
        await client.call_tool("destroy_group", s.args)
    err = capsys.readouterr().err
    assert (secret_of(opened[0]) in err) is opt_in
    if opt_in:
        assert opened[0] in err


async def test_await_approval_reports_progress_while_it_waits(mode, opened, monkeypatch):
    monkeypatch.setattr(approval, "PROGRESS_SECONDS", 0.2)
    s = await setup(approval_wait_seconds=1.0)
    told: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        told.append((done, total, message))

    async with Client(s.server, mode=mode, elicitation_callback=None) as client:
        pending = await client.call_tool("destroy_group", s.args)
        approval_id = pending.structured_content["error"]["details"]["approval_id"]
        still = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id}, progress_callback=progress)
    assert still.structured_content["error"]["code"] == "approval_pending"
    assert len(told) >= 2 and all(total == 1.0 for _, total, _ in told)
    assert [done for done, _, _ in told] == sorted(done for done, _, _ in told)  # it only moves forward
    assert "approval page" in (told[0][2] or "")
    assert s.api.count(DESTROY) == 0


async def test_another_caller_cannot_use_an_approval(opened):
    s = await setup()
    async with Client(s.server, mode="legacy", elicitation_callback=None) as client:
        pending = await client.call_tool("destroy_group", s.args)
        approval_id = pending.structured_content["error"]["details"]["approval_id"]
        assert (await answer(opened[0], "approve")).status_code == 200
        approvals = s.server.gate.approvals
        assert (
            await approvals.redeem(approval_id, "someone-else", "any-call")
            == "the approval was given to another caller"
        )
        done = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})  # spent by that attempt
        assert done.is_error and done.structured_content["error"]["code"] == "approval_expired"
    assert s.api.count(DESTROY) == 0


async def test_end_user_text_on_the_page_is_text_not_markup(opened):
    store = Store()
    server = build_server(sandbox_settings(store), transport=httpx2.ASGITransport(app=build_app(store)))
    name = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    async with Client(server, mode="legacy", elicitation_callback=None) as client:
        user = await call(client, "register_user", {"username": "xss_owner", "password": "pw123456"})
        uid = user["data"]["user_id"]
        group = await call(client, "create_group", {"as_user_id": uid, "name": name})
        await client.call_tool("destroy_group", {"as_user_id": uid, "group_id": group["data"]["group_id"]})
        shown = await page(opened[0])
    assert shown.status_code == 200
    assert "<script" not in shown.text and "<img" not in shown.text and "&lt;script&gt;" in shown.text
