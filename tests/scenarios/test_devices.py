"""Devices and push preferences against the sandbox: logins make devices, tools act on them."""

import httpx2
import pytest

from lanying_mcp.sandbox import Store, build_app
from lanying_mcp.sandbox.devices import device_push_token, profile, record_login
from tests.helpers import call, call_error, sandbox_client


def _store_with_user(name: str = "alice") -> tuple[Store, int]:
    store = Store()
    return store, store.add_user(name, "pw").user_id


def test_record_login_reuses_device_by_guid():
    store, uid = _store_with_user()
    first = record_login(store, uid, "guid-phone", platform=1)
    assert record_login(store, uid, "guid-phone", platform=1) == first
    web = record_login(store, uid, None)
    assert web != first
    assert record_login(store, uid, None) not in (first, web)  # no guid: every login is a new device
    assert device_push_token(store, uid, first).startswith("pt-")
    assert device_push_token(store, uid, web) == ""
    other = store.add_user("bob", "pw").user_id
    assert record_login(store, other, "guid-phone") == 1  # device numbers are per user


@pytest.mark.anyio
async def test_device_list_kick_and_remove(mode):
    store, uid = _store_with_user()
    phone = record_login(store, uid, "guid-phone", platform=2)
    web = record_login(store, uid, "guid-web")
    async with sandbox_client(store, mode=mode) as client:
        listed = await call(client, "list_user_devices", {"as_user_id": uid})
        assert [(d["device_sn"], d["platform"], d["user_id"]) for d in listed["data"]] == [
            (phone, 2, uid),
            (web, 6, uid),
        ]
        version = listed["version"]

        assert (await call(client, "kick_user_device", {"as_user_id": uid, "device_sn": phone}))["data"] is True
        devices = profile(store, uid).devices
        assert not devices[phone].online and devices[web].online
        await call(client, "kick_user_device", {"as_user_id": uid})
        assert not devices[web].online

        await call(client, "remove_user_device", {"as_user_id": uid, "device_sn": phone})
        listed = await call(client, "list_user_devices", {"as_user_id": uid})
        assert [d["device_sn"] for d in listed["data"]] == [web]
        assert listed["version"] > version

        assert (await call_error(client, "remove_user_device", {"as_user_id": uid, "device_sn": phone}))[
            "code"
        ] == 10002
        assert (await call_error(client, "kick_user_device", {"as_user_id": uid, "device_sn": 99}))["code"] == 10002


@pytest.mark.anyio
async def test_preferences_show_in_user_settings():
    store, uid = _store_with_user()
    async with sandbox_client(store) as client:
        for tool, args in [
            ("set_user_auto_download", {"enabled": True}),
            ("set_user_push_disabled", {"disabled": True}),
            ("set_user_push_detail_hidden", {"hidden": True}),
            ("set_user_quiet_hours", {"no_push_start_hour": 22, "no_push_end_hour": 7}),
            ("set_user_push_nickname", {"push_nick_name": "小蓝"}),
            ("set_user_sound_muted", {"muted": True}),
            ("set_user_vibration", {"enabled": True}),
        ]:
            assert (await call(client, tool, {"as_user_id": uid, **args}))["data"] is True
        expected = {
            "auto_download": True,
            "no_push": True,
            "no_push_detail": True,
            "no_push_start_hour": 22,
            "no_push_end_hour": 7,
            "push_nick_name": "小蓝",
            "no_sounds": True,
            "vibratory": True,
        }
        settings = store.users[uid].settings
        assert {k: settings[k] for k in expected} == expected
        shown = (await call(client, "get_user_settings", {"as_user_id": uid}))["data"]
        assert {k: shown.get(k) for k in expected} == expected

        await call(client, "set_user_push_disabled", {"as_user_id": uid, "disabled": False})
        assert store.users[uid].settings["no_push"] is False


