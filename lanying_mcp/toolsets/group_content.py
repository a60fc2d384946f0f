"""Group content: announcements and shared files."""

from __future__ import annotations

from ..spec import Operation, Toolset

TOOLSET = Toolset("group_content", ("Group content: announcements and shared files.", "群内容:群公告和群共享文件。"))

OPERATIONS: list[Operation] = []
