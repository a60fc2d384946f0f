"""Human confirmation, operator policy and the audit log."""

from __future__ import annotations

import json

import pytest
from mcp.types import ElicitResult

from lanying_mcp.core.errors import SettingsError
from lanying_mcp.safety.policy import Policy
from lanying_mcp.sandbox import Store
from lanying_mcp.sandbox.groups import groups
from lanying_mcp.toolsets import CATALOGUE
from tests.helpers import call, call_error, sandbox_client


def answering(action: str, confirm: bool = True, asked: list[str] | None = None):
    async def human(context, params) -> ElicitResult:
        if asked is not None:
            asked.append(params.message)
        return ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)

    return human


def seeded() -> tuple[Store, int, int, int]:
    store = Store()
    owner = store.add_user("own", "pw").user_id
    member = store.add_user("mem", "pw").user_id
    return store, owner, member, 0


async def new_group(client, owner: int, member: int) -> int:
    gid = (await call(client, "create_group", {"as_user_id": owner, "name": "Beta testers"}))["data"]["group_id"]
    await call(client, "invite_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": [member]})
    return gid


@pytest.mark.anyio
async def test_the_human_sees_what_will_be_destroyed_and_confirms(mode):
    store, owner, member, _ = seeded()
    asked: list[str] = []
    async with sandbox_client(store, mode=mode, elicitation=answering("accept", True, asked)) as client:
        gid = await new_group(client, owner, member)
        assert asked == [], "creating and inviting ask nothing"
        await call(client, "destroy_group", {"as_user_id": owner, "group_id": gid})
    assert len(asked) == 1
    assert "Beta testers" in asked[0] and str(gid) in asked[0] and "2 members" in asked[0]
    assert "cannot be undone" in asked[0]
    assert gid not in groups(store).groups


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("action", "confirm", "word"),
    [("decline", True, "declined"), ("cancel", True, "cancelled"), ("accept", False, "declined")],
)
async def test_declined_or_cancelled_does_nothing(mode, action, confirm, word):
    store, owner, member, _ = seeded()
    async with sandbox_client(store, mode=mode, elicitation=answering(action, confirm)) as client:
        gid = await new_group(client, owner, member)
        err = await call_error(client, "destroy_group", {"as_user_id": owner, "group_id": gid})
    assert err["code"] == "declined" and word in err["message"] and "nothing was done" in err["message"]
    assert gid in groups(store).groups


@pytest.mark.anyio
async def test_a_client_that_cannot_ask_is_refused(mode):
    store, owner, member, _ = seeded()
    # approval off: neither elicitation nor the approval page can ask (the page's own tests: test_approval.py)
    async with sandbox_client(store, mode=mode, elicitation=None, approval="off") as client:
        gid = await new_group(client, owner, member)
        err = await call_error(
            client, "kick_group_members", {"as_user_id": owner, "group_id": gid, "user_ids": [member]}
        )
        assert err["code"] == "confirmation_required" and "--no-confirm" in err["hint"]
        # reads and ordinary writes still work
        await call(client, "get_group_info", {"group_id": gid})
    assert member in groups(store).groups[gid].members


@pytest.mark.anyio
async def test_the_operator_may_opt_out_explicitly():
    store, owner, member, _ = seeded()
    async with sandbox_client(store, elicitation=None, confirm=False) as client:
        gid = await new_group(client, owner, member)
        await call(client, "destroy_group", {"as_user_id": owner, "group_id": gid})
    assert gid not in groups(store).groups


@pytest.mark.anyio
async def test_the_model_cannot_confirm_by_itself():
    store, owner, member, _ = seeded()
    async with sandbox_client(store, elicitation=None) as client:
        gid = await new_group(client, owner, member)
        for extra in ({"confirm": True}, {"confirmed": True}, {"yes": True}):
            err = await call_error(client, "destroy_group", {"as_user_id": owner, "group_id": gid, **extra})
            assert err["code"] in ("invalid_arguments", "confirmation_required")
    assert gid in groups(store).groups


