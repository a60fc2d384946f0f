"""User tokens: sign in as an ordinary user by ID, username or login name (`/token/*`)."""

from __future__ import annotations

from ..spec import Operation, Toolset

TOOLSET = Toolset(
    "tokens",
    (
        "User tokens: get an ordinary user's access token from their password.",
        "用户Token:用密码获取普通用户的访问令牌。",
    ),
)

OPERATIONS: list[Operation] = []
