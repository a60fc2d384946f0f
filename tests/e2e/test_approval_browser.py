"""The approval page in a real browser: Debian's chromium under Playwright, the human a client cannot ask.

A client without elicitation calls `destroy_group` on a group that has a name. The server answers
`approval_pending` and opens its page; the test takes the address from the server's opener hook (the
server never starts a real browser of its own in tests) and loads it in chromium, where the group is shown
by name and a screenshot is kept in `test-artifacts/`. Then the human approves, declines, or never
answers, and `await_approval` reports it. The sandbox counts the destroy requests it gets: one after a
yes, none otherwise, none for a reused approval. The page also works with JavaScript turned off: its
buttons are a plain form POST.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters

from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.serving.server import build_server
from tests.browser import chromium, need_chromium, screenshot
from tests.helpers import call, sandbox_settings
from tests.procs import server_env

pytest.importorskip(
    "lanying_mcp.review.approval_page",
    reason="the approval page (lanying_mcp/review/approval_page.py) is not in this tree yet",
)
pytestmark = pytest.mark.anyio

GROUP_NAME = "Night shift 夜班 ops"
DESTROY = "/group/destroy"
HANG_GUARD = 120  # seconds: a hang guard only, never a speed check


class Counting:
    """The sandbox API behind a counter: every request it gets, as "METHOD /path"."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)

    def destroys(self) -> list[str]:
        return [s for s in self.seen if s.endswith(" " + DESTROY)]


@dataclass
class Setup:
    client: Client
    server: Any
    api: Counting
    store: Store
    group_id: int
    opened: list[str] = field(default_factory=list)

    def group_exists(self) -> bool:
        return self.group_id in groups(self.store).groups


@asynccontextmanager
async def approval_setup(mode: str = "legacy", **changes: Any) -> AsyncIterator[Setup]:
    """A sandbox with a named group, our server on it (its page opener recording the address), and an MCP
    client that cannot ask questions (no elicitation), so a risky call goes to the approval page."""
    store = Store()
    owner = store.add_user("grace", "pw-grace-1").user_id
    api = Counting(build_app(store))
    server = build_server(sandbox_settings(store, **changes), transport=httpx2.ASGITransport(app=api))
    opened: list[str] = []
    server.open_url = opened.append  # the address with its one-time secret, as a browser would get it
    try:
        async with Client(server, mode=mode, elicitation_callback=None) as client:
            made = await call(client, "create_group", {"as_user_id": owner, "name": GROUP_NAME})
            yield Setup(client, server, api, store, made["data"]["group_id"], opened)
    finally:
        await server.approval_listener.stop()
        await server.lanying_client.aclose()


async def ask_to_destroy(s: Setup) -> str:
    """destroy_group on the named group: approval_pending, nothing sent, the page opened once; its ID."""
    result = await s.client.call_tool("destroy_group", {"group_id": s.group_id})
    assert result.is_error and result.structured_content is not None, result
    error = result.structured_content["error"]
    assert error["code"] == "approval_pending", error
    approval_id = error["details"]["approval_id"]
    assert len(s.opened) == 1, s.opened
    url = s.opened[0]
    assert url.startswith("http://127.0.0.1:") and approval_id in url
    secret = url.split("s=", 1)[1]
    assert secret and secret not in str(result.structured_content) and secret not in str(result.content)
    assert s.api.destroys() == [], "nothing may reach the API before a human said yes"
    return approval_id


async def press(page: Any, button: str) -> tuple[int, str]:
    """Click a button of the page's form and wait for the answer page: (its HTTP status, its text)."""
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.get_by_role("button", name=button).click()
    status = (await posted.value).status
    await page.wait_for_load_state()
    return status, await page.inner_text("body")


async def await_approval(s: Setup, approval_id: str) -> Any:
    return await s.client.call_tool("await_approval", {"approval_id": approval_id})


