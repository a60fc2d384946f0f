"""Push notifications: notify devices, task statistics, vendor certificates (`/push/*`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import computed_field, model_validator

from ..spec import WRITE, ApiModel, Operation, Params, Toolset, f

TOOLSET = Toolset(
    "push",
    (
        "Push notifications: send to devices, task statistics, vendor certificates.",
        "推送:向设备推送通知、推送统计、推送证书。",
    ),
)

MAX_AUDIENCE = 500


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
        "Devices with any of these tags (max 500).",
        "标签列表(最多500)。",
        None,
        min_length=1,
        max_length=MAX_AUDIENCE,
        exclude=True,
    )
    aliases: list[str] | None = f(
        "Devices with any of these aliases (max 500).",
        "别名列表(最多500)。",
        None,
        min_length=1,
        max_length=MAX_AUDIENCE,
        exclude=True,
    )
    user_ids: list[int] | None = f(
        "Devices of these users (max 500).",
        "用户ID列表(最多500)。",
        None,
        min_length=1,
        max_length=MAX_AUDIENCE,
        exclude=True,
    )
    push_tokens: list[str] | None = f(
        "These push tokens (max 500).",
        "PushToken列表(最多500)。",
        None,
        min_length=1,
        max_length=MAX_AUDIENCE,
        exclude=True,
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
    def _one_audience(self) -> SendPush:
        chosen = [self.all_devices, bool(self.tags), bool(self.aliases), bool(self.user_ids), bool(self.push_tokens)]
        if sum(chosen) != 1:
            raise ValueError(
                "give exactly one audience: all_devices=true, or one of tags, aliases, user_ids, push_tokens"
            )
        return self


class PushResult(ApiModel):
    task_id: int | None = f(
        "Push task ID, for get_push_task_details.", "推送任务ID,可用于get_push_task_details。", None
    )


OPERATIONS: list[Operation] = [
    Operation(
        name="send_push",
        http="POST /push/notify",
        params=SendPush,
        result=PushResult | bool,  # the Swagger documents {task_id}; the quick guide shows `true`
        title=("Send push notification", "发送推送通知"),
        description=(
            "Push a notification to all devices, or to devices by tag, alias, user ID or push token "
            "(lists of at most 500). Returns a task_id.",
            "推送通知给所有设备,或按标签/别名/用户ID/PushToken推送(列表最多500)。返回task_id。",
        ),
        hints=WRITE,
        default=True,
    ),
]
