"""Models shared by several toolsets: the message request body and common result types."""

from typing import Literal

from pydantic import computed_field, model_validator

from ..core.spec import ApiModel, AsUser, Params, f, username_list

ContentType = Literal[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12]
CONTENT_TYPES_EN = (
    "0 text, 1 image, 2 audio, 3 video, 4 file, 5 location, 6 command, 7 forward, "
    "9 read-ack, 10 recall, 11 append, 12 replace (9-12 need related_mid)"
)
CONTENT_TYPES_ZH = "0文本,1图片,2语音,3视频,4文件,5位置,6命令,7转发,9已读回执,10撤回,11追加,12替换(9-12需related_mid)"


class MessageFields(Params):
    """The MessageRequest body shared by send_message, send_system_notice and send_ai_message.

    The API takes `targets` plus `type` (1 users, 2 groups) and refuses mixed lists; the tool takes
    `user_ids` or `group_ids`, so a mixed call cannot even be expressed, and derives both.
    """

    user_ids: list[int] | None = f(
        "Recipient user IDs. Give user_ids or group_ids, not both.",
        "接收用户ID列表。user_ids与group_ids二选一。",
        None,
        min_length=1,
        exclude=True,
    )
    usernames: list[str] | None = username_list()
    group_ids: list[int] | None = f(
        "Recipient group IDs. Give user_ids or group_ids, not both.",
        "接收群ID列表。user_ids与group_ids二选一。",
        None,
        min_length=1,
        exclude=True,
    )
    content: str = f("Message text (for files, a caption or empty).", "消息内容(文件消息可为空)。", "")
    content_type: ContentType = f(CONTENT_TYPES_EN, CONTENT_TYPES_ZH, 0)
    from_user_id: int | None = f(
        "The sender (admin token); use this, not as_user_id, to pick the sender. Omit: system admin.",
        "发送者用户ID(管理员token);指定发送者用此项而非as_user_id。不填则为系统管理员。",
        None,
    )
    attachment: str | None = f(
        'Attachment as a JSON string, e.g. {"url":"…","dName":"a.pdf","fLen":123}.',
        '附件JSON字符串,如{"url":"…","dName":"a.pdf","fLen":123}。',
        None,
    )
    ext: str | None = f("App extension as a JSON string.", "扩展字段(JSON字符串)。", None)
    config: str | None = f("SDK config as a JSON string.", "SDK配置(JSON字符串)。", None)
    related_mid: int | None = f(
        "The message a read-ack/recall/append/replace refers to.", "已读回执/撤回/追加/替换所指的消息ID。", None
    )
    online_only: bool | None = f("Deliver only to online devices.", "仅发送给在线设备。", None)
    transaction_id: int | None = f(
        "De-duplication key: a retried send with the same key is delivered once.",
        "去重ID:相同ID的重试只投递一次。",
        None,
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def targets(self) -> list[int]:
        return list(self.user_ids or self.group_ids or [])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type(self) -> int:
        return 1 if self.user_ids else 2

    @model_validator(mode="after")
    def _check(self) -> "MessageFields":
        if bool(self.user_ids) == bool(self.group_ids):
            raise ValueError(
                "give exactly one of user_ids (or usernames) or group_ids (the API cannot mix users and groups)"
            )
        if self.content_type in (9, 10, 11, 12) and self.related_mid is None:
            raise ValueError(f"content_type {self.content_type} needs related_mid (the message it refers to)")
        if self.content_type == 0 and not self.content:
            raise ValueError("a text message (content_type 0) needs content")
        return self


class SendMessage(MessageFields):
    as_user_id: AsUser = f(
        "Call as this user (header); not needed to pick the sender: use from_user_id.",
        "以此用户身份调用(请求头);指定发送者无需此项,用from_user_id。",
        None,
    )


class GroupUserResult(ApiModel):
    user_id: int | None = None
    result: str | None = f("success or fail.", "success或fail。", None)
    reason: str | None = None


# In result models, a field whose name says what it holds has no description: output schemas are listed.
class UserSettings(ApiModel):
    user_id: int | None = None
    auth_mode: int | None = f(
        "Friend requests: 0 anyone, 1 needs approval, 2 question, 3 reject all.",
        "加好友验证:0任何人,1需验证,2回答问题,3拒绝所有。",
        None,
    )
    auth_question: str | None = None
    auto_download: bool | None = f("Download files automatically.", "自动下载文件。", None)
    group_confirm: bool | None = f("Group invitations need consent.", "入群邀请需本人同意。", None)
    no_push: bool | None = f("true: push notifications off.", "true关闭推送。", None)
    no_push_detail: bool | None = f("true: pushes hide message text.", "true推送不显示内容。", None)
    no_push_start_hour: int | None = f(
        "Quiet hours start, hour 0-23; equal to end: off.", "免打扰开始小时0-23;与结束相同为关闭。", None
    )
    no_push_end_hour: int | None = f("Quiet hours end, hour 0-23.", "免打扰结束小时0-23。", None)
    no_sounds: bool | None = f("true: no sound for new messages.", "true新消息静音。", None)
    push_nick_name: str | None = None
    vibratory: bool | None = f("true: vibrate on new messages.", "true新消息振动。", None)
    silence_start_time: int | None = f("Silent pushes (no sound) from, hour 0-23.", "推送不提醒开始小时0-23。", None)
    silence_end_time: int | None = f("Silent pushes until, hour 0-23.", "推送不提醒结束小时0-23。", None)


class GroupInfo(ApiModel):
    group_id: int | None = None
    name: str | None = None
    description: str | None = None
    avatar: str | None = None
    owner_id: int | None = None
    type: int | None = f("0 private, 2 chatroom.", "0私有群,2聊天室。", None)
    status: int | None = f("0 normal, 1 disbanded.", "0正常,1已解散。", None)
    member_invite: bool | None = f("Members may invite.", "成员可邀请。", None)
    member_modify: bool | None = f("Members may edit group info.", "成员可改群信息。", None)
    apply_approval: int | None = f(
        "0 accept all, 1 admin approves, 2 reject all.", "0同意所有,1管理员审批,2拒绝所有。", None
    )
    read_ack: bool | None = f("Read receipts on.", "已读回执开启。", None)
    history_visible: bool | None = f("New members see history.", "新成员可见历史。", None)
    hide_member_info: bool | None = f("Member details hidden from non-admins.", "对非管理员隐藏成员信息。", None)
    ban_expire_time: int | None = f("Mute-all end, epoch s; -1 forever, 0 off.", "全员禁言结束(秒);-1永久,0无。", None)
    ext: str | None = None
    created_at: int | None = f("Created, epoch ms.", "创建时间(毫秒)。", None)
    updated_at: int | None = f("Updated, epoch ms.", "更新时间(毫秒)。", None)


class GroupMember(ApiModel):
    user_id: int | None = None
    display_name: str | None = None
    join_time: int | None = f("Joined, epoch ms.", "入群时间(毫秒)。", None)
    expired_time: int | None = f("Mute end, epoch ms; -1 forever.", "禁言结束(毫秒);-1永久。", None)


class FileUpload(ApiModel):
    upload_url: str | None = f("Where to upload the file (multipart form).", "上传地址(multipart表单)。", None)
    upload_method: str | None = f("POST or PUT.", "POST或PUT。", None)
    oss_body_param: dict[str, str] | None = f("Form fields to send with the file.", "上传时需附带的表单字段。", None)
    download_url: str | None = f("URL of the file once uploaded.", "上传后的下载地址。", None)
