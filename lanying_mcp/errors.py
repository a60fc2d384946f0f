"""Everything a failed call can be, and what to tell the model about it.

Exception tree (all raised by `client.py` or the dispatcher, all caught at the one boundary):

    LanyingError                 base; carries `code` (int Lanying code or a string class) and `message`
    ├── ApiError                 the API answered `{code != 200, message}` (usually with HTTP 200)
    ├── HttpStatusError          HTTP 4xx/5xx without a Lanying envelope
    ├── TransportError           the request did not complete: `timeout`, `connection_error`
    ├── InvalidResponse          the body was not the JSON envelope we expect
    └── ArgumentError            the tool's arguments failed validation before any request was sent

`describe()` turns any of them into the structured error a tool returns:
`{"code", "message", "meaning", "hint", "retryable"}` — what the code means, the likely cause in
this call, and the next step. The access token is never part of any of these texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class LanyingError(Exception):
    code: int | str = "error"
    retryable = False

    def __init__(self, message: str, *, code: int | str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        # None: unknown; True: the request reached the service and may have been applied.
        self.may_have_applied: bool | None = None


class ApiError(LanyingError):
    def __init__(self, code: int, message: str | None) -> None:
        super().__init__(message or "", code=code)
        self.retryable = entry(code).retryable


class HttpStatusError(LanyingError):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, code=f"http_{status}")
        self.status = status
        self.retry_after = retry_after
        self.retryable = status == 429 or status >= 500


class TransportError(LanyingError):
    retryable = True


class InvalidResponse(LanyingError):
    code = "invalid_response"


class ArgumentError(LanyingError):
    code = "invalid_arguments"


class NotAllowed(LanyingError):
    """Refused by this server's own configuration (read-only mode, policy, an unselected tool)."""

    code = "not_allowed"


@dataclass(frozen=True)
class Entry:
    en: str
    zh: str
    hint: str  # likely cause and next step, for the model
    retryable: bool = False


