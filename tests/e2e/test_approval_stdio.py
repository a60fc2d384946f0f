"""The approval page of a real stdio server: served on 127.0.0.1 while an approval is pending.

The server runs as a subprocess against the loopback sandbox, with the opt-in stderr line (and
$BROWSER set to `true`, so no browser opens). Its page is approved over HTTP from the address on
stderr; stdout carries the protocol alone throughout, or the client would fail.
"""

from __future__ import annotations

import re
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from lanying_mcp.review.approval import AWAIT_APPROVAL
from tests.e2e.conftest import Api
from tests.helpers import call, call_error
from tests.test_approval import answer, page

ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+/approve/ap_[0-9a-f]+\?s=\S+")


@pytest.mark.anyio
async def test_a_desktop_server_serves_its_page_on_loopback_while_pending(sandbox_api: Api, tmp_path):
    env = {**sandbox_api.env, "LANYING_APPROVAL_SECRET_STDERR": "true", "BROWSER": "true"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "lanying_mcp"], env=env)
    path = tmp_path / "stderr.txt"
    with open(path, "w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy", elicitation_callback=None) as client:
            user = await call(client, "register_user", {"username": "stdio_page", "password": "pw123456"})
            uid = user["data"]["user_id"]
            group = await call(client, "create_group", {"as_user_id": uid, "name": "Desk Group"})
            gid = group["data"]["group_id"]
            pending = await client.call_tool("destroy_group", {"as_user_id": uid, "group_id": gid})
            approval_id = pending.structured_content["error"]["details"]["approval_id"]
            url = None
            with anyio.fail_after(30):  # a hang guard: the line is written before the result is sent
                while url is None:
                    found = ADDRESS.search(path.read_text())
                    url = found.group(0) if found else None
                    await anyio.sleep(0.05)
            assert approval_id in url
            shown = await page(url)
            assert shown.status_code == 200 and "Desk Group" in shown.text
            await call(client, "get_group_info", {"group_id": gid})  # still there: nothing sent yet
            assert (await answer(url, "approve")).status_code == 200
            done = await client.call_tool(AWAIT_APPROVAL, {"approval_id": approval_id})
            assert not done.is_error, done.content
            gone = await call_error(client, "get_group_info", {"group_id": gid})
            assert gone["code"] != "approval_pending"
