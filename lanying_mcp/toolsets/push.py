"""Push notifications: notify devices, task statistics, vendor certificates (`/push/*`)."""

from typing import Annotated, Any, Literal

from pydantic import computed_field, model_validator

from ..core import facts
from ..core.spec import (
    READ,
    UNPAGED,
    WRITE,
    ApiModel,
    Audience,
    Batch,
    Body,
    Effect,
    Named,
    Never,
    Operation,
    Params,
    Target,
    Toolset,
    f,
    username_list,
)

TOOLSET = Toolset(
    "push",
    (
        "Push notifications: send to devices, task statistics, vendor certificates.",
        "推送:向设备推送通知、推送统计、推送证书。",
    ),
)

MAX_AUDIENCE = facts.PUSH_MAX_TARGETS  # per API call; longer lists are sent in batches of this size
MAX_LIST = 100_000  # what one tool call may carry in all


class PushMessage(Params):
    type: Literal["text", "image", "cmd"] | None = f(
        "text (default), image (needs attachment_url), or cmd (silent pass-through, not shown).",
        "text文本(默认)、image图片(需attachment_url)、cmd透传(不展示)。",
        None,
    )
    title: str | None = f("Notification title.", "通知标题。", None)
    body: str | None = f("Notification text.", "通知内容。", None)
    attachment_url: str | None = f(
        "Image/audio/video URL; images .jpg/.png under 1 MB.", "附件URL;图片须为jpg/png且小于1M。", None
    )
    ext: dict[str, Any] | None = f("Extension data (JSON object).", "扩展字段(JSON对象)。", None)
    badge: str | None = f('Badge: "N" sets it, "+N" adds (default "+1").', '角标:"N"设置,"+N"增加(默认"+1")。', None)
    big_text: str | None = f("Long text for expanded Android notifications.", "安卓展开通知的长文本。", None)
    show_begin_time: int | None = f("Show from this time (epoch seconds).", "开始展示时间(秒)。", None)
    show_end_time: int | None = f("Show until this time (epoch seconds).", "结束展示时间(秒)。", None)


class SendPush(Params):
    """The API's `audience` is "all" or one of four lists; the tool takes exactly one of them by name."""

    all_devices: bool = f(
        "Push to every device of the app. Give this or exactly one list.",
        "推送给App下所有设备。与下列列表之一二选一。",
        False,
        exclude=True,
    )
    tags: list[str] | None = f(
        "Devices with any of these tags.",
        "标签列表。",
        None,
        min_length=1,
        max_length=MAX_LIST,
        exclude=True,
    )
    aliases: list[str] | None = f(
        "Devices with any of these aliases.",
        "别名列表。",
        None,
        min_length=1,
        max_length=MAX_LIST,
        exclude=True,
    )
    user_ids: list[int] | None = f(
        "Devices of these users.",
        "用户ID列表。",
        None,
        min_length=1,
        max_length=MAX_LIST,
        exclude=True,
    )
    usernames: list[str] | None = username_list()
    push_tokens: list[str] | None = f(
        "These push tokens.",
        "PushToken列表。",
        None,
        min_length=1,
        max_length=MAX_LIST,
        exclude=True,
        secret=True,
    )
    message: PushMessage = f("What to show.", "推送消息体。")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def audience(self) -> str | dict[str, list[Any]]:
        if self.all_devices:
            return "all"
        for key, value in (
            ("tag", self.tags),
            ("alias", self.aliases),
            ("user_id", self.user_ids),
            ("push_token", self.push_tokens),
        ):
            if value:
                return {key: list(value)}
        return {}

    @model_validator(mode="after")
    def _one_audience(self) -> "SendPush":
        chosen = [self.all_devices, bool(self.tags), bool(self.aliases), bool(self.user_ids), bool(self.push_tokens)]
        if sum(chosen) != 1:
            raise ValueError(
                "give exactly one audience: all_devices=true, or one of tags, aliases, user_ids (or usernames), push_tokens"
            )
        return self


class PushResult(ApiModel):
    task_id: int | None = f(
        "Push task ID, for get_push_task_details.", "推送任务ID,可用于get_push_task_details。", None
    )


class TaskIds(Params):
    task_ids: Annotated[list[int], Body("list")] = f(
        "Push task IDs returned by send_push.", "send_push返回的推送任务ID列表。", min_length=1
    )


def _count(channel: tuple[str, str], en: str, zh: str) -> Any:
    return f(f"{channel[0]}: {en}", f"{channel[1]}:{zh}", None)