_ENTRIES: dict[int | str, Entry] = {
    10000: Entry(
        "User does not exist",
        "用户不存在",
        "Check the user ID (find users with list_users or find_user_by_name); the user may have been deleted.",
    ),
    10001: Entry("Verification code is incorrect", "验证码不正确", "Ask the user for a fresh verification code."),
    10002: Entry(
        "Request parameters are incorrect",
        "请求参数不正确",
        "An argument is missing or has a wrong value or format; compare the call with the tool's schema.",
    ),
    10003: Entry(
        "The access-token header is missing",
        "header中缺少access-token参数",
        "The server has no access token: set LANYING_ACCESS_TOKEN (an admin token from the console's Token page).",
    ),
    10004: Entry(
        "User already exists",
        "用户已存在",
        "The username is taken: pick another username, or look the user up with find_user_by_name.",
    ),
    10005: Entry("User is already in the friend list", "用户已在好友列表", "Nothing to do: they are already friends."),
    10006: Entry(
        "User is in the blacklist",
        "用户在黑名单列表",
        "One side has blocked the other; unblock first (unblock_user) if that is intended.",
    ),
    10007: Entry(
        "Friend request does not exist or has expired",
        "好友申请不存在或已过期",
        "List pending requests with list_friend_requests, or send a new request.",
    ),
    10008: Entry(
        "The access-token is invalid",
        "header中access-token无效",
        "LANYING_ACCESS_TOKEN is wrong, revoked or for another app; copy a valid admin token from the console and check LANYING_APP_ID.",
    ),
    10009: Entry("Object storage (OSS) error", "oss异常", "A storage-side failure; retry the upload shortly.", True),
    10010: Entry(
        "User has no permission",
        "用户无权限",
        "The acting user may not do this; act as a user who may (as_user_id) or use the admin token without act-as.",
    ),
    10011: Entry(
        "user_id is already bound", "user_id已绑定", "The ID is already bound; unbind it first if you mean to rebind."
    ),
    10012: Entry("User declined the friend request", "用户拒绝好友申请", "The other user declined; nothing to retry."),
    12001: Entry(
        "Uploading the push image to Xiaomi failed",
        "上传推送图片到小米平台失败",
        "Retry, or send the push without an image.",
        True,
    ),
    12002: Entry(
        "Push image must be smaller than 1 MB",
        "推送图片文件大小需小于1M",
        "Use a .jpg/.jpeg/.png image under 1 MB as attachment_url.",
    ),
    12003: Entry(
        "Uploading the push image to OPPO failed",
        "上传推送图片到OPPO平台失败",
        "Retry, or send the push without an image.",
        True,
    ),
    12004: Entry(
        "Push image URL cannot be downloaded",
        "推送的图片地址无法下载",
        "attachment_url must be a public http(s) URL that serves the image.",
    ),
    12005: Entry(
        "Push target list exceeds 500 entries",
        "推送目标列表的长度不能超过500",
        "Split the audience into lists of at most 500 and push once per list.",
    ),
    12006: Entry(
        "Push is not enabled for this app", "没有开通推送功能", "Enable push for the app in the Lanying console first."
    ),
    20000: Entry("Server database error", "服务器数据库异常", "A server-side failure; retry shortly.", True),
    20001: Entry(
        "Group does not exist",
        "群组不存在",
        "Check the group ID (list_user_groups lists a user's groups); the group may have been destroyed.",
    ),
    20002: Entry(
        "User is not a group member",
        "用户不是群成员",
        "Invite the user first (invite_group_members), or act as a user who is a member.",
    ),
    20003: Entry("Invalid msg_push_mode", "msg_push_mode值不合法", "Use a push mode from 0 to 4."),
    20004: Entry(
        "The owner cannot leave the group",
        "群主不能直接离开群",
        "Transfer ownership first (transfer_group_owner), or destroy the group.",
    ),
    20005: Entry(
        "Transfer failed: the new owner is not a member",
        "转让群异常:被转让人非群成员",
        "Invite the new owner into the group first, then transfer.",
    ),
    20006: Entry("Group is in repair mode", "群组处于修复模式", "Wait and retry later.", True),
    20007: Entry(
        "The app's group quota is exceeded", "App群数量超限", "Destroy unused groups or raise the quota in the console."
    ),
    20008: Entry(
        "The user's created-group quota is exceeded",
        "用户创建的群数量超限",
        "Create the group as another owner, or destroy groups this user owns.",
    ),
    20009: Entry(
        "The user's joined-group quota is exceeded",
        "用户加入的群数量超限",
        "The user is in too many groups; remove them from some first.",
    ),
    20010: Entry("Group member limit exceeded", "群人数超限", "Remove members or create another group."),
    20011: Entry(
        "Operation requires group-member permission",
        "操作需要群成员权限",
        "The acting user is not a member; act as a member (as_user_id).",
    ),
    20012: Entry(
        "Operation requires group-admin permission",
        "操作需要群管理员权限",
        "Act as the owner or an admin (as_user_id), or make the user an admin with add_group_admins.",
    ),
    20013: Entry(
        "Operation requires group-owner permission",
        "操作需要群主权限",
        "Only the owner may do this: act as the owner (as_user_id = owner_id from get_group_info).",
    ),
    20014: Entry(
        "Join application has expired or was already handled",
        "入群申请已过期或已处理",
        "List current applications with list_group_applications.",
    ),
    20015: Entry(
        "Group invitation has expired or was already handled",
        "入群邀请已过期或已处理",
        "List current invitations with list_group_invitations, or invite again.",
    ),
    20016: Entry(
        "User was kicked too many times and cannot rejoin",
        "用户被踢出群次数超限,不能再加入群",
        "This user can no longer join this group.",
    ),
    20017: Entry(
        "User is already a group member", "用户已经是群成员", "Nothing to do: the user is already in the group."
    ),
    20018: Entry(
        "User is in the group blacklist",
        "用户在群黑名单列表",
        "Remove the user from the group blacklist first (unblock_group_members).",
    ),
    20020: Entry(
        "Group announcement does not exist", "群公告不存在", "List announcements with list_group_announcements."
    ),
    20021: Entry(
        "Group announcements are disabled by the admin",
        "群公告被管理员禁用",
        "Announcements are disabled for this group.",
    ),
    20022: Entry("Group shared file does not exist", "群共享文件不存在", "List files with list_group_files."),
    20023: Entry(
        "No permission on this group shared file",
        "无权限操作群共享文件",
        "Only the uploader or a group admin may change it; act as one of them.",
    ),
    20024: Entry(
        "Invalid group invitation QR code", "群邀请二维码不合法", "Get a fresh qr_info with get_group_qrcode."
    ),
    20025: Entry(
        "Group invitation QR code has expired", "群邀请二维码已过期", "Get a fresh qr_info with get_group_qrcode."
    ),
    30021: Entry("Lanying IM license is invalid", "蓝莺IM License无效", "Check the app's license in the console."),
    30022: Entry("Lanying IM license has expired", "蓝莺IM License已过期", "Renew the license in the console."),
    30023: Entry("Lanying IM license limit exceeded", "超出蓝莺IM License限制", "Upgrade the license or reduce usage."),
    40000: Entry(
        "app_id does not exist",
        "app_id不存在",
        "LANYING_APP_ID is wrong; copy it from the console's app info page and check LANYING_API_ENDPOINT.",
    ),
    402: Entry(
        "The token is no longer valid",
        "token已失效",
        "The access token expired or was revoked; use a fresh admin token (or get a new user token).",
    ),
    # Failure classes that are not Lanying codes.
    "invalid_arguments": Entry(
        "The tool arguments are invalid",
        "工具参数不合法",
        "Fix the arguments named in the message and call again; nothing was sent.",
    ),
    "timeout": Entry(
        "The request timed out",
        "请求超时",
        "The service did not answer in time; retry, or raise LANYING_TIMEOUT.",
        True,
    ),
    "connection_error": Entry(
        "Could not connect to the Lanying API",
        "无法连接蓝莺IM API",
        "Check LANYING_API_ENDPOINT and the network; retry.",
        True,
    ),
    "invalid_response": Entry(
        "The API answered with an unexpected body",
        "API返回了无法识别的内容",
        "The endpoint may be wrong (not a Lanying API server) or the service failed; check LANYING_API_ENDPOINT.",
    ),
    "not_allowed": Entry(
        "Refused by this server's configuration",
        "被本服务器的配置拒绝",
        "The operator disabled this call (read-only mode, tool selection or policy); ask them, or use another tool.",
    ),
    "confirmation_required": Entry(
        "This call needs a human's confirmation that this client cannot ask for",
        "此调用需要人工确认,但该客户端无法发起确认",
        "Use an MCP client that supports elicitation, or the operator may start the "
        "server with --no-confirm (LANYING_CONFIRM=false) to allow it without asking.",
    ),
    "declined": Entry(
        "The human declined the confirmation",
        "用户拒绝了确认",
        "Nothing was done. Do not retry unless the human asks for it.",
    ),
    "internal_error": Entry(
        "Internal error in the MCP server",
        "MCP服务器内部错误",
        "An unexpected failure inside lanying-mcp; the server logged it. Retry once; report it if it persists.",
    ),
}

