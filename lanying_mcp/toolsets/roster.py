"""Roster (friends): friend lists, requests, blacklist, user search (`/roster/*`, legacy `/user/*roster*`).

Six operations (accept, block, unblock, delete, id, may_message) take their target as a `user_id`
query parameter, so the Swagger leaves out the act-as `user_id` header there. With the admin token
the call still needs an actor, so those tools offer `as_user_id` all the same: the header carries
the actor and the query carries the target, which are distinct on the wire.
"""

from typing import Annotated

from ..core import facts, spec
from ..core.spec import (
    DELETE,
    QUERY,
    RAW_BODY,
    READ,
    UNPAGED,
    UPDATE,
    WRITE,
    ApiModel,
    AsUser,
    AsUserRequired,
    Audience,
    Body,
    Consent,
    Effect,
    IdPaths,
    Named,
    Never,
    Operation,
    Params,
    Target,
    Toolset,
    f,
    undo,
    username_list,
)

TOOLSET = Toolset(
    "roster", ("Friends: add, list, requests, blacklist, find users.", "好友:添加、列表、申请、黑名单、查找用户。")
)

ACTOR = ("The user making the call (admin token acts as them).", "调用者用户ID(管理员token以其身份调用)。")
CURSOR = ("Cursor from the previous page; omit for the first.", "上一页返回的游标;首页不填。")
LIMIT = ("Page size (default 40).", "每页数量(默认40)。")


# --- results -----------------------------------------------------------------------------------
class FriendName(ApiModel):
    user_id: int | None = None
    name: str | None = None


class RosterEntry(ApiModel):
    """`RosterItemDto`: a user's public profile plus the caller's relation to them."""

    user_id: int | None = None
    username: str | None = None
    nick_name: str | None = None
    avatar: str | None = None
    description: str | None = None
    public_info: str | None = None
    alias: str | None = f("Caller's remark name for this user.", "调用者给此用户的备注名。", None)
    ext: str | None = None
    mute_notification: bool | None = f("Caller muted this user's alerts.", "调用者对其免打扰。", None)
    relation: int | None = f(
        "0 friend, 1 deleted friend, 2 stranger, 3 blacklisted.", "0好友,1被删除的好友,2陌生人,3黑名单。", None
    )
    auth_mode: int | None = f(
        "Friend requests: 0 anyone, 1 approval, 2 question, 3 refuse all.",
        "加好友验证:0无需,1需同意,2需答题,3拒绝所有。",
        None,
    )
    auth_question: str | None = None


class FriendRequest(ApiModel):
    user_id: int | None = f("Who sent the request.", "申请人用户ID。", None)
    reason: str | None = None
    status: int | None = f("0 pending, 1 accepted, 2 declined.", "0待处理,1已接受,2已拒绝。", None)
    expired_time: int | None = f("Expiry (epoch ms).", "过期时间(毫秒)。", None)


class FailedUser(ApiModel):
    user_id: int | None = None
    reason: str | None = None


class BatchApplyResult(ApiModel):
    success: list[int] | None = None
    fails: list[FailedUser] | None = None


# --- params ------------------------------------------------------------------------------------
class AddFriends(Params):
    as_user_id: AsUserRequired = f("The user who gains the friends.", "添加方用户ID。")
    user_ids: Annotated[list[int] | None, Body("list")] = f(
        "User IDs to add as friends, without any request step.",
        "被添加为好友的用户ID列表(无需申请)。",
        None,
        min_length=1,
    )
    usernames: list[str] | None = username_list(required=True)


class ListFriends(Params):
    as_user_id: AsUserRequired = f("Whose friends to list.", "要列出其好友的用户ID。")


class AcceptRequest(Params):
    # No act-as header in the Swagger (name clash with the query user_id); the header is the actor.
    as_user_id: AsUserRequired = f("The user accepting the request.", "同意申请的用户ID。")
    user_id: Annotated[int, QUERY] = f("The applicant.", "申请人用户ID。")


class SendRequest(Params):
    as_user_id: AsUserRequired = f("The applicant.", "申请人用户ID。")
    user_id: int = f("The user to befriend.", "被申请的用户ID。")
    reason: str | None = f("Request message.", "申请描述。", None)
    alias: str | None = f("Remark name for them once friends.", "成为好友后的备注名。", None)
    auth_answer: str | None = f(
        "Answer to their question (when their auth_mode is 2).",
        "对方验证问题的答案(auth_mode为2时)。",
        None,
        secret=True,
    )


