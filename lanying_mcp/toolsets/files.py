"""Files: upload URLs for chat files and avatars, forwards, download redirects (`/file/*`)."""

from typing import Literal

from ..core.spec import READ, ApiModel, AsUser, Named, Operation, Params, Toolset, f
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


class UserAvatarUrl(Params):
    as_user_id: AsUser = f("The user whose avatar it is (admin token only).", "头像所属用户ID(仅管理员token)。", None)


class GroupAvatarUrl(Params):
    as_user_id: AsUser = f("Act as this group member (admin token only).", "以此群成员身份调用(仅管理员token)。", None)
    group_id: int = f("The group whose avatar it is.", "头像所属群ID。")


class ForwardUrl(Params):
    as_user_id: AsUser = f("The forwarding user (admin token only).", "转发者用户ID(仅管理员token)。", None)
    file_sign: str = f(
        "Signature of the existing chat file (from its URL).", "已有聊天文件的签名(见其URL)。", secret=True
    )
    to_id: int = f("The user or group to forward to.", "转发目标用户或群ID。")
    to_type: Literal[1, 2] | None = f("1 user (default), 2 group.", "1用户(默认),2群。", None)


class ImageOptions(Params):
    """Image variants shared by both download operations."""

    image_type: Literal[1, 2, 3] | None = f(
        "1 original (default), 2 thumbnail, 3 cover.", "1原图(默认),2缩略图,3封面。", None
    )
    thumbnail_strategy: Literal[1, 2] | None = f(
        "Thumbnail made by 1 third party (default), 2 local server.", "缩略图生成:1第三方(默认),2本地服务器。", None
    )
    w: float | None = f("Image width.", "图片宽。", None)
    h: float | None = f("Image height.", "图片高。", None)
    sdk_sign: str | None = f("SDK signature.", "SDK签名。", None, secret=True)
    store_token: str | None = f("File token.", "文件token。", None, secret=True)


class _AvatarFile(Params):
    as_user_id: AsUser = f("Download as this user (admin token only).", "以此用户身份下载(仅管理员token)。", None)
    object_name: str = f("The avatar's object name.", "头像对象名。")


class _ChatFile(Params):
    as_user_id: AsUser = f("Download as this user (admin token only).", "以此用户身份下载(仅管理员token)。", None)
    file_sign: str = f("Signature of the chat file.", "聊天文件签名。", secret=True)
    format: Literal["amr", "mp3"] | None = f("Audio format (default amr).", "音频格式(默认amr)。", None)
    source: str | None = f("Request source, e.g. miniprogram.", "请求来源,如miniprogram。", None)


# ImageOptions comes first among the bases so that its fields follow the file's own in the schema.
class AvatarDownload(ImageOptions, _AvatarFile):
    pass


class ChatDownload(ImageOptions, _ChatFile):
    pass


class ForwardedFile(ApiModel):
    download_url: str | None = None


class DownloadLink(ApiModel):
    location: str | None = f(
        "Where the file can be fetched (the redirect target).", "文件的实际地址(重定向目标)。", None
    )


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
        named=Named(acting="as_user_id"),
        hints=READ,
    ),
    Operation(
        name="get_user_avatar_upload_url",
        http="GET /file/upload/avatar/user",
        params=UserAvatarUrl,
        result=FileUpload,
        title=("Get user avatar upload URL", "获取用户头像上传地址"),
        description=(
            "Get a signed upload_url (+ form fields) and download_url for a user avatar; after uploading, "
            "set the download_url as the user's avatar.",
            "获取用户头像的签名上传地址(及表单字段)和下载地址;上传后将download_url设为用户头像。",
        ),
        named=Named(acting="as_user_id"),
        hints=READ,
    ),
    Operation(
        name="get_group_avatar_upload_url",
        http="GET /file/upload/avatar/group",
        params=GroupAvatarUrl,
        result=FileUpload,
        title=("Get group avatar upload URL", "获取群头像上传地址"),
        description=(
            "Get a signed upload_url (+ form fields) and download_url for a group avatar; after uploading, "
            "set the download_url as the group's avatar.",
            "获取群头像的签名上传地址(及表单字段)和下载地址;上传后将download_url设为群头像。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
    ),
    Operation(
        name="get_forward_file_url",
        http="GET /file/upload/forward",
        params=ForwardUrl,
        result=str | ForwardedFile,  # the Swagger says a string; the web SDK reads an object with download_url
        title=("Get forwarded file URL", "获取转发文件地址"),
        description=(
            "Reuse an already uploaded chat file for another user or group without uploading it again; "
            "returns the new file URL.",
            "将已上传的聊天文件转发给其他用户或群,无需重新上传;返回新的文件地址。",
        ),
        named=Named(acting="as_user_id"),
        hints=READ,
    ),
    Operation(
        name="get_avatar_download_url",
        http="GET /file/download/avatar",
        params=AvatarDownload,
        result=DownloadLink,
        redirect=True,
        title=("Get avatar download URL", "获取头像下载地址"),
        description=(
            "Resolve an avatar (or its thumbnail) to the storage URL it redirects to; returns {location}.",
            "解析头像(或缩略图)重定向到的存储地址;返回{location}。",
        ),
        named=Named(acting="as_user_id"),
        hints=READ,
    ),
    Operation(
        name="get_chat_file_download_url",
        http="GET /file/download/chat",
        params=ChatDownload,
        result=DownloadLink,
        redirect=True,
        title=("Get chat file download URL", "获取聊天文件下载地址"),
        description=(
            "Resolve a chat file (image, audio, video, file) to the storage URL it redirects to; returns {location}.",
            "解析聊天文件(图片、语音、视频、文件)重定向到的存储地址;返回{location}。",
        ),
        named=Named(acting="as_user_id"),
        hints=READ,
    ),
]
