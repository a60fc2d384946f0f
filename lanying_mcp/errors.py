"""Everything a failed call can be, and what to tell the model about it.

Exception tree (all raised by `client.py` or the dispatcher, all caught at the one boundary):

    LanyingError                 base; carries `code` (int Lanying code or a string class) and `message`
    ├── ApiError                 the API answered `{code != 200, message}` (usually with HTTP 200)
    ├── HttpStatusError          HTTP 4xx/5xx without a Lanying envelope
    ├── TransportError           the request did not complete: `timeout`, `connection_error`
    ├── InvalidResponse          the body was not the JSON envelope we expect
    │   └── ResponseTooLarge     the body grew past LANYING_MAX_RESPONSE_BYTES while being read
    ├── ArgumentError            the tool's arguments failed validation before any request was sent
    ├── NotAllowed               refused by this server's own configuration
    │   └── EndpointRefused      (apps.py) a request's endpoint that is not allowed for its credentials
    ├── LookupCapReached         a call needed more look-up requests than LANYING_MAX_LOOKUPS allows
    ├── DeadlineExceeded         a call ran longer than LANYING_CALL_DEADLINE
    ├── AuditUnavailable         a write refused because its audit entry could not be written first
    └── JournalUnavailable       a write refused because its change-journal entry could not be written first

`describe()` turns any of them into the structured error a tool returns:
`{"code", "message", "meaning", "hint", "retryable"}` — what the code means, the likely cause in
this call, and the next step. The access token is never part of any of these texts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

EXCERPT = 80  # characters of a caller's input that an error text may echo


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """A bounded, printable rendering of caller input for an error text (huge ints are never str()'d)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    text = value if isinstance(value, str) else repr(value)
    return text[:limit] + (f"…(+{len(text) - limit} characters)" if len(text) > limit else "")


class LanyingError(Exception):
    code: int | str = "error"
    retryable = False

    def __init__(
        self, message: str, *, code: int | str | None = None, details: Any = None, zh: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = zh  # the same message in Chinese, for messages written by this server
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
        super().__init__(message, code=f"http_{status}", zh=f"HTTP {status}:{message}")
        self.status = status
        self.retry_after = retry_after
        self.retryable = status == 429 or status >= 500


class TransportError(LanyingError):
    retryable = True


class InvalidResponse(LanyingError):
    code = "invalid_response"


class ResponseTooLarge(InvalidResponse):
    code = "response_too_large"

    def __init__(self, cap: int, declared: int | None = None) -> None:
        size = f" (it declared {declared} bytes)" if declared is not None else ""
        super().__init__(
            f"the answer is larger than the {cap} byte limit{size}; reading stopped",
            zh=f"应答超过{cap}字节的上限{f'(声明{declared}字节)' if declared is not None else ''};已停止读取",
        )


class ArgumentError(LanyingError):
    code = "invalid_arguments"


class NotAllowed(LanyingError):
    """Refused by this server's own configuration (read-only mode, policy, an unselected tool)."""

    code = "not_allowed"


class LookupCapReached(LanyingError):
    """A tool call needed more look-up requests (names, scans, checks) than one call may make."""

    code = "lookup_cap"

    def __init__(self, cap: int) -> None:
        super().__init__(
            f"this call needed more than {cap} look-up requests to the API (LANYING_MAX_LOOKUPS); it stopped there",
            zh=f"此调用需要超过{cap}次查询请求(LANYING_MAX_LOOKUPS),已在此停止",
        )
        self.cap = cap


class DeadlineExceeded(LanyingError):
    """A tool call ran out of its whole-call time (LANYING_CALL_DEADLINE); it was stopped."""

    code = "deadline"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the call did not finish within {seconds:g} s (LANYING_CALL_DEADLINE bounds a whole tool call, "
            "its retries and look-ups included) and was stopped",
            zh=f"调用未在{seconds:g}秒内完成(LANYING_CALL_DEADLINE限制整个工具调用,含重试和查询),已被中止",
        )


class AuditUnavailable(LanyingError):
    """The audit entry of a write could not be written, so the write was not sent (fail closed)."""

    code = "audit_unavailable"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"the write was NOT made: its audit entry could not be written to {path} ({reason})",
            zh=f"写操作未执行:无法将审计记录写入 {path}({reason})",
        )
        self.may_have_applied = False


class JournalUnavailable(LanyingError):
    """The change-journal entry of a write could not be written, so the write was not sent (fail closed)."""

    code = "journal_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the write was NOT made: its change-journal entry could not be written ({reason})",
            zh=f"写操作未执行:无法写入变更日志记录({reason})",
        )
        self.may_have_applied = False