class FriendApplication(Params):
    user_id: int = f("The user to befriend.", "被申请的用户ID。")
    reason: str | None = None
    alias: str | None = None


class SendRequests(Params):
    as_user_id: AsUserRequired = f("The applicant.", "申请人用户ID。")
    requests: Annotated[list[FriendApplication], RAW_BODY] = f(
        "One entry per user to befriend.", "每个被申请用户一项。", min_length=1
    )


class Paging(Params):
    as_user_id: AsUserRequired = f(*ACTOR)
    cursor: str | None = f(*CURSOR, None)
    limit: int | None = f(*LIMIT, 40, ge=1)


class DeclineRequest(Params):
    as_user_id: AsUserRequired = f("The user declining.", "拒绝申请的用户ID。")
    user_id: int = f("The applicant.", "申请人用户ID。")
    reason: str | None = f("Reason given to the applicant.", "拒绝原因。", None)


class TargetUser(Params):
    # No act-as header in the Swagger (name clash with the query user_id); the header is the actor.
    as_user_id: AsUserRequired = f(*ACTOR)
    user_id: Annotated[int, QUERY] = f("The other user.", "对方用户ID。")


class ActorOnly(Params):
    as_user_id: AsUserRequired = f(*ACTOR)


class UpdateFriend(Params):
    as_user_id: AsUserRequired = f("Whose roster entry to change.", "修改谁的好友项。")
    user_id: int = f("The friend.", "好友用户ID。")
    alias: str | None = f("Remark name.", "备注名。", None)
    ext: str | None = f("Extension data (string).", "扩展信息(字符串)。", None)
    mute_notification: bool | None = f("Mute this friend's messages.", "是否对该好友消息免打扰。", None)


class FriendDetails(Params):
    as_user_id: AsUserRequired = f(*ACTOR)
    user_ids: Annotated[list[int] | None, Body("list")] = f("Friend IDs.", "好友ID列表。", None, min_length=1)
    usernames: list[str] | None = username_list(required=True)


VIEWER = ("Viewer, for relation and alias (optional).", "查看者,用于返回关系和备注(可选)。")


class FindById(Params):
    # No act-as header in the Swagger (name clash with the query user_id); the header is the viewer.
    as_user_id: AsUser = f(*VIEWER, None)
    user_id: Annotated[int, QUERY] = f("The user to look up.", "要查找的用户ID。")


class FindByMobile(Params):
    as_user_id: AsUser = f(*VIEWER, None)
    mobile: str = f(
        "Mobile number: +country code and digits, or an 11-digit mainland number.",
        "手机号:+国家码加数字,或11位大陆手机号。",
        pattern=facts.MOBILE_PATTERN,
    )


class FindByName(Params):
    as_user_id: AsUser = f(*VIEWER, None)
    username: str = f("Exact username.", "用户名(精确)。", min_length=1)


class MayMessage(Params):
    # No act-as header in the Swagger (name clash with the query user_id); optional actor.
    as_user_id: AsUser = f(*ACTOR, None)
    user_id: Annotated[int, QUERY] = f("The sender.", "发送方用户ID。")
    roster_id: Annotated[int, QUERY] = f("The recipient.", "接收方用户ID。")


# A looked-up user: their own ID (no name needed beside it) and the text they or their friends wrote.
PROFILE_IDS = IdPaths(
    plain=("data.user_id",),
    text=("data.nick_name", "data.description", "data.public_info", "data.alias", "data.ext", "data.auth_question"),
)