async def test_approve_in_the_browser_runs_the_destroy_exactly_once(mode) -> None:
    from playwright.async_api import Error as PlaywrightError

    need_chromium()
    with anyio.fail_after(HANG_GUARD):
        async with approval_setup(mode) as s, chromium() as browser:
            approval_id = await ask_to_destroy(s)
            page = await browser.new_page()
            response = await page.goto(s.opened[0])
            assert response is not None and response.status == 200
            body = await page.inner_text("body")
            assert GROUP_NAME in body, body  # the human sees which group, by name
            assert "destroy_group" in body and str(s.group_id) in body
            shot = await screenshot(page, f"approval-page-destroy-group-{mode}")
            assert shot.stat().st_size > 10_000  # a rendered page, not an empty image

            status, text = await press(page, "Approve")
            assert status == 200 and "Approved" in text, (status, text)
            await screenshot(page, f"approval-page-approved-{mode}")

            result = await await_approval(s, approval_id)
            assert not result.is_error, result.content
            assert result.structured_content is not None and result.structured_content.get("data") is True
            assert s.api.destroys() == [f"POST {DESTROY}"] or s.api.destroys() == [f"DELETE {DESTROY}"]
            assert len(s.api.destroys()) == 1 and not s.group_exists()

            # the approval is used: waiting on it again, or calling again with it, runs nothing more
            again = await await_approval(s, approval_id)
            assert again.is_error and again.structured_content is not None
            assert again.structured_content["error"]["code"] == "approval_expired"
            retried = await s.client.call_tool("destroy_group", {"group_id": s.group_id, "approval_id": approval_id})
            assert retried.is_error
            # and the page, loaded again, approves nothing more: it shows no Approve button, or it is not served
            # at all (a stdio server's listener stops within a second once no approval is pending)
            try:
                await page.goto(s.opened[0])
            except PlaywrightError:
                assert s.server.approval_listener.base is None
            else:
                assert await page.get_by_role("button", name="Approve").count() == 0
            assert len(s.api.destroys()) == 1


async def test_decline_in_the_browser_sends_nothing_and_the_page_speaks_the_servers_language() -> None:
    need_chromium()
    with anyio.fail_after(HANG_GUARD):
        async with approval_setup(lang="zh") as s, chromium() as browser:
            approval_id = await ask_to_destroy(s)
            page = await browser.new_page()
            await page.goto(s.opened[0])
            assert GROUP_NAME in await page.inner_text("body")
            assert await page.get_attribute("html", "lang") == "zh"
            await screenshot(page, "approval-page-destroy-group-zh")
            status, text = await press(page, "拒绝")
            assert status == 200 and "已拒绝" in text, (status, text)
            result = await await_approval(s, approval_id)
            assert result.is_error and result.structured_content is not None
            assert result.structured_content["error"]["code"] in ("declined", "confirmation_required")
            assert s.api.destroys() == [] and s.group_exists()
            # a declined approval is used up too: waiting again runs nothing
            again = await await_approval(s, approval_id)
            assert again.is_error and s.api.destroys() == []


async def test_an_approval_nobody_answers_expires_and_sends_nothing() -> None:
    need_chromium()
    from playwright.async_api import Error as PlaywrightError

    with anyio.fail_after(HANG_GUARD):
        async with approval_setup(approval_seconds=2) as s, chromium() as browser:
            approval_id = await ask_to_destroy(s)
            page = await browser.new_page()
            await page.goto(s.opened[0])
            assert GROUP_NAME in await page.inner_text("body")
            await anyio.sleep(2.5)  # the human never answers
            result = await await_approval(s, approval_id)
            assert result.is_error and result.structured_content is not None
            assert result.structured_content["error"]["code"] == "approval_expired"
            # the page is served only while an approval is pending: with none left, its address answers nothing,
            # so the Approve button of the expired page reaches no one
            with anyio.fail_after(30):
                while s.server.approval_listener.base is not None:
                    await anyio.sleep(0.1)
            with pytest.raises(PlaywrightError):
                await page.reload()
            again = await await_approval(s, approval_id)
            assert again.is_error and s.api.destroys() == [] and s.group_exists()


