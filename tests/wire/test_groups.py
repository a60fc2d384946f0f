"""Wire table for the core group tools: arguments → exactly the documented request."""

import pytest

from tests.helpers import Case, check_cases

G = 2306414607729
U = 2302128618880
V = 2199040544848
W = 2199040544992

INFO = {"group_id": G, "name": "g", "owner_id": U, "count": 3, "capacity": 2000, "msg_push_mode": 0}
RESULTS = [{"user_id": V, "result": "success"}, {"user_id": W, "result": "fail", "reason": "20002 not a member"}]


def setter(tool: str, path: str, value: object, **act_as: str) -> Case:
    args: dict[str, object] = {"group_id": G, "value": value}
    args.update({f"as_{k}": int(v) for k, v in act_as.items()})
    return Case(tool, args, "POST", path, json={"group_id": G, "value": value}, act_as=act_as)


CASES = [
    Case(
        "get_group_info",
        {"group_id": G},
        "GET",
        "/group/info",
        query={"group_id": str(G)},
        reply=INFO,
    ),
    Case(
        "get_group_info",
        {"group_id": G, "as_user_id": U},
        "GET",
        "/group/info",
        query={"group_id": str(G)},
        act_as={"user_id": str(U)},
        reply=INFO,
    ),
    Case(
        "get_groups_info",
        {"group_ids": [G, G + 1], "as_user_id": U},
        "POST",
        "/group/info/batch",
        json={"group_list": [G, G + 1]},
        act_as={"user_id": str(U)},
        reply=[{"group_id": G, "owner": U, "count": 3, "msg_mute_mode": 1}],
    ),
    Case(
        "get_group_settings",
        {"group_id": G, "as_user_id": U},
        "GET",
        "/group/settings",
        query={"group_id": str(G)},
        act_as={"user_id": str(U)},
        reply=INFO,
    ),
    setter("set_group_name", "/group/info/name", "新群名", group_id=str(G)),
    setter("set_group_description", "/group/info/description", "", user_id=str(U)),
    setter("set_group_avatar", "/group/info/avatar", "https://img.example/a.png"),
    setter("set_group_ext", "/group/info/ext", '{"tag":"vip"}', user_id=str(U)),
    setter("set_group_member_invite", "/group/settings/allow_member_invitation", False, user_id=str(U)),
    setter("set_group_member_modify", "/group/settings/allow_member_modify", True, group_id=str(G)),
    setter("set_group_read_ack", "/group/settings/enable_read_ack", True),
    setter("set_group_hide_member_info", "/group/settings/hide_member_info", True, user_id=str(U)),
    setter("set_group_history_visible", "/group/settings/history_visible", False),
    Case(
        "set_group_apply_approval",
        {"group_id": G, "apply_approval": 2, "as_group_id": G},
        "POST",
        "/group/settings/require_admin_approval",
        json={"group_id": G, "apply_approval": 2},
        act_as={"group_id": str(G)},
    ),
    Case(
        "add_group_admins",
        {"group_id": G, "user_ids": [V, W], "as_user_id": U},
        "POST",
        "/group/admin/add",
        json={"group_id": G, "user_list": [V, W]},
        act_as={"user_id": str(U)},
        reply=RESULTS,
    ),
    Case(
        "remove_group_admins",
        {"group_id": G, "user_ids": [V]},
        "POST",
        "/group/admin/remove",
        json={"group_id": G, "user_list": [V]},
        reply=RESULTS[:1],
    ),
    Case(
        "list_group_admins",
        {"group_id": G, "as_user_id": V},
        "GET",
        "/group/admin_list",
        query={"group_id": str(G)},
        act_as={"user_id": str(V)},
        reply=[{"user_id": V, "display_name": "管理员", "join_time": 1700000000000}],
    ),
    Case(
        "transfer_group_owner",
        {"group_id": G, "new_owner": V, "as_user_id": U},
        "POST",
        "/group/transfer",
        json={"group_id": G, "new_owner": V},
        act_as={"user_id": str(U)},
        reply={"user_id": V, "result": "success"},
    ),
    Case(
        "kick_group_members",
        {"group_id": G, "user_ids": [V, W], "as_user_id": U},
        "POST",
        "/group/kick",
        json={"group_id": G, "user_list": [V, W]},
        act_as={"user_id": str(U)},
        reply=RESULTS,
    ),
    Case(
        "kick_group_members",
        {"group_id": G, "user_ids": [V], "as_group_id": G},
        "POST",
        "/group/kick",
        json={"group_id": G, "user_list": [V]},
        act_as={"group_id": str(G)},
        reply=RESULTS[:1],
    ),
    Case(
        "leave_group",
        {"group_id": G, "as_user_id": V},
        "POST",
        "/group/leave",
        query={"group_id": str(G)},
        act_as={"user_id": str(V)},
    ),
    Case(
        "set_group_display_name",
        {"group_id": G, "value": "小王", "as_user_id": V},
        "POST",
        "/group/display_name",
        json={"group_id": G, "value": "小王"},
        act_as={"user_id": str(V)},
    ),
    Case(
        "get_group_display_names",
        {"group_id": G, "user_ids": [V, W], "as_user_id": U},
        "POST",
        "/group/members/display_name",
        json={"group_id": G, "user_list": [V, W]},
        act_as={"user_id": str(U)},
        reply=[{"user_id": V, "display_name": "小王"}],
    ),
    Case(
        "set_group_msg_mute_mode",
        {"group_id": G, "msg_mute_mode": 2, "as_user_id": V},
        "POST",
        "/group/msg/mute_mode",
        json={"group_id": G, "msg_mute_mode": 2},
        act_as={"user_id": str(V)},
        reply=None,
    ),
    Case(
        "set_group_msg_push_mode",
        {"group_id": G, "msg_push_mode": 4, "as_user_id": V},
        "POST",
        "/group/msg/push_mode",
        json={"group_id": G, "msg_push_mode": 4},
        act_as={"user_id": str(V)},
        reply={},
    ),
    Case("list_public_groups", {}, "GET", "/group/public_list", reply=[G]),
    Case(
        "list_user_groups",
        {"as_user_id": V},
        "GET",
        "/group/user_joined",
        act_as={"user_id": str(V)},
        reply=[G, G + 1],
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_group_wire(case: Case) -> None:
    await check_cases([case])


def test_every_group_tool_has_a_row() -> None:
    from lanying_mcp.toolsets import groups

    covered = {c.tool for c in CASES} | {"create_group", "invite_group_members", "list_group_members", "destroy_group"}
    assert {op.name for op in groups.OPERATIONS} <= covered


def test_aliases_match_the_swagger() -> None:
    from lanying_mcp.toolsets import CATALOGUE

    expect = {
        "set_group_name": ("PUT",),
        "remove_group_admins": ("DELETE",),
        "kick_group_members": ("DELETE",),
        "leave_group": ("DELETE",),
        "transfer_group_owner": ("PUT",),
        "get_groups_info": (),
        "add_group_admins": (),
    }
    for name, aliases in expect.items():
        assert CATALOGUE[name].aliases == aliases, name
