"""Scale-out: two stateless replicas behind nginx answer one client's calls, credentials per request.

nginx comes from Debian's package; the test setup installs it (apt-get) when it is missing and runs
it on loopback with its own config, pid and logs in a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
import time

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import TOKEN, Api, free_port, stop, wait_port
from tests.e2e.nginx import nginx_binary, nginx_conf
from tests.helpers import call, say_yes

STATE_KEY = "replica-shared-state-key-0123456789abcdef"


@pytest.mark.anyio
async def test_two_replicas_behind_nginx_answer_one_client(sandbox_api: Api, tmp_path):
    nginx = nginx_binary()
    front = free_port()
    ports = [free_port(), free_port()]
    # The replicas know only the endpoint: the app's credentials come with each request.
    env = {k: v for k, v in sandbox_api.env.items() if k not in ("LANYING_APP_ID", "LANYING_ACCESS_TOKEN")}
    env.update({"LANYING_REQUEST_CREDENTIALS": "true", "LANYING_STATE_KEY": STATE_KEY})
    procs = []
    try:
        for port in ports:
            command = [sys.executable, "-m", "lanying_mcp", "--transport", "http", "--stateless", "--port", str(port)]
            with open(tmp_path / f"replica-{port}.log", "w") as log:  # the child keeps its own handle
                procs.append(
                    subprocess.Popen(
                        [*command, "--allowed-hosts", f"127.0.0.1:{front}"],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
        for port, proc in zip(ports, procs, strict=True):
            wait_port(port, proc)
        with open(tmp_path / "nginx.out", "w") as log:
            procs.append(
                subprocess.Popen(
                    [nginx, "-c", str(nginx_conf(tmp_path, front, ports)), "-p", str(tmp_path)],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        wait_port(front, procs[-1])

        headers = {"X-Lanying-App-Id": "sandbox", "X-Lanying-Access-Token": TOKEN}
        url = f"http://127.0.0.1:{front}/mcp"
        for mode in ("legacy", "auto"):
            http = httpx2.AsyncClient(headers=headers, timeout=30)
            async with Client(
                streamable_http_client(url, http_client=http), mode=mode, elicitation_callback=say_yes
            ) as client:
                owner = (await call(client, "register_user", {"username": f"rep_{mode}", "password": "pw"}))["data"]
                gid = (await call(client, "create_group", {"as_user_id": owner["user_id"], "name": "r"}))["data"][
                    "group_id"
                ]
                for _ in range(6):
                    info = await call(client, "get_group_info", {"group_id": gid})
                    assert info["data"]["owner_id"] == owner["user_id"]
                if mode == "auto":  # a confirmation round trip, resumed on whichever replica gets the retry
                    assert (await call(client, "destroy_group", {"as_user_id": owner["user_id"], "group_id": gid}))[
                        "data"
                    ] is True
            await http.aclose()
        # Without credentials in the request, the replicas say what is missing.
        async with Client(url, mode="legacy") as bare:
            result = await bare.call_tool("list_users", {})
            assert result.is_error and result.structured_content["error"]["code"] == "missing_credentials"
    finally:
        for proc in reversed(procs):
            stop(proc)
    time.sleep(0.1)
    lines = (tmp_path / "access.log").read_text().split("\n")
    served = [line.split() for line in lines if line.strip()]
    upstreams = {addr for addr, _ in served}
    assert upstreams == {f"127.0.0.1:{p}" for p in ports}, upstreams
    assert all(status in ("200", "202") for _, status in served), served
