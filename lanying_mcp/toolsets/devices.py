"""Devices and push preferences of users: device list, kick, push on/off, quiet hours, tags, alias, badge, vendor tokens."""

from __future__ import annotations

from ..spec import Operation, Toolset

TOOLSET = Toolset(
    "devices",
    (
        "Devices and push preferences of users: device list, kick, push on/off, quiet hours, tags, alias, badge, vendor tokens.",
        "用户设备与推送偏好:设备列表、踢下线、推送开关、免打扰、标签、别名、角标、厂商token。",
    ),
)

OPERATIONS: list[Operation] = []
