"""User tokens: sign in as an ordinary user by ID, username or login name (`/token/*`).

These calls need only the app_id, not the admin token: they are how an end user's client logs in.
The Swagger lists the act-as headers on them too, but acting as someone while asking for that
someone's token is meaningless, so the tools leave them out. Each call issues a fresh token, so
they are not idempotent.
"""

from typing import Annotated

from ..core.spec import (
    WRITE,
    ApiModel,
    Body,
    Consent,
    Effect,
    IdPaths,
    Named,
    Never,
    Operation,
    Params,
    Risk,
    Target,
    Toolset,
    f,
)

TOOLSET = Toolset(
    "tokens",
    (
        "User tokens: get an ordinary user's access token from their password.",
        "用户Token:用密码获取普通用户的访问令牌。",
    ),
)


class Token(ApiModel):
    """`TokenDto`."""

    token: str | None = f(
        "Access token: send it as access-token to act as this user.", "访问令牌,即access-token。", None
    )
    user_id: int | None = None
    expire: int | None = f("Expiry timestamp; the docs do not say ms or s.", "过期时间戳(文档未说明毫秒或秒)。", None)
    push_token: str | None = f("Push token (only when device_guid was given).", "推送Token(仅传device_guid时)。", None)
    store_token: str | None = f("File storage token.", "文件token。", None)
    access_key_secret: str | None = f("File key.", "文件密钥。", None)
    public_key: str | None = None
    encrypt_type: int | None = f("Whether the connection is encrypted.", "是否启用加密连接。", None)


SECRETS = ("token", "push_token", "store_token", "access_key_secret")  # masked unless revealed or confirmed

PASSWORD = ("The user's password.", "用户密码。")
DEVICE = ("Device ID; when given, a push_token is returned too.", "设备ID;填写时同时返回push_token。")


class ByName(Params):
    username: Annotated[str, Body("name")] = f("Username.", "用户名。", min_length=1)
    password: str = f(*PASSWORD, min_length=1, secret=True)
    device_guid: str | None = f(*DEVICE, None)


class ById(Params):
    user_id: int = f("User ID.", "用户ID。")
    password: str = f(*PASSWORD, min_length=1, secret=True)
    device_guid: str | None = f(*DEVICE, None)


class ByLogin(Params):
    login_name: str = f("Username, mobile number or email.", "用户名、手机号或邮箱。", min_length=1)
    password: str = f(*PASSWORD, min_length=1, secret=True)
    device_guid: str | None = f(*DEVICE, None)


OPERATIONS: list[Operation] = [
    Operation(
        name="get_user_token",
        effect=Effect(Target.TOKEN, ("token",), irreversible=Never.TOKEN),
        consent=Consent(risks=(Risk.SECRET,)),
        secret_fields=SECRETS,
        http="POST /token/user",
        params=ByName,
        result=Token,
        title=("Get user token by username", "用户名密码取用户Token"),
        description=(
            "Log in as a user with username and password; the returned token lets a client act as that user.",
            "用用户名和密码登录;返回的token可让客户端以该用户身份调用。",
        ),
        named=Named(usernames=("username",)),
        hints=WRITE,
        ids=IdPaths(plain=("data.user_id",)),
    ),
    Operation(
        name="get_user_token_by_id",
        effect=Effect(Target.TOKEN, ("token",), irreversible=Never.TOKEN),
        consent=Consent(risks=(Risk.SECRET,)),
        secret_fields=SECRETS,
        http="POST /token/id",
        params=ById,
        result=Token,
        title=("Get user token by user ID", "用户ID密码取用户Token"),
        description=(
            "Log in as a user with user ID and password; the returned token lets a client act as that user.",
            "用用户ID和密码登录;返回的token可让客户端以该用户身份调用。",
        ),
        named=Named(user="user_id"),
        hints=WRITE,
        ids=IdPaths(plain=("data.user_id",)),
    ),
    Operation(
        name="get_user_token_by_login",
        effect=Effect(Target.TOKEN, ("token",), irreversible=Never.TOKEN),
        consent=Consent(risks=(Risk.SECRET,)),
        secret_fields=SECRETS,
        http="POST /token/login",
        params=ByLogin,
        result=Token,
        title=("Get user token by login name", "登录名密码取用户Token"),
        description=(
            "Log in with username, mobile or email plus password; the returned token lets a client act as that user.",
            "用用户名、手机号或邮箱加密码登录;返回的token可让客户端以该用户身份调用。",
        ),
        named=Named(usernames=("login_name",)),
        hints=WRITE,
        ids=IdPaths(plain=("data.user_id",)),
    ),
]
