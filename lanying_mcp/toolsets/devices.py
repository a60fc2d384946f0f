"""Devices and push preferences of users: device list, kick, push on/off, quiet hours, tags, alias, badge, vendor tokens.

Every operation here acts on one user: the owner of a user token, or, with the admin token, the
user named by the `user_id` header (`as_user_id`). The preference setters take their value as a
query parameter even on POST (the Swagger's placement); tools give that `value` a telling name.
"""

from typing import Annotated, Any

from ..core import facts
from ..core.spec import (
    BODY,
    DELETE,
    QUERY,
    READ,
    UNPAGED,
    UPDATE,
    ApiModel,
    AsUser,
    Consent,
    Effect,
    IdPaths,
    Named,
    Never,
    Operation,
    Params,
    Query,
    Risk,
    Target,
    Toolset,
    f,
    undo,
)

TOOLSET = Toolset(
    "devices",
    (
        "Devices and push preferences of users: device list, kick, push on/off, quiet hours, tags, alias, badge, vendor tokens.",
        "用户设备与推送偏好:设备列表、踢下线、推送开关、免打扰、标签、别名、角标、厂商token。",
    ),
)

DEVICE_SN = ("Device serial number, from list_user_devices.", "设备序号,可由list_user_devices获取。")
HOUR = ("Hour of day, 0-23.", "小时,0-23。")


def _as_user(en: str, zh: str) -> Any:
    return f(en + " Needed with the admin token.", zh + "使用管理员token时必填。", None)


class ListDevices(Params):
    as_user_id: AsUser = _as_user("User whose devices to list.", "要列出其设备的用户ID。")


class RemoveDevice(Params):
    as_user_id: AsUser = _as_user("User whose device to remove.", "要删除其设备的用户ID。")
    device_sn: Annotated[int, QUERY] = f(*DEVICE_SN)


class KickDevice(Params):
    as_user_id: AsUser = _as_user("User whose device to log out.", "要踢下线其设备的用户ID。")
    device_sn: Annotated[int | None, QUERY] = f(
        "Device to log out; omit to log out all of the user's devices.", "要踢下线的设备序号;不填则踢所有设备。", None
    )


class SetAutoDownload(Params):
    as_user_id: AsUser = _as_user("User whose preference to change.", "要修改其设置的用户ID。")
    enabled: Annotated[bool, Query("value")] = f(
        "true: download thumbnails and files automatically.", "true自动下载缩略图和文件。"
    )


class SetPushDisabled(Params):
    as_user_id: AsUser = _as_user("User whose push to switch.", "要切换其推送的用户ID。")
    disabled: Annotated[bool, Query("value")] = f(
        "true turns push off for the user, false turns it back on.", "true关闭该用户推送,false重新开启。"
    )


class SetPushDetailHidden(Params):
    as_user_id: AsUser = _as_user("User whose preference to change.", "要修改其设置的用户ID。")
    hidden: Annotated[bool, Query("value")] = f(
        "true: notifications hide the message text.", "true推送通知不显示消息内容。"
    )


class SetQuietHours(Params):
    as_user_id: AsUser = _as_user("User whose quiet hours to set.", "要设置其免打扰时段的用户ID。")
    no_push_start_hour: Annotated[int, QUERY] = f(
        "Quiet hours start (hour 0-23).", "免打扰开始小时(0-23)。", ge=facts.HOUR_MIN, le=facts.HOUR_MAX
    )
    no_push_end_hour: Annotated[int, QUERY] = f(
        "Quiet hours end (hour 0-23).", "免打扰结束小时(0-23)。", ge=facts.HOUR_MIN, le=facts.HOUR_MAX
    )


class SetPushNickname(Params):
    as_user_id: AsUser = _as_user("User whose push nickname to set.", "要设置其推送昵称的用户ID。")
    push_nick_name: Annotated[str, Query("value")] = f(
        "Sender name shown in this user's push notifications.", "推送通知中显示的昵称。"
    )


class SetSoundMuted(Params):
    as_user_id: AsUser = _as_user("User whose preference to change.", "要修改其设置的用户ID。")
    muted: Annotated[bool, Query("value")] = f("true: no sound for new messages.", "true新消息不响铃。")


class SetVibration(Params):
    as_user_id: AsUser = _as_user("User whose preference to change.", "要修改其设置的用户ID。")
    enabled: Annotated[bool, Query("value")] = f("true: vibrate on new messages.", "true新消息振动。")