@dataclass(frozen=True)
class Entry:
    en: str
    zh: str
    hint: str  # likely cause and next step, for the model
    retryable: bool = False
    hint_zh: str = ""

    def hint_in(self, lang: str) -> str:
        return self.hint_zh if lang == "zh" and self.hint_zh else self.hint


_ENGLISH_ENTRIES: dict[int | str, Entry] = {
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
        "Use an MCP client that supports elicitation, or the operator may let the approval page ask "
        "(LANYING_APPROVAL=auto or page), or start the server with --no-confirm (LANYING_CONFIRM=false) "
        "to allow it without asking.",
    ),
    "approval_pending": Entry(
        "The call waits for a human's approval on the approval page",
        "此调用在等待人工在审批页面上批准",
        "Nothing was sent yet. Call await_approval with the approval_id to wait for the answer; do not call the "
        "tool again without it (that would ask the human a second time).",
    ),
    "approval_expired": Entry(
        "The approval expired or was already used",
        "审批已过期或已被使用",
        "Nothing was done. Call the tool again to ask the human afresh, if they still want it.",
    ),
    "declined": Entry(
        "The human declined the confirmation",
        "用户拒绝了确认",
        "Nothing was done. Do not retry unless the human asks for it.",
    ),
    "response_too_large": Entry(
        "The API's answer is larger than this server accepts",
        "API应答超过本服务器接受的大小",
        "Ask for less per call (a smaller page_size or fewer IDs); the operator can raise LANYING_MAX_RESPONSE_BYTES.",
    ),
    "audit_unavailable": Entry(
        "The audit log cannot be written, so writes are refused",
        "审计日志无法写入,因此拒绝写操作",
        "Nothing was sent. The operator must make the audit log path (LANYING_AUDIT_LOG) writable again: "
        "check that its folder exists, its permissions, and free disk space.",
    ),
    "journal_unavailable": Entry(
        "The change journal cannot be written, so writes are refused",
        "变更日志无法写入,因此拒绝写操作",
        "Nothing was sent. The operator must make the state file (LANYING_STATE_FILE) writable again: check its "
        "folder, permissions and free disk space; or turn the journal off with LANYING_JOURNAL=false.",
    ),
    "cannot_undo": Entry(
        "This change cannot be taken back with undo_change",
        "此变更无法用undo_change撤销",
        "Nothing was sent. The message says why; set the value back with the tool that changed it, if it can.",
    ),
    "irreversible": Entry(
        "The write that made this change cannot be undone",
        "产生此变更的写操作无法撤销",
        "Nothing was sent. The message gives the reason; tell the human it cannot be taken back.",
    ),
    "changed_since": Entry(
        "The target changed after this change, so undoing it would overwrite the newer value",
        "此变更之后目标又被修改,撤销会覆盖较新的值",
        "Nothing was sent. Tell the human what it is now; undo_change with force: true undoes it anyway.",
    ),
    "journal_off": Entry(
        "The change journal is off, so there is no change to undo",
        "变更日志未开启,没有可撤销的变更",
        "Nothing was sent. The operator turns the journal on with LANYING_JOURNAL=true.",
    ),
    "unknown_change": Entry(
        "No change with this change_id in this app's journal",
        "本应用的变更日志中没有此change_id",
        "Pass the change ID a write's result gives, as it gave it.",
    ),
    "undo_incomplete": Entry(
        "The undo stopped partway: some of its calls were applied, the rest were not",
        "撤销中途停止:部分调用已生效,其余未执行",
        "The message lists the steps applied, each with its change ID; fix the cause and undo the rest by hand.",
    ),
    "lookup_cap": Entry(
        "The call needed more API look-ups than one call may make",
        "此调用需要的API查询次数超过单次调用上限",
        "Ask for less in one call: a smaller page or limit, fewer IDs, a narrower search (an exact username or "
        "mobile instead of a nickname scan); the operator can raise LANYING_MAX_LOOKUPS.",
    ),
    "deadline": Entry(
        "The call ran out of time",
        "调用超时被中止",
        "The API was too slow for this call. For a read, retry later or ask for less (a smaller page, fewer "
        "IDs). For a write, check its effect with a read before repeating it. The operator can raise "
        "LANYING_CALL_DEADLINE.",
    ),
    "missing_credentials": Entry(
        "This request carries no Lanying credentials",
        "此请求未携带蓝莺IM凭据",
        "Send the X-Lanying-App-Id and X-Lanying-Access-Token headers with the request.",
    ),
    "internal_error": Entry(
        "Internal error in the MCP server",
        "MCP服务器内部错误",
        "An unexpected failure inside lanying-mcp; the server logged it. Retry once; report it if it persists.",
    ),
}


