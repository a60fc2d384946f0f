"""Push scenarios against the sandbox: task statistics after a push, and vendor certificates."""

from __future__ import annotations

import httpx2
import pytest

from lanying_mcp.sandbox import SANDBOX_APP_ID, Store, build_app
from tests.helpers import call, call_error, sandbox_client


@pytest.mark.anyio
async def test_task_details_follow_sent_pushes(mode: str) -> None:
    store = Store()
    users = [store.add_user(n, "pw").user_id for n in ("a", "b", "c")]
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
