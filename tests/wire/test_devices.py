"""Wire table for devices and push preferences: values go in the query even on POST, as the Swagger says."""

import httpx2
import pytest
from mcp import Client

from lanying_mcp.core.settings import Settings
from lanying_mcp.serving.server import build_server
from tests.helpers import Case, check_cases

U = 2302128618880
AS = {"user_id": str(U)}

CASES = [
    Case(
        "list_user_devices",
        {"as_user_id": U},
        "GET",
        "/user/device/list",
        act_as=AS,
        reply=[{"device_sn": 1, "platform": 6, "user_agent": "Chrome", "user_id": U}],
        extras={"version": 2},
    ),
    Case(
        "remove_user_device",
        {"as_user_id": U, "device_sn": 3},
        "POST",
        "/user/device/remove",
        query={"device_sn": "3"},
        act_as=AS,
    ),
    Case(
        "kick_user_device", {"as_user_id": U, "device_sn": 2}, "POST", "/user/kick", query={"device_sn": "2"}, act_as=AS
    ),
    Case("kick_user_device", {"as_user_id": U}, "POST", "/user/kick", act_as=AS),
    Case(
        "set_user_auto_download",
        {"as_user_id": U, "enabled": True},
        "POST",
        "/user/download",
        query={"value": "true"},
        act_as=AS,
    ),
    Case(
        "set_user_push_disabled",
        {"as_user_id": U, "disabled": True},
        "POST",
        "/user/push",
        query={"value": "true"},
        act_as=AS,
    ),
    Case(
        "set_user_push_detail_hidden",
        {"as_user_id": U, "hidden": False},
        "POST",
        "/user/push/detail",
        query={"value": "false"},
        act_as=AS,
    ),
    Case(
        "set_user_quiet_hours",
        {"as_user_id": U, "no_push_start_hour": 22, "no_push_end_hour": 7},
        "POST",
        "/user/push/limit",
        query={"no_push_start_hour": "22", "no_push_end_hour": "7"},
        act_as=AS,
    ),
    Case(
        "set_user_push_nickname",
        {"as_user_id": U, "push_nick_name": "小蓝"},
        "POST",
        "/user/push/nickname",
        query={"value": "小蓝"},
        act_as=AS,
    ),
    Case(
        "set_user_sound_muted",
        {"as_user_id": U, "muted": True},
        "POST",
        "/user/sounds",
        query={"value": "true"},
        act_as=AS,
    ),
    Case(
        "set_user_vibration",
        {"as_user_id": U, "enabled": False},
        "POST",
        "/user/vibratory",
        query={"value": "false"},
        act_as=AS,
    ),
    Case(
        "bind_push_alias",
        {"as_user_id": U, "alias": "alice", "push_token": "pt-1"},
        "POST",
        "/user/push/alias",
        json={"alias": "alice", "push_token": "pt-1"},
        act_as=AS,
    ),
    Case(
        "bind_push_alias",
        {"alias": "alice"},
        "POST",
        "/user/push/alias",
        json={"alias": "alice"},
    ),
    Case("set_push_badge", {"as_user_id": U, "badge": 5}, "POST", "/user/push/badge", json={"badge": 5}, act_as=AS),
    Case("list_push_tags", {"as_user_id": U}, "GET", "/user/push/tag", act_as=AS, reply=["beijing", "vip"]),
    Case(
        "add_push_tags",
        {"as_user_id": U, "tags": ["beijing", "vip"]},
        "POST",
        "/user/push/tag",
        json={"tags": ["beijing", "vip"]},
        act_as=AS,
    ),
    Case(
        "remove_push_tags",
        {"as_user_id": U, "tags": ["vip"]},
        "DELETE",
        "/user/push/tag",
        json={"tags": ["vip"]},
        act_as=AS,
    ),
    Case("clear_push_tags", {"as_user_id": U}, "DELETE", "/user/push/tag/all", act_as=AS),
    Case(
        "bind_device_token",
        {"as_user_id": U, "device_sn": 1, "device_token": "apns-abc", "notifier_name": "ios_prod"},
        "POST",
        "/user/token/bind",
        json={"device_sn": 1, "device_token": "apns-abc", "notifier_name": "ios_prod"},
        act_as=AS,
    ),
    Case(
        "unbind_device_token",
        {"as_user_id": U, "device_sn": 1},
        "POST",
        "/user/token/unbind",
        query={"deviceSn": "1"},
        act_as=AS,
        reply={},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_devices_wire_table(case: Case) -> None:
    await check_cases([case])


@pytest.mark.anyio
@pytest.mark.parametrize("hour", [-1, 24])
async def test_quiet_hours_out_of_range_rejected_before_sending(hour):
    sent: list[httpx2.Request] = []
    transport = httpx2.MockTransport(lambda req: sent.append(req) or httpx2.Response(200, json={"code": 200}))
    settings = Settings(
        endpoint="http://wire.test", app_id="a", access_token="test-token-0123456789", toolsets=("devices",)
    )
    server = build_server(settings, transport=transport)
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool(
            "set_user_quiet_hours", {"as_user_id": 1, "no_push_start_hour": hour, "no_push_end_hour": 7}
        )
    await server.lanying_client.aclose()
    assert result.is_error
    assert result.structured_content["error"]["code"] == "invalid_arguments"
    assert not sent
