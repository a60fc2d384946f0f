"""Group moderation: mute members or the whole group, blacklist, invitations, join applications, QR codes."""

from typing import Annotated, Any

from ..core.spec import (
    DELETE,
    QUERY,
    READ,
    UNPAGED,
    UPDATE,
    WRITE,
    ApiModel,
    AsGroup,
    AsUser,
    Audience,
    Body,
    Consent,
    Effect,
    IdPaths,
    Named,
    Never,
    Operation,
    Pages,
    Paging,
    Params,
    Target,
    Toolset,
    f,
    undo,
    username_list,
)
from .common import GroupMember, GroupUserResult

TOOLSET = Toolset(
    "group_moderation",
    (
        "Group moderation: mute members or the whole group, blacklist, invitations, join applications, QR codes.",
        "群管理:禁言成员或全员、黑名单、入群邀请、入群申请、二维码。",
    ),
)

GROUP_ID = ("Group ID.", "群ID。")
# Admin-only operations: the two act-as headers say whose authority the admin token borrows.
AS_ADMIN = ("Act as this user, an owner or admin of the group (omit: app admin).", "以此用户(群主或管理员)身份调用。")
AS_GROUP_ADMIN = ("Act as an admin of this group ID (admin token).", "以此群管理员身份调用(管理员token)。")
AS_MEMBER = ("Act as this member (admin token only).", "以此成员身份调用(仅管理员token)。")
CURSOR = ("Cursor from the previous page; omit for the first page.", "上一页返回的游标;首页不填。")
VERSION = ("Data version from a previous call (default 0).", "上次返回的数据版本(默认0)。")


def _limit(default: int, most: int) -> Any:
    return f(
        f"Page size (default {default}, at most {most}).",
        f"每页数量(默认{default},最多{most})。",
        default,
        ge=1,
        le=most,
    )