@pytest.mark.anyio
async def test_push_to_everyone_and_broadcast_ask_but_targeted_push_does_not():
    asked: list[str] = []
    async with sandbox_client(elicitation=answering("accept", True, asked)) as client:
        await call(client, "send_push", {"user_ids": [1, 2], "message": {"body": "hi"}})
        assert asked == []
        await call(client, "send_push", {"all_devices": True, "message": {"body": "hi"}})
        assert "EVERY user and device" in asked[-1]


@pytest.mark.anyio
async def test_discovery_call_tool_confirms_the_named_tool():
    store, owner, member, _ = seeded()
    asked: list[str] = []
    async with sandbox_client(store, toolsets=(), discovery=True, elicitation=answering("decline", True, asked)) as c:
        group = await call(c, "call_tool", {"name": "create_group", "arguments": {"as_user_id": owner, "name": "d"}})
        gid = group["data"]["group_id"]
        err = await call_error(
            c, "call_tool", {"name": "destroy_group", "arguments": {"as_user_id": owner, "group_id": gid}}
        )
    assert err["code"] == "declined" and len(asked) == 1 and "destroy_group" in asked[0]
    assert gid in groups(store).groups


# --- policy -------------------------------------------------------------------------------------


def write_policy(tmp_path, text: str, suffix: str = ".toml") -> str:
    path = tmp_path / f"policy{suffix}"
    path.write_text(text)
    return str(path)


@pytest.mark.anyio
async def test_policy_denies_tools_and_limits_who_gets_messages(tmp_path):
    store, owner, member, _ = seeded()
    outsider = store.add_user("outsider", "pw").user_id
    policy = write_policy(
        tmp_path,
        f"""
deny_tools = ["delete_user"]
[allow]
users = [{owner}, {member}]
push_tags = ["beta"]
""",
    )
    async with sandbox_client(store, policy_file=policy) as client:
        listed = {t.name for t in (await client.list_tools()).tools}
        assert "delete_user" not in listed
        err = await call_error(client, "delete_user", {"as_user_id": member})
        assert err["code"] == "not_allowed" and "policy" in err["message"]
        await call(client, "send_message", {"user_ids": [member], "content": "ok"})
        err = await call_error(client, "send_message", {"user_ids": [member, outsider], "content": "no"})
        assert err["code"] == "not_allowed" and str(outsider) in err["message"]
        err = await call_error(client, "send_message", {"group_ids": [5], "content": "no"})
        assert "groups" in err["message"]
        await call(client, "send_push", {"tags": ["beta"], "message": {"body": "ok"}})
        assert (await call_error(client, "send_push", {"tags": ["prod"], "message": {}}))["code"] == "not_allowed"
        assert (await call_error(client, "send_push", {"all_devices": True, "message": {}}))["code"] == "not_allowed"
        assert (await call_error(client, "broadcast_message", {"content": "x"}))["code"] == "not_allowed"


@pytest.mark.anyio
async def test_policy_can_require_confirmation_for_more_tools(tmp_path):
    asked: list[str] = []
    policy = write_policy(tmp_path, '{"confirm_tools": ["register_user"]}', ".json")
    async with sandbox_client(policy_file=policy, elicitation=answering("decline", True, asked)) as client:
        err = await call_error(client, "register_user", {"username": "polly", "password": "pw"})
    assert err["code"] == "declined" and "register_user" in asked[0]


def test_bad_policies_fail_at_start_up(tmp_path):
    names = set(CATALOGUE)
    with pytest.raises(SettingsError, match="unknown tools"):
        Policy.load(write_policy(tmp_path, 'deny_tools = ["no_such_tool"]'), names)
    with pytest.raises(SettingsError, match="not valid TOML"):
        Policy.load(write_policy(tmp_path, "deny_tools = ["), names)
    with pytest.raises(SettingsError, match="unknown keys"):
        Policy.load(write_policy(tmp_path, "allow_all = true"), names)
    with pytest.raises(SettingsError, match="cannot read"):
        Policy.load(str(tmp_path / "missing.toml"), names)


