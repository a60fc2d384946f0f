"""Roster (friends): friend lists, requests, blacklist, user search (`/roster/*`, legacy `/user/*roster*`)."""

from __future__ import annotations

from typing import Annotated

from ..spec import READ, UPDATE, ApiModel, AsUserRequired, Body, Operation, Params, Toolset, f

TOOLSET = Toolset(
    "roster", ("Friends: add, list, requests, blacklist, find users.", "好友:添加、列表、申请、黑名单、查找用户。")
)


class AddFriends(Params):
    as_user_id: AsUserRequired = f("The user who gains the friends.", "添加方用户ID。")
    user_ids: Annotated[list[int], Body("list")] = f(
        "User IDs to add as friends, without any request step.", "被添加为好友的用户ID列表(无需申请)。", min_length=1
    )


class ListFriends(Params):
    as_user_id: AsUserRequired = f("Whose friends to list.", "要列出其好友的用户ID。")


class FriendName(ApiModel):
    user_id: int | None = None
    name: str | None = None


OPERATIONS: list[Operation] = [
    Operation(
        name="add_friends",
        http="POST /user/add_roster",
        params=AddFriends,
        result=bool,
        title=("Add friends directly", "直接添加好友"),
        description=(
            "Make users friends of as_user_id at once, with no request to accept (admin, legacy API).",
            "直接为as_user_id添加好友,无需对方同意(管理员,旧版接口)。",
        ),
        hints=UPDATE,
        default=True,
    ),
    Operation(
        name="list_friends",
        http="GET /user/rosters",
        params=ListFriends,
        result=list[FriendName],
        title=("List friends with names", "获取好友列表(含名称)"),
        description=(
            "All friends of as_user_id with their names (legacy API; list_friend_ids pages IDs).",
            "as_user_id的全部好友及名称(旧版接口;分页ID见list_friend_ids)。",
        ),
        hints=READ,
        default=True,
    ),
]
