"""Groups: lifecycle, members, admins, settings, announcements, files, bans, invitations (`/group/*`)."""

from typing import Annotated, Any, Literal

from ..core.spec import (
    DANGER,
    DELETE,
    QUERY,
    READ,
    UNPAGED,
    UPDATE,
    WRITE,
    ApiModel,
    AsGroup,
    AsUser,
    AsUserRequired,
    Audience,
    Batch,
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
    Risk,
    Target,
    Toolset,
    f,
    undo,
    username_list,
)
from .common import GroupInfo, GroupMember, GroupUserResult

TOOLSET = Toolset(
    "groups",
    (
        "Groups: create, invite, members, destroy, info and settings, admins, owner transfer, kick, leave, "
        "display names, the reader's mute/push modes, public groups, a user's groups.",
        "群组:创建、邀请、成员、解散、信息与设置、管理员、转让群主、踢人、退群、群昵称、本人屏蔽/推送模式、公开群、用户所在群。",
    ),
)

GROUP_ID = ("Group ID.", "群ID。")

# --- act-as texts shared by the operations below ----------------------------------------------
AS_ADMIN_GROUP = ("Act as an admin of this group ID (admin token only).", "以该群管理员身份调用(仅管理员token)。")
AS_ADMIN_USER = (
    "Act as this user; must be an admin or the owner (omit: app admin).",
    "以此用户身份调用,须为管理员或群主(不填则为应用管理员)。",
)
AS_OWNER_USER = (
    "Act as this user; must be the owner (omit: app admin).",
    "以此用户身份调用,须为群主(不填则为应用管理员)。",
)
AS_READER = ("Read as this user (admin token only).", "以此用户身份读取(仅管理员token)。")
AS_SELF = ("The member whose own setting this is.", "设置其本人选项的成员用户ID。")


class CreateGroup(Params):
    as_user_id: AsUserRequired = f("Owner of the new group.", "新群的群主用户ID。")
    name: str = f("Group name.", "群名称。", min_length=1)
    description: str | None = f("Group description.", "群描述。", None)
    avatar: str | None = f("Avatar URL.", "群头像URL。", None)
    type: Literal[0, 2] | None = f("0 private group (default), 2 chatroom.", "0私有群(默认),2聊天室。", None)
    user_ids: Annotated[list[int] | None, Body("user_list")] = f(
        "Users to invite at creation.", "创建时邀请的用户ID列表。", None
    )
    usernames: list[str] | None = username_list()


class InviteMembers(Params):
    as_user_id: AsUser = f(
        "Who invites (the owner or a member allowed to invite).", "邀请人用户ID(群主或有邀请权限的成员)。", None
    )
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    user_ids: Annotated[list[int] | None, Body("user_list")] = f(
        "Users to invite (more than 500 are invited in batches).",
        "被邀请的用户ID列表(超过500个时分批邀请)。",
        None,
        min_length=1,
        max_length=100_000,
    )
    usernames: list[str] | None = username_list(required=True)
    reason: str | None = f("Invitation message.", "邀请理由。", None)


class ListMembers(Params):
    as_user_id: AsUser = f("Act as this member (admin token only).", "以此成员身份调用(仅管理员token)。", None)
    group_id: int = f(*GROUP_ID)
    cursor: str | None = f(
        "Cursor from the previous page; omit for the first page.", "上一页返回的游标;首页不填。", None
    )
    limit: int | None = f("Page size (default 40, at most 1000).", "每页数量(默认40,最多1000)。", 40, ge=1, le=1000)


class DestroyGroup(Params):
    as_user_id: AsUser = f(
        "Act as this user; must be the owner (omit to act as the app admin).",
        "以此用户身份调用,须为群主(不填则以应用管理员身份)。",
        None,
    )
    group_id: int = f(*GROUP_ID)


class GroupDetails(GroupInfo):
    capacity: int | None = f("Member limit.", "人数上限。", None)
    count: int | None = f("Current member count.", "当前人数。", None)
    msg_mute_mode: int | None = f(
        "The caller's blocking: 0 none, 1 no notifications, 2 no messages.",
        "调用者屏蔽模式:0不屏蔽,1屏蔽通知,2屏蔽消息。",
        None,
    )
    msg_push_mode: int | None = f(
        "The caller's push: 0 all, 1 none, 2 admins+@, 3 admins, 4 @ only.",
        "调用者推送模式:0全部,1不推送,2管理员和@,3仅管理员,4仅@。",
        None,
    )


