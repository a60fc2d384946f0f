"""Messages: send, system notices, broadcast, recall, read acks, history, unread, conversations (`/message/*`)."""

from __future__ import annotations

from ..spec import WRITE, Operation, Toolset
from .common import SendMessage

TOOLSET = Toolset(
    "messages",
    (
        "Messages: send, notify, broadcast, recall, read ack, history, unread, conversations.",
        "消息:发送、系统通知、广播、撤回、已读回执、历史、未读、会话。",
    ),
)

OPERATIONS: list[Operation] = [
    Operation(
        name="send_message",
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
        hints=WRITE,
        default=True,
    ),
]
