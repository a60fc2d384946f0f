"""Wire table for the files toolset."""

import pytest

from tests.helpers import Case, check_cases

GRANT = {
    "upload_url": "https://oss.example/bucket",
    "upload_method": "POST",
    "oss_body_param": {"key": "k", "policy": "p", "signature": "s", "OSSAccessKeyId": "id"},
    "download_url": "https://cdn.example/k",
}

CASES = [
    Case(
        "get_chat_file_upload_url",
        {"file_type": 202, "to_id": 33, "to_type": 2},
        "GET",
        "/file/upload/chat",
        query={"file_type": "202", "to_id": "33", "to_type": "2"},
        reply=GRANT,
    ),
    Case(
        "get_user_avatar_upload_url",
        {"as_user_id": 11},
        "GET",
        "/file/upload/avatar/user",
        act_as={"user_id": "11"},
        reply=GRANT,
    ),
    Case(
        "get_group_avatar_upload_url",
        {"as_user_id": 11, "group_id": 33},
        "GET",
        "/file/upload/avatar/group",
        query={"group_id": "33"},
        act_as={"user_id": "11"},
        reply=GRANT,
    ),
    Case(
        "get_forward_file_url",
        {"as_user_id": 11, "file_sign": "abc", "to_id": 22},
        "GET",
        "/file/upload/forward",
        query={"file_sign": "abc", "to_id": "22"},
        act_as={"user_id": "11"},
        reply="https://cdn.example/forwarded",
    ),
    Case(
        "get_forward_file_url",
        {"file_sign": "abc", "to_id": 33, "to_type": 2},
        "GET",
        "/file/upload/forward",
        query={"file_sign": "abc", "to_id": "33", "to_type": "2"},
        reply={"download_url": "https://cdn.example/forwarded"},
    ),
    Case(
        "get_avatar_download_url",
        {"object_name": "avatar/u1", "image_type": 2, "w": 64, "h": 64},
        "GET",
        "/file/download/avatar",
        query={"object_name": "avatar/u1", "image_type": "2", "w": "64.0", "h": "64.0"},
        reply={"location": "https://cdn.example/avatar/u1"},
    ),
    Case(
        "get_chat_file_download_url",
        {"as_user_id": 11, "file_sign": "abc", "format": "mp3", "source": "miniprogram", "thumbnail_strategy": 2},
        "GET",
        "/file/download/chat",
        query={"file_sign": "abc", "format": "mp3", "source": "miniprogram", "thumbnail_strategy": "2"},
        act_as={"user_id": "11"},
        reply={"location": "https://cdn.example/abc"},
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_files_wire_table(case: Case) -> None:
    await check_cases([case])