@pytest.mark.anyio
async def test_push_tags_alias_and_badge():
    store, uid = _store_with_user()
    sn = record_login(store, uid, "guid-phone", platform=1)
    async with sandbox_client(store) as client:
        await call(client, "add_push_tags", {"as_user_id": uid, "tags": ["beijing", "vip"]})
        await call(client, "add_push_tags", {"as_user_id": uid, "tags": ["vip", "sport"]})
        assert (await call(client, "list_push_tags", {"as_user_id": uid}))["data"] == ["beijing", "vip", "sport"]
        await call(client, "remove_push_tags", {"as_user_id": uid, "tags": ["vip", "unknown"]})
        assert (await call(client, "list_push_tags", {"as_user_id": uid}))["data"] == ["beijing", "sport"]
        await call(client, "clear_push_tags", {"as_user_id": uid})
        assert (await call(client, "list_push_tags", {"as_user_id": uid}))["data"] == []

        error = await call_error(client, "bind_push_alias", {"as_user_id": uid, "alias": "a1", "push_token": "nope"})
        assert error["code"] == 10002
        token = device_push_token(store, uid, sn)
        await call(client, "bind_push_alias", {"as_user_id": uid, "alias": "a1", "push_token": token})
        await call(client, "set_push_badge", {"as_user_id": uid, "badge": 3})
        prof = profile(store, uid)
        assert (prof.alias, prof.alias_push_token, prof.badge) == ("a1", token, 3)


@pytest.mark.anyio
async def test_vendor_token_bind_and_unbind():
    store, uid = _store_with_user()
    sn = record_login(store, uid, "guid-phone", platform=1)
    async with sandbox_client(store) as client:
        args = {"as_user_id": uid, "device_token": "apns-abc", "notifier_name": "ios_prod"}
        assert (await call_error(client, "bind_device_token", {**args, "device_sn": sn + 1}))["code"] == 10002
        await call(client, "bind_device_token", {**args, "device_sn": sn})
        dev = profile(store, uid).devices[sn]
        assert (dev.device_token, dev.notifier_name) == ("apns-abc", "ios_prod")
        await call(client, "unbind_device_token", {"as_user_id": uid, "device_sn": sn})
        assert dev.device_token == ""
        assert (await call_error(client, "unbind_device_token", {"as_user_id": uid, "device_sn": 42}))["code"] == 10002


@pytest.mark.anyio
async def test_who_the_call_acts_on():
    store, uid = _store_with_user()
    other = store.add_user("bob", "pw").user_id
    record_login(store, uid, "guid-a")
    async with sandbox_client(store) as client:
        # the admin token must name a user: these calls have no app-wide meaning
        assert (await call_error(client, "list_user_devices"))["code"] == 10002
        assert (await call_error(client, "list_push_tags", {"as_user_id": 123}))["code"] == 10000
        # another user sees none of alice's devices, and cannot touch them
        assert (await call(client, "list_user_devices", {"as_user_id": other}))["data"] == []
        assert (await call_error(client, "remove_user_device", {"as_user_id": other, "device_sn": 1}))["code"] == 10002
    # a user token acts on its own user without any act-as header
    async with sandbox_client(store, access_token=store.issue_user_token(uid)) as client:
        assert [d["device_sn"] for d in (await call(client, "list_user_devices"))["data"]] == [1]
        await call(client, "set_user_sound_muted", {"muted": True})
    assert store.users[uid].settings["no_sounds"] is True
    assert not profile(store, other).devices


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "query", "code"),
    [
        ("POST", "/user/push/limit", {"no_push_start_hour": "24", "no_push_end_hour": "7"}, 10002),
        ("PUT", "/user/push/limit", {"no_push_start_hour": "1", "no_push_end_hour": "-1"}, 10002),
        ("POST", "/user/push/limit", {"no_push_start_hour": "1"}, 10002),
        ("POST", "/user/push", {"value": "maybe"}, 10002),
        ("PUT", "/user/push", {"value": "true"}, 200),
        ("DELETE", "/user/token/unbind", {"deviceSn": "1"}, 200),
        ("DELETE", "/user/device/remove", {"device_sn": "1"}, 200),
    ],
)
async def test_sandbox_checks_raw_requests(method, path, query, code):
    """What the params model already prevents, the sandbox still refuses, as the service would."""
    store, uid = _store_with_user()
    record_login(store, uid, "guid-a")
    headers = {"app_id": store.app_id, "access-token": store.admin_token, "user_id": str(uid)}
    transport = httpx2.ASGITransport(app=build_app(store))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        answer = (await http.request(method, path, params=query, headers=headers)).json()
    assert answer["code"] == code, answer
