"""AI chatbots: ask a chatbot, and feed documents into its knowledge base (`/ai/*` and the upload flow)."""

from __future__ import annotations

import base64
import binascii
import errno
import json
import os
import stat
from typing import TYPE_CHECKING, Any, Literal

from pydantic import model_validator

from ..core.error_text import excerpt
from ..core.errors import ArgumentError, InvalidResponse, NotAllowed
from ..core.spec import (
    MESSAGES,
    WRITE,
    ApiModel,
    AsUser,
    Audience,
    Effect,
    IdPaths,
    Named,
    Never,
    Operation,
    Pages,
    Paging,
    Params,
    Target,
    Toolset,
    f,
)
from ..engine.client import Envelope
from .common import FileUpload, MessageFields, SendMessage
from .files import OPERATIONS as _FILE_OPS
from .messages import OPERATIONS as _MESSAGE_OPS
from .messages import XID

if TYPE_CHECKING:
    from ..core.settings import Settings
    from ..engine.call import CallContext

TOOLSET = Toolset(
    "ai", ("AI chatbots: ask a chatbot, upload knowledge-base documents.", "AI机器人:向机器人提问、上传知识库文档。")
)

_SEND = next(op for op in _MESSAGE_OPS if op.name == "send_message")
_UPLOAD_URL = next(op for op in _FILE_OPS if op.name == "get_chat_file_upload_url")


class AskChatbot(MessageFields):
    as_user_id: AsUser = f(
        "Call as this user (header); not needed to pick the sender: use from_user_id.",
        "以此用户身份调用(请求头);指定发送者无需此项,用from_user_id。",
        None,
    )


class AIReplyMessage(ApiModel):
    msg_id: int | None = None
    from_xid: XID | None = None
    to_xid: XID | None = None
    type: str | None = f("CHAT or GROUPCHAT.", "CHAT单聊或GROUPCHAT群聊。", None)
    ctype: str | None = f("TEXT, IMAGE, AUDIO, VIDEO, FILE, LOCATION, COMMAND, FORWARD.", "消息内容类型。", None)
    content: str | None = None
    attachment: str | None = None
    ext: str | None = None
    config: str | None = None
    timestamp: int | None = f("Sent at (ms).", "发送时间(毫秒)。", None)


class AIReplies(ApiModel):
    message_quota_usage: float | None = f("Smart-message units consumed.", "消耗的智能消息条数。", None)
    messages: list[AIReplyMessage] | None = f("The chatbot's replies.", "机器人的回复消息。", None)