# The next step in Chinese, per code: under `--lang zh` the whole error text is Chinese.
_HINTS_ZH: dict[int | str, str] = {
    10000: "检查用户ID(用list_users或find_user_by_name查找用户);该用户可能已被删除。",
    10001: "请用户提供新的验证码。",
    10002: "缺少参数,或参数的值或格式不对;请对照工具的schema检查调用。",
    10003: "服务器没有access token:请设置LANYING_ACCESS_TOKEN(控制台Token页面的管理员token)。",
    10004: "用户名已被占用:换一个用户名,或用find_user_by_name查找该用户。",
    10005: "无需操作:双方已是好友。",
    10006: "一方已将另一方拉黑;如确需如此,请先解除拉黑(unblock_user)。",
    10007: "用list_friend_requests列出待处理的申请,或重新发送申请。",
    10008: "LANYING_ACCESS_TOKEN错误、已吊销或属于其他应用;请从控制台复制有效的管理员token,并检查LANYING_APP_ID。",
    10009: "存储端故障;请稍后重试上传。",
    10010: "当前身份无权执行此操作;请以有权限的用户身份(as_user_id)调用,或不指定代理身份直接使用管理员token。",
    10011: "该ID已绑定;如要重新绑定,请先解绑。",
    10012: "对方拒绝了申请;无需重试。",
    12001: "请重试,或发送不带图片的推送。",
    12002: "attachment_url请使用小于1MB的.jpg/.jpeg/.png图片。",
    12003: "请重试,或发送不带图片的推送。",
    12004: "attachment_url必须是可公开访问、能下载到图片的http(s)地址。",
    12005: "把推送对象拆成每组最多500个,每组推送一次。",
    12006: "请先在蓝莺IM控制台为应用开通推送。",
    20000: "服务端故障;请稍后重试。",
    20001: "检查群ID(list_user_groups列出用户所在的群);该群可能已被解散。",
    20002: "先邀请该用户入群(invite_group_members),或以群成员身份调用。",
    20003: "推送模式请使用0到4。",
    20004: "先转让群主(transfer_group_owner),或解散该群。",
    20005: "先邀请新群主入群,再转让。",
    20006: "请稍后重试。",
    20007: "解散不用的群,或在控制台提高配额。",
    20008: "换一个群主创建,或解散该用户创建的一些群。",
    20009: "该用户加入的群过多;请先让其退出一些群。",
    20010: "移除部分成员,或另建一个群。",
    20011: "当前身份不是群成员;请以群成员身份调用(as_user_id)。",
    20012: "以群主或管理员身份调用(as_user_id),或用add_group_admins将该用户设为管理员。",
    20013: "只有群主可以执行:以群主身份调用(as_user_id取get_group_info返回的owner_id)。",
    20014: "用list_group_applications列出当前的入群申请。",
    20015: "用list_group_invitations列出当前的入群邀请,或重新邀请。",
    20016: "该用户已不能再加入此群。",
    20017: "无需操作:该用户已在群中。",
    20018: "先将该用户移出群黑名单(unblock_group_members)。",
    20020: "用list_group_announcements列出群公告。",
    20021: "此群已禁用群公告。",
    20022: "用list_group_files列出群共享文件。",
    20023: "只有上传者或群管理员可以修改;请以其中之一的身份调用。",
    20024: "用get_group_qrcode获取新的qr_info。",
    20025: "用get_group_qrcode获取新的qr_info。",
    30021: "请在控制台检查应用的License。",
    30022: "请在控制台续期License。",
    30023: "升级License或减少用量。",
    40000: "LANYING_APP_ID错误;请从控制台的应用信息页复制,并检查LANYING_API_ENDPOINT。",
    402: "access token已过期或被吊销;请使用新的管理员token(或重新获取用户token)。",
    "invalid_arguments": "按消息中指出的参数修正后重新调用;本次未发送任何请求。",
    "timeout": "服务未及时应答;请重试,或调大LANYING_TIMEOUT。",
    "connection_error": "检查LANYING_API_ENDPOINT和网络;然后重试。",
    "invalid_response": "端点可能不对(不是蓝莺IM API服务器),或服务出错;请检查LANYING_API_ENDPOINT。",
    "response_too_large": "每次少取一些(更小的page_size或更少的ID);运营者可调大LANYING_MAX_RESPONSE_BYTES。",
    "audit_unavailable": "本次未发送任何请求。运营者须让审计日志路径(LANYING_AUDIT_LOG)重新可写:检查目录是否存在、权限和磁盘空间。",
    "journal_unavailable": "本次未发送任何请求。运营者须让状态文件(LANYING_STATE_FILE)重新可写:检查目录、权限和磁盘空间;或以LANYING_JOURNAL=false关闭变更日志。",
    "cannot_undo": "未发送任何请求。原因见消息;如可以,请用原来修改它的工具改回。",
    "irreversible": "未发送任何请求。原因见消息;请告知用户此操作无法撤回。",
    "changed_since": "未发送任何请求。请告知用户目标现在的值;如仍要撤销,请在undo_change中设置force。",
    "journal_off": "未发送任何请求。运营者可设置LANYING_JOURNAL=true开启变更日志。",
    "unknown_change": "请原样使用写操作结果给出的变更ID。",
    "undo_incomplete": "消息列出了已生效的步骤(各带change_id);请排除原因后手动撤销其余部分。",
    "lookup_cap": "减少单次调用的内容:更小的页或limit、更少的ID、更精确的查找(用确切的用户名或手机号代替昵称扫描);运营者可调大LANYING_MAX_LOOKUPS。",
    "deadline": "API响应太慢。读操作请稍后重试或少取一些(更小的页、更少的ID);写操作请先用读操作确认是否已生效再决定是否重试。运营者可调大LANYING_CALL_DEADLINE。",
    "missing_credentials": "请在请求中携带X-Lanying-App-Id和X-Lanying-Access-Token请求头。",
    "not_allowed": "运营者禁用了此调用(只读模式、工具选择或策略);请联系运营者,或改用其他工具。",
    "confirmation_required": "请使用支持elicitation的MCP客户端,或由运营者改用审批页面确认(LANYING_APPROVAL=auto或page),或以--no-confirm(LANYING_CONFIRM=false)启动服务器以免确认。",
    "approval_pending": "尚未发送任何请求。请用approval_id调用await_approval等待答复;不要不带它再次调用该工具(那会再次询问管理员)。",
    "approval_expired": "未执行任何操作。如管理员仍需要,请重新调用该工具以再次请求批准。",
    "declined": "未执行任何操作。除非用户要求,否则不要重试。",
    "internal_error": "lanying-mcp内部发生意外故障,服务器已记录日志。请重试一次;如仍出现请报告。",
}
_ENTRIES: dict[int | str, Entry] = {
    code: replace(e, hint_zh=_HINTS_ZH.get(code, "")) for code, e in _ENGLISH_ENTRIES.items()
}