OPERATIONS: list[Operation] = [
    Operation(
        name="add_friends",
        consent=Consent(grants=("user_ids",)),
        effect=Effect(
            Target.FRIENDSHIP, ("friendship",), undo("remove_friend", "as_user_id", each="user_ids", user_id="item")
        ),
        http="POST /user/add_roster",
        params=AddFriends,
        result=bool,
        title=("Add friends directly", "直接添加好友"),
        description=(
            "Make users friends of as_user_id at once, with no request to accept (admin, legacy API).",
            "直接为as_user_id添加好友,无需对方同意(管理员,旧版接口)。",
        ),
        named=Named(acting="as_user_id", users="user_ids"),
        hints=UPDATE,
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
        paging=UNPAGED,
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[].user_id",), text=("data[].name",)),
    ),
    Operation(
        name="send_friend_request",
        effect=Effect(Target.REQUEST, ("friend_request",), irreversible=Never.REQUEST),
        http="POST /roster/apply",
        params=SendRequest,
        result=bool,
        title=("Send friend request", "申请加好友"),
        description=(
            "as_user_id asks user_id to be friends; by user_id's auth_mode: friends at once, pending approval, "
            "needs auth_answer, or refused.",
            "as_user_id申请加user_id为好友。按对方auth_mode:直接成为好友、待同意、需答题或拒绝。",
        ),
        named=Named(acting="as_user_id", user="user_id"),
        hints=WRITE,
        audience=Audience(users=("user_id",), text=("reason", "auth_answer")),
    ),
    Operation(
        name="send_friend_requests",
        effect=Effect(Target.REQUEST, ("friend_request",), irreversible=Never.REQUEST),
        http="POST /roster/apply/batch",
        params=SendRequests,
        result=BatchApplyResult,
        title=("Send friend requests in batch", "批量申请加好友"),
        description=(
            "Send several friend requests from as_user_id; returns the user IDs that succeeded and a reason per failure.",
            "as_user_id批量申请加好友;返回成功的用户ID和每个失败的原因。",
        ),
        named=Named(acting="as_user_id"),
        hints=WRITE,
        audience=Audience(users=("requests[].user_id",), text=("requests[].reason",)),
        ids=IdPaths(plain=("data.success[]", "data.fails[].user_id")),
    ),
    Operation(
        name="list_friend_requests",
        http="GET /roster/apply/list",
        params=Paging,
        result=list[FriendRequest],
        extras=("cursor", "version"),
        title=("List friend requests", "好友申请列表"),
        description=(
            "Friend requests received by as_user_id, with status. Next page: pass the returned cursor until it is empty.",
            "as_user_id收到的好友申请及状态。下一页传入返回的cursor,直到为空。",
        ),
        paging=spec.Paging(spec.Pages.CURSOR, arg="cursor", next="cursor"),
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[].user_id",), text=("data[].reason",)),
    ),
    Operation(
        name="accept_friend_request",
        effect=Effect(Target.FRIENDSHIP, ("friendship",), undo("remove_friend", "as_user_id", "user_id")),
        http="POST /roster/accept",
        aliases=("PUT",),
        params=AcceptRequest,
        result=bool,
        title=("Accept friend request", "同意好友申请"),
        description=(
            "as_user_id accepts the pending request from user_id; both become friends.",
            "as_user_id同意user_id的好友申请,双方成为好友。",
        ),
        named=Named(acting="as_user_id", user="user_id"),
        hints=WRITE,
    ),
    Operation(
        name="decline_friend_request",
        effect=Effect(Target.REQUEST, ("friend_request",), irreversible=Never.ANSWERED),
        http="POST /roster/decline",
        aliases=("PUT",),
        params=DeclineRequest,
        result=bool,
        title=("Decline friend request", "拒绝好友申请"),
        description=(
            "as_user_id declines the pending request from user_id, optionally with a reason.",
            "as_user_id拒绝user_id的好友申请,可附原因。",
        ),
        named=Named(acting="as_user_id", user="user_id"),
        hints=WRITE,
        audience=Audience(users=("user_id",), text=("reason",)),
    ),
    Operation(
        name="remove_friend",
        effect=Effect(Target.FRIENDSHIP, ("friendship",), undo("add_friends", "as_user_id", user_ids="[user_id]")),
        http="POST /roster/delete",
        aliases=("DELETE",),
        params=TargetUser,
        result=bool,
        title=("Remove friend", "删除好友"),
        description=(
            "Remove user_id from as_user_id's friends (both sides lose the friendship).",
            "从as_user_id的好友中删除user_id(双方好友关系解除)。",
        ),
        named=Named(acting="as_user_id", user="user_id"),
        hints=DELETE,
    ),
    Operation(
        name="update_friend",
        effect=Effect(
            Target.FRIENDSHIP,
            ("alias", "ext", "mute_notification"),
            undo(
                "update_friend",
                "as_user_id",
                "user_id",
                alias="before.alias",
                ext="before.ext",
                mute_notification="before.mute_notification",
            ),
        ),
        http="POST /roster/ext",
        aliases=("PUT",),
        params=UpdateFriend,
        result=bool,
        title=("Update friend entry", "更新好友信息"),
        description=(
            "Set as_user_id's remark name, extension data or mute flag for friend user_id; omitted fields stay.",
            "设置as_user_id对好友user_id的备注名、扩展信息或免打扰;未填的保持不变。",
        ),
        named=Named(acting="as_user_id", user="user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="list_friend_ids",
        http="GET /roster/list",
        params=Paging,
        result=list[int],
        extras=("cursor", "version"),
        title=("List friend IDs", "好友ID列表"),
        description=(
            "One page of as_user_id's friend IDs. Next page: pass the returned cursor until it is empty; "
            "details via get_friend_details.",
            "分页获取as_user_id的好友ID。下一页传入返回的cursor直到为空;详情见get_friend_details。",
        ),
        paging=spec.Paging(spec.Pages.CURSOR, arg="cursor", next="cursor"),
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[]",)),
    ),
    Operation(
        name="get_friend_details",
        http="POST /roster/list",
        params=FriendDetails,
        result=list[RosterEntry],
        title=("Get friend details", "好友详情列表"),
        description=(
            "Profiles of the given friends of as_user_id, with alias, ext, mute flag and relation.",
            "获取as_user_id指定好友的资料,含备注、扩展信息、免打扰和关系。",
        ),
        paging=UNPAGED,
        named=Named(acting="as_user_id", users="user_ids"),
        hints=READ,
        ids=IdPaths(
            plain=("data[].user_id",),
            text=(
                "data[].nick_name",
                "data[].description",
                "data[].public_info",
                "data[].alias",
                "data[].ext",
                "data[].auth_question",
            ),
        ),
    ),
    Operation(
        name="block_user",
        effect=Effect(Target.FRIENDSHIP, ("blocked",), undo("unblock_user", "as_user_id", "user_id")),
        http="POST /roster/block",
        aliases=("PUT",),
        params=TargetUser,
        result=bool,
        title=("Block user", "加入黑名单"),
        description=(
            "Put user_id on as_user_id's blacklist: no messages or friend requests from them.",
            "将user_id加入as_user_id的黑名单:不再接收其消息和好友申请。",
        ),
        named=Named(acting="as_user_id", user="user_id"),
        hints=DELETE,
    ),
    Operation(
        name="unblock_user",
        effect=Effect(Target.FRIENDSHIP, ("blocked",), undo("block_user", "as_user_id", "user_id")),
        http="POST /roster/unblock",
        aliases=("DELETE",),
        params=TargetUser,
        result=bool,
        title=("Unblock user", "移出黑名单"),
        description=("Remove user_id from as_user_id's blacklist.", "将user_id移出as_user_id的黑名单。"),
        named=Named(acting="as_user_id", user="user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="list_blocked_users",
        http="GET /roster/blocked_list",
        params=ActorOnly,
        result=list[int],
        title=("List blocked users", "黑名单列表"),
        description=("IDs of the users on as_user_id's blacklist.", "as_user_id黑名单中的用户ID。"),
        paging=UNPAGED,
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[]",)),
    ),
    Operation(
        name="find_user_by_id",
        http="GET /roster/id",
        params=FindById,
        result=RosterEntry,
        title=("Find user by ID", "按ID查找用户"),
        description=(
            "A user's public profile and friend-request settings; with as_user_id also their relation.",
            "按用户ID查找用户公开资料和加好友设置;带as_user_id时含双方关系。",
        ),
        named=Named(acting="as_user_id", user="user_id"),
        hints=READ,
        ids=PROFILE_IDS,
    ),
    Operation(
        name="find_user_by_mobile",
        http="GET /roster/mobile",
        params=FindByMobile,
        result=RosterEntry,
        title=("Find user by mobile", "按手机号查找用户"),
        description=(
            "The user with this mobile number: profile, user_id and friend-request settings.",
            "按手机号查找用户:资料、user_id和加好友设置。",
        ),
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=PROFILE_IDS,
    ),
    Operation(
        name="find_user_by_name",
        http="GET /roster/name",
        params=FindByName,
        result=RosterEntry,
        title=("Find user by username", "按用户名查找用户"),
        description=(
            "The user with this username: profile, user_id and friend-request settings.",
            "按用户名查找用户:资料、user_id和加好友设置。",
        ),
        named=Named(acting="as_user_id", usernames=("username",)),
        hints=READ,
        ids=PROFILE_IDS,
    ),
    Operation(
        name="check_may_message",
        http="GET /roster/may_message",
        params=MayMessage,
        result=bool,
        title=("Check messaging allowed", "是否允许发消息"),
        description=(
            "Whether user_id may send messages to roster_id (false when a blacklist stands between them).",
            "user_id是否可以给roster_id发消息(存在黑名单时为false)。",
        ),
        named=Named(acting="as_user_id", user="user_id"),
        hints=READ,
    ),
]