class UploadKnowledge(Params):
    """Exactly one source: a web page URL, a local file path, or the file's bytes in base64."""

    chatbot_id: int = f(
        "User ID of the AI chatbot whose knowledge base receives the document.", "接收文档的AI机器人的用户ID。"
    )
    admin_user_id: int = f("User ID of the knowledge-base admin (the sender).", "知识库管理员的用户ID(发送者)。")
    url: str | None = f("Web page to import (https://…, HTML only).", "要导入的网页URL(https://开头,仅HTML)。", None)
    file_path: str | None = f(
        "Path of a local file on the server's machine (inside its allowed upload folders).",
        "服务器所在机器上的本地文件路径(须在允许上传的目录内)。",
        None,
    )
    file_base64: str | None = f(
        "The file's bytes, base64-encoded (use with file_name).", "文件内容的base64编码(需同时给file_name)。", None
    )
    file_name: str | None = f(
        "File name shown in the knowledge base (defaults to the path's name).",
        "知识库中显示的文件名(默认取路径中的文件名)。",
        None,
    )
    metadata: dict[str, Any] | None = f("Document metadata stored with it.", "文档的metadata。", None)

    @model_validator(mode="after")
    def _one_source(self) -> UploadKnowledge:
        given = [name for name in ("url", "file_path", "file_base64") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of url, file_path or file_base64")
        if self.url and not self.url.startswith("https://"):
            raise ValueError("url must start with https://")
        if self.file_base64 and not self.file_name:
            raise ValueError("file_base64 needs file_name")
        return self


class KnowledgeUpload(ApiModel):
    source: Literal["url", "file"] | None = None
    file_name: str | None = None
    size: int | None = f("Bytes uploaded.", "上传的字节数。", None)
    download_url: str | None = f("Where the uploaded file is stored.", "文件存储地址。", None)
    msg_ids: list[int] | None = f("ID of the message that delivered the document.", "投递文档的消息ID。", None)


def _read_source(ctx: CallContext, p: UploadKnowledge) -> tuple[str, bytes]:
    limit = ctx.client.settings.max_upload_bytes
    if p.file_base64 is not None:
        try:
            content = base64.b64decode(p.file_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ArgumentError("file_base64 is not valid base64") from None
        name = p.file_name or "document"
    else:
        content = read_local_file(p.file_path or "", ctx.client.settings, limit)
        name = p.file_name or os.path.basename(p.file_path or "") or "document"
    if len(content) > limit:
        raise ArgumentError(f"file is larger than the {limit} byte upload limit")
    if not content:
        raise ArgumentError("the file is empty")
    return name, content


_NEVER = ("/proc", "/sys", "/dev")


def read_local_file(path: str, settings: Settings, limit: int) -> bytes:
    """The bytes of a local file the operator allowed (below LANYING_UPLOAD_ROOTS), read safely.

    The check and the open are one step: each path component is opened relative to the previous
    directory's descriptor with O_NOFOLLOW, starting from the root's, so no symlink (or a swap of one
    while we read) can lead outside the root. Kernel pseudo-files and the server's own files are
    refused even inside a root.
    """
    roots = [os.path.realpath(r) for r in settings.upload_roots]
    if not roots:
        raise NotAllowed(
            "local files cannot be uploaded: the operator has allowed no folder (set LANYING_UPLOAD_ROOTS to a "
            "comma-separated list of folders); file_base64 or url work without it",
            zh="不能上传本地文件:运营者未允许任何目录(用逗号分隔的目录列表设置LANYING_UPLOAD_ROOTS);"
            "file_base64或url无需此设置",
        )
    if "\x00" in path or not path:
        raise ArgumentError("file_path is empty or contains a NUL character")
    full = os.path.normpath(os.path.join(roots[0], os.path.expanduser(path)))
    root = next((r for r in roots if full == r or full.startswith(r.rstrip(os.sep) + os.sep)), None)
    if root is None:
        raise ArgumentError(
            f"file_path is outside the folders this server may upload from ({', '.join(roots)}); "
            "the operator can allow more with LANYING_UPLOAD_ROOTS"
        )
    if _forbidden(full, settings):
        raise NotAllowed(f"{excerpt(path)} may not be uploaded: kernel files and this server's own files never are")
    parts = [part for part in os.path.relpath(full, root).split(os.sep) if part not in ("", ".")]
    fd = _open_below(root, parts)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArgumentError(f"file_path {excerpt(path)} is not a regular file")
        real = os.path.realpath(f"/proc/self/fd/{fd}") if os.path.isdir("/proc/self/fd") else full
        if _forbidden(real, settings) or any(os.path.samestat(info, s) for s in _own_files(settings)):
            raise NotAllowed(f"{excerpt(path)} may not be uploaded: it is one of this server's own files")
        if info.st_size > limit:
            raise ArgumentError(f"file is larger than the {limit} byte upload limit")
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(limit + 1)
    finally:
        os.close(fd)


def _open_below(root: str, parts: list[str]) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    nonblock = getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the open
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise ArgumentError(f"the upload folder cannot be opened: {exc.strerror}") from None
    try:
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            mode = flags | (nonblock if last else getattr(os, "O_DIRECTORY", 0))
            try:
                nxt = os.open(part, mode, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise ArgumentError("file_path goes through a symbolic link, which uploads never follow") from None
                raise ArgumentError(f"file_path is not a readable file: {exc.strerror}") from None
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def _forbidden(path: str, settings: Settings) -> bool:
    if any(path == p or path.startswith(p + os.sep) for p in _NEVER):
        return True
    return path in {os.path.realpath(f) for f in _own_paths(settings)}


def _own_paths(settings: Settings) -> list[str]:
    return [p for p in (settings.audit_log, settings.policy_file, settings.profiles_file) if p]


def _own_files(settings: Settings) -> list[os.stat_result]:
    out: list[os.stat_result] = []
    for own in _own_paths(settings):
        try:
            out.append(os.stat(own))
        except OSError:
            continue
    return out


async def upload_knowledge(ctx: CallContext, p: UploadKnowledge) -> Envelope:
    ext = json.dumps({"ai": {"metadata": p.metadata or {}}}, ensure_ascii=False)
    if p.url:
        sent = await ctx.call(
            _SEND,
            SendMessage(user_ids=[p.chatbot_id], from_user_id=p.admin_user_id, content=p.url, content_type=0, ext=ext),
        )
        return Envelope(KnowledgeUpload(source="url", msg_ids=sent.extras.get("msg_ids")), {})
    name, content = _read_source(ctx, p)
    await ctx.report(0, 3, "requesting an upload URL")
    target = await ctx.call(
        _UPLOAD_URL, {"as_user_id": p.admin_user_id, "file_type": 100, "to_id": p.chatbot_id, "to_type": 1}
    )
    upload = FileUpload.model_validate(target.data or {})
    if not upload.upload_url or not upload.download_url:
        raise InvalidResponse("the upload-URL answer had no upload_url or download_url")
    await ctx.report(1, 3, f"uploading {name} ({len(content)} bytes)")
    await ctx.client.upload(
        upload.upload_url, upload.upload_method or "POST", upload.oss_body_param or {}, name, content
    )
    await ctx.report(2, 3, "sending the file message to the chatbot")
    attachment = json.dumps({"dName": name, "url": upload.download_url, "fLen": len(content)}, ensure_ascii=False)
    sent = await ctx.call(
        _SEND,
        SendMessage(
            user_ids=[p.chatbot_id],
            from_user_id=p.admin_user_id,
            content="",
            content_type=4,
            attachment=attachment,
            ext=ext,
        ),
    )
    await ctx.report(3, 3, "done")
    return Envelope(
        KnowledgeUpload(
            source="file",
            file_name=name,
            size=len(content),
            download_url=upload.download_url,
            msg_ids=sent.extras.get("msg_ids"),
        ),
        {},
    )


OPERATIONS: list[Operation] = [
    Operation(
        name="send_ai_message",
        effect=Effect(Target.MESSAGE, ("message",), irreversible=Never.SENT),
        audience=Audience(users=("user_ids",), groups=("group_ids",)),
        dedup_key="transaction_id",
        http="POST /ai/message/send",
        aliases=("PUT",),
        params=AskChatbot,
        result=AIReplies,
        title=("Ask AI chatbot", "向AI机器人提问"),
        description=(
            "Send a message to AI chatbots (user_ids = chatbot user IDs) and wait for the reply; returns the reply "
            "messages and the smart-message quota used.",
            "向AI机器人发送消息(user_ids为机器人用户ID)并等待回复;返回回复消息及消耗的智能消息额度。",
        ),
        paging=Paging(Pages.WHOLE, items="messages", unit=MESSAGES),
        named=Named(
            acting="as_user_id", users="user_ids", groups="group_ids", content="content", sender="from_user_id"
        ),
        hints=WRITE,
        ids=IdPaths(
            plain=("data.messages[].from_xid.uid", "data.messages[].to_xid.uid"),
            text=(
                "data.messages[].content",
                "data.messages[].attachment",
                "data.messages[].ext",
                "data.messages[].config",
            ),
        ),
    ),
    Operation(
        name="upload_knowledge_document",
        effect=Effect(Target.CHATBOT, ("knowledge",), irreversible=Never.KNOWLEDGE),
        audience=Audience(users=("chatbot_id",)),
        http="POST /message/send",
        calls=("GET /file/upload/chat", "POST {upload_url}", "POST /message/send"),
        params=UploadKnowledge,
        result=KnowledgeUpload,
        handler=upload_knowledge,
        title=("Upload knowledge-base document", "上传知识库文档"),
        description=(
            "Add a document to an AI chatbot's knowledge base: a web page URL, or a file (local path or "
            "base64) that is uploaded and sent to the chatbot as a file message.",
            "向AI机器人的知识库添加文档:网页URL,或文件(本地路径或base64),文件会被上传并以文件消息发给机器人。",
        ),
        hints=WRITE,
    ),
]