_HTTP = {
    400: Entry(
        "Bad request",
        "请求错误",
        "The API rejected the request format; check the arguments.",
        hint_zh="API拒绝了请求格式;请检查参数。",
    ),
    401: Entry(
        "Unauthorized",
        "未授权",
        "Check LANYING_ACCESS_TOKEN and LANYING_APP_ID.",
        hint_zh="请检查LANYING_ACCESS_TOKEN和LANYING_APP_ID。",
    ),
    403: Entry(
        "Forbidden",
        "禁止访问",
        "The token may not call this API; use an admin token.",
        hint_zh="该token无权调用此API;请使用管理员token。",
    ),
    404: Entry(
        "Not found",
        "未找到",
        "The path does not exist on this endpoint; check LANYING_API_ENDPOINT.",
        hint_zh="此端点上不存在该路径;请检查LANYING_API_ENDPOINT。",
    ),
    413: Entry("Request too large", "请求过大", "Send less data per call.", hint_zh="每次调用少发送一些数据。"),
    429: Entry(
        "Too many requests",
        "请求过多",
        "Rate limited: wait (Retry-After) and retry.",
        True,
        hint_zh="被限流:等待(Retry-After)后重试。",
    ),
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
                "蓝莺IM服务出错;请稍后重试。",
            )
        return Entry(
            f"HTTP {status}",
            f"HTTP {status} 状态异常",
            "Unexpected HTTP status; check the endpoint and arguments.",
            hint_zh="意外的HTTP状态;请检查端点和参数。",
        )
    if isinstance(code, int) and not isinstance(code, bool):
        for low, high, en, zh in _RANGES:
            if low <= code <= high:
                return Entry(
                    f"Undocumented {en} {code}",
                    f"未收录的{zh} {code}",
                    "Read the message for details; check the IDs and permissions involved.",
                    hint_zh="请阅读消息中的详情;检查涉及的ID和权限。",
                )
    shown = excerpt(code)
    return Entry(
        f"Unknown error code {shown}",
        f"未知错误码 {shown}",
        "Read the message for details; the code is not in the documented catalogue.",
        hint_zh="请阅读消息中的详情;该错误码不在文档收录的目录中。",
    )


