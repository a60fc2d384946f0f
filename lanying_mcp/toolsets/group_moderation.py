"""Group moderation: mute members or the whole group, blacklist, invitations, join applications, QR codes."""

from __future__ import annotations

from ..spec import Operation, Toolset

TOOLSET = Toolset(
    "group_moderation",
    (
        "Group moderation: mute members or the whole group, blacklist, invitations, join applications, QR codes.",
        "群管理:禁言成员或全员、黑名单、入群邀请、入群申请、二维码。",
    ),
)

OPERATIONS: list[Operation] = []