class GroupBrief(ApiModel):
    group_id: int | None = None
    name: str | None = None
    avatar: str | None = None
    owner: int | None = f("Owner user ID.", "群主用户ID。", None)
    type: int | None = f("0 private, 2 chatroom.", "0私有群,2聊天室。", None)
    status: int | None = f("0 normal, 1 disbanded.", "0正常,1已解散。", None)
    apply_approval: int | None = f("0 accept all, 1 admin approves, 2 reject.", "0同意所有,1审批,2拒绝。", None)
    capacity: int | None = f("Member limit.", "人数上限。", None)
    count: int | None = f("Member count.", "当前人数。", None)
    msg_mute_mode: int | None = f("Reader's blocking: 0 none, 1 alerts, 2 all.", "读取者屏蔽:0无,1通知,2消息。", None)
    msg_push_mode: int | None = f("Reader's push: 0 all ... 4 @ only.", "读取者推送:0全部…4仅@。", None)


class GetGroupInfo(Params):
    as_user_id: AsUser = f(*AS_READER, None)
    group_id: int = f(*GROUP_ID)


class GetGroupsInfo(Params):
    as_user_id: AsUser = f(
        "Read as this user; adds their mute/push modes.", "以此用户身份读取,附带其屏蔽/推送模式。", None
    )
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_ids: Annotated[list[int], Body("group_list")] = f("Group IDs.", "群ID列表。", min_length=1)


class GroupInfoChange(Params):
    """Shared shape of /group/info/*: `{group_id, value}`; each subclass says what `value` is."""

    as_user_id: AsUser = f(
        "Act as this user: an admin, or any member if member_modify is on (omit: app admin).",
        "以此用户身份调用:管理员,或在允许成员修改时任一成员(不填则为应用管理员)。",
        None,
    )
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)


class SetGroupName(GroupInfoChange):
    value: str = f("New group name.", "新群名称。", min_length=1)


class SetGroupDescription(GroupInfoChange):
    value: str = f("New description (empty clears it).", "新群描述(空串清除)。")


class SetGroupAvatar(GroupInfoChange):
    value: str = f("Avatar image URL.", "群头像URL。")


class SetGroupExt(GroupInfoChange):
    value: str = f("App-defined extension string, often JSON.", "应用自定义扩展字符串,常为JSON。")


class GroupSettingChange(Params):
    """Shared shape of /group/settings/*: `{group_id, value: bool}`; admins only."""

    as_user_id: AsUser = f(*AS_ADMIN_USER, None)
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)


class SetMemberInvite(GroupSettingChange):
    value: bool = f("true: members may invite others.", "true:成员可邀请他人入群。")


class SetMemberModify(GroupSettingChange):
    value: bool = f(
        "true: members may change name, description, avatar, ext.", "true:成员可修改群名称、描述、头像、扩展。"
    )


class SetReadAck(GroupSettingChange):
    value: bool = f("true: enable read receipts for group messages.", "true:开启群消息已读功能。")


class SetHideMemberInfo(GroupSettingChange):
    value: bool = f(
        "true: members other than admins no longer see others' details.", "true:非管理员成员看不到他人详细信息。"
    )


class SetHistoryVisible(GroupSettingChange):
    value: bool = f("true: new members see earlier messages.", "true:新成员可见历史消息。")


class SetApplyApproval(Params):
    as_user_id: AsUser = f(*AS_ADMIN_USER, None)
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    apply_approval: Literal[0, 1, 2] = f(
        "Join requests: 0 accept all, 1 an admin approves, 2 reject all.", "入群申请:0同意所有,1管理员审批,2拒绝所有。"
    )


class GroupAdmins(Params):
    as_user_id: AsUser = f(*AS_OWNER_USER, None)
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    user_ids: Annotated[list[int] | None, Body("user_list")] = f(
        "Member user IDs.", "成员用户ID列表。", None, min_length=1
    )
    usernames: list[str] | None = username_list(required=True)