_HTTP = {
    400: Entry("Bad request", "请求错误", "The API rejected the request format; check the arguments."),
    401: Entry("Unauthorized", "未授权", "Check LANYING_ACCESS_TOKEN and LANYING_APP_ID."),
    403: Entry("Forbidden", "禁止访问", "The token may not call this API; use an admin token."),
    404: Entry("Not found", "未找到", "The path does not exist on this endpoint; check LANYING_API_ENDPOINT."),
    413: Entry("Request too large", "请求过大", "Send less data per call."),
    429: Entry("Too many requests", "请求过多", "Rate limited: wait (Retry-After) and retry.", True),
}

_RANGES = [
    (10000, 11999, "user or friend (roster) error", "用户/好友体系错误"),
    (12000, 12999, "push error", "推送错误"),
    (20000, 29999, "group error", "群组体系错误"),
    (30000, 39999, "license error", "License错误"),
    (40000, 49999, "app error", "应用错误"),
]


def entry(code: int | str) -> Entry:
    """The catalogue entry for any code; unknown codes get a useful answer from their range."""
    if code in _ENTRIES:
        return _ENTRIES[code]
    if isinstance(code, str) and code.startswith("http_") and code[5:].isdigit():
        status = int(code[5:])
        if status in _HTTP:
            return _HTTP[status]
        if status >= 500:
            return Entry(
                f"HTTP {status} server error",
                f"HTTP {status} 服务器错误",
                "The Lanying service failed; retry shortly.",
                True,
            )
        return Entry(f"HTTP {status}", f"HTTP {status}", "Unexpected HTTP status; check the endpoint and arguments.")
    if isinstance(code, int):
        for low, high, en, zh in _RANGES:
            if low <= code <= high:
                return Entry(
                    f"Undocumented {en} {code}",
                    f"未收录的{zh} {code}",
                    "Read the message for details; check the IDs and permissions involved.",
                )
    return Entry(
        f"Unknown error code {code}",
        f"未知错误码 {code}",
        "Read the message for details; the code is not in the documented catalogue.",
    )


def catalogue() -> dict[int | str, Entry]:
    return dict(_ENTRIES)


def describe(exc: LanyingError, lang: str = "en") -> dict[str, Any]:
    """The structured error a tool returns for `exc`."""
    e = entry(exc.code)
    hint = e.hint
    retry_key = getattr(exc, "retry_key", None)
    if retry_key is not None and not isinstance(exc, ApiError):
        hint += (
            f" It may have been delivered: to retry safely, call again with transaction_id={retry_key} "
            "(the API delivers a send with the same key once)."
        )
    elif exc.may_have_applied:
        hint += " The request reached the service, so the change may have been applied: check before repeating it."
    retryable = bool(getattr(exc, "retryable", e.retryable))
    if exc.may_have_applied and retry_key is None:
        retryable = False  # repeating a write that may have happened could apply it twice
    payload: dict[str, Any] = {
        "code": exc.code,
        "message": exc.message,
        "meaning": e.zh if lang == "zh" else e.en,
        "hint": hint,
        "retryable": retryable,
    }
    if exc.details is not None:
        payload["details"] = exc.details
    return payload


def error_text(tool: str, err: dict[str, Any]) -> str:
    """One readable paragraph for clients that only show text."""
    message = f": {err['message']}" if err.get("message") else ""
    return f"{tool} failed — code {err['code']} ({err['meaning']}){message}. Next step: {err['hint']}" + (
        " (retryable)" if err.get("retryable") else ""
    )
