"""Users: registration, profiles, settings, devices, push preferences, bans (`/user/*`)."""

from __future__ import annotations

import re

from pydantic import field_validator

from ..spec import WRITE, Operation, Params, Toolset, f
from .common import UserSettings

TOOLSET = Toolset(
    "users",
    (
        "App users: register, profile, settings, devices, push preferences, ban.",
        "用户:注册、资料、设置、设备、推送偏好、封禁。",
    ),
)

_USERNAME = re.compile(r"^[A-Za-z0-9_]+$")


def check_username(value: str) -> str:
    """The documented rules: letters, digits and underscore; not all digits; not starting with maxim or mta."""
    if not _USERNAME.match(value):
        raise ValueError("username may contain only letters, digits and underscore")
    if value.isdigit():
        raise ValueError("username must not be all digits")
    if value.lower().startswith(("maxim", "mta")):
        raise ValueError("username must not start with 'maxim' or 'mta'")
    return value


USERNAME_EN = "Username: letters, digits, underscore; not all digits; must not start with maxim or mta."
USERNAME_ZH = "用户名:仅字母数字下划线,不能是纯数字,不能以maxim、mta开头。"


class RegisterUser(Params):
    username: str = f(USERNAME_EN, USERNAME_ZH, min_length=1, max_length=64)
    password: str = f("Password for the new user.", "新用户的密码。", min_length=1)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        return check_username(value)


OPERATIONS: list[Operation] = [
    Operation(
        name="register_user",
        http="POST /user/register/v2",
        params=RegisterUser,
        result=UserSettings,
        title=("Register user", "注册用户"),
        description=(
            "Create an app user from a username and password; returns the new user_id and default settings.",
            "用用户名和密码注册新用户;返回新用户的user_id和默认设置。",
        ),
        hints=WRITE,
        default=True,
    ),
]