class TaskDetail(ApiModel):
    """Per channel: `*_target` valid targets, `*_sent` sent, `*_received` delivered (device counts)."""

    task_id: int | None = None
    mxpush_target: int | None = _count(("Lanying", "蓝莺"), "target devices.", "目标设备数。")
    mxpush_sent: int | None = _count(("Lanying", "蓝莺"), "sent.", "已发送数。")
    mxpush_received: int | None = _count(("Lanying", "蓝莺"), "delivered.", "已送达数。")
    apns_target: int | None = _count(("APNs", "APNs"), "target devices.", "目标设备数。")
    apns_sent: int | None = _count(("APNs", "APNs"), "sent.", "已发送数。")
    apns_received: int | None = _count(("APNs", "APNs"), "delivered.", "已送达数。")
    fcm_target: int | None = _count(("FCM", "FCM"), "target devices.", "目标设备数。")
    fcm_sent: int | None = _count(("FCM", "FCM"), "sent.", "已发送数。")
    fcm_received: int | None = _count(("FCM", "FCM"), "delivered.", "已送达数。")
    huawei_target: int | None = _count(("Huawei", "华为"), "target devices.", "目标设备数。")
    huawei_sent: int | None = _count(("Huawei", "华为"), "sent.", "已发送数。")
    huawei_received: int | None = _count(("Huawei", "华为"), "delivered.", "已送达数。")
    xiaomi_target: int | None = _count(("Xiaomi", "小米"), "target devices.", "目标设备数。")
    xiaomi_sent: int | None = _count(("Xiaomi", "小米"), "sent.", "已发送数。")
    xiaomi_received: int | None = _count(("Xiaomi", "小米"), "delivered.", "已送达数。")
    oppo_target: int | None = _count(("OPPO", "OPPO"), "target devices.", "目标设备数。")
    oppo_sent: int | None = _count(("OPPO", "OPPO"), "sent.", "已发送数。")
    oppo_received: int | None = _count(("OPPO", "OPPO"), "delivered.", "已送达数。")
    vivo_target: int | None = _count(("VIVO", "VIVO"), "target devices.", "目标设备数。")
    vivo_sent: int | None = _count(("VIVO", "VIVO"), "sent.", "已发送数。")
    vivo_received: int | None = _count(("VIVO", "VIVO"), "delivered.", "已送达数。")
    flyme_target: int | None = _count(("Meizu", "魅族"), "target devices.", "目标设备数。")
    flyme_sent: int | None = _count(("Meizu", "魅族"), "sent.", "已发送数。")
    flyme_received: int | None = _count(("Meizu", "魅族"), "delivered.", "已送达数。")


class Certificate(Params):
    provider: Literal[1, 2, 3, 4, 5, 6, 7] = f(
        "1 APNs, 2 Huawei, 3 Xiaomi, 4 Meizu, 5 VIVO, 6 OPPO, 7 FCM.", "1 APNs,2华为,3小米,4魅族,5 VIVO,6 OPPO,7 FCM。"
    )
    environment: Literal[0, 1] | None = f("0 development, 1 production (default).", "0开发环境,1生产环境(默认)。", None)


class Notifier(ApiModel):
    name: str | None = f("Certificate name.", "证书名称。", None)
    app_id: str | None = None
    app_key: str | None = None
    app_secret: str | None = None
    certificate: str | None = None


OPERATIONS: list[Operation] = [
    Operation(
        name="send_push",
        effect=Effect(Target.PUSH, ("push",), irreversible=Never.PUSHED),
        audience=Audience(
            users=("user_ids",), tags=("tags",), aliases=("aliases",), tokens=("push_tokens",), everyone="all_devices"
        ),
        http="POST /push/notify",
        params=SendPush,
        result=PushResult | bool,  # the Swagger documents {task_id}; the quick guide shows `true`
        title=("Send push notification", "发送推送通知"),
        description=(
            "Push a notification to all devices, or to devices by tag, alias, user ID or push token. "
            "Lists over 500 are sent in batches. Returns a task_id.",
            "推送通知给所有设备,或按标签/别名/用户ID/PushToken推送。超过500的列表分批发送。返回task_id。",
        ),
        named=Named(users="user_ids", tags="tags", aliases="aliases", push="message"),
        hints=WRITE,
        batch=Batch(("tags", "aliases", "user_ids", "push_tokens"), MAX_AUDIENCE),
        default=True,
    ),
    Operation(
        name="get_push_task_details",
        http="POST /push/task/detail",
        params=TaskIds,
        result=list[TaskDetail],
        title=("Get push task statistics", "查询推送统计"),
        description=(
            "Per-channel target, sent and received counts of push tasks (task_id from send_push). "
            "Unknown task IDs are left out.",
            "查询推送任务各通道的目标数、发送数和送达数(task_id来自send_push)。未知的任务ID不返回。",
        ),
        paging=UNPAGED,
        hints=READ,
    ),
    Operation(
        name="get_push_certificate",
        secret_fields=("app_secret", "certificate"),
        http="GET /push/certificate",
        params=Certificate,
        result=Notifier,
        title=("Get push certificate", "获取推送证书"),
        description=(
            "The push vendor credentials configured for the app (APNs, Huawei, Xiaomi, Meizu, VIVO, OPPO, FCM).",
            "获取App配置的推送厂商证书(APNs、华为、小米、魅族、VIVO、OPPO、FCM)。",
        ),
        hints=READ,
    ),
]
