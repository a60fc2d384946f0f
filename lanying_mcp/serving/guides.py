"""What hosts show people besides tools: reference documents (resources) and admin job recipes (prompts).

Plain text and data only; server.py registers them with MCP.
"""

from __future__ import annotations

import json
from typing import Any

from ..core import error_text
from ..core.spec import Operation, Toolset


def error_catalogue() -> str:
    rows = [
        {"code": code, "meaning": e.en, "meaning_zh": e.zh, "hint": e.hint, "retryable": e.retryable}
        for code, e in error_text.catalogue().items()
    ]
    return json.dumps(rows, ensure_ascii=False, indent=1)


def toolset_list(listed: dict[str, Operation], reachable: dict[str, Operation], toolsets: dict[str, Toolset]) -> str:
    """Each toolset with what it really holds here: tools listed, and tools reached through search_tools."""
    out: list[dict[str, Any]] = []
    for ts in toolsets.values():
        names = [name for name, op in reachable.items() if op.toolset == ts.name]
        if not names:
            continue
        out.append(
            {
                "toolset": ts.name,
                "description": ts.description[0],
                "description_zh": ts.description[1],
                "listed": [n for n in names if n in listed],
                "via_search_tools": [n for n in names if n not in listed],
            }
        )
    return json.dumps(out, ensure_ascii=False, indent=1)


def onboard_users(usernames: str, group_name: str) -> str:
    return (
        f"Onboard these users into a new group named {group_name!r}: {usernames}.\n"
        "1. For each username, look it up with find_user_by_name; register the missing ones with register_users "
        "(ask me for passwords, or generate strong ones and show them to me once).\n"
        "2. Pick the group owner with me, then create_group with as_user_id = the owner.\n"
        "3. invite_group_members with all the user IDs; report any per-user failures and their reasons.\n"
        "4. list_group_members to confirm, and give me a short summary: group_id, members, failures."
    )


def announce(group_id: str, message: str) -> str:
    return (
        f"Announce this to group {group_id} and push it to its members: {message!r}\n"
        "1. get_group_info to check the group exists and note its name and owner.\n"
        "2. create_group_announcement (title: a short summary; content: the message), acting as the owner.\n"
        "3. send_message to the group (group_ids) with the message, so it shows in the chat.\n"
        "4. Page through list_group_members (follow cursor until empty) and send_push to those user_ids with "
        "the group name as title; report the push task_id(s) and any failed batches."
    )


def diagnose_push(user_id: str) -> str:
    return (
        f"Find out why user {user_id} did not receive a push notification.\n"
        "1. check_push_delivery with user_id: it reads settings, quiet hours, devices and tags at once and "
        "gives a verdict with the facts behind it.\n"
        "2. If you have the push task_id, get_push_task_details (find it with search_tools): target, sent and "
        "received counts per channel.\n"
        "3. For a vendor channel, get_push_certificate for the platform's provider (1 APNs, 2 Huawei, 3 Xiaomi, "
        "4 Meizu, 5 VIVO, 6 OPPO, 7 FCM).\n"
        "Conclude with the most likely cause and the fix."
    )