async def test_the_page_works_without_javascript() -> None:
    need_chromium()
    with anyio.fail_after(HANG_GUARD):
        async with approval_setup() as s, chromium() as browser:
            approval_id = await ask_to_destroy(s)
            context = await browser.new_context(java_script_enabled=False)
            page = await context.new_page()
            await page.goto(s.opened[0])
            assert GROUP_NAME in await page.inner_text("body")
            assert await page.locator("script").count() == 0
            status, text = await press(page, "Approve")
            assert status == 200 and "Approved" in text, (status, text)
            result = await await_approval(s, approval_id)
            assert not result.is_error, result.content
            assert len(s.api.destroys()) == 1
            await context.close()


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """`app` on 127.0.0.1 at a free port, in this event loop, until the block ends; its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        while not server.started:
            await anyio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


async def test_the_real_stdio_server_opens_its_page_with_the_default_opener(tmp_path) -> None:
    """The `lanying-mcp` process on stdio, as a desktop host starts it: its page opened by `webbrowser.open`
    (the system's opener, here a BROWSER program that notes the address), approved in chromium."""
    need_chromium()
    import sys

    noted = tmp_path / "opened.txt"
    opener = tmp_path / "open-in-browser"
    opener.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{noted}"\n')
    opener.chmod(0o755)
    store = Store()
    owner = store.add_user("grace", "pw-grace-1").user_id
    api = Counting(build_app(store))
    with anyio.fail_after(HANG_GUARD):
        async with served(api) as url, chromium() as browser:
            env = server_env(url, store.admin_token, BROWSER=str(opener))
            params = StdioServerParameters(command=sys.executable, args=["-m", "lanying_mcp"], env=env)
            async with Client(params, elicitation_callback=None) as client:
                made = await call(client, "create_group", {"as_user_id": owner, "name": GROUP_NAME})
                group_id = made["data"]["group_id"]
                result = await client.call_tool("destroy_group", {"group_id": group_id})
                assert result.structured_content is not None, result
                error = result.structured_content["error"]
                assert error["code"] == "approval_pending", error
                with anyio.fail_after(30):
                    while not noted.exists():
                        await anyio.sleep(0.05)
                address = noted.read_text().strip()
                assert address.startswith("http://127.0.0.1:") and error["details"]["approval_id"] in address
                assert address.split("s=", 1)[1] not in str(result.content)
                assert api.destroys() == []

                page = await browser.new_page()
                await page.goto(address)
                assert GROUP_NAME in await page.inner_text("body")
                status, text = await press(page, "Approve")
                assert status == 200 and "Approved" in text, (status, text)
                done = await client.call_tool("await_approval", {"approval_id": error["details"]["approval_id"]})
                assert not done.is_error, done.content
                assert len(api.destroys()) == 1 and group_id not in groups(store).groups


async def test_over_http_the_page_is_a_route_of_the_server_and_needs_no_bearer_token(tmp_path) -> None:
    """The `lanying-mcp` process over streamable HTTP with a bearer token: its page is a route of its own app,
    which the browser opens with the one-time secret alone (the host's bearer token is neither needed nor
    sent), and the yes runs the destroy once."""
    need_chromium()
    import subprocess
    import sys

    from mcp.client.streamable_http import streamable_http_client

    from tests.procs import free_port, stop, wait_port

    noted = tmp_path / "opened.txt"
    opener = tmp_path / "open-in-browser"
    opener.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{noted}"\n')
    opener.chmod(0o755)
    store = Store()
    owner = store.add_user("grace", "pw-grace-1").user_id
    api = Counting(build_app(store))
    bearer = "bearer-browser-e2e-41c7"
    with anyio.fail_after(HANG_GUARD):
        async with served(api) as url, chromium() as browser:
            port = free_port()
            env = server_env(url, store.admin_token, BROWSER=str(opener))
            args = [sys.executable, "-m", "lanying_mcp", "--transport", "http", "--port", str(port)]
            with open(tmp_path / "server.log", "w") as log:
                proc = subprocess.Popen([*args, "--auth-token", bearer], env=env, stdout=log, stderr=log)
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}, timeout=60)
            try:
                await anyio.to_thread.run_sync(wait_port, port, proc)
                endpoint = f"http://127.0.0.1:{port}/mcp"
                async with Client(streamable_http_client(endpoint, http_client=http), elicitation_callback=None) as c:
                    made = await call(c, "create_group", {"as_user_id": owner, "name": GROUP_NAME})
                    group_id = made["data"]["group_id"]
                    result = await c.call_tool("destroy_group", {"group_id": group_id})
                    assert result.structured_content is not None, result
                    error = result.structured_content["error"]
                    assert error["code"] == "approval_pending", error
                    with anyio.fail_after(30):
                        while not noted.exists():
                            await anyio.sleep(0.05)
                    address = noted.read_text().strip()
                    assert (
                        address.startswith(f"http://127.0.0.1:{port}/") and error["details"]["approval_id"] in address
                    )
                    assert api.destroys() == []

                    page = await browser.new_page()  # no Authorization header: the secret is the proof
                    response = await page.goto(address)
                    assert response is not None and response.status == 200
                    assert GROUP_NAME in await page.inner_text("body")
                    await screenshot(page, "approval-page-destroy-group-http")
                    status, text = await press(page, "Approve")
                    assert status == 200 and "Approved" in text, (status, text)
                    done = await c.call_tool("await_approval", {"approval_id": error["details"]["approval_id"]})
                    assert not done.is_error, done.content
                    assert len(api.destroys()) == 1 and group_id not in groups(store).groups
            finally:
                await http.aclose()
                stop(proc)
            logged = (tmp_path / "server.log").read_text()
            assert bearer not in logged and address.split("s=", 1)[1] not in logged  # no secret in the logs


@pytest.mark.parametrize(("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_without_chromium_these_tests_skip_here_and_fail_in_ci(monkeypatch, ci, outcome) -> None:
    import tests.browser

    monkeypatch.setattr(tests.browser, "chromium_binary", lambda: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="apt-get install chromium"):
        tests.browser.need_chromium()
