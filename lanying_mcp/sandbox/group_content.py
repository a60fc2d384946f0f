"""Sandbox group content: announcements (published by admins) and shared files (any member shares).

Members read both. A shared file belongs to its uploader: only they or a group admin may rename or
delete it (20023). Files shared by the app admin have no uploader, so only admins manage them.
"""

from __future__ import annotations

from typing import Any

from .core import Call, Fail, Routes, Store
from .groups import ADMIN, MEMBER, Group, get_group, require

ROUTES = Routes()


def _announcement(g: Group, announcement_id: int) -> dict[str, Any]:
    item = g.announcements.get(announcement_id)
    if item is None:
        raise Fail(20020, f"announcement {announcement_id} does not exist in group {g.group_id}")
    return item


def _newest_first(g: Group) -> list[dict[str, Any]]:
    return sorted(g.announcements.values(), key=lambda a: (a["created_at"], a["id"]), reverse=True)


@ROUTES.route("POST", "/group/announcement/edit")
def announcement_edit(call: Call) -> dict[str, Any]:
    g = get_group(call, call.int("group_id"))
    require(call, g, ADMIN)
    item: dict[str, Any] = {
        "id": call.store.next_id(),
        "group_id": g.group_id,
        "title": call.str("title"),
        "content": call.str("content"),
        "author": call.actor.user_id,
        "created_at": call.store.now_ms(),
    }
    g.announcements[item["id"]] = item
    return dict(item)


@ROUTES.route("GET", "/group/announcement")
def announcement_get(call: Call) -> dict[str, Any]:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    return dict(_announcement(g, call.int("announcement_id", "query")))


@ROUTES.route("GET", "/group/announcement/last")
def announcement_last(call: Call) -> dict[str, Any] | None:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    items = _newest_first(g)
    return dict(items[0]) if items else None


@ROUTES.route("GET", "/group/announcement/list")
def announcement_list(call: Call) -> list[dict[str, Any]]:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    return [dict(a) for a in _newest_first(g)]


@ROUTES.route("POST", "DELETE", "/group/announcement/delete")
def announcement_delete(call: Call) -> bool:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, ADMIN)
    item = _announcement(g, call.int("announcement_id", "query"))
    del g.announcements[item["id"]]
    return True


# --- shared files -------------------------------------------------------------------------


def _file(g: Group, file_id: int) -> dict[str, Any]:
    item = g.files.get(file_id)
    if item is None:
        raise Fail(20022, f"shared file {file_id} does not exist in group {g.group_id}")
    return item


def _may_change(call: Call, level: int, item: dict[str, Any]) -> bool:
    return level >= ADMIN or (item["uploader"] is not None and item["uploader"] == call.actor.user_id)


@ROUTES.route("POST", "/group/file/upload")
def file_upload(call: Call) -> dict[str, Any]:
    g = get_group(call, call.int("group_id"))
    require(call, g, MEMBER)
    size = call.int("size")
    if size < 0:
        raise Fail(10002, "size must not be negative")
    now = call.store.now_ms()
    item: dict[str, Any] = {
        "file_id": call.store.next_id(),
        "group_id": g.group_id,
        "name": call.str("name"),
        "size": size,
        "type": call.str("type", required=False, default=""),
        "url": call.str("url"),
        "uploader": call.actor.user_id,
        "created_at": now,
        "updated_at": now,
    }
    g.files[item["file_id"]] = item
    return dict(item)


@ROUTES.route("GET", "/group/file")
def file_get(call: Call) -> dict[str, Any]:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    return dict(_file(g, call.int("file_id", "query")))


@ROUTES.route("GET", "/group/file/list")
def file_list(call: Call) -> list[dict[str, Any]]:
    g = get_group(call, call.int("group_id", "query"))
    require(call, g, MEMBER)
    return [dict(item) for item in g.files.values()]


@ROUTES.route("POST", "PUT", "/group/file/update_name")
def file_rename(call: Call) -> bool:
    g = get_group(call, call.int("group_id"))
    level = require(call, g, MEMBER)
    item = _file(g, call.int("file_id"))
    name = call.str("name")
    if not _may_change(call, level, item):
        raise Fail(20023, "only the uploader or a group admin may rename this file")
    item["name"] = name
    item["updated_at"] = call.store.now_ms()
    return True


@ROUTES.route("POST", "DELETE", "/group/file/delete")
def file_delete(call: Call) -> list[dict[str, Any]]:
    g = get_group(call, call.int("group_id"))
    level = require(call, g, MEMBER)
    out: list[dict[str, Any]] = []
    for file_id in call.ints("file_list"):
        item = g.files.get(file_id)
        if item is None:
            out.append({"file_id": file_id, "result": "fail", "reason": "20022 shared file does not exist"})
        elif not _may_change(call, level, item):
            out.append({"file_id": file_id, "result": "fail", "reason": "20023 only the uploader or an admin"})
        else:
            del g.files[file_id]
            out.append({"file_id": file_id, "result": "success", "reason": None})
    return out


def forget_user(store: Store, user_id: int) -> None:
    """Announcements and shared files stay with their group after their author is deleted."""