class BindAlias(Params):
    as_user_id: AsUser = _as_user("User to give the alias.", "要绑定别名的用户ID。")
    alias: str = f(
        "Alias for targeting pushes (send_push aliases).", "推送别名(用于send_push按别名推送)。", min_length=1
    )
    push_token: str | None = f("Push token of one device to bind it to.", "绑定到的设备推送token。", None, secret=True)


class SetBadge(Params):
    as_user_id: AsUser = _as_user("User whose app badge to set.", "要设置其角标的用户ID。")
    badge: int = f("Badge number shown on the app icon.", "应用图标上的角标数。", ge=0)


class ListTags(Params):
    as_user_id: AsUser = _as_user("User whose push tags to list.", "要列出其推送标签的用户ID。")


class TagList(Params):
    as_user_id: AsUser = _as_user("User whose push tags to change.", "要修改其推送标签的用户ID。")
    # DELETE sends its arguments as query by default; this operation takes a JSON body either way.
    tags: Annotated[list[str], BODY] = f(
        "Push tags (send_push can target tags).", "推送标签(send_push可按标签推送)。", min_length=1
    )


class ClearTags(Params):
    as_user_id: AsUser = _as_user("User whose push tags to clear.", "要清空其推送标签的用户ID。")


class BindToken(Params):
    as_user_id: AsUser = _as_user("User who owns the device.", "设备所属用户ID。")
    device_sn: int = f(*DEVICE_SN)
    device_token: str = f(
        "Vendor push token of the device (APNs, FCM, ...).", "厂商推送token(APNs、FCM等)。", secret=True
    )
    notifier_name: str = f("Name of the push certificate to use.", "推送证书名称。")


class UnbindToken(Params):
    as_user_id: AsUser = _as_user("User who owns the device.", "设备所属用户ID。")
    device_sn: Annotated[int, Query("deviceSn")] = f(*DEVICE_SN)


class Device(ApiModel):
    device_sn: int | None = None
    platform: int | None = f(
        "1 iOS, 2 Android, 3 Windows, 4 macOS, 5 Linux, 6 web.", "1 iOS,2 安卓,3 Windows,4 macOS,5 Linux,6 Web。", None
    )
    user_agent: str | None = None
    user_id: int | None = None


def _setter(
    name: str,
    path: str,
    params: type[Params],
    title: tuple[str, str],
    desc: tuple[str, str],
    effect: Effect | None = None,
) -> Operation:
    """The preference setters share everything but their path, argument and words."""
    return Operation(
        name=name,
        http=f"POST {path}",
        aliases=("PUT",),
        params=params,
        result=bool,
        title=title,
        description=desc,
        named=Named(account="as_user_id"),  # every setter's arguments
        hints=UPDATE,
        effect=effect,
    )


