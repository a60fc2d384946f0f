"""The reads that generic code makes by role — names, confirmation questions, the doctor — not by tool name.

Generic modules ask for `roles.GROUP_INFO`, never for a tool name, so a renamed tool fails one test
(`tests/test_catalogue.py`: every role names a read-only operation of the catalogue) instead of a
look-up somewhere at run time.
"""

from typing import Any

USERS_BY_ID = "get_friend_details"  # usernames and nicknames of many users at once
GROUPS_BY_ID = "get_groups_info"  # names of many groups at once
GROUP_INFO = "get_group_info"
GROUP_ADMINS = "list_group_admins"
MESSAGES = "list_conversation_messages"
ANNOUNCEMENT = "get_group_announcement"
GROUP_FILE = "get_group_file"
USER_GROUPS = "list_user_groups"
USER_BY_NAME = "find_user_by_name"  # one user's ID from their exact username
USER_PAGES = "list_users"  # every user's ID and username, a page at a time


# The arguments of the role reads a confirmation question makes (question.py), by what they are.
def group_info(group: int) -> dict[str, Any]:
    return {"group_id": group}


def message(conversation: Any, msg_id: Any, as_user: Any, as_group: Any) -> dict[str, Any]:
    """The one message `msg_id` of a conversation, as its reader (`as_user`/`as_group`) sees it."""
    return {
        "opposite_id": conversation,
        "msg_id_start": msg_id,
        "limit": 1,
        "as_user_id": as_user,
        "as_group_id": as_group,
    }


def announcement(group: int, announcement_id: Any, as_user: Any) -> dict[str, Any]:
    return {"group_id": group, "announcement_id": announcement_id, "as_user_id": as_user}


def group_file(group: int, file_id: Any) -> dict[str, Any]:
    return {"group_id": group, "file_id": file_id}


# One cheap read per toolset, for `lanying-mcp doctor`: "$user"/"$group" are filled in from earlier reads.
PROBES: dict[str, tuple[str, dict[str, Any]]] = {
    "users": ("list_users", {"page_num": 1, "page_size": 1}),
    "devices": ("list_user_devices", {"as_user_id": "$user"}),
    "roster": ("list_friend_ids", {"as_user_id": "$user", "limit": 1}),
    "groups": (USER_GROUPS, {"as_user_id": "$user"}),
    "group_moderation": ("list_group_invitations", {"as_user_id": "$user", "limit": 1}),
    "group_content": ("list_group_announcements", {"group_id": "$group"}),
    "messages": ("list_unread_conversations", {"as_user_id": "$user"}),
    "push": ("get_push_certificate", {"provider": 1}),
    "files": ("get_user_avatar_upload_url", {"as_user_id": "$user"}),
    "insight": ("check_push_delivery", {"user_id": "$user"}),
}

# Toolsets whose every tool writes: the doctor tries them only on the sandbox it filled itself, with the
# "$username", "$password" and "$chatbot" it made there (REGISTER_USER, CREATE_GROUP).
WRITE_PROBES: dict[str, tuple[str, dict[str, Any]]] = {
    "tokens": ("get_user_token", {"username": "$username", "password": "$password"}),
    "ai": ("send_ai_message", {"from_user_id": "$user", "user_ids": ["$chatbot"], "content": "doctor: are you there?"}),
}
REGISTER_USER = "register_user"
CREATE_GROUP = "create_group"

ALL = (
    USERS_BY_ID,
    GROUPS_BY_ID,
    GROUP_INFO,
    GROUP_ADMINS,
    MESSAGES,
    ANNOUNCEMENT,
    GROUP_FILE,
    USER_GROUPS,
    USER_BY_NAME,
    USER_PAGES,
)
