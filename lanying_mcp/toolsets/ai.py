"""AI chatbots: ask a chatbot, and feed documents into its knowledge base (`/ai/*` and the upload flow)."""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import TYPE_CHECKING, Any, Literal

from pydantic import model_validator

from ..client import Envelope
from ..errors import ArgumentError, InvalidResponse
from ..spec import WRITE, ApiModel, AsUser, Audience, IdPaths, Operation, Params, Toolset, f
from .common import FileUpload, MessageFields, SendMessage
from .files import OPERATIONS as _FILE_OPS
from .messages import OPERATIONS as _MESSAGE_OPS
from .messages import XID

if TYPE_CHECKING:
    from ..dispatch import CallContext

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
        if "\x00" in (p.file_path or ""):
            raise ArgumentError("file_path contains a NUL character")
        path = os.path.realpath(os.path.expanduser(p.file_path or ""))
        roots = [os.path.realpath(r) for r in ctx.client.settings.upload_roots]
        if not any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
            raise ArgumentError(
                f"file_path is outside the folders this server may upload from ({', '.join(roots)}); "
                "the operator can allow more with LANYING_UPLOAD_ROOTS"
            )
        if not os.path.isfile(path):
            raise ArgumentError(f"file_path {p.file_path!r} is not a readable file")
        if os.path.getsize(path) > limit:
            raise ArgumentError(f"file is larger than the {limit} byte upload limit")
        try:
            with open(path, "rb") as fh:
                content = fh.read()
        except OSError as exc:
            raise ArgumentError(f"cannot read file_path: {exc.strerror}") from None
        name = p.file_name or os.path.basename(path)
    if len(content) > limit:
        raise ArgumentError(f"file is larger than the {limit} byte upload limit")
    if not content:
        raise ArgumentError("the file is empty")
    return name, content


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
