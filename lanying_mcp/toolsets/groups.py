"""Groups: lifecycle, members, admins, settings, announcements, files, bans, invitations (`/group/*`)."""

from __future__ import annotations

from typing import Annotated, Literal

from ..spec import DELETE, READ, WRITE, AsUser, AsUserRequired, Body, Operation, Params, Toolset, f
from .common import GroupInfo, GroupMember, GroupUserResult

TOOLSET = Toolset(
    "groups",
    (
        "Groups: create, destroy, members, admins, settings, announcements, files, mutes, "
        "blacklist, invitations, applications, QR codes.",
        "群组:创建、解散、成员、管理员、设置、公告、文件、禁言、黑名单、邀请、申请、二维码。",
    ),
)

GROUP_ID = ("Group ID.", "群ID。")


class CreateGroup(Params):
    as_user_id: AsUserRequired = f("Owner of the new group.", "新群的群主用户ID。")
    name: str = f("Group name.", "群名称。", min_length=1)
    description: str | None = f("Group description.", "群描述。", None)
    avatar: str | None = f("Avatar URL.", "群头像URL。", None)
    type: Literal[0, 2] | None = f("0 private group (default), 2 chatroom.", "0私有群(默认),2聊天室。", None)
    user_ids: Annotated[list[int] | None, Body("user_list")] = f(
        "Users to invite at creation.", "创建时邀请的用户ID列表。", None
    )


class InviteMembers(Params):
    as_user_id: AsUser = f(
        "Who invites (the owner or a member allowed to invite).", "邀请人用户ID(群主或有邀请权限的成员)。", None
    )
    group_id: int = f(*GROUP_ID)
    user_ids: Annotated[list[int], Body("user_list")] = f("Users to invite.", "被邀请的用户ID列表。", min_length=1)
    reason: str | None = f("Invitation message.", "邀请理由。", None)


class ListMembers(Params):
    as_user_id: AsUser = f("Act as this member (admin token only).", "以此成员身份调用(仅管理员token)。", None)
    group_id: int = f(*GROUP_ID)
    cursor: str | None = f(
        "Cursor from the previous page; omit for the first page.", "上一页返回的游标;首页不填。", None
    )
    limit: int | None = f("Page size (default 1000).", "每页数量(默认1000)。", None, ge=1, le=1000)


class DestroyGroup(Params):
    as_user_id: AsUser = f(
        "Act as this user; must be the owner (omit to act as the app admin).",
        "以此用户身份调用,须为群主(不填则以应用管理员身份)。",
        None,
    )
    group_id: int = f(*GROUP_ID)


OPERATIONS: list[Operation] = [
    Operation(
        name="create_group",
        http="POST /group/create",
        params=CreateGroup,
        result=GroupInfo,
        title=("Create group", "创建群"),
        description=(
            "Create a group owned by as_user_id, optionally inviting users; returns its group_id and settings.",
            "以as_user_id为群主创建群,可同时邀请用户;返回group_id及群设置。",
        ),
        hints=WRITE,
        default=True,
    ),
    Operation(
        name="invite_group_members",
        http="POST /group/invite",
        params=InviteMembers,
        result=list[GroupUserResult],
        title=("Invite users to group", "邀请入群"),
        description=(
            "Invite users into a group; returns success or fail with a reason per user.",
            "邀请用户加入群;逐个返回成功或失败原因。",
        ),
        hints=WRITE,
        default=True,
    ),
    Operation(
        name="list_group_members",
        http="GET /group/member_list",
        params=ListMembers,
        result=list[GroupMember],
        extras=("cursor", "total", "version"),
        title=("List group members", "获取群成员列表"),
        description=(
            "One page of a group's members. For the next page pass the returned cursor; stop when it is empty.",
            "分页获取群成员。下一页传入返回的cursor;cursor为空时结束。",
        ),
        hints=READ,
        default=True,
    ),
    Operation(
        name="destroy_group",
        http="DELETE /group/destroy",
        aliases=("POST",),
        params=DestroyGroup,
        result=bool,
        title=("Destroy group", "解散群"),
        description=(
            "Disband a group for good: members, messages and files are gone. Owner only.",
            "永久解散群,成员、消息和文件都将失去。仅群主可操作。",
        ),
        hints=DELETE,
        default=True,
    ),
]