# --- audit log ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_every_write_is_audited_with_secrets_removed(tmp_path, mode):
    log = tmp_path / "audit.jsonl"
    store, owner, member, _ = seeded()
    async with sandbox_client(store, mode=mode, audit_log=str(log), elicitation=answering("decline")) as client:
        await call(client, "register_user", {"username": "audited", "password": "hunter2-secret"})
        # written before the result came back: the entry is already on disk
        entries = [json.loads(line) for line in log.read_text().splitlines()]
        assert entries[-1]["tool"] == "register_user" and entries[-1]["outcome"] == "ok"
        await call_error(client, "register_user", {"username": "audited", "password": "x"})
        gid = await new_group(client, owner, member)
        await call_error(client, "destroy_group", {"as_user_id": owner, "group_id": gid})
        await call(client, "list_users", {})
        resource = await client.read_resource("lanying://audit-log")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    entries = [e for e in lines if e["outcome"] != "intent"]
    tools = [e["tool"] for e in entries]
    assert tools == ["register_user", "register_user", "create_group", "invite_group_members", "destroy_group"]
    # Each write that was sent has its intent on disk first, under the same id; the declined one has none.
    intents = {e["id"]: e["tool"] for e in lines if e["outcome"] == "intent"}
    assert sorted(intents.values()) == ["create_group", "invite_group_members", "register_user", "register_user"]
    assert all(intents[e["id"]] == e["tool"] for e in entries if "id" in e)
    assert entries[1]["outcome"] == "error" and entries[1]["code"] == 10004
    assert entries[-1]["code"] == "declined"
    assert "hunter2-secret" not in log.read_text() and entries[0]["arguments"]["password"] == "[redacted]"
    assert entries[0]["http"] == "POST /user/register/v2" and entries[0]["time"].endswith("+00:00")
    assert "destroy_group" in resource.contents[0].text


@pytest.mark.anyio
async def test_resources_and_prompts_are_offered():
    async with sandbox_client() as client:
        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        assert {"lanying://errors", "lanying://toolsets"} <= uris
        errors_doc = json.loads((await client.read_resource("lanying://errors")).contents[0].text)
        assert any(e["code"] == 20013 for e in errors_doc)
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        assert prompts == {"onboard_users", "announce_to_group", "diagnose_push"}
        got = await client.get_prompt("diagnose_push", {"user_id": "42"})
        assert "42" in got.messages[0].content.text and "get_push_task_details" in got.messages[0].content.text


def test_prompts_name_only_real_tools():
    import re

    from lanying_mcp.serving import guides
    from tests.test_catalogue import VERBS

    for text in (guides.onboard_users("a", "g"), guides.announce("1", "m"), guides.diagnose_push("2")):
        for name in re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text):
            if name.split("_")[0] in VERBS:
                assert name in CATALOGUE, name


@pytest.mark.anyio
async def test_a_write_whose_audit_entry_cannot_be_written_is_not_made(tmp_path, monkeypatch, mode):
    """Fail closed: the intent line goes to disk before the request; when it cannot, nothing is sent."""
    log = tmp_path / "audit.jsonl"
    store = Store()
    async with sandbox_client(store, mode=mode, audit_log=str(log)) as client:
        await call(client, "list_users", {})  # reads are not audited: they work whatever the log does

        def full_disk(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("lanying_mcp.safety.audit.os.fsync", full_disk)
        err = await call_error(client, "register_user", {"username": "never_made", "password": "pw-123456"})
        monkeypatch.undo()
        assert err["code"] == "audit_unavailable" and "NOT" in err["message"]
        assert "never_made" not in store.by_username
        await call(client, "register_user", {"username": "made_after", "password": "pw-123456"})
    assert "made_after" in store.by_username


@pytest.mark.anyio
async def test_a_crash_after_a_write_was_sent_is_never_called_retryable(monkeypatch):
    """A failure of our own after the request went out may hide an applied write: say so, never 'retry'."""
    import lanying_mcp.engine.dispatch as dispatch

    store = Store()
    owner = store.add_user("crash_owner", "pw").user_id

    def broken(op, envelope):
        raise RuntimeError("a bug while reading the answer")

    monkeypatch.setattr(dispatch, "shape", broken)
    async with sandbox_client(store) as client:
        err = await call_error(client, "create_group", {"as_user_id": owner, "name": "Applied anyway"})
    assert err["code"] == "internal_error" and err["retryable"] is False
    assert "may have been applied" in err["hint"] and "Retry once" not in err["hint"]
    assert [g.name for g in groups(store).groups.values()] == ["Applied anyway"]