class AdminParams(Params):
    as_user_id: AsUser = f(*AS_ADMIN, None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    group_id: int = f(*GROUP_ID)


class UserListParams(AdminParams):
    user_ids: Annotated[list[int] | None, Body("user_list")] = f(
        "Target user IDs.", "目标用户ID列表。", None, min_length=1
    )
    usernames: list[str] | None = username_list(required=True)


class MuteMembers(UserListParams):
    duration: int = f("Mute length in minutes.", "禁言时长(分钟)。", ge=1)


class MuteGroup(AdminParams):
    duration: int = f("Mute length in minutes.", "禁言时长(分钟)。", ge=1)


class GroupPage(Params):
    as_user_id: AsUser = f(*AS_MEMBER, None)
    group_id: int = f(*GROUP_ID)
    cursor: str | None = f(*CURSOR, None)
    limit: int | None = _limit(40, 1000)
    version: int | None = f(*VERSION, None)


class ListInvitations(Params):
    as_user_id: AsUser = f("The user whose invitations to list.", "要列出其入群邀请的用户ID。", None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    cursor: str | None = f(*CURSOR, None)
    limit: int | None = _limit(20, 100)
    version: int | None = f(*VERSION, None)


class HandleInvitation(Params):
    as_user_id: AsUser = f("The invited user, who answers.", "被邀请的用户(作答者)。", None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    group_id: int = f(*GROUP_ID)
    user_id: int = f("The inviter (inviter_id in list_group_invitations).", "邀请者ID(见list_group_invitations)。")
    approval: bool = f("true accept, false decline.", "true接受,false拒绝。")


class Apply(Params):
    as_user_id: AsUser = f("The user who applies.", "申请入群的用户ID。", None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    group_id: int = f(*GROUP_ID)
    reason: str | None = f("Message to the admins.", "申请理由。", None)


class HandleApplication(AdminParams):
    user_id: int = f("The applicant.", "申请者用户ID。")
    approval: bool = f("true approve, false reject.", "true同意,false拒绝。")


class ListApplications(Params):
    as_user_id: AsUser = f(*AS_ADMIN, None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    group_ids: Annotated[list[int], Body("group_list")] = f(
        "Groups whose applications to list.", "要查询申请的群ID列表。", min_length=1
    )
    cursor: Annotated[str | None, QUERY] = f(*CURSOR, None)
    limit: Annotated[int | None, QUERY] = _limit(20, 100)
    version: Annotated[int | None, QUERY] = f(*VERSION, None)


class QrSign(Params):
    as_user_id: AsUser = f("The member who shares the code.", "分享二维码的群成员。", None)
    group_id: int = f(*GROUP_ID)


class QrJoin(Params):
    as_user_id: AsUser = f("The user who scanned the code and joins.", "扫码入群的用户ID。", None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    qr_info: str = f("qr_info from get_group_qrcode.", "get_group_qrcode返回的qr_info。", min_length=1)


class BanAll(ApiModel):
    ban_expire_time: int | None = f(
        "Mute-all end, epoch seconds; -1 forever, 0 none.", "全员禁言结束时间(秒);-1永久,0未禁言。", None
    )


class BlockedUser(ApiModel):
    group_id: int | None = None
    user_id: int | None = None
    created_at: str | None = f("When blocked (date-time).", "加入黑名单的时间。", None)


class Invitation(ApiModel):
    group_id: int | None = None
    inviter_id: int | None = None
    invitee_id: int | None = None
    reason: str | None = None
    status: int | None = f("0 pending, 1 accepted, 2 declined.", "0待处理,1已同意,2已拒绝。", None)
    expired_time: int | None = f("Expiry, epoch ms.", "过期时间(毫秒)。", None)
    updated_at: str | None = f("Last change (date-time).", "更新时间。", None)


class Application(ApiModel):
    group_id: int | None = None
    applicant_id: int | None = None
    reason: str | None = None
    status: int | None = f("0 pending, 1 approved, 2 rejected.", "0待处理,1已同意,2已拒绝。", None)
    expired_time: int | None = f("Expiry, epoch ms.", "过期时间(毫秒)。", None)


class QrCode(ApiModel):
    qr_info: str | None = f("Pass to join_group_by_qrcode.", "传给join_group_by_qrcode。", None)
    create_at: int | None = f("Created, epoch ms.", "生成时间(毫秒)。", None)
    expire_at: int | None = f("Expiry, epoch ms.", "过期时间(毫秒)。", None)


PAGE_EXTRAS = ("cursor", "total", "version")

OPERATIONS: list[Operation] = [
    Operation(
        name="mute_group_members",
        effect=Effect(
            Target.MEMBER,
            ("mute_end",),
            undo("unmute_group_members", "as_user_id", "as_group_id", "group_id", "user_ids"),
        ),
        consent=Consent(duration="duration"),
        http="POST /group/ban",
        params=MuteMembers,
        result=list[GroupUserResult],
        title=("Mute group members", "禁言群成员"),
        description=(
            "Stop members from speaking in a group for some minutes (admin). Returns success or fail per user.",
            "禁止成员在群内发言若干分钟(管理员)。逐个返回成功或失败。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=DELETE,
        ids=IdPaths(users=("data[].user_id",)),
    ),
    Operation(
        name="unmute_group_members",
        effect=Effect(
            Target.MEMBER,
            ("mute_end", "mute_minutes"),
            undo(
                "mute_group_members",
                "as_user_id",
                "as_group_id",
                "group_id",
                each="user_ids",
                user_ids="[item]",
                duration="before.mute_minutes",
            ),
        ),
        http="POST /group/unban",
        params=UserListParams,
        result=list[GroupUserResult],
        title=("Unmute group members", "解除成员禁言"),
        description=(
            "Lift members' mute in a group (admin). Returns success or fail per user.",
            "解除成员禁言(管理员)。逐个返回结果。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=UPDATE,
        ids=IdPaths(users=("data[].user_id",)),
    ),
    Operation(
        name="list_muted_group_members",
        http="GET /group/banned_list",
        params=GroupPage,
        result=list[GroupMember],
        extras=PAGE_EXTRAS,
        title=("List muted members", "获取禁言列表"),
        description=(
            "One page of a group's muted members (expired_time = mute end, ms). Next page: pass the returned cursor.",
            "分页获取群禁言成员(expired_time为解禁时间,毫秒)。下一页传入返回的cursor。",
        ),
        paging=Paging(Pages.CURSOR, arg="cursor", next="cursor", total="total"),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[].user_id",), text=("data[].display_name",)),
    ),
    Operation(
        name="mute_group",
        effect=Effect(
            Target.GROUP, ("ban_expire_time",), undo("unmute_group", "as_user_id", "as_group_id", "group_id")
        ),
        consent=Consent(duration="duration"),
        http="POST /group/settings/ban_all",
        params=MuteGroup,
        result=BanAll,
        title=("Mute whole group", "全员禁言"),
        description=(
            "Mute all members for some minutes so only admins may speak (admin). Returns ban_expire_time.",
            "全员禁言若干分钟,仅管理员可发言(管理员)。返回ban_expire_time。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=DELETE,
    ),
    Operation(
        name="unmute_group",
        effect=Effect(
            Target.GROUP,
            ("ban_expire_time", "mute_minutes"),
            undo("mute_group", "as_user_id", "as_group_id", "group_id", duration="before.mute_minutes"),
        ),
        http="POST /group/settings/unban_all",
        params=AdminParams,
        result=bool,
        title=("Lift mute-all", "取消全员禁言"),
        description=("End a group's mute-all so members may speak again (admin).", "取消全员禁言(管理员)。"),
        named=Named(group="group_id", acting="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="block_group_members",
        effect=Effect(
            Target.MEMBER,
            ("blocked",),
            undo("unblock_group_members", "as_user_id", "as_group_id", "group_id", "user_ids"),
        ),
        http="POST /group/block",
        params=UserListParams,
        result=list[GroupUserResult],
        title=("Blacklist users from group", "拉黑群成员"),
        description=(
            "Add users to a group's blacklist (admin): members are removed and none can rejoin. Result per user.",
            "将用户加入群黑名单(管理员):成员被移出且不能再加入。逐个返回结果。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=DELETE,
        ids=IdPaths(users=("data[].user_id",)),
    ),
    Operation(
        name="unblock_group_members",
        effect=Effect(
            Target.MEMBER,
            ("blocked",),
            undo("block_group_members", "as_user_id", "as_group_id", "group_id", "user_ids"),
        ),
        http="POST /group/unblock",
        aliases=("DELETE",),
        params=UserListParams,
        result=list[GroupUserResult],
        title=("Remove from group blacklist", "移出群黑名单"),
        description=(
            "Remove users from a group's blacklist so they may join again (admin). Result per user.",
            "将用户移出群黑名单,之后可再入群(管理员)。逐个返回结果。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=UPDATE,
        ids=IdPaths(users=("data[].user_id",)),
    ),
    Operation(
        name="list_group_blocked_users",
        http="GET /group/blocked_list",
        params=GroupPage,
        result=list[BlockedUser],
        extras=PAGE_EXTRAS,
        title=("List group blacklist", "获取群黑名单"),
        description=(
            "One page of a group's blacklisted users. Next page: pass the returned cursor; stop when empty.",
            "分页获取群黑名单。下一页传入返回的cursor;为空时结束。",
        ),
        paging=Paging(Pages.CURSOR, arg="cursor", next="cursor", total="total"),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[].user_id",), plain=("data[].group_id",)),
    ),
    Operation(
        name="list_group_invitations",
        http="GET /group/invitation_list",
        params=ListInvitations,
        result=list[Invitation],
        extras=PAGE_EXTRAS,
        title=("List group invitations", "获取入群邀请列表"),
        description=(
            "One page of the group invitations sent to as_user_id, with status. Next page: pass the returned cursor.",
            "分页获取as_user_id收到的入群邀请及状态。下一页传入返回的cursor。",
        ),
        paging=Paging(Pages.CURSOR, arg="cursor", next="cursor", total="total"),
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(
            users=("data[].inviter_id", "data[].invitee_id"), groups=("data[].group_id",), text=("data[].reason",)
        ),
    ),
    Operation(
        name="handle_group_invitation",
        effect=Effect(Target.REQUEST, ("invitation",), irreversible=Never.ANSWERED),
        http="POST /group/invite/handle",
        aliases=("PUT",),
        params=HandleInvitation,
        result=bool,
        title=("Answer group invitation", "处理入群邀请"),
        description=(
            "The invited user (as_user_id) accepts or declines a pending group invitation; accepting joins the group.",
            "被邀请者(as_user_id)接受或拒绝待处理的入群邀请;接受即入群。",
        ),
        named=Named(group="group_id", acting="as_user_id", user="user_id"),
        hints=WRITE,
    ),
    Operation(
        name="apply_to_join_group",
        effect=Effect(Target.REQUEST, ("application",), irreversible=Never.REQUEST),
        http="POST /group/apply",
        params=Apply,
        result=GroupUserResult,
        title=("Apply to join group", "申请入群"),
        description=(
            "as_user_id asks to join a group: joins at once, waits for admin approval, or is refused, per its setting.",
            "as_user_id申请入群:按群设置直接加入、等待管理员审批或被拒绝。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=WRITE,
        audience=Audience(groups=("group_id",), text=("reason",)),
        ids=IdPaths(plain=("data.user_id",)),
    ),
    Operation(
        name="handle_group_application",
        effect=Effect(Target.REQUEST, ("application",), irreversible=Never.ANSWERED),
        http="POST /group/apply/handle",
        aliases=("PUT",),
        params=HandleApplication,
        result=GroupUserResult,
        title=("Approve or reject join application", "处理入群申请"),
        description=(
            "Approve (the applicant joins) or reject a pending join application (admin).",
            "同意(申请者入群)或拒绝待处理的入群申请(管理员)。",
        ),
        named=Named(group="group_id", acting="as_user_id", user="user_id"),
        hints=WRITE,
        ids=IdPaths(plain=("data.user_id",)),
    ),
    Operation(
        name="list_group_applications",
        http="POST /group/application_list",
        params=ListApplications,
        result=list[Application],
        extras=PAGE_EXTRAS,
        title=("List join applications", "获取入群申请列表"),
        description=(
            "One page of join applications to the given groups (admin). Next page: pass the returned cursor.",
            "分页获取指定群的入群申请(管理员)。下一页传入返回的cursor。",
        ),
        paging=Paging(Pages.CURSOR, arg="cursor", next="cursor", total="total"),
        named=Named(acting="as_user_id", groups="group_ids"),
        hints=READ,
        ids=IdPaths(users=("data[].applicant_id",), groups=("data[].group_id",), text=("data[].reason",)),
    ),
    Operation(
        name="get_group_qrcode",
        http="GET /group/qrcode/sign",
        params=QrSign,
        result=QrCode,
        title=("Get group QR invitation", "获取群邀请二维码"),
        description=(
            "A signed, expiring qr_info inviting into a group; others join with it via join_group_by_qrcode.",
            "获取签名且有时效的群邀请qr_info;他人用join_group_by_qrcode扫码入群。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
    ),
    Operation(
        name="join_group_by_qrcode",
        effect=Effect(
            Target.MEMBER, ("membership", "group_id"), undo("leave_group", "as_user_id", group_id="before.group_id")
        ),
        http="POST /group/qrcode/invite",
        params=QrJoin,
        result=Any,
        title=("Join group by QR code", "扫码入群"),
        description=(
            "as_user_id joins the group a qr_info (from get_group_qrcode) invites to, without approval.",
            "as_user_id凭qr_info(来自get_group_qrcode)直接加入群,无需审批。",
        ),
        named=Named(acting="as_user_id"),
        hints=WRITE,
    ),
]
