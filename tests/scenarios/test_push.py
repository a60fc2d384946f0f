"""Push scenarios against the sandbox: task statistics after a push, and vendor certificates."""

from __future__ import annotations

import time

import httpx2
import pytest

from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from lanying_mcp.sandbox.devices import record_login
from tests.helpers import call, call_error, sandbox_client


@pytest.mark.anyio
async def test_task_details_follow_sent_pushes(mode: str) -> None:
    store = Store()
    users = [store.add_user(n, "pw").user_id for n in ("a", "b", "c")]
    for uid in users:
        record_login(store, uid, f"phone-{uid}", platform=2)
    async with sandbox_client(store, mode=mode) as client:
        to_two = await call(client, "send_push", {"user_ids": users[:2], "message": {"title": "t", "body": "b"}})
        to_all = await call(client, "send_push", {"all_devices": True, "message": {"body": "everyone"}})
        tasks = [to_two["data"]["task_id"], to_all["data"]["task_id"], 404]
        details = (await call(client, "get_push_task_details", {"task_ids": tasks}))["data"]
        assert [d["task_id"] for d in details] == tasks[:2]  # the unknown ID is left out
        assert details[0]["mxpush_target"] == details[0]["mxpush_received"] == 2
        assert details[1]["mxpush_sent"] == 3 and details[1]["apns_sent"] == 0
        assert (await call(client, "get_push_task_details", {"task_ids": [404]}))["data"] == []
        err = await call_error(client, "get_push_task_details", {"task_ids": []})
        assert err["code"] == "invalid_arguments"


@pytest.mark.anyio
async def test_certificates() -> None:
    store = Store()
    user = store.add_user("u", "pw").user_id
    async with sandbox_client(store) as client:
        masked = await call(client, "get_push_certificate", {"provider": 2})
        assert masked["data"]["app_secret"] == "[masked]" and "LANYING_REVEAL_SECRETS" in masked["warnings"][0]
    async with sandbox_client(store, reveal_secrets=True) as client:
        prod = (await call(client, "get_push_certificate", {"provider": 2}))["data"]
        assert prod["name"] == "sandbox-huawei-prod" and prod["app_secret"] not in ("", "[masked]")
        dev = (await call(client, "get_push_certificate", {"provider": 1, "environment": 0}))["data"]
        assert dev["name"] == "sandbox-apns-dev" and "CERTIFICATE" in dev["certificate"]
        err = await call_error(client, "get_push_certificate", {"provider": 8})
        assert err["code"] == "invalid_arguments"
    async with sandbox_client(store, access_token=store.issue_user_token(user)) as as_user:
        err = await call_error(as_user, "get_push_certificate", {"provider": 7})
        assert err["code"] == 10010
    headers = {"app_id": SANDBOX_APP_ID, "access-token": store.admin_token}
    transport = httpx2.ASGITransport(app=build_app(store))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as http:
        bad = await http.get("/push/certificate", params={"provider": 9})
        assert bad.json()["code"] == 10002


async def stats(client, args: dict) -> dict:
    task = await call(client, "send_push", {**args, "message": {"body": "hello"}})
    (row,) = (await call(client, "get_push_task_details", {"task_ids": [task["data"]["task_id"]]}))["data"]
    return {k: row[f"mxpush_{k}"] for k in ("target", "sent", "received")}


@pytest.mark.anyio
async def test_push_statistics_follow_the_delivery_model() -> None:
    """Targeted: everyone the audience names. Sent and received: only those the diagnosis says can get a push."""
    store = Store()
    ready, push_off, no_device, bound_off = (store.add_user(n, "pw").user_id for n in ("ready", "off", "bare", "both"))
    for uid in (ready, push_off):
        record_login(store, uid, f"phone-{uid}", platform=1)
    async with sandbox_client(store) as client:
        for uid in (push_off, bound_off):
            await call(client, "set_user_push_disabled", {"as_user_id": uid, "disabled": True})
        assert await stats(client, {"all_devices": True}) == {"target": 4, "sent": 1, "received": 1}
        assert await stats(client, {"user_ids": [no_device, 404]}) == {"target": 1, "sent": 0, "received": 0}
        for uid in (push_off, no_device):  # what the diagnosis says of the users the push missed
            got = (await call(client, "check_push_delivery", {"user_id": uid}))["data"]
            assert got["ok"] is False
        await call(client, "add_push_tags", {"as_user_id": ready, "tags": ["beta"]})
        await call(client, "add_push_tags", {"as_user_id": no_device, "tags": ["beta"]})
        assert await stats(client, {"tags": ["beta"]}) == {"target": 2, "sent": 1, "received": 1}
        hour = time.gmtime().tm_hour
        quiet = {"as_user_id": ready, "no_push_start_hour": hour, "no_push_end_hour": (hour + 2) % 24}
        await call(client, "set_user_quiet_hours", quiet)
        assert await stats(client, {"user_ids": [ready]}) == {"target": 1, "sent": 0, "received": 0}
        later = {**quiet, "no_push_start_hour": (hour + 2) % 24, "no_push_end_hour": (hour + 3) % 24}
        await call(client, "set_user_quiet_hours", later)
        assert await stats(client, {"user_ids": [ready]}) == {"target": 1, "sent": 1, "received": 1}