class ListAdmins(Params):
    as_user_id: AsUser = f(*AS_READER, None)
    group_id: int = f(*GROUP_ID)


class TransferOwner(Params):
    as_user_id: AsUser = f(*AS_OWNER_USER, None)
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    new_owner: int = f("The member who becomes owner.", "成为新群主的成员用户ID。")


class KickMembers(Params):
    as_user_id: AsUser = f(
        "Act as this user: an admin kicks members, the owner also admins (omit: app admin).",
        "以此用户身份调用:管理员可踢成员,群主还可踢管理员(不填则为应用管理员)。",
        None,
    )
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    user_ids: Annotated[list[int] | None, Body("user_list")] = f(
        "Members to remove.", "要踢出的成员用户ID列表。", None, min_length=1
    )
    usernames: list[str] | None = username_list(required=True)


class LeaveGroup(Params):
    as_user_id: AsUserRequired = f("The member who leaves (not the owner).", "退群的成员用户ID(不能是群主)。")
    group_id: Annotated[int, QUERY] = f(*GROUP_ID)


class SetDisplayName(Params):
    as_user_id: AsUserRequired = f("The member whose group card to set.", "设置其群名片的成员用户ID。")
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    value: str = f("Display name (group card) in this group.", "本群中的群名片。")


class GetDisplayNames(Params):
    as_user_id: AsUser = f(*AS_READER, None)
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    user_ids: Annotated[list[int] | None, Body("user_list")] = f(
        "Member user IDs.", "成员用户ID列表。", None, min_length=1
    )
    usernames: list[str] | None = username_list(required=True)


class SetMuteMode(Params):
    as_user_id: AsUserRequired = f(*AS_SELF)
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    msg_mute_mode: Literal[0, 1, 2] = f(
        "0 receive normally, 1 no notifications, 2 block the group's messages.",
        "0不屏蔽,1屏蔽消息通知,2屏蔽消息(不接收)。",
    )


class SetPushMode(Params):
    as_user_id: AsUserRequired = f(*AS_SELF)
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)
    group_id: int = f(*GROUP_ID)
    msg_push_mode: Literal[0, 1, 2, 3, 4] = f(
        "Push for: 0 all, 1 nothing, 2 admins and @mentions, 3 admins only, 4 @mentions only.",
        "推送:0全部,1不推送,2管理员和@消息,3仅管理员消息,4仅@消息。",
    )


class ListPublicGroups(Params):
    as_user_id: AsUser = f(*AS_READER, None)
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)


class ListUserGroups(Params):
    as_user_id: AsUserRequired = f("Whose groups to list.", "要列出其所在群的用户ID。")
    as_group_id: AsGroup = f(*AS_ADMIN_GROUP, None)


def _setter(
    name: str,
    path: str,
    params: type[Params],
    title: tuple[str, str],
    description: tuple[str, str],
    audience: Audience | None = None,
    effect: Effect | None = None,
) -> Operation:
    """The many one-value group setters differ only in path and texts: POST with a PUT alias, data:boolean."""
    return Operation(
        name=name,
        http=f"POST {path}",
        aliases=("PUT",),
        params=params,
        result=bool,
        title=title,
        description=description,
        named=Named(group="group_id", acting="as_user_id"),  # every setter's arguments
        hints=UPDATE,
        audience=audience,
        effect=effect,
    )


class NewGroup(ApiModel):
    # The answer is the new group's info (GroupInfo, as get_group_info shows it); only what a model acts on
    # next is typed here, the rest passes through as sent (extra fields): the default listing's budget.
    group_id: int | None = None
    name: str | None = None
    owner_id: int | None = None
    description: str | None = None  # written by end users: typed, so the result marks them as untrusted text
    ext: str | None = None


MEMBERS_READ = Audience(groups=("group_id",), text=("value",))  # every member sees the group's new text
INFO_RULE = ("Admins, or any member when member_modify is on.", "管理员,或允许成员修改时的任一成员。")
ADMIN_RULE = ("Admins only.", "仅管理员。")