def catalogue() -> dict[int | str, Entry]:
    return dict(_ENTRIES)


def describe(exc: LanyingError, lang: str = "en") -> dict[str, Any]:
    """The structured error a tool returns for `exc`, wholly in `lang` (an upstream message stays as sent)."""
    e = entry(exc.code)
    zh = lang == "zh"
    hint = e.hint_in(lang)
    retry_key = getattr(exc, "retry_key", None)
    if retry_key is not None and not isinstance(exc, ApiError):
        hint += (
            f"可能已送达:如要安全重试,请带上transaction_id={retry_key}再次调用(相同key的发送只会投递一次)。"
            if zh
            else f" It may have been delivered: to retry safely, call again with transaction_id={retry_key} "
            "(the API delivers a send with the same key once)."
        )
    elif exc.may_have_applied:
        applied = (
            "请求已到达服务端,改动可能已生效:重复之前请先读取核实,不要直接重试。"
            if zh
            else "The request reached the service, so the change may have been applied: "
            "read it back before repeating it; do not simply retry."
        )
        # The entry's own advice may say to retry; for a write that may have happened it must not.
        hint = applied if ("retry" in hint.lower() or "重试" in hint) else f"{hint} {applied}"
    retryable = bool(getattr(exc, "retryable", e.retryable))
    if exc.may_have_applied and retry_key is None:
        retryable = False  # repeating a write that may have happened could apply it twice
    message = exc.message_zh if zh and exc.message_zh else exc.message
    payload: dict[str, Any] = {
        "code": exc.code,
        "message": message,
        "meaning": e.zh if zh else e.en,
        "hint": hint,
        "retryable": retryable,
    }
    if exc.details is not None:
        payload["details"] = exc.details
    return payload


def error_text(tool: str, err: dict[str, Any], lang: str | None = None) -> str:
    """One readable paragraph for clients that only show text, in the language of `err`."""
    if lang is None:  # the meaning is always written in the server's language
        lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in str(err.get("meaning", ""))) else "en"
    if lang == "zh":
        message = f":{err['message']}" if err.get("message") else ""
        return f"{tool} 调用失败 — 错误码 {err['code']}({err['meaning']}){message}。下一步:{err['hint']}" + (
            "(可重试)" if err.get("retryable") else ""
        )
    message = f": {err['message']}" if err.get("message") else ""
    return f"{tool} failed — code {err['code']} ({err['meaning']}){message}. Next step: {err['hint']}" + (
        " (retryable)" if err.get("retryable") else ""
    )
