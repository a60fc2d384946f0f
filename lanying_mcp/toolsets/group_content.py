"""Group content: announcements and shared files."""

from typing import Annotated, Any

from ..core.spec import (
    DELETE,
    QUERY,
    READ,
    UNPAGED,
    UPDATE,
    WRITE,
    ApiModel,
    AsGroup,
    AsUser,
    Audience,
    Body,
    Effect,
    IdPaths,
    Named,
    Never,
    Operation,
    Params,
    Target,
    Toolset,
    f,
    undo,
)

TOOLSET = Toolset("group_content", ("Group content: announcements and shared files.", "群内容:群公告和群共享文件。"))

GROUP_ID = ("Group ID.", "群ID。")
AS_MEMBER = ("Act as this member (admin token only).", "以此成员身份调用(仅管理员token)。")
AS_ADMIN = ("Act as this user, an owner or admin of the group (omit: app admin).", "以此用户(群主或管理员)身份调用。")
AS_GROUP_ADMIN = ("Act as an admin of this group ID (admin token).", "以此群管理员身份调用(管理员token)。")
ANNOUNCEMENT_ID = ("Announcement ID.", "公告ID。")
FILE_ID = ("Shared file ID.", "群共享文件ID。")
# File changes are allowed to the uploader as well as admins, so the user header is not admin-only.
AS_FILE_USER = ("Act as this member: the uploader or an admin.", "以此成员身份调用:上传者或管理员。")


class GroupRead(Params):
    as_user_id: AsUser = f(*AS_MEMBER, None)
    group_id: int = f(*GROUP_ID)


