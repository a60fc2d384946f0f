"""Wire table for group content: announcements and shared files."""

import pytest

from tests.helpers import Case, check_cases

G = 2306414607729
ADMIN = 2302128618880
ANN = {"id": 11, "group_id": G, "title": "t", "content": "c", "author": ADMIN, "created_at": 1}
FILE = {"file_id": 21, "group_id": G, "name": "a.pdf", "size": 3, "type": "pdf", "url": "https://x/a", "uploader": 1}

CASES = [
    Case(
        "create_group_announcement",
        {"as_user_id": ADMIN, "group_id": G, "title": "t", "content": "c"},
        "POST",
        "/group/announcement/edit",
        json={"group_id": G, "title": "t", "content": "c"},
        act_as={"user_id": str(ADMIN)},
        reply=ANN,
    ),
    Case(
        "create_group_announcement",
        {"as_group_id": G, "group_id": G, "title": "t", "content": "c"},
        "POST",
        "/group/announcement/edit",
        json={"group_id": G, "title": "t", "content": "c"},
        act_as={"group_id": str(G)},
        reply=ANN,
    ),
    Case(
        "get_group_announcement",
        {"group_id": G, "announcement_id": 11},
        "GET",
        "/group/announcement",
        query={"group_id": str(G), "announcement_id": "11"},
        reply=ANN,
    ),
    Case(
        "get_latest_group_announcement",
        {"as_user_id": ADMIN, "group_id": G},
        "GET",
        "/group/announcement/last",
        query={"group_id": str(G)},
        act_as={"user_id": str(ADMIN)},
        reply=ANN,
    ),
    Case(
        "list_group_announcements",
        {"group_id": G},
        "GET",
        "/group/announcement/list",
        query={"group_id": str(G)},
        reply=[ANN],
    ),
    Case(
        "delete_group_announcement",
        {"as_user_id": ADMIN, "group_id": G, "announcement_id": 11},
        "POST",
        "/group/announcement/delete",
        query={"group_id": str(G), "announcement_id": "11"},
        act_as={"user_id": str(ADMIN)},
        reply={},
    ),
    Case(
        "add_group_file",
        {"as_user_id": ADMIN, "group_id": G, "name": "a.pdf", "size": 3, "url": "https://x/a", "type": "pdf"},
        "POST",
        "/group/file/upload",
        json={"group_id": G, "name": "a.pdf", "size": 3, "url": "https://x/a", "type": "pdf"},
        act_as={"user_id": str(ADMIN)},
        reply=FILE,
    ),
    Case(
        "get_group_file",
        {"group_id": G, "file_id": 21},
        "GET",
        "/group/file",
        query={"group_id": str(G), "file_id": "21"},
        reply=FILE,
    ),
    Case(
        "list_group_files",
        {"as_user_id": ADMIN, "group_id": G},
        "GET",
        "/group/file/list",
        query={"group_id": str(G)},
        act_as={"user_id": str(ADMIN)},
        reply=[FILE],
    ),
    Case(
        "rename_group_file",
        {"group_id": G, "file_id": 21, "name": "b.pdf"},
        "POST",
        "/group/file/update_name",
        json={"group_id": G, "file_id": 21, "name": "b.pdf"},
    ),
    Case(
        "delete_group_files",
        {"as_group_id": G, "group_id": G, "file_ids": [21, 22]},
        "POST",
        "/group/file/delete",
        json={"group_id": G, "file_list": [21, 22]},
        act_as={"group_id": str(G)},
        reply=[{"file_id": 21, "result": "success"}, {"file_id": 22, "result": "fail", "reason": "x"}],
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=str)  # one row per case: a failure hides no other
async def test_group_content_wire(case: Case) -> None:
    await check_cases([case])


def test_every_tool_has_a_case() -> None:
    from lanying_mcp.toolsets import group_content

    assert {op.name for op in group_content.OPERATIONS} == {c.tool for c in CASES}


def test_aliases_and_default() -> None:
    from lanying_mcp.toolsets import CATALOGUE

    assert CATALOGUE["delete_group_announcement"].aliases == ("DELETE",)
    assert CATALOGUE["delete_group_files"].aliases == ("DELETE",)
    assert CATALOGUE["rename_group_file"].aliases == ("PUT",)
    assert not CATALOGUE["create_group_announcement"].default  # left the default listing; reachable by toolset
