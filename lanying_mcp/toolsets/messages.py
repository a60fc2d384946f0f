"""Messages: send, system notices, broadcast, recall, read acks, history, unread, conversations (`/message/*`)."""

from typing import Literal

from pydantic import computed_field

from ..core.spec import (
    DANGER,
    DELETE,
    MESSAGES,
    READ,
    UNPAGED,
    UPDATE,
    WRITE,
    ApiModel,
    AsGroup,
    AsUser,
    Audience,
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
)
from .common import MessageFields, SendMessage

TOOLSET = Toolset(
    "messages",
    (
        "Messages: send, notify, broadcast, recall, read ack, history, unread, conversations.",
        "消息:发送、系统通知、广播、撤回、已读回执、历史、未读、会话。",
    ),
)

CONVERSATION_ID = (
    "The conversation: the peer's user ID, or the group ID.",
    "会话ID:对方用户ID或群ID。",
)


class SystemNotice(MessageFields):
    as_user_id: AsUser = f(
        "Call as this user (header); not needed to pick the sender: use from_user_id.",
        "以此用户身份调用(请求头);指定发送者无需此项,用from_user_id。",
        None,
    )


class Broadcast(Params):
    as_user_id: AsUser = f(
        "Broadcast as this user (admin token only); omit for the system admin.",
        "以此用户身份广播(仅管理员token);不填则为系统管理员。",
        None,
    )
    content: str | None = f("Message text.", "消息内容。", None)
    content_type: Literal[0, 1, 2, 3, 4, 5, 6] = f(
        "0 text, 1 image, 2 audio, 3 video, 4 file, 5 location, 6 command.",
        "0文本,1图片,2语音,3视频,4文件,5位置,6命令。",
        0,
    )
    attachment: str | None = f("Attachment as a JSON string.", "附件(JSON字符串)。", None)
    ext: str | None = f("App extension as a JSON string.", "扩展字段(JSON字符串)。", None)
    config: str | None = f("SDK config as a JSON string.", "SDK配置(JSON字符串)。", None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type(self) -> int:
        """The API documents only 1 (ordinary users) as a broadcast target type."""
        return 1


class BroadcastResult(ApiModel):
    send_num: int | None = f("Number of users the broadcast went to.", "发送的用户数。", None)
    success: bool | None = f("true: sent.", "true已发送。", None)


class Recall(Params):
    as_user_id: AsUser = f(
        "Recall as this user: the sender, or a group admin (admin token only).",
        "以此用户身份撤回:发送者或群管理员(仅管理员token)。",
        None,
    )
    as_group_id: AsGroup = f(
        "Recall as an admin of this group (admin token only).", "以此群管理员身份撤回(仅管理员token)。", None
    )
    conversation_id: int = f(*CONVERSATION_ID)
    msg_id: int = f("The message to recall.", "要撤回的消息ID。")


class ReadAck(Params):
    as_user_id: AsUser = f("The reader (admin token only).", "已读的用户ID(仅管理员token)。", None)
    conversation_id: int | None = f(*CONVERSATION_ID, None)
    msg_id: int | None = f(
        "The message read; it and earlier ones count as read.", "已读的消息ID;此前的消息一并已读。", None
    )
    device_sn: int | None = f("The reader's device number.", "阅读设备序号。", None)


class History(Params):
    as_user_id: AsUser = f(
        "Whose view of the conversation (admin token only).", "以此用户的视角读取会话(仅管理员token)。", None
    )
    as_group_id: AsGroup = f(
        "Read the group's history as its admin (admin token only).", "以群管理员身份读取群消息(仅管理员token)。", None
    )
    opposite_id: int = f(*CONVERSATION_ID)
    msg_id_start: int = f(
        "Page backwards from this message (inclusive); 0 = newest. Pass the returned next_msg_id.",
        "从此消息起向前拉取(含);0表示最新。翻页时传入返回的next_msg_id。",
        0,
    )
    limit: int = f("Messages per page.", "每页条数。", 20, ge=1, le=100)


class XID(ApiModel):
    uid: int | None = None
    device_sn: int | None = None


class ConversationMessage(ApiModel):
    msg_id: int | None = None
    from_xid: XID | None = None
    to_xid: XID | None = None
    ctype: str | None = f("TEXT, IMAGE, AUDIO, VIDEO, FILE, LOCATION, COMMAND, FORWARD.", "消息内容类型。", None)
    content: str | None = None
    attachment: str | None = None
    ext: str | None = None
    config: str | None = None
    status: str | None = f("UNREAD, DELIVERED or READ.", "UNREAD未读、DELIVERED已投递、READ已读。", None)
    timestamp: int | None = f("Sent at (ms).", "发送时间(毫秒)。", None)


class ConversationPage(ApiModel):
    messages: list[ConversationMessage] | None = None
    next_msg_id: int | None = f(
        "Pass as msg_id_start for the next (older) page.", "作为msg_id_start传入可取下一页(更早)。", None
    )
    is_last: bool | None = f("True when there are no older messages.", "为true时没有更早的消息。", None)


class DeleteConversation(Params):
    as_user_id: AsUser = f(
        "The user whose conversation list loses it (admin token only).", "删除此用户的会话(仅管理员token)。", None
    )
    conversation_id: int = f(*CONVERSATION_ID)


class Unread(Params):
    as_user_id: AsUser = f("Whose conversations (admin token only).", "查询此用户的会话(仅管理员token)。", None)


class ConversationRef(ApiModel):
    uid: int | None = f("Peer user ID or group ID.", "对方用户ID或群ID。", None)


class UnreadConversation(ApiModel):
    conversation_id: ConversationRef | None = None
    num: int | None = f("Unread messages.", "未读消息数。", None)


class Pin(Params):
    as_user_id: AsUser = f("Whose conversation list (admin token only).", "此用户的会话列表(仅管理员token)。", None)
    conversation_id: int = f(*CONVERSATION_ID)


class PinList(Params):
    as_user_id: AsUser = f("Whose pinned list (admin token only).", "查询此用户的置顶(仅管理员token)。", None)


class PinnedConversations(ApiModel):
    conversation_ids: list[int] | None = None


OPERATIONS: list[Operation] = [
    Operation(
        name="send_message",
        effect=Effect(Target.MESSAGE, ("message",), irreversible=Never.SENT, recall="recall_message"),
        audience=Audience(users=("user_ids",), groups=("group_ids",)),
        dedup_key="transaction_id",
        http="POST /message/send",
        aliases=("PUT",),
        params=SendMessage,
        result=bool,
        extras=("msg_ids",),
        title=("Send message", "发送消息"),
        description=(
            "Send a message to users or to groups (not both at once). msg_ids is returned for a single target. "
            "Pass transaction_id so that a retry is delivered once.",
            "向用户或群发送消息(二者不能同时)。单个目标时返回msg_ids。传transaction_id可使重试只投递一次。",
        ),
        named=Named(
            acting="as_user_id", users="user_ids", groups="group_ids", content="content", sender="from_user_id"
        ),
        hints=WRITE,
        default=True,
    ),
    Operation(
        name="send_system_notice",
        effect=Effect(Target.MESSAGE, ("message",), irreversible=Never.SENT),
        audience=Audience(users=("user_ids",), groups=("group_ids",)),
        dedup_key="transaction_id",
        http="POST /message/notify",
        aliases=("PUT",),
        params=SystemNotice,
        result=bool,
        extras=("msg_ids",),
        title=("Send system notice", "发送系统通知"),
        description=(
            "Send a system notification to users or groups (same fields as send_message, not subject to group "
            "mutes). msg_ids is returned for a single target.",
            "向用户或群发送系统通知(字段同send_message,不受群禁言限制)。单个目标时返回msg_ids。",
        ),
        named=Named(
            acting="as_user_id", users="user_ids", groups="group_ids", content="content", sender="from_user_id"
        ),
        hints=WRITE,
    ),
    Operation(
        name="broadcast_message",
        effect=Effect(Target.MESSAGE, ("message",), irreversible=Never.SENT),
        audience=Audience(everyone=True),
        http="POST /message/broadcast",
        params=Broadcast,
        result=BroadcastResult,
        title=("Broadcast message", "广播消息"),
        description=(
            "Send one message to every user of the app. Returns how many users it went to. Each call sends again.",
            "向App的所有用户发送一条消息,返回发送人数。每次调用都会重新发送。",
        ),
        named=Named(acting="as_user_id", content="content"),
        hints=WRITE,
    ),
    Operation(
        name="recall_message",
        effect=Effect(Target.MESSAGE, ("message",), irreversible=Never.RECALLED),
        http="POST /message/recall",
        aliases=("PUT",),
        params=Recall,
        result=bool,
        title=("Recall message", "撤回消息"),
        description=(
            "Recall (unsend) a message: allowed for its sender, the app admin, or a group admin for group messages.",
            "撤回消息:发送者、应用管理员或群管理员(群消息)可撤回。",
        ),
        named=Named(acting="as_user_id", acting_group="as_group_id", message="msg_id", conversation="conversation_id"),
        hints=DANGER,
    ),
    Operation(
        name="send_read_ack",
        effect=Effect(Target.MESSAGE, ("read",), irreversible=Never.READ),
        http="GET /message/ack",
        params=ReadAck,
        result=bool,
        title=("Send read receipt", "发送已读回执"),
        description=(
            "Mark a message (and the earlier ones of its conversation) as read by the acting user.",
            "以当前用户身份将消息(及该会话中更早的消息)标记为已读。",
        ),
        named=Named(acting="as_user_id", message="msg_id", conversation="conversation_id", device="device_sn"),
        hints=UPDATE,
    ),
    Operation(
        name="list_conversation_messages",
        http="GET /message/conversation",
        params=History,
        result=ConversationPage,
        title=("Get conversation messages", "获取会话消息"),
        description=(
            "One page of a conversation's history with a user or group, newest first. For older messages pass "
            "next_msg_id as msg_id_start; stop when is_last is true.",
            "分页获取与某用户或群的会话消息(新到旧)。更早的消息:将next_msg_id作为msg_id_start传入;is_last为true时结束。",
        ),
        paging=Paging(
            Pages.WINDOW, items="messages", unit=MESSAGES, arg="msg_id_start", next="next_msg_id", last="is_last"
        ),
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(
            users=("data.messages[].from_xid.uid",),
            either=("data.messages[].to_xid.uid",),  # the recipient: a user, or the group
            text=(
                "data.messages[].content",
                "data.messages[].attachment",
                "data.messages[].ext",
                "data.messages[].config",
            ),
        ),
    ),
    Operation(
        name="delete_conversation",
        effect=Effect(Target.CONVERSATION, ("conversation",), irreversible=Never.DELETED),
        http="DELETE /message/conversation",
        params=DeleteConversation,
        result=bool,
        title=("Delete conversation", "删除会话"),
        description=(
            "Delete a conversation from the acting user's list, hiding its messages so far (only for that user).",
            "从当前用户的会话列表删除会话,已有消息对其不再可见(仅影响该用户)。",
        ),
        named=Named(acting="as_user_id", conversation="conversation_id"),
        hints=DELETE,
    ),
    Operation(
        name="list_unread_conversations",
        http="GET /message/unread",
        params=Unread,
        result=list[UnreadConversation],
        title=("List recent conversations with unread counts", "获取最近会话及未读数"),
        description=(
            "The acting user's recent conversations (peer user or group ID) with the number of unread messages.",
            "当前用户的最近会话(对方用户ID或群ID)及各自的未读消息数。",
        ),
        paging=UNPAGED,
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(plain=("data[].conversation_id.uid",)),
    ),
    Operation(
        name="pin_conversation",
        effect=Effect(Target.CONVERSATION, ("pinned",), undo("unpin_conversation", "as_user_id", "conversation_id")),
        http="POST /user/conversation/pin",
        aliases=("PUT",),
        params=Pin,
        result=bool,
        title=("Pin conversation", "置顶会话"),
        description=("Pin a conversation to the top of the acting user's list.", "将会话置顶到当前用户的会话列表。"),
        named=Named(acting="as_user_id", conversation="conversation_id"),
        hints=UPDATE,
    ),
    Operation(
        name="unpin_conversation",
        effect=Effect(Target.CONVERSATION, ("pinned",), undo("pin_conversation", "as_user_id", "conversation_id")),
        http="POST /user/conversation/unpin",
        aliases=("PUT",),
        params=Pin,
        result=bool,
        title=("Unpin conversation", "取消置顶会话"),
        description=("Remove a conversation's pin for the acting user.", "取消当前用户对某会话的置顶。"),
        named=Named(acting="as_user_id", conversation="conversation_id"),
        hints=UPDATE,
    ),
    Operation(
        name="list_pinned_conversations",
        http="GET /user/conversation/pin_list",
        params=PinList,
        result=PinnedConversations,
        title=("List pinned conversations", "获取置顶会话列表"),
        description=("IDs of the acting user's pinned conversations.", "当前用户置顶的会话ID列表。"),
        named=Named(acting="as_user_id"),
        hints=READ,
        ids=IdPaths(plain=("data.conversation_ids[]",)),
    ),
]