class CreateAnnouncement(Params):
    as_user_id: AsUser = f(*AS_ADMIN, None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    group_id: int = f(*GROUP_ID)
    title: str = f("Title.", "公告标题。", min_length=1)
    content: str = f("Text of the announcement.", "公告内容。", min_length=1)


class GetAnnouncement(GroupRead):
    announcement_id: int = f(*ANNOUNCEMENT_ID)


class DeleteAnnouncement(Params):
    as_user_id: AsUser = f(*AS_ADMIN, None)
    # The API reads both IDs from the query string, for POST as well as DELETE.
    group_id: Annotated[int, QUERY] = f(*GROUP_ID)
    announcement_id: Annotated[int, QUERY] = f(*ANNOUNCEMENT_ID)


class AddFile(Params):
    as_user_id: AsUser = f("The member who shares the file (its uploader).", "共享文件的成员(上传者)。", None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    group_id: int = f(*GROUP_ID)
    name: str = f("File name shown to members.", "文件名称。", min_length=1)
    size: int = f("Size in bytes.", "文件大小(字节)。", ge=0)
    url: str = f(
        "download_url from get_chat_file_upload_url (file_type 200-203) after uploading.",
        "上传后get_chat_file_upload_url返回的download_url(file_type 200-203)。",
        min_length=1,
    )
    type: str | None = f("File type, e.g. pdf or image/png.", "文件类型,如pdf或image/png。", None)


class GetFile(GroupRead):
    file_id: int = f(*FILE_ID)


class RenameFile(Params):
    as_user_id: AsUser = f(*AS_FILE_USER, None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    group_id: int = f(*GROUP_ID)
    file_id: int = f(*FILE_ID)
    name: str = f("New name.", "新名称。", min_length=1)


class DeleteFiles(Params):
    as_user_id: AsUser = f(*AS_FILE_USER, None)
    as_group_id: AsGroup = f(*AS_GROUP_ADMIN, None)
    group_id: int = f(*GROUP_ID)
    file_ids: Annotated[list[int], Body("file_list")] = f("Files to delete.", "要删除的文件ID列表。", min_length=1)


class Announcement(ApiModel):
    id: int | None = f("Announcement ID.", "公告ID。", None)
    group_id: int | None = None
    title: str | None = None
    content: str | None = None
    author: int | None = f("Publisher's user ID.", "发布者用户ID。", None)
    created_at: int | None = f("Published, epoch ms.", "发布时间(毫秒)。", None)


class GroupFile(ApiModel):
    file_id: int | None = None
    group_id: int | None = None
    name: str | None = None
    size: int | None = f("Bytes.", "字节数。", None)
    type: str | None = f("File type, e.g. pdf.", "文件类型,如pdf。", None)
    url: str | None = None
    uploader: int | None = f("Uploader's user ID.", "上传者用户ID。", None)
    created_at: int | None = f("Created, epoch ms.", "创建时间(毫秒)。", None)
    updated_at: int | None = f("Updated, epoch ms.", "更新时间(毫秒)。", None)


class FileResult(ApiModel):
    file_id: int | None = None
    result: str | None = f("success or fail.", "success或fail。", None)
    reason: str | None = None


OPERATIONS: list[Operation] = [
    Operation(
        name="create_group_announcement",
        effect=Effect(
            Target.ANNOUNCEMENT,
            ("announcement",),
            undo("delete_group_announcement", "as_user_id", "group_id", announcement_id="result.id"),
        ),
        audience=Audience(groups=("group_id",)),
        http="POST /group/announcement/edit",
        params=CreateAnnouncement,
        result=Announcement,
        title=("Publish group announcement", "发布群公告"),
        description=(
            "Publish a new announcement (title and text) in a group (admin). Returns it with its id.",
            "在群内发布新公告(标题和内容,管理员)。返回公告及其id。",
        ),
        named=Named(group="group_id", acting="as_user_id", content="content"),
        hints=WRITE,
        ids=IdPaths(users=("data.author",), plain=("data.group_id",), text=("data.title", "data.content")),
    ),
    Operation(
        name="get_group_announcement",
        http="GET /group/announcement",
        params=GetAnnouncement,
        result=Announcement,
        title=("Get group announcement", "获取群公告详情"),
        description=("One announcement of a group by its id.", "按id获取群公告详情。"),
        named=Named(group="group_id", acting="as_user_id", announcement="announcement_id"),
        hints=READ,
        ids=IdPaths(users=("data.author",), plain=("data.group_id",), text=("data.title", "data.content")),
    ),
    Operation(
        name="get_latest_group_announcement",
        http="GET /group/announcement/last",
        params=GroupRead,
        result=Announcement,
        title=("Get latest group announcement", "获取最新群公告"),
        description=(
            "The newest announcement of a group (null when there is none).",
            "获取群最新一条公告(无公告时为空)。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data.author",), plain=("data.group_id",), text=("data.title", "data.content")),
    ),
    Operation(
        name="list_group_announcements",
        http="GET /group/announcement/list",
        params=GroupRead,
        result=list[Announcement],
        title=("List group announcements", "获取群公告列表"),
        description=(
            "All announcements of a group, with title, text, author and time.",
            "获取群全部公告(标题、内容、发布者、时间)。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[].author",), plain=("data[].group_id",), text=("data[].title", "data[].content")),
    ),
    Operation(
        name="delete_group_announcement",
        effect=Effect(Target.ANNOUNCEMENT, ("announcement",), irreversible=Never.DELETED),
        http="POST /group/announcement/delete",
        aliases=("DELETE",),
        params=DeleteAnnouncement,
        result=Any,
        title=("Delete group announcement", "删除群公告"),
        description=("Delete one announcement of a group (admin).", "删除一条群公告(管理员)。"),
        named=Named(group="group_id", acting="as_user_id", announcement="announcement_id"),
        hints=DELETE,
    ),
    Operation(
        name="add_group_file",
        effect=Effect(
            Target.FILE,
            ("file",),
            undo("delete_group_files", "as_user_id", "as_group_id", "group_id", file_ids="[result.file_id]"),
        ),
        http="POST /group/file/upload",
        params=AddFile,
        result=GroupFile,
        title=("Share file in group", "添加群共享文件"),
        description=(
            "List an already uploaded file (url from the chat upload flow) as a group shared file. Returns its file_id.",
            "将已上传的文件(聊天上传得到的url)登记为群共享文件。返回file_id。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=WRITE,
        audience=Audience(groups=("group_id",), text=("name", "url", "type")),
        ids=IdPaths(users=("data.uploader",), plain=("data.group_id",), text=("data.name",)),
    ),
    Operation(
        name="get_group_file",
        http="GET /group/file",
        params=GetFile,
        result=GroupFile,
        title=("Get group shared file", "获取群共享文件"),
        description=(
            "One shared file of a group: name, size, url, uploader.",
            "获取一个群共享文件:名称、大小、url、上传者。",
        ),
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data.uploader",), plain=("data.group_id",), text=("data.name",)),
    ),
    Operation(
        name="list_group_files",
        http="GET /group/file/list",
        params=GroupRead,
        result=list[GroupFile],
        title=("List group shared files", "获取群共享文件列表"),
        description=(
            "All shared files of a group with name, size, url and uploader.",
            "获取群全部共享文件(名称、大小、url、上传者)。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id"),
        hints=READ,
        ids=IdPaths(users=("data[].uploader",), plain=("data[].group_id",), text=("data[].name",)),
    ),
    Operation(
        name="rename_group_file",
        effect=Effect(
            Target.FILE,
            ("name",),
            undo("rename_group_file", "as_user_id", "as_group_id", "group_id", "file_id", name="before.name"),
        ),
        http="POST /group/file/update_name",
        aliases=("PUT",),
        params=RenameFile,
        result=bool,
        title=("Rename group shared file", "重命名群共享文件"),
        description=("Rename a group shared file (its uploader or an admin).", "重命名群共享文件(上传者或管理员)。"),
        named=Named(group="group_id", acting="as_user_id"),
        hints=UPDATE,
        audience=Audience(groups=("group_id",), text=("name",)),
    ),
    Operation(
        name="delete_group_files",
        effect=Effect(Target.FILE, ("file",), irreversible=Never.DELETED),
        http="POST /group/file/delete",
        aliases=("DELETE",),
        params=DeleteFiles,
        result=list[FileResult],
        title=("Delete group shared files", "删除群共享文件"),
        description=(
            "Delete group shared files (each by its uploader or an admin). Returns success or fail per file.",
            "删除群共享文件(上传者或管理员)。逐个返回成功或失败。",
        ),
        paging=UNPAGED,
        named=Named(group="group_id", acting="as_user_id", files="file_ids"),
        hints=DELETE,
    ),
]
