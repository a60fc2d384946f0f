"""Files: upload URLs for chat files and avatars, forwards, download redirects (`/file/*`)."""

from __future__ import annotations

from typing import Literal

from ..spec import READ, AsUser, Operation, Params, Toolset, f
from .common import FileUpload

TOOLSET = Toolset(
    "files",
    (
        "Files: upload URLs for chat files and avatars, forwarding, download links.",
        "文件:聊天文件和头像的上传地址、转发、下载链接。",
    ),
)

FILE_TYPES_EN = (
    "100 file, 101 amr voice, 102 image, 103 video, 104 mp3 voice, 200-203 group shared file/voice/image/video"
)
FILE_TYPES_ZH = "100文件,101 amr语音,102图片,103视频,104 mp3语音,200-203群共享文件/语音/图片/视频"


class ChatUploadUrl(Params):
    as_user_id: AsUser = f("The uploading user (admin token only).", "上传者用户ID(仅管理员token)。", None)
    file_type: Literal[100, 101, 102, 103, 104, 200, 201, 202, 203] = f(FILE_TYPES_EN, FILE_TYPES_ZH)
    to_id: int = f("The user or group the file is for.", "文件发往的用户或群ID。")
    to_type: Literal[1, 2] | None = f("1 user (default), 2 group.", "1用户(默认),2群。", None)


OPERATIONS: list[Operation] = [
    Operation(
        name="get_chat_file_upload_url",
        http="GET /file/upload/chat",
        params=ChatUploadUrl,
        result=FileUpload,
        title=("Get chat file upload URL", "获取聊天文件上传地址"),
        description=(
            "Get a signed upload_url (+ form fields) and the download_url for a chat file; upload with a "
            "multipart form, then send the download_url in a message attachment.",
            "获取聊天文件的签名上传地址(及表单字段)和下载地址;以multipart表单上传后,在消息附件中使用download_url。",
        ),
        hints=READ,
        default=True,
    ),
]