OPERATIONS: list[Operation] = [
    Operation(
        name="list_user_devices",
        http="GET /user/device/list",
        params=ListDevices,
        result=list[Device],
        # The Swagger's reply carries a cursor, but the request takes none to pass it back: all devices come at once.
        extras=("version",),
        title=("List user's devices", "获取用户设备列表"),
        description=(
            "Devices a user has logged in on: device_sn, platform, user agent. The device_sn is what kick, remove "
            "and token tools take.",
            "用户登录过的设备:设备序号、平台、设备信息。踢下线、删除设备、绑定token等工具使用device_sn。",
        ),
        paging=UNPAGED,
        named=Named(account="as_user_id"),
        hints=READ,
        ids=IdPaths(plain=("data[].user_id",), text=("data[].user_agent",)),
    ),
    Operation(
        name="remove_user_device",
        effect=Effect(Target.DEVICE, ("device",), irreversible=Never.DEVICE),
        http="POST /user/device/remove",
        aliases=("DELETE",),
        params=RemoveDevice,
        result=bool,
        title=("Remove user's device", "删除用户设备"),
        description=(
            "Delete one device record of a user, with its push token binding.",
            "删除用户的一个设备记录及其推送token绑定。",
        ),
        named=Named(account="as_user_id", device="device_sn"),
        hints=DELETE,
    ),
    Operation(
        name="kick_user_device",
        effect=Effect(Target.DEVICE, ("session",), irreversible=Never.SIGNED_OUT),
        http="POST /user/kick",
        aliases=("PUT",),
        params=KickDevice,
        result=bool,
        title=("Log out user's device", "踢设备下线"),
        description=(
            "Force one device of a user offline, or all of them when device_sn is omitted.",
            "将用户的指定设备踢下线;不填device_sn则踢所有设备。",
        ),
        named=Named(account="as_user_id", device="device_sn"),
        hints=DELETE,
    ),
    _setter(
        "set_user_auto_download",
        "/user/download",
        SetAutoDownload,
        ("Set auto-download", "设置自动下载"),
        (
            "Whether a user's clients download thumbnails and files automatically.",
            "设置用户客户端是否自动下载缩略图和文件。",
        ),
        effect=Effect(
            Target.SETTINGS,
            ("auto_download",),
            undo("set_user_auto_download", "as_user_id", enabled="before.auto_download"),
        ),
    ),
    Operation(
        name="set_user_push_disabled",
        effect=Effect(
            Target.SETTINGS, ("no_push",), undo("set_user_push_disabled", "as_user_id", disabled="before.no_push")
        ),
        http="POST /user/push",
        aliases=("PUT",),
        params=SetPushDisabled,
        result=bool,
        title=("Turn user's push off/on", "关闭/开启用户推送"),
        description=(
            "Turn offline push notifications off (disabled=true) or back on for a user.",
            "关闭(disabled=true)或重新开启用户的离线推送。",
        ),
        named=Named(account="as_user_id"),
        hints=DELETE,  # switching push off silences the user's notifications
    ),
    _setter(
        "set_user_push_detail_hidden",
        "/user/push/detail",
        SetPushDetailHidden,
        ("Hide push details", "设置推送详情隐藏"),
        (
            "Whether a user's push notifications hide the message text (shown as a generic notice).",
            "设置用户推送通知是否隐藏消息内容。",
        ),
        effect=Effect(
            Target.SETTINGS,
            ("no_push_detail",),
            undo("set_user_push_detail_hidden", "as_user_id", hidden="before.no_push_detail"),
        ),
    ),
    _setter(
        "set_user_quiet_hours",
        "/user/push/limit",
        SetQuietHours,
        ("Set push quiet hours", "设置推送免打扰时段"),
        (
            "Set the daily hours (0-23) during which a user gets no push notifications.",
            "设置用户每天不接收推送的时段(0-23点)。",
        ),
        effect=Effect(
            Target.SETTINGS,
            ("no_push_start_hour", "no_push_end_hour"),
            undo(
                "set_user_quiet_hours",
                "as_user_id",
                no_push_start_hour="before.no_push_start_hour",
                no_push_end_hour="before.no_push_end_hour",
            ),
        ),
    ),
    _setter(
        "set_user_push_nickname",
        "/user/push/nickname",
        SetPushNickname,
        ("Set push nickname", "设置推送昵称"),
        ("Set the name shown for a user in push notifications.", "设置用户在推送通知中显示的昵称。"),
        effect=Effect(
            Target.SETTINGS,
            ("push_nick_name",),
            undo("set_user_push_nickname", "as_user_id", push_nick_name="before.push_nick_name"),
        ),
    ),
    _setter(
        "set_user_sound_muted",
        "/user/sounds",
        SetSoundMuted,
        ("Mute new-message sound", "设置新消息静音"),
        ("Whether a user's clients stay silent on new messages.", "设置用户新消息是否关闭声音提醒。"),
        effect=Effect(
            Target.SETTINGS, ("no_sounds",), undo("set_user_sound_muted", "as_user_id", muted="before.no_sounds")
        ),
    ),
    _setter(
        "set_user_vibration",
        "/user/vibratory",
        SetVibration,
        ("Set new-message vibration", "设置新消息振动"),
        ("Whether a user's clients vibrate on new messages.", "设置用户新消息是否振动。"),
        effect=Effect(
            Target.SETTINGS, ("vibratory",), undo("set_user_vibration", "as_user_id", enabled="before.vibratory")
        ),
    ),
    Operation(
        name="bind_push_alias",
        consent=Consent(risks=(Risk.POWER,)),
        effect=Effect(
            Target.BINDING, ("alias",), undo("bind_push_alias", "as_user_id", "push_token", alias="before.alias")
        ),
        http="POST /user/push/alias",
        params=BindAlias,
        result=bool,
        title=("Bind push alias", "绑定推送别名"),
        description=(
            "Give a user (or one device, by push_token) an alias that send_push can target.",
            "为用户(或按push_token为某设备)绑定别名,send_push可按别名推送。",
        ),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="set_push_badge",
        effect=Effect(Target.BINDING, ("badge",), undo("set_push_badge", "as_user_id", badge="before.badge")),
        http="POST /user/push/badge",
        params=SetBadge,
        result=bool,
        title=("Set push badge", "设置推送角标"),
        description=("Set the app-icon badge number of a user's devices.", "设置用户设备的应用图标角标数。"),
        named=Named(account="as_user_id"),
        hints=UPDATE,
    ),
    Operation(
        name="list_push_tags",
        http="GET /user/push/tag",
        params=ListTags,
        result=list[str],
        title=("List push tags", "获取推送标签"),
        description=("The push tags bound to a user.", "用户已绑定的推送标签。"),
        paging=UNPAGED,
        named=Named(account="as_user_id"),
        hints=READ,
        ids=IdPaths(text=("data[]",)),  # set by end users' apps
    ),
    Operation(
        name="add_push_tags",
        effect=Effect(Target.BINDING, ("tags",), undo("remove_push_tags", "as_user_id", "tags")),
        http="POST /user/push/tag",
        params=TagList,
        result=bool,
        title=("Add push tags", "绑定推送标签"),
        description=(
            "Bind push tags to a user, keeping the ones already bound; send_push can then target them.",
            "为用户绑定推送标签(保留已有标签),之后send_push可按标签推送。",
        ),
        named=Named(account="as_user_id", tags="tags"),
        hints=UPDATE,
    ),
    Operation(
        name="remove_push_tags",
        effect=Effect(Target.BINDING, ("tags",), undo("add_push_tags", "as_user_id", "tags")),
        http="DELETE /user/push/tag",
        params=TagList,
        result=bool,
        title=("Remove push tags", "解绑推送标签"),
        description=("Unbind the given push tags from a user.", "为用户解绑指定的推送标签。"),
        named=Named(account="as_user_id", tags="tags"),
        hints=DELETE,
    ),
    Operation(
        name="clear_push_tags",
        effect=Effect(Target.BINDING, ("tags",), undo("add_push_tags", "as_user_id", tags="before.tags")),
        http="DELETE /user/push/tag/all",
        params=ClearTags,
        result=bool,
        title=("Clear push tags", "删除所有推送标签"),
        description=("Unbind every push tag of a user.", "解绑用户的所有推送标签。"),
        named=Named(account="as_user_id"),
        hints=DELETE,
    ),
    Operation(
        name="bind_device_token",
        consent=Consent(risks=(Risk.POWER,)),
        effect=Effect(
            Target.BINDING,
            ("device_token",),
            undo(
                "unbind_device_token",
                "as_user_id",
                "device_sn",
                note=("A token the device had before is not bound again.", "设备之前绑定的token不会重新绑定。"),
            ),
        ),
        http="POST /user/token/bind",
        aliases=("PUT",),
        params=BindToken,
        result=bool,
        title=("Bind vendor push token", "绑定厂商推送token"),
        description=(
            "Bind a vendor push token (APNs, FCM, Huawei, ...) and certificate name to one device of a user.",
            "为用户的某个设备绑定厂商推送token(APNs、FCM、华为等)及证书名称。",
        ),
        named=Named(account="as_user_id", device="device_sn"),
        hints=UPDATE,
    ),
    Operation(
        name="unbind_device_token",
        effect=Effect(
            Target.BINDING,
            ("device_token", "notifier_name"),
            undo(
                "bind_device_token",
                "as_user_id",
                "device_sn",
                device_token="before.device_token",
                notifier_name="before.notifier_name",
            ),
        ),
        http="POST /user/token/unbind",
        aliases=("DELETE",),
        params=UnbindToken,
        result=bool | dict[str, Any],  # the Swagger says `data: object`
        title=("Unbind vendor push token", "解绑厂商推送token"),
        description=(
            "Remove the vendor push token from one device of a user; that device gets no more offline pushes.",
            "解绑用户某设备的厂商推送token,该设备不再收到离线推送。",
        ),
        named=Named(account="as_user_id", device="device_sn"),
        hints=DELETE,
    ),
]