OPERATIONS: list[Operation] = [
    Operation(
        name="create_group",
        effect=Effect(Target.GROUP, ("group",), undo("destroy_group", "as_user_id", group_id="result.group_id")),
        http="POST /group/create",
        params=CreateGroup,
        result=NewGroup,
        title=("Create group", "创建群"),
        description=(
            "Create a group owned by as_user_id, optionally inviting users; returns its group_id and settings.",
            "以as_user_id为群主创建群,可同时邀请用户;返回group_id及群设置。",
        ),
        named=Named(acting="as_user_id", users="user_ids"),
        hints=WRITE,
        audience=Audience(users=("user_ids",), text=("name", "description", "avatar")),
        ids=IdPaths(
            users=("data.owner_id",), plain=("data.group_id",), text=("data.name", "data.description", "data.ext")
        ),
        default=True,
    ),
    Operation(
        name="invite_group_members",
        effect=Effect(
            Target.MEMBER,
            ("membership",),
            undo("kick_group_members", "as_user_id", "as_group_id", "group_id", "user_ids"),
        ),
        http="POST /group/invite",
        params=InviteMembers,
        result=list[GroupUserResult],
        title=("Invite users to group", "邀请入群"),
        description=(
            "Invite users into a group; returns success or fail with a reason per user.",
            "邀请用户加入群;逐个返回成功或失败原因。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=WRITE,
        audience=Audience(users=("user_ids",), text=("reason",)),
        ids=IdPaths(users=("data[].user_id",)),
        batch=Batch(("user_ids",), 500),
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
        paging=Paging(Pages.CURSOR, arg="cursor", next="cursor", total="total"),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[].user_id",), text=("data[].display_name",), members=True),
        default=True,
    ),
    Operation(
        name="destroy_group",
        effect=Effect(Target.GROUP, ("group",), irreversible=Never.DESTROYED),
        http="DELETE /group/destroy",
        aliases=("POST",),
        params=DestroyGroup,
        result=bool,
        title=("Destroy group", "解散群"),
        description=(
            "Disband a group for good: members, messages and files are gone. Owner only.",
            "永久解散群,成员、消息和文件都将失去。仅群主可操作。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=DELETE,
    ),
    Operation(
        name="get_group_info",
        http="GET /group/info",
        params=GetGroupInfo,
        result=GroupDetails,
        title=("Get group info", "获取群信息"),
        description=(
            "A group's name, owner, member count and settings (plus the reader's own mute/push modes).",
            "获取群名称、群主、人数和设置(及读取者本人的屏蔽/推送模式)。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(
            users=("data.owner_id",), plain=("data.group_id",), text=("data.name", "data.description", "data.ext")
        ),
        default=True,
    ),
    Operation(
        name="get_groups_info",
        http="POST /group/info/batch",
        params=GetGroupsInfo,
        result=list[GroupBrief],
        title=("Get several groups' info", "批量获取群信息"),
        description=(
            "Brief info (name, owner, count, type) of several groups at once, with the reader's mute/push modes.",
            "批量获取多个群的简要信息(名称、群主、人数、类型)及读取者的屏蔽/推送模式。",
        ),
        paging=UNPAGED,
        named=Named(acting="as_user_id", groups="group_ids"),
        hints=READ,
        ids=IdPaths(users=("data[].owner",), plain=("data[].group_id",), text=("data[].name",)),
    ),
    Operation(
        name="get_group_settings",
        http="GET /group/settings",
        params=GetGroupInfo,
        result=GroupDetails,
        title=("Get group settings", "获取群设置"),
        description=(
            "A group's settings: invitation, modification, join approval, read receipts, history, mute-all.",
            "获取群设置:成员邀请、成员修改、入群审批、已读回执、历史可见、全员禁言。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(
            users=("data.owner_id",), plain=("data.group_id",), text=("data.name", "data.description", "data.ext")
        ),
    ),
    _setter(
        "set_group_name",
        "/group/info/name",
        SetGroupName,
        ("Rename group", "修改群名称"),
        ("Rename a group. " + INFO_RULE[0], "修改群名称。" + INFO_RULE[1]),
        MEMBERS_READ,
        effect=Effect(
            Target.GROUP,
            ("name",),
            undo("set_group_name", "as_user_id", "as_group_id", "group_id", value="before.name"),
        ),
    ),
    _setter(
        "set_group_description",
        "/group/info/description",
        SetGroupDescription,
        ("Set group description", "修改群描述"),
        ("Change a group's description. " + INFO_RULE[0], "修改群描述。" + INFO_RULE[1]),
        MEMBERS_READ,
        effect=Effect(
            Target.GROUP,
            ("description",),
            undo("set_group_description", "as_user_id", "as_group_id", "group_id", value="before.description"),
        ),
    ),
    _setter(
        "set_group_avatar",
        "/group/info/avatar",
        SetGroupAvatar,
        ("Set group avatar", "修改群头像"),
        ("Change a group's avatar URL. " + INFO_RULE[0], "修改群头像URL。" + INFO_RULE[1]),
        MEMBERS_READ,
        effect=Effect(
            Target.GROUP,
            ("avatar",),
            undo("set_group_avatar", "as_user_id", "as_group_id", "group_id", value="before.avatar"),
        ),
    ),
    _setter(
        "set_group_ext",
        "/group/info/ext",
        SetGroupExt,
        ("Set group extension", "修改群扩展信息"),
        ("Replace a group's app-defined extension string. " + INFO_RULE[0], "替换群扩展信息。" + INFO_RULE[1]),
        MEMBERS_READ,
        effect=Effect(
            Target.GROUP, ("ext",), undo("set_group_ext", "as_user_id", "as_group_id", "group_id", value="before.ext")
        ),
    ),
    _setter(
        "set_group_member_invite",
        "/group/settings/allow_member_invitation",
        SetMemberInvite,
        ("Allow member invitations", "设置成员邀请权限"),
        (
            "Whether ordinary members may invite users. " + ADMIN_RULE[0],
            "设置普通成员能否邀请他人入群。" + ADMIN_RULE[1],
        ),
        effect=Effect(
            Target.GROUP,
            ("member_invite",),
            undo("set_group_member_invite", "as_user_id", "as_group_id", "group_id", value="before.member_invite"),
        ),
    ),
    _setter(
        "set_group_member_modify",
        "/group/settings/allow_member_modify",
        SetMemberModify,
        ("Allow members to edit info", "设置成员修改群信息权限"),
        (
            "Whether ordinary members may change the group's name, description, avatar and ext. " + ADMIN_RULE[0],
            "设置普通成员能否修改群名称、描述、头像和扩展。" + ADMIN_RULE[1],
        ),
        effect=Effect(
            Target.GROUP,
            ("member_modify",),
            undo("set_group_member_modify", "as_user_id", "as_group_id", "group_id", value="before.member_modify"),
        ),
    ),
    _setter(
        "set_group_read_ack",
        "/group/settings/enable_read_ack",
        SetReadAck,
        ("Set group read receipts", "设置群消息已读功能"),
        (
            "Turn read receipts for group messages on or off. " + ADMIN_RULE[0],
            "开启或关闭群消息已读功能。" + ADMIN_RULE[1],
        ),
        effect=Effect(
            Target.GROUP,
            ("read_ack",),
            undo("set_group_read_ack", "as_user_id", "as_group_id", "group_id", value="before.read_ack"),
        ),
    ),
    _setter(
        "set_group_hide_member_info",
        "/group/settings/hide_member_info",
        SetHideMemberInfo,
        ("Hide member details", "设置隐藏群成员信息"),
        (
            "Hide members' details (display names) from members who are not admins. " + ADMIN_RULE[0],
            "对非管理员成员隐藏群成员详细信息(群名片)。" + ADMIN_RULE[1],
        ),
        effect=Effect(
            Target.GROUP,
            ("hide_member_info",),
            undo(
                "set_group_hide_member_info", "as_user_id", "as_group_id", "group_id", value="before.hide_member_info"
            ),
        ),
    ),
    _setter(
        "set_group_history_visible",
        "/group/settings/history_visible",
        SetHistoryVisible,
        ("Set history visibility", "设置历史消息可见"),
        (
            "Whether new members can see messages sent before they joined. " + ADMIN_RULE[0],
            "设置新成员能否看到入群前的消息。" + ADMIN_RULE[1],
        ),
        effect=Effect(
            Target.GROUP,
            ("history_visible",),
            undo("set_group_history_visible", "as_user_id", "as_group_id", "group_id", value="before.history_visible"),
        ),
    ),
    _setter(
        "set_group_apply_approval",
        "/group/settings/require_admin_approval",
        SetApplyApproval,
        ("Set join approval", "设置入群审批"),
        (
            "How join requests are handled: accept all, admin approval, or reject all. " + ADMIN_RULE[0],
            "设置入群申请处理方式:全部同意、管理员审批或全部拒绝。" + ADMIN_RULE[1],
        ),
        effect=Effect(
            Target.GROUP,
            ("apply_approval",),
            undo(
                "set_group_apply_approval",
                "as_user_id",
                "as_group_id",
                "group_id",
                apply_approval="before.apply_approval",
            ),
        ),
    ),
    Operation(
        name="add_group_admins",
        consent=Consent(risks=(Risk.POWER,)),
        effect=Effect(
            Target.MEMBER, ("role",), undo("remove_group_admins", "as_user_id", "as_group_id", "group_id", "user_ids")
        ),
        http="POST /group/admin/add",
        params=GroupAdmins,
        result=list[GroupUserResult],
        title=("Add group admins", "添加群管理员"),
        description=(
            "Make members admins. Owner only; returns success or fail with a reason per user.",
            "将成员设为管理员。仅群主;逐个返回成功或失败原因。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=UPDATE,
        ids=IdPaths(users=("data[].user_id",)),
    ),
    Operation(
        name="remove_group_admins",
        effect=Effect(
            Target.MEMBER, ("role",), undo("add_group_admins", "as_user_id", "as_group_id", "group_id", "user_ids")
        ),
        http="POST /group/admin/remove",
        aliases=("DELETE",),
        params=GroupAdmins,
        result=list[GroupUserResult],
        title=("Remove group admins", "移除群管理员"),
        description=(
            "Demote admins to ordinary members. Owner only; returns success or fail with a reason per user.",
            "将管理员降为普通成员。仅群主;逐个返回成功或失败原因。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=DELETE,
        ids=IdPaths(users=("data[].user_id",)),
    ),
    Operation(
        name="list_group_admins",
        http="GET /group/admin_list",
        params=ListAdmins,
        result=list[GroupMember],
        title=("List group admins", "获取群管理员列表"),
        description=(
            "A group's admins (not the owner: see owner_id in get_group_info).",
            "获取群管理员列表(不含群主,群主见get_group_info的owner_id)。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[].user_id",), text=("data[].display_name",)),
    ),
    Operation(
        name="transfer_group_owner",
        effect=Effect(
            Target.GROUP,
            ("owner_id",),
            undo(
                "transfer_group_owner",
                "as_group_id",
                "group_id",
                as_user_id="new_owner",
                new_owner="before.owner_id",
                note=(
                    "The new owner then becomes an ordinary member: an admin role they had before is not given back.",
                    "转回后新群主成为普通成员,其原有的管理员身份不会恢复。",
                ),
            ),
        ),
        http="POST /group/transfer",
        aliases=("PUT",),
        params=TransferOwner,
        result=GroupUserResult,
        title=("Transfer group ownership", "转让群主"),
        description=(
            "Make another member the owner; the old owner becomes an ordinary member and loses owner rights. Owner only.",
            "将群主转让给另一成员;原群主降为普通成员并失去群主权限。仅群主。",
        ),
        named=Named(group="group_id", acting="as_user_id", new_owner="new_owner"),
        hints=DANGER,
        ids=IdPaths(plain=("data.user_id",)),
    ),
    Operation(
        name="kick_group_members",
        effect=Effect(
            Target.MEMBER,
            ("membership",),
            undo(
                "invite_group_members",
                "as_user_id",
                "as_group_id",
                "group_id",
                "user_ids",
                note=(
                    "A member whose settings ask to confirm group invitations must accept the invitation.",
                    "设置了入群邀请需本人同意的成员,需接受邀请后才会回到群中。",
                ),
            ),
        ),
        http="POST /group/kick",
        aliases=("DELETE",),
        params=KickMembers,
        result=list[GroupUserResult],
        title=("Kick group members", "踢出群成员"),
        description=(
            "Remove members from a group (admins; only the owner may kick admins); returns success or fail per user.",
            "将成员踢出群(管理员;仅群主可踢管理员);逐个返回成功或失败原因。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=DELETE,
        ids=IdPaths(users=("data[].user_id",)),
    ),
    Operation(
        name="leave_group",
        effect=Effect(
            Target.MEMBER,
            ("membership",),
            undo(
                "invite_group_members",
                "group_id",
                user_ids="[as_user_id]",
                note=(
                    "If the user's settings ask to confirm group invitations, they must accept the invitation.",
                    "若该用户设置了入群邀请需本人同意,需接受邀请后才会回到群中。",
                ),
            ),
        ),
        http="POST /group/leave",
        aliases=("DELETE",),
        params=LeaveGroup,
        result=bool,
        title=("Leave group", "退出群"),
        description=(
            "as_user_id leaves the group. The owner cannot leave: transfer ownership or destroy the group.",
            "as_user_id退出群。群主不能退群:请先转让群主或解散群。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=DELETE,
    ),
    Operation(
        name="set_group_display_name",
        effect=Effect(
            Target.MEMBER,
            ("display_name",),
            undo("set_group_display_name", "as_user_id", "as_group_id", "group_id", value="before.display_name"),
        ),
        http="POST /group/display_name",
        aliases=("PUT",),
        params=SetDisplayName,
        result=bool,
        title=("Set group card", "设置群名片"),
        description=(
            "Set as_user_id's own display name (group card) in a group.",
            "设置as_user_id在群中的群名片。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=UPDATE,
        audience=MEMBERS_READ,
    ),
    Operation(
        name="get_group_display_names",
        http="POST /group/members/display_name",
        params=GetDisplayNames,
        result=list[GroupMember],
        title=("Get members' group cards", "批量获取群名片"),
        description=(
            "Display names (group cards) of the given members; users not in the group are left out.",
            "获取指定成员的群名片;非群成员不返回。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", users="user_ids"),
        hints=READ,
        ids=IdPaths(users=("data[].user_id",), text=("data[].display_name",)),
    ),
    Operation(
        name="set_group_msg_mute_mode",
        effect=Effect(
            Target.MEMBER,
            ("msg_mute_mode",),
            undo(
                "set_group_msg_mute_mode", "as_user_id", "as_group_id", "group_id", msg_mute_mode="before.msg_mute_mode"
            ),
        ),
        http="POST /group/msg/mute_mode",
        aliases=("PUT",),
        params=SetMuteMode,
        result=Any,
        title=("Set group blocking mode", "设置群消息屏蔽模式"),
        description=(
            "Set how as_user_id receives a group's messages: normally, without notifications, or not at all.",
            "设置as_user_id接收群消息的方式:正常、屏蔽通知或屏蔽消息。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="set_group_msg_push_mode",
        effect=Effect(
            Target.MEMBER,
            ("msg_push_mode",),
            undo(
                "set_group_msg_push_mode", "as_user_id", "as_group_id", "group_id", msg_push_mode="before.msg_push_mode"
            ),
        ),
        http="POST /group/msg/push_mode",
        aliases=("PUT",),
        params=SetPushMode,
        result=Any,
        title=("Set group push mode", "设置群消息推送模式"),
        description=(
            "Set which of a group's messages push notifications to as_user_id (all, none, admins, @mentions).",
            "设置as_user_id接收哪些群消息推送(全部、不推送、管理员、@消息)。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="list_public_groups",
        http="GET /group/public_list",
        params=ListPublicGroups,
        result=list[int],
        title=("List public groups (deprecated)", "获取公开群列表(已废弃)"),
        description=(
            "Deprecated in the API docs; may stop working. IDs of the app's public groups.",
            "接口文档已标记废弃,可能停止服务。返回应用的公开群ID列表。",
        ),
        paging=UNPAGED,
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(groups=("data[]",)),
    ),
    Operation(
        name="list_user_groups",
        http="GET /group/user_joined",
        params=ListUserGroups,
        result=list[int],
        title=("List a user's groups", "获取用户所在群列表"),
        description=(
            "IDs of all groups as_user_id belongs to (not paged); get_groups_info describes them.",
            "as_user_id所在的全部群ID(不分页);可用get_groups_info查看详情。",
        ),
        paging=UNPAGED,
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(groups=("data[]",)),
        default=True,
    ),
]
