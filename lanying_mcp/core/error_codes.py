"""The documented Lanying error codes, and this server's own failure classes, as data.

Each code has its meaning and its next step, in English and Chinese: `CODES` for a Lanying code (the
quick guide's error table) or a failure class of this server, `HTTP` for an HTTP status without a
Lanying envelope, and `RANGES` for the area an undocumented code falls in. `error_text.py` reads them;
nothing here decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    en: str  # what the code means
    zh: str
    hint: str  # likely cause and next step, for the model
    retryable: bool = False
    hint_zh: str = ""  # the next step in Chinese: under `--lang zh` the whole error text is Chinese


CODES: dict[int | str, Entry] = {
    10000: Entry(
        "User does not exist",
        "用户不存在",
        "Check the user ID (find users with list_users or find_user_by_name); the user may have been deleted.",
        hint_zh="检查用户ID(用list_users或find_user_by_name查找用户);该用户可能已被删除。",
    ),
    10001: Entry(
        "Verification code is incorrect",
        "验证码不正确",
        "Ask the user for a fresh verification code.",
        hint_zh="请用户提供新的验证码。",
    ),
    10002: Entry(
        "Request parameters are incorrect",
        "请求参数不正确",
        "An argument is missing or has a wrong value or format; compare the call with the tool's schema.",
        hint_zh="缺少参数,或参数的值或格式不对;请对照工具的schema检查调用。",
    ),
    10003: Entry(
        "The access-token header is missing",
        "header中缺少access-token参数",
        "The server has no access token: set LANYING_ACCESS_TOKEN (an admin token from the console's Token page).",
        hint_zh="服务器没有access token:请设置LANYING_ACCESS_TOKEN(控制台Token页面的管理员token)。",
    ),
    10004: Entry(
        "User already exists",
        "用户已存在",
        "The username is taken: pick another username, or look the user up with find_user_by_name.",
        hint_zh="用户名已被占用:换一个用户名,或用find_user_by_name查找该用户。",
    ),
    10005: Entry(
        "User is already in the friend list",
        "用户已在好友列表",
        "Nothing to do: they are already friends.",
        hint_zh="无需操作:双方已是好友。",
    ),
    10006: Entry(
        "User is in the blacklist",
        "用户在黑名单列表",
        "One side has blocked the other; unblock first (unblock_user) if that is intended.",
        hint_zh="一方已将另一方拉黑;如确需如此,请先解除拉黑(unblock_user)。",
    ),
    10007: Entry(
        "Friend request does not exist or has expired",
        "好友申请不存在或已过期",
        "List pending requests with list_friend_requests, or send a new request.",
        hint_zh="用list_friend_requests列出待处理的申请,或重新发送申请。",
    ),
    10008: Entry(
        "The access-token is invalid",
        "header中access-token无效",
        "LANYING_ACCESS_TOKEN is wrong, revoked or for another app; copy a valid admin token from the console and check LANYING_APP_ID.",
        hint_zh="LANYING_ACCESS_TOKEN错误、已吊销或属于其他应用;请从控制台复制有效的管理员token,并检查LANYING_APP_ID。",
    ),
    10009: Entry(
        "Object storage (OSS) error",
        "oss异常",
        "A storage-side failure; retry the upload shortly.",
        True,
        hint_zh="存储端故障;请稍后重试上传。",
    ),
    10010: Entry(
        "User has no permission",
        "用户无权限",
        "The acting user may not do this; act as a user who may (as_user_id) or use the admin token without act-as.",
        hint_zh="当前身份无权执行此操作;请以有权限的用户身份(as_user_id)调用,或不指定代理身份直接使用管理员token。",
    ),
    10011: Entry(
        "user_id is already bound",
        "user_id已绑定",
        "The ID is already bound; unbind it first if you mean to rebind.",
        hint_zh="该ID已绑定;如要重新绑定,请先解绑。",
    ),
    10012: Entry(
        "User declined the friend request",
        "用户拒绝好友申请",
        "The other user declined; nothing to retry.",
        hint_zh="对方拒绝了申请;无需重试。",
    ),
    12001: Entry(
        "Uploading the push image to Xiaomi failed",
        "上传推送图片到小米平台失败",
        "Retry, or send the push without an image.",
        True,
        hint_zh="请重试,或发送不带图片的推送。",
    ),
    12002: Entry(
        "Push image must be smaller than 1 MB",
        "推送图片文件大小需小于1M",
        "Use a .jpg/.jpeg/.png image under 1 MB as attachment_url.",
        hint_zh="attachment_url请使用小于1MB的.jpg/.jpeg/.png图片。",
    ),
    12003: Entry(
        "Uploading the push image to OPPO failed",
        "上传推送图片到OPPO平台失败",
        "Retry, or send the push without an image.",
        True,
        hint_zh="请重试,或发送不带图片的推送。",
    ),
    12004: Entry(
        "Push image URL cannot be downloaded",
        "推送的图片地址无法下载",
        "attachment_url must be a public http(s) URL that serves the image.",
        hint_zh="attachment_url必须是可公开访问、能下载到图片的http(s)地址。",
    ),
    12005: Entry(
        "Push target list exceeds 500 entries",
        "推送目标列表的长度不能超过500",
        "Split the audience into lists of at most 500 and push once per list.",
        hint_zh="把推送对象拆成每组最多500个,每组推送一次。",
    ),
    12006: Entry(
        "Push is not enabled for this app",
        "没有开通推送功能",
        "Enable push for the app in the Lanying console first.",
        hint_zh="请先在蓝莺IM控制台为应用开通推送。",
    ),
    20000: Entry(
        "Server database error",
        "服务器数据库异常",
        "A server-side failure; retry shortly.",
        True,
        hint_zh="服务端故障;请稍后重试。",
    ),
    20001: Entry(
        "Group does not exist",
        "群组不存在",
        "Check the group ID (list_user_groups lists a user's groups); the group may have been destroyed.",
        hint_zh="检查群ID(list_user_groups列出用户所在的群);该群可能已被解散。",
    ),
    20002: Entry(
        "User is not a group member",
        "用户不是群成员",
        "Invite the user first (invite_group_members), or act as a user who is a member.",
        hint_zh="先邀请该用户入群(invite_group_members),或以群成员身份调用。",
    ),
    20003: Entry(
        "Invalid msg_push_mode", "msg_push_mode值不合法", "Use a push mode from 0 to 4.", hint_zh="推送模式请使用0到4。"
    ),
    20004: Entry(
        "The owner cannot leave the group",
        "群主不能直接离开群",
        "Transfer ownership first (transfer_group_owner), or destroy the group.",
        hint_zh="先转让群主(transfer_group_owner),或解散该群。",
    ),
    20005: Entry(
        "Transfer failed: the new owner is not a member",
        "转让群异常:被转让人非群成员",
        "Invite the new owner into the group first, then transfer.",
        hint_zh="先邀请新群主入群,再转让。",
    ),
    20006: Entry("Group is in repair mode", "群组处于修复模式", "Wait and retry later.", True, hint_zh="请稍后重试。"),
    20007: Entry(
        "The app's group quota is exceeded",
        "App群数量超限",
        "Destroy unused groups or raise the quota in the console.",
        hint_zh="解散不用的群,或在控制台提高配额。",
    ),
    20008: Entry(
        "The user's created-group quota is exceeded",
        "用户创建的群数量超限",
        "Create the group as another owner, or destroy groups this user owns.",
        hint_zh="换一个群主创建,或解散该用户创建的一些群。",
    ),
    20009: Entry(
        "The user's joined-group quota is exceeded",
        "用户加入的群数量超限",
        "The user is in too many groups; remove them from some first.",
        hint_zh="该用户加入的群过多;请先让其退出一些群。",
    ),
    20010: Entry(
        "Group member limit exceeded",
        "群人数超限",
        "Remove members or create another group.",
        hint_zh="移除部分成员,或另建一个群。",
    ),
    20011: Entry(
        "Operation requires group-member permission",
        "操作需要群成员权限",
        "The acting user is not a member; act as a member (as_user_id).",
        hint_zh="当前身份不是群成员;请以群成员身份调用(as_user_id)。",
    ),
    20012: Entry(
        "Operation requires group-admin permission",
        "操作需要群管理员权限",
        "Act as the owner or an admin (as_user_id), or make the user an admin with add_group_admins.",
        hint_zh="以群主或管理员身份调用(as_user_id),或用add_group_admins将该用户设为管理员。",
    ),
    20013: Entry(
        "Operation requires group-owner permission",
        "操作需要群主权限",
        "Only the owner may do this: act as the owner (as_user_id = owner_id from get_group_info).",
        hint_zh="只有群主可以执行:以群主身份调用(as_user_id取get_group_info返回的owner_id)。",
    ),
    20014: Entry(
        "Join application has expired or was already handled",
        "入群申请已过期或已处理",
        "List current applications with list_group_applications.",
        hint_zh="用list_group_applications列出当前的入群申请。",
    ),
    20015: Entry(
        "Group invitation has expired or was already handled",
        "入群邀请已过期或已处理",
        "List current invitations with list_group_invitations, or invite again.",
        hint_zh="用list_group_invitations列出当前的入群邀请,或重新邀请。",
    ),
    20016: Entry(
        "User was kicked too many times and cannot rejoin",
        "用户被踢出群次数超限,不能再加入群",
        "This user can no longer join this group.",
        hint_zh="该用户已不能再加入此群。",
    ),
    20017: Entry(
        "User is already a group member",
        "用户已经是群成员",
        "Nothing to do: the user is already in the group.",
        hint_zh="无需操作:该用户已在群中。",
    ),
    20018: Entry(
        "User is in the group blacklist",
        "用户在群黑名单列表",
        "Remove the user from the group blacklist first (unblock_group_members).",
        hint_zh="先将该用户移出群黑名单(unblock_group_members)。",
    ),
    20020: Entry(
        "Group announcement does not exist",
        "群公告不存在",
        "List announcements with list_group_announcements.",
        hint_zh="用list_group_announcements列出群公告。",
    ),
    20021: Entry(
        "Group announcements are disabled by the admin",
        "群公告被管理员禁用",
        "Announcements are disabled for this group.",
        hint_zh="此群已禁用群公告。",
    ),
    20022: Entry(
        "Group shared file does not exist",
        "群共享文件不存在",
        "List files with list_group_files.",
        hint_zh="用list_group_files列出群共享文件。",
    ),
    20023: Entry(
        "No permission on this group shared file",
        "无权限操作群共享文件",
        "Only the uploader or a group admin may change it; act as one of them.",
        hint_zh="只有上传者或群管理员可以修改;请以其中之一的身份调用。",
    ),
    20024: Entry(
        "Invalid group invitation QR code",
        "群邀请二维码不合法",
        "Get a fresh qr_info with get_group_qrcode.",
        hint_zh="用get_group_qrcode获取新的qr_info。",
    ),
    20025: Entry(
        "Group invitation QR code has expired",
        "群邀请二维码已过期",
        "Get a fresh qr_info with get_group_qrcode.",
        hint_zh="用get_group_qrcode获取新的qr_info。",
    ),
    30021: Entry(
        "Lanying IM license is invalid",
        "蓝莺IM License无效",
        "Check the app's license in the console.",
        hint_zh="请在控制台检查应用的License。",
    ),
    30022: Entry(
        "Lanying IM license has expired",
        "蓝莺IM License已过期",
        "Renew the license in the console.",
        hint_zh="请在控制台续期License。",
    ),
    30023: Entry(
        "Lanying IM license limit exceeded",
        "超出蓝莺IM License限制",
        "Upgrade the license or reduce usage.",
        hint_zh="升级License或减少用量。",
    ),
    40000: Entry(
        "app_id does not exist",
        "app_id不存在",
        "LANYING_APP_ID is wrong; copy it from the console's app info page and check LANYING_API_ENDPOINT.",
        hint_zh="LANYING_APP_ID错误;请从控制台的应用信息页复制,并检查LANYING_API_ENDPOINT。",
    ),
    402: Entry(
        "The token is no longer valid",
        "token已失效",
        "The access token expired or was revoked; use a fresh admin token (or get a new user token).",
        hint_zh="access token已过期或被吊销;请使用新的管理员token(或重新获取用户token)。",
    ),
    # Failure classes that are not Lanying codes.
    "invalid_arguments": Entry(
        "The tool arguments are invalid",
        "工具参数不合法",
        "Fix the arguments named in the message and call again; nothing was sent.",
        hint_zh="按消息中指出的参数修正后重新调用;本次未发送任何请求。",
    ),
    "timeout": Entry(
        "The request timed out",
        "请求超时",
        "The service did not answer in time; retry, or raise LANYING_TIMEOUT.",
        True,
        hint_zh="服务未及时应答;请重试,或调大LANYING_TIMEOUT。",
    ),
    "connection_error": Entry(
        "Could not connect to the Lanying API",
        "无法连接蓝莺IM API",
        "Check LANYING_API_ENDPOINT and the network; retry.",
        True,
        hint_zh="检查LANYING_API_ENDPOINT和网络;然后重试。",
    ),
    "invalid_response": Entry(
        "The API answered with an unexpected body",
        "API返回了无法识别的内容",
        "The endpoint may be wrong (not a Lanying API server) or the service failed; check LANYING_API_ENDPOINT.",
        hint_zh="端点可能不对(不是蓝莺IM API服务器),或服务出错;请检查LANYING_API_ENDPOINT。",
    ),
    "not_allowed": Entry(
        "Refused by this server's configuration",
        "被本服务器的配置拒绝",
        "The operator disabled this call (read-only mode, tool selection or policy); ask them, or use another tool.",
        hint_zh="运营者禁用了此调用(只读模式、工具选择或策略);请联系运营者,或改用其他工具。",
    ),
    "confirmation_required": Entry(
        "This call needs a human's confirmation that this client cannot ask for",
        "此调用需要人工确认,但该客户端无法发起确认",
        "Use an MCP client that supports elicitation, or the operator may let the approval page ask (LANYING_APPROVAL=auto or page), or start the server with --no-confirm (LANYING_CONFIRM=false) to allow it without asking.",
        hint_zh="请使用支持elicitation的MCP客户端,或由运营者改用审批页面确认(LANYING_APPROVAL=auto或page),或以--no-confirm(LANYING_CONFIRM=false)启动服务器以免确认。",
    ),
    "approval_pending": Entry(
        "The call waits for a human's approval on the approval page",
        "此调用在等待人工在审批页面上批准",
        "Nothing was sent yet. Call await_approval with the approval_id to wait for the answer; do not call the tool again without it (that would ask the human a second time).",
        hint_zh="尚未发送任何请求。请用approval_id调用await_approval等待答复;不要不带它再次调用该工具(那会再次询问管理员)。",
    ),
    "approval_expired": Entry(
        "The approval expired or was already used",
        "审批已过期或已被使用",
        "Nothing was done. Call the tool again to ask the human afresh, if they still want it.",
        hint_zh="未执行任何操作。如管理员仍需要,请重新调用该工具以再次请求批准。",
    ),
    "declined": Entry(
        "The human declined the confirmation",
        "用户拒绝了确认",
        "Nothing was done. Do not retry unless the human asks for it.",
        hint_zh="未执行任何操作。除非用户要求,否则不要重试。",
    ),
    "response_too_large": Entry(
        "The API's answer is larger than this server accepts",
        "API应答超过本服务器接受的大小",
        "Ask for less per call (a smaller page_size or fewer IDs); the operator can raise LANYING_MAX_RESPONSE_BYTES.",
        hint_zh="每次少取一些(更小的page_size或更少的ID);运营者可调大LANYING_MAX_RESPONSE_BYTES。",
    ),
    "audit_unavailable": Entry(
        "The audit log cannot be written, so writes are refused",
        "审计日志无法写入,因此拒绝写操作",
        "Nothing was sent. The operator must make the audit log path (LANYING_AUDIT_LOG) writable again: check that its folder exists, its permissions, and free disk space.",
        hint_zh="本次未发送任何请求。运营者须让审计日志路径(LANYING_AUDIT_LOG)重新可写:检查目录是否存在、权限和磁盘空间。",
    ),
    "journal_unavailable": Entry(
        "The change journal cannot be written, so writes are refused",
        "变更日志无法写入,因此拒绝写操作",
        "Nothing was sent. The operator must make the state file (LANYING_STATE_FILE) writable again: check its folder, permissions and free disk space; or turn the journal off with LANYING_JOURNAL=false.",
        hint_zh="本次未发送任何请求。运营者须让状态文件(LANYING_STATE_FILE)重新可写:检查目录、权限和磁盘空间;或以LANYING_JOURNAL=false关闭变更日志。",
    ),
    "cannot_undo": Entry(
        "This change cannot be taken back with undo_change",
        "此变更无法用undo_change撤销",
        "Nothing was sent. The message says why; set the value back with the tool that changed it, if it can.",
        hint_zh="未发送任何请求。原因见消息;如可以,请用原来修改它的工具改回。",
    ),
    "irreversible": Entry(
        "The write that made this change cannot be undone",
        "产生此变更的写操作无法撤销",
        "Nothing was sent. The message gives the reason; tell the human it cannot be taken back.",
        hint_zh="未发送任何请求。原因见消息;请告知用户此操作无法撤回。",
    ),
    "changed_since": Entry(
        "The target changed after this change, so undoing it would overwrite the newer value",
        "此变更之后目标又被修改,撤销会覆盖较新的值",
        "Nothing was sent. Tell the human what it is now; undo_change with force: true undoes it anyway.",
        hint_zh="未发送任何请求。请告知用户目标现在的值;如仍要撤销,请在undo_change中设置force。",
    ),
    "journal_off": Entry(
        "The change journal is off, so there is no change to undo",
        "变更日志未开启,没有可撤销的变更",
        "Nothing was sent. The operator turns the journal on with LANYING_JOURNAL=true.",
        hint_zh="未发送任何请求。运营者可设置LANYING_JOURNAL=true开启变更日志。",
    ),
    "unknown_change": Entry(
        "No change with this change_id in this app's journal",
        "本应用的变更日志中没有此change_id",
        "Pass the change ID a write's result gives, as it gave it.",
        hint_zh="请原样使用写操作结果给出的变更ID。",
    ),
    "undo_incomplete": Entry(
        "The undo stopped partway: some of its calls were applied, the rest were not",
        "撤销中途停止:部分调用已生效,其余未执行",
        "The message lists the steps applied, each with its change ID; fix the cause and undo the rest by hand.",
        hint_zh="消息列出了已生效的步骤(各带change_id);请排除原因后手动撤销其余部分。",
    ),
    "lookup_cap": Entry(
        "The call needed more API look-ups than one call may make",
        "此调用需要的API查询次数超过单次调用上限",
        "Ask for less in one call: a smaller page or limit, fewer IDs, a narrower search (an exact username or mobile instead of a nickname scan); the operator can raise LANYING_MAX_LOOKUPS.",
        hint_zh="减少单次调用的内容:更小的页或limit、更少的ID、更精确的查找(用确切的用户名或手机号代替昵称扫描);运营者可调大LANYING_MAX_LOOKUPS。",
    ),
    "deadline": Entry(
        "The call ran out of time",
        "调用超时被中止",
        "The API was too slow for this call. For a read, retry later or ask for less (a smaller page, fewer IDs). For a write, check its effect with a read before repeating it. The operator can raise LANYING_CALL_DEADLINE.",
        hint_zh="API响应太慢。读操作请稍后重试或少取一些(更小的页、更少的ID);写操作请先用读操作确认是否已生效再决定是否重试。运营者可调大LANYING_CALL_DEADLINE。",
    ),
    "rate_limited": Entry(
        "Too many tool calls from this caller in the current minute",
        "此调用方本分钟内的工具调用过多",
        "Nothing was sent. Wait retry_after seconds, then make the call again; do fewer calls (a bulk tool, a larger page) rather than many small ones. The operator sets the limit with LANYING_CALLS_PER_MINUTE.",
        True,
        hint_zh="本次未发送任何请求。等待retry_after秒后再调用;尽量合并调用(用批量工具、更大的页),不要发很多小调用。运营者用LANYING_CALLS_PER_MINUTE设置上限。",
    ),
    "missing_credentials": Entry(
        "This request carries no Lanying credentials",
        "此请求未携带蓝莺IM凭据",
        "Send the X-Lanying-App-Id and X-Lanying-Access-Token headers with the request.",
        hint_zh="请在请求中携带X-Lanying-App-Id和X-Lanying-Access-Token请求头。",
    ),
    "insufficient_scope": Entry(
        "The access token does not carry the OAuth scope this call needs",
        "访问令牌缺少此调用所需的OAuth scope",
        "Nothing was done. The message names the scope; ask the server's operator to grant it, then sign in again. Reads need the read scope, writes the write scope, destructive or mass calls the admin scope.",
        hint_zh="未执行任何操作。消息中给出了所需的scope;请运营者授予后重新登录。读操作需要读scope,写操作需要写scope,破坏性或大范围操作需要管理员scope。",
    ),
    "internal_error": Entry(
        "Internal error in the MCP server",
        "MCP服务器内部错误",
        "An unexpected failure inside lanying-mcp; the server logged it. Retry once; report it if it persists.",
        hint_zh="lanying-mcp内部发生意外故障,服务器已记录日志。请重试一次;如仍出现请报告。",
    ),
}

HTTP: dict[int, Entry] = {
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
        "The Lanying API is rate-limiting this app: wait retry_after seconds (a few seconds when it is not given), then retry once; spread many calls out, or use a bulk tool.",
        True,
        hint_zh="蓝莺IM API正在对此应用限流:等待retry_after秒(未给出时等几秒)后重试一次;把大量调用分散开,或改用批量工具。",
    ),
}

# Undocumented codes: the area their range belongs to (English, Chinese).
RANGES: tuple[tuple[int, int, str, str], ...] = (
    (10000, 11999, "user or friend (roster) error", "用户/好友体系错误"),
    (12000, 12999, "push error", "推送错误"),
    (20000, 29999, "group error", "群组体系错误"),
    (30000, 39999, "license error", "License错误"),
    (40000, 49999, "app error", "应用错误"),
)
