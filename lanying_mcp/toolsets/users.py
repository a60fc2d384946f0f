"""Users: registration, profiles, settings, devices, push preferences, bans (`/user/*`).

App-wide operations (batch registration, listing, batch edits, bans) are made with the admin
token itself, so their tools offer no `as_user_id`. Operations on one user's own data act as
that user through the `user_id` header (`as_user_id`).
"""

from typing import Annotated, Literal

from pydantic import computed_field, field_validator

from ..core import facts
from ..core.spec import (
    DELETE,
    QUERY,
    RAW_BODY,
    READ,
    UNPAGED,
    UPDATE,
    WRITE,
    ApiModel,
    AsUserRequired,
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
from .common import UserSettings

TOOLSET = Toolset(
    "users",
    (
        "App users: register, list, profile, settings, passwords, disable/enable, delete, online status.",
        "用户:注册、列表、资料、设置、密码、禁用/启用、删除、在线状态。",
    ),
)


def check_username(value: str) -> str:
    """The documented rules (facts.py): letters, digits and underscore; not all digits; not maxim/mta first."""
    if problem := facts.username_problem(value):
        raise ValueError(problem)
    return value


USERNAME_EN = "Username: letters, digits, underscore; not all digits; must not start with maxim or mta."
USERNAME_ZH = "用户名:仅字母数字下划线,不能是纯数字,不能以maxim、mta开头。"
AUTH_MODE_EN = "Friend requests: 0 anyone may add, 1 needs approval, 2 must answer the question, 3 reject all."
AUTH_MODE_ZH = "加好友验证方式:0任何人可加,1需同意,2需回答问题,3拒绝所有。"
ACTING = ("The user to act as (admin token).", "以此用户身份调用(管理员token)。")


class RegisterUser(Params):
    username: str = f(
        USERNAME_EN,
        USERNAME_ZH,
        min_length=1,
        max_length=facts.USERNAME_MAX_LENGTH,
        json_schema_extra={"pattern": facts.USERNAME_SCHEMA_PATTERN},
    )
    password: str = f("Password for the new user.", "新用户的密码。", min_length=1, secret=True)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        return check_username(value)


class RegisterUsers(Params):
    users: Annotated[list[RegisterUser], Body("list")] = f(
        "Users to create (more than 100 are registered in batches).",
        "要注册的用户列表(超过100个时分批注册)。",
        min_length=1,
        max_length=100_000,
    )


class RegisterPushUser(RegisterUser):
    # A push-only user: registered together with the device that will receive notifications.
    alias: str | None = f("Push alias to bind.", "绑定的推送别名。", None)
    device_guid: str | None = f("Device ID.", "设备ID。", None)
    push_token: str | None = f("The device's push token.", "设备推送token。", None, secret=True)
    sign: str | None = f("Signature, if the app requires one.", "签名(应用要求时)。", None, secret=True)


class ListUsers(Params):
    page_num: int | None = f(
        "Page number, from 1 (default 1).", "页码,从1开始(默认1)。", None, ge=facts.USER_LIST_PAGE_MIN
    )
    page_size: int | None = f(
        "Users per page, 1-200 (default 50).",
        "每页数量,1-200(默认50)。",
        50,
        ge=facts.USER_LIST_PAGE_MIN,
        le=facts.USER_LIST_PAGE_SIZE_MAX,
    )


class ActAs(Params):
    as_user_id: AsUserRequired = f(*ACTING)


class ProfileFields(Params):
    nick_name: str | None = f("Nickname.", "昵称。", None)
    description: str | None = f("Self-description.", "描述信息。", None)
    public_info: str | None = f("Public info, seen by anyone.", "公开信息,所有人可见。", None)
    private_info: str | None = f("Private info, seen only by the user.", "私有信息,仅自己可见。", None)


class UpdateProfile(ProfileFields):
    as_user_id: AsUserRequired = f("Whose profile to change.", "要修改资料的用户ID。")


class ProfileChange(ProfileFields):
    user_id: int = f("User to change.", "要修改的用户ID。")


class UpdateProfiles(Params):
    changes: Annotated[list[ProfileChange], Body("list")] = f(
        "One entry per user; omitted fields stay unchanged.", "每个用户一项;未填字段不变。", min_length=1
    )


class UpdateSettings(Params):
    """The UserSettings body, whose required `user_id` is the same user as the act-as header."""

    as_user_id: AsUserRequired = f("Whose settings to change.", "要修改设置的用户ID。")
    auth_mode: Literal[0, 1, 2, 3] | None = f(AUTH_MODE_EN, AUTH_MODE_ZH, None)
    auth_question: str | None = f("Question asked when auth_mode is 2.", "验证方式为2时的问题。", None)
    auth_answer: str | None = f("Expected answer when auth_mode is 2.", "验证方式为2时的答案。", None, secret=True)
    group_confirm: bool | None = f("Group invitations need the user's consent.", "入群邀请需本人同意。", None)
    auto_download: bool | None = f("Download thumbnails and files automatically.", "自动下载缩略图和文件。", None)
    no_push: bool | None = f("Turn off push notifications.", "关闭推送。", None)
    no_push_detail: bool | None = f("Hide message text in pushes.", "推送不显示详情。", None)
    no_push_start_hour: int | None = f(
        "Do-not-disturb start hour.", "推送免打扰开始小时。", None, ge=facts.HOUR_MIN, le=facts.HOUR_MAX
    )
    no_push_end_hour: int | None = f(
        "Do-not-disturb end hour.", "推送免打扰结束小时。", None, ge=facts.HOUR_MIN, le=facts.HOUR_MAX
    )
    silence_start_time: int | None = f(
        "Silent-push start hour.", "推送不提醒开始小时。", None, ge=facts.HOUR_MIN, le=facts.HOUR_MAX
    )
    silence_end_time: int | None = f(
        "Silent-push end hour.", "推送不提醒结束小时。", None, ge=facts.HOUR_MIN, le=facts.HOUR_MAX
    )
    no_sounds: bool | None = f("Mute new-message sound.", "新消息静音。", None)
    vibratory: bool | None = f("Vibrate on new messages.", "新消息振动。", None)
    push_nick_name: str | None = f("Name shown in pushes.", "推送昵称。", None)
    push_token: str | None = f("Push token.", "推送token。", None, secret=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def user_id(self) -> int:
        return self.as_user_id


class SetAuthMode(Params):
    as_user_id: AsUserRequired = f("Whose friend-request rule to set.", "要设置加好友验证方式的用户ID。")
    value: Annotated[Literal[0, 1, 2, 3], QUERY] = f(AUTH_MODE_EN, AUTH_MODE_ZH)


class SetAvatar(Params):
    as_user_id: AsUserRequired = f("Whose avatar to set.", "要设置头像的用户ID。")
    avatar: str = f(
        "Avatar URL (e.g. download_url of an avatar upload).", "头像URL(如头像上传得到的download_url)。", min_length=1
    )


class AvatarChange(Params):
    user_id: int = f("User ID.", "用户ID。")
    avatar: str = f("Avatar URL.", "头像URL。", min_length=1)


class SetAvatars(Params):
    avatars: Annotated[list[AvatarChange], Body("list")] = f("One entry per user.", "每个用户一项。", min_length=1)


class ChangePassword(Params):
    as_user_id: AsUserRequired = f("Whose password to change.", "要修改密码的用户ID。")
    old_password: str = f("Current password.", "当前密码。", min_length=1, secret=True)
    new_password: str = f("New password.", "新密码。", min_length=1, secret=True)


class ResetPassword(Params):
    as_user_id: AsUserRequired = f("Whose password to reset.", "要重置密码的用户ID。")
    password: str = f("New password.", "新密码。", min_length=1, secret=True)


class DeleteUser(Params):
    as_user_id: AsUserRequired = f("The user to delete.", "要删除的用户ID。")
    password: str | None = f(
        "The user's password; needed only with a user token.", "用户密码;仅使用用户token时需要。", None, secret=True
    )


class UserIds(Params):
    user_ids: Annotated[list[int] | None, Body("list")] = f("User IDs.", "用户ID列表。", None, min_length=1)
    usernames: list[str] | None = username_list(required=True)


class SetMobile(Params):
    as_user_id: AsUserRequired = f("Whose mobile number to set.", "要设置手机号的用户ID。")
    mobile: Annotated[str, QUERY] = f(
        "Mobile number: +country code and digits, or an 11-digit mainland number.",
        "手机号码:+国家码加数字,或11位大陆手机号。",
        pattern=facts.MOBILE_PATTERN,
    )


class SetNickname(Params):
    as_user_id: AsUserRequired = f("Whose nickname to set.", "要设置昵称的用户ID。")
    nick_name: Annotated[str, QUERY] = f("New nickname.", "新昵称。", min_length=1)


class SetUsername(Params):
    as_user_id: AsUserRequired = f("Whose username to change.", "要修改用户名的用户ID。")
    username: Annotated[str, QUERY] = f(
        USERNAME_EN,
        USERNAME_ZH,
        min_length=1,
        max_length=facts.USERNAME_MAX_LENGTH,
        json_schema_extra={"pattern": facts.USERNAME_SCHEMA_PATTERN},
    )

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        return check_username(value)


class SetInfo(Params):
    as_user_id: AsUserRequired = f("Whose info to set.", "要设置信息的用户ID。")
    info: Annotated[str, RAW_BODY] = f(
        'The info, usually a JSON text such as {"vip":true}; sent as the whole body.',
        '信息内容,通常为JSON文本如{"vip":true};作为整个请求体发送。',
    )


class RegisteredUser(ApiModel):
    user_id: int | None = None
    username: str | None = None
    success: bool | None = f("false: see reason.", "false时见reason。", None)
    reason: str | None = None


class UserBasicInfo(ApiModel):
    user_id: int | None = None
    username: str | None = None
    status: int | None = f("0 normal, 1 disabled.", "0正常,1封禁。", None)


class UserProfile(ApiModel):
    user_id: int | None = None
    username: str | None = None
    nick_name: str | None = None
    avatar: str | None = None
    description: str | None = None
    mobile: str | None = None
    email: str | None = None
    public_info: str | None = None
    private_info: str | None = None


class UserResult(ApiModel):
    user_id: int | None = None
    success: bool | None = f("false: see reason.", "false时见reason。", None)
    reason: str | None = None


class NewUser(ApiModel):
    # The answer is the new user's settings (UserSettings, as get_user_settings shows them); only the ID is
    # typed here, the rest passes through as sent (extra fields): the default listing's budget.
    user_id: int | None = None
    auth_question: str | None = None  # written by the user: typed, so the result marks it as untrusted text
    push_nick_name: str | None = None


class OnlineStatus(ApiModel):
    online: bool | None = f("true: connected now.", "true当前在线。", None)


OPERATIONS: list[Operation] = [
    Operation(
        name="register_user",
        effect=Effect(Target.USER, ("account",), undo("delete_user", "password", as_user_id="result.user_id")),
        http="POST /user/register/v2",
        params=RegisterUser,
        result=NewUser,
        title=("Register user", "注册用户"),
        description=(
            "Create an app user from a username and password; returns the new user_id and default settings.",
            "用用户名和密码注册新用户;返回新用户的user_id和默认设置。",
        ),
        named=Named(usernames=("username",)),
        hints=WRITE,
        ids=IdPaths(plain=("data.user_id",), text=("data.auth_question", "data.push_nick_name")),
        default=True,
    ),
    Operation(
        name="register_users",
        effect=Effect(Target.USER, ("account",), irreversible=Never.ACCOUNTS),
        http="POST /user/register/batch",
        params=RegisterUsers,
        result=list[RegisteredUser],
        title=("Register users in batch", "批量注册用户"),
        description=(
            "Create several users at once; returns per user its user_id, or success=false and the reason.",
            "一次注册多个用户;逐个返回user_id,或success=false及原因。",
        ),
        paging=UNPAGED,
        hints=WRITE,
        ids=IdPaths(plain=("data[].user_id",)),
        batch=Batch(("users",), 100),
    ),
    Operation(
        name="register_push_user",
        effect=Effect(Target.USER, ("account",), undo("delete_user", "password", as_user_id="result.user_id")),
        http="POST /user/register/push",
        params=RegisterPushUser,
        result=UserSettings,
        title=("Register push user", "注册推送用户"),
        description=(
            "Create a push-only user bound to a device (push_token, alias); returns its user_id and settings.",
            "注册绑定设备(push_token、别名)的推送用户;返回user_id和设置。",
        ),
        named=Named(usernames=("username",)),
        hints=WRITE,
        ids=IdPaths(plain=("data.user_id",), text=("data.auth_question", "data.push_nick_name")),
    ),
    Operation(
        name="list_users",
        http="GET /user/list",
        params=ListUsers,
        result=list[UserBasicInfo],
        title=("List users", "列出用户"),
        description=(
            "One page of the app's users (ID, username, status). Next page: page_num+1; "
            "stop when fewer than page_size come back.",
            "分页列出应用的用户(ID、用户名、状态)。下一页:page_num加1;返回数少于page_size时结束。",
        ),
        paging=Paging(Pages.NUMBER, arg="page_num", size="page_size"),
        hints=READ,
        ids=IdPaths(users=("data[].user_id",)),
        default=True,
    ),
    Operation(
        name="get_user_profile",
        http="GET /user/profile",
        params=ActAs,
        result=UserProfile,
        title=("Get user profile", "获取用户资料"),
        description=(
            "A user's own profile: username, nickname, avatar, mobile, email, public and private info.",
            "获取用户本人资料:用户名、昵称、头像、手机、邮箱、公开及私有信息。",
        ),
        named=Named(account="as_user_id"),
        hints=READ,
        ids=IdPaths(
            plain=("data.user_id",),
            text=("data.nick_name", "data.description", "data.public_info", "data.private_info"),
        ),
    ),
    Operation(
        name="update_user_profile",
        effect=Effect(
            Target.USER,
            ("nick_name", "description", "public_info", "private_info"),
            undo(
                "update_user_profile",
                "as_user_id",
                nick_name="before.nick_name",
                description="before.description",
                public_info="before.public_info",
                private_info="before.private_info",
            ),
        ),
        http="POST /user/profile",
        aliases=("PUT",),
        params=UpdateProfile,
        result=bool,
        title=("Update user profile", "更新用户资料"),
        description=(
            "Change a user's nickname, description, public or private info; omitted fields stay unchanged.",
            "修改用户的昵称、描述、公开或私有信息;未填字段不变。",
        ),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="update_user_profiles",
        effect=Effect(Target.USER, ("profiles",), undo("update_user_profiles", changes="before.profiles")),
        http="POST /user/profile/batch",
        aliases=("PUT",),
        params=UpdateProfiles,
        result=list[UserResult],
        title=("Update profiles in batch", "批量更新用户资料"),
        description=(
            "Change the profiles of several users at once; returns success or the reason per user.",
            "一次修改多个用户的资料;逐个返回成功或失败原因。",
        ),
        paging=UNPAGED,
        hints=UPDATE,
        ids=IdPaths(plain=("data[].user_id",)),
    ),
    Operation(
        name="get_user_settings",
        http="GET /user/settings",
        params=ActAs,
        result=UserSettings,
        title=("Get user settings", "获取用户设置"),
        description=(
            "A user's settings: friend-request rule, group invite consent, push, sound and vibration options.",
            "获取用户设置:加好友验证、入群确认、推送、声音和振动选项。",
        ),
        named=Named(account="as_user_id"),
        hints=READ,
        ids=IdPaths(plain=("data.user_id",), text=("data.auth_question", "data.push_nick_name")),
    ),
    Operation(
        name="update_user_settings",
        effect=Effect(
            Target.SETTINGS,
            (
                "auth_mode",
                "auth_question",
                "group_confirm",
                "auto_download",
                "no_push",
                "no_push_detail",
                "no_push_start_hour",
                "no_push_end_hour",
                "silence_start_time",
                "silence_end_time",
                "no_sounds",
                "vibratory",
                "push_nick_name",
            ),
            undo(
                "update_user_settings",
                "as_user_id",
                auth_mode="before.auth_mode",
                auth_question="before.auth_question",
                group_confirm="before.group_confirm",
                auto_download="before.auto_download",
                no_push="before.no_push",
                no_push_detail="before.no_push_detail",
                no_push_start_hour="before.no_push_start_hour",
                no_push_end_hour="before.no_push_end_hour",
                silence_start_time="before.silence_start_time",
                silence_end_time="before.silence_end_time",
                no_sounds="before.no_sounds",
                vibratory="before.vibratory",
                push_nick_name="before.push_nick_name",
                note=(
                    "The answer to the friend question and the push token are not read back, so they are not restored.",
                    "加好友验证答案和推送token无法读回,不会恢复。",
                ),
            ),
        ),
        http="POST /user/settings",
        aliases=("PUT",),
        params=UpdateSettings,
        result=bool,
        title=("Update user settings", "修改用户设置"),
        description=(
            "Change any of a user's settings at once; omitted ones stay unchanged.",
            "一次修改用户的任意设置;未填项不变。",
        ),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="set_user_auth_mode",
        effect=Effect(
            Target.SETTINGS, ("auth_mode",), undo("set_user_auth_mode", "as_user_id", value="before.auth_mode")
        ),
        http="POST /user/authmode",
        aliases=("PUT",),
        params=SetAuthMode,
        result=bool,
        title=("Set friend-request rule", "设置加好友验证方式"),
        description=(
            "Set how others may add the user as a friend: anyone, approval, question, or nobody.",
            "设置他人加该用户为好友的方式:任何人、需同意、回答问题或拒绝所有。",
        ),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="set_user_avatar",
        effect=Effect(Target.USER, ("avatar",), undo("set_user_avatar", "as_user_id", avatar="before.avatar")),
        http="POST /user/avatar",
        aliases=("PUT",),
        params=SetAvatar,
        result=bool,
        title=("Set user avatar", "设置用户头像"),
        description=("Set a user's avatar to an image URL.", "将用户头像设为图片URL。"),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="set_user_avatars",
        effect=Effect(Target.USER, ("avatars",), undo("set_user_avatars", avatars="before.avatars")),
        http="POST /user/avatar/batch",
        aliases=("PUT",),
        params=SetAvatars,
        result=list[UserResult],
        title=("Set avatars in batch", "批量设置用户头像"),
        description=(
            "Set the avatars of several users at once; returns success or the reason per user.",
            "一次设置多个用户的头像;逐个返回成功或失败原因。",
        ),
        paging=UNPAGED,
        hints=UPDATE,
        ids=IdPaths(plain=("data[].user_id",)),
    ),
    Operation(
        name="change_user_password",
        effect=Effect(
            Target.USER,
            ("password",),
            undo("change_user_password", "as_user_id", old_password="new_password", new_password="old_password"),
        ),
        http="POST /user/change_password",
        params=ChangePassword,
        result=bool,
        title=("Change password", "修改密码"),
        description=(
            "Change a user's password, proving the current one (reset_user_password needs no old password).",
            "凭当前密码修改用户密码(reset_user_password无需旧密码)。",
        ),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="reset_user_password",
        effect=Effect(Target.USER, ("password",), irreversible=Never.PASSWORD),
        consent=Consent(risks=(Risk.TAKEOVER,)),
        http="POST /user/change_password_admin",
        params=ResetPassword,
        result=bool,
        title=("Reset password (admin)", "管理员重置密码"),
        description=(
            "Set a user's password without the old one (admin token).",
            "无需旧密码直接设置用户密码(管理员token)。",
        ),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="delete_user",
        effect=Effect(Target.USER, ("account",), irreversible=Never.ACCOUNT),
        http="POST /user/delete",
        aliases=("DELETE",),
        params=DeleteUser,
        result=bool,
        title=("Delete user", "删除用户"),
        description=(
            "Delete a user for good, with their friendships and group memberships. "
            "To block a user reversibly, use disable_users.",
            "永久删除用户及其好友关系和群成员身份。如需可恢复的封禁,用disable_users。",
        ),
        named=Named(account="as_user_id"),
        hints=DELETE,
    ),
    Operation(
        name="disable_users",
        effect=Effect(Target.USER, ("disabled",), undo("enable_users", "user_ids")),
        http="PUT /user/disable",
        params=UserIds,
        result=bool,
        title=("Disable (ban) users", "封禁用户"),
        description=(
            "Ban users app-wide: they can no longer log in or send messages. Undo with enable_users.",
            "在全应用封禁用户:无法登录或发消息。用enable_users解禁。",
        ),
        named=Named(users="user_ids"),
        hints=DELETE,
    ),
    Operation(
        name="enable_users",
        effect=Effect(Target.USER, ("disabled",), undo("disable_users", "user_ids")),
        http="PUT /user/enable",
        params=UserIds,
        result=bool,
        title=("Enable (unban) users", "解禁用户"),
        description=("Lift an app-wide ban set by disable_users.", "解除disable_users设置的封禁。"),
        named=Named(users="user_ids"),
        hints=UPDATE,
    ),
    Operation(
        name="set_user_mobile",
        effect=Effect(Target.USER, ("mobile",), undo("set_user_mobile", "as_user_id", mobile="before.mobile")),
        http="POST /user/mobile",
        aliases=("PUT",),
        params=SetMobile,
        result=bool,
        title=("Set mobile number", "设置手机号码"),
        description=("Set a user's mobile number.", "设置用户的手机号码。"),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="set_user_nickname",
        effect=Effect(
            Target.USER, ("nick_name",), undo("set_user_nickname", "as_user_id", nick_name="before.nick_name")
        ),
        http="POST /user/nickname",
        aliases=("PUT",),
        params=SetNickname,
        result=bool,
        title=("Set nickname", "设置昵称"),
        description=("Set a user's nickname.", "设置用户的昵称。"),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="set_username",
        effect=Effect(Target.USER, ("username",), undo("set_username", "as_user_id", username="before.username")),
        http="POST /user/username",
        aliases=("PUT",),
        params=SetUsername,
        result=bool,
        title=("Change username", "修改用户名"),
        description=(
            "Rename a user's login name; fails with 10004 if another user has it.",
            "修改用户的登录名;已被他人使用时返回10004。",
        ),
        named=Named(account="as_user_id", usernames=("username",)),
        hints=UPDATE,
    ),
    Operation(
        name="get_user_online_status",
        http="GET /user/online_status",
        params=ActAs,
        result=OnlineStatus,
        title=("Get online status", "查询在线状态"),
        description=("Whether a user is online now.", "查询用户当前是否在线。"),
        named=Named(account="as_user_id"),
        hints=READ,
    ),
    Operation(
        name="set_user_private_info",
        effect=Effect(
            Target.USER, ("private_info",), undo("set_user_private_info", "as_user_id", info="before.private_info")
        ),
        http="POST /user/private",
        aliases=("PUT",),
        params=SetInfo,
        result=bool,
        title=("Set private info", "设置私有扩展信息"),
        description=(
            "Replace a user's private extension info, which only the user can see.",
            "替换用户的私有扩展信息(仅本人可见)。",
        ),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="set_user_public_info",
        effect=Effect(
            Target.USER, ("public_info",), undo("set_user_public_info", "as_user_id", info="before.public_info")
        ),
        http="POST /user/public",
        aliases=("PUT",),
        params=SetInfo,
        result=bool,
        title=("Set public info", "设置公开扩展信息"),
        description=(
            "Replace a user's public extension info, which anyone can see.",
            "替换用户的公开扩展信息(所有人可见)。",
        ),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
]
