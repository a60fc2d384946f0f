"""How the effects of each write are read (changes.py): the read before it, and how its after-values come.

`READ` names, per write, the kind of read that shows its declared fields before it is sent (one
request; two for an owner transfer, whose old and new owner's roles change too). `RULE` names how the
after-values of a write that is not a plain setter come: from the answer's per-user rows, from the
request, or from a read after the write (a QR join, whose answer does not name the group). A plain
setter needs neither: its own inverse says which argument carries which field.
"""

from __future__ import annotations

# The reads, by tool.
GROUP_INFO = "get_group_info"
GROUP_ADMINS = "list_group_admins"
MUTED = "list_muted_group_members"
GROUP_BLOCKED = "list_group_blocked_users"
MEMBERS = "list_group_members"
DISPLAY_NAMES = "get_group_display_names"
PROFILE = "get_user_profile"
SETTINGS = "get_user_settings"
FRIENDS = "get_friend_details"
BLOCKED = "list_blocked_users"
TAGS = "list_push_tags"
PINNED = "list_pinned_conversations"
FILE = "get_group_file"
USER_GROUPS = "list_user_groups"

_GROUP = (
    "set_group_name",
    "set_group_description",
    "set_group_avatar",
    "set_group_ext",
    "set_group_member_invite",
    "set_group_member_modify",
    "set_group_read_ack",
    "set_group_hide_member_info",
    "set_group_history_visible",
    "set_group_apply_approval",
    "mute_group",
    "unmute_group",
    "set_group_msg_mute_mode",
    "set_group_msg_push_mode",
    "destroy_group",
)
_PROFILE = (
    "update_user_profile",
    "set_user_avatar",
    "set_user_mobile",
    "set_user_nickname",
    "set_username",
    "set_user_private_info",
    "set_user_public_info",
)
_SETTINGS = (
    "update_user_settings",
    "set_user_auth_mode",
    "set_user_auto_download",
    "set_user_push_disabled",
    "set_user_push_detail_hidden",
    "set_user_quiet_hours",
    "set_user_push_nickname",
    "set_user_sound_muted",
    "set_user_vibration",
)

READ: dict[str, str] = {
    **dict.fromkeys(_GROUP, "group"),
    **dict.fromkeys(_PROFILE, "profile"),
    **dict.fromkeys(_SETTINGS, "settings"),
    "set_group_display_name": "display name",
    "transfer_group_owner": "owner",
    "add_group_admins": "roles",
    "remove_group_admins": "roles",
    "mute_group_members": "mutes",
    "unmute_group_members": "mutes",
    "block_group_members": "group blocks",
    "unblock_group_members": "group blocks",
    "invite_group_members": "membership",
    "kick_group_members": "membership",
    "update_user_profiles": "profiles",
    "set_user_avatars": "profiles",
    "add_friends": "friend",
    "accept_friend_request": "friend",
    "remove_friend": "friend",
    "update_friend": "friend",
    "block_user": "blocked",
    "unblock_user": "blocked",
    "add_push_tags": "tags",
    "remove_push_tags": "tags",
    "clear_push_tags": "tags",
    "pin_conversation": "pinned",
    "unpin_conversation": "pinned",
    "rename_group_file": "file",
    "join_group_by_qrcode": "joined",
}

RULE: dict[str, str] = {
    "mute_group_members": "mute members",
    "unmute_group_members": "unmute members",
    "mute_group": "mute all",
    "unmute_group": "unmute all",
    "transfer_group_owner": "transfer",
    "add_group_admins": "add admins",
    "remove_group_admins": "remove admins",
    "invite_group_members": "invite",
    "kick_group_members": "kick",
    "block_group_members": "block members",
    "unblock_group_members": "unblock members",
    "leave_group": "leave",
    "join_group_by_qrcode": "join",
    "add_friends": "add friends",
    "accept_friend_request": "accept friend",
    "remove_friend": "remove friend",
    "block_user": "block user",
    "unblock_user": "unblock user",
    "disable_users": "disable",
    "enable_users": "enable",
    "add_push_tags": "add tags",
    "remove_push_tags": "remove tags",
    "clear_push_tags": "clear tags",
    "pin_conversation": "pin",
    "unpin_conversation": "unpin",
    "update_user_profiles": "profiles",
    "set_user_avatars": "avatars",
    "bind_device_token": "bind token",
    "unbind_device_token": "unbind token",
}

# Creates: the answer field holding the new ID, and the one naming it.
CREATED: dict[str, tuple[str, str]] = {
    "register_user": ("user_id", "username"),
    "register_push_user": ("user_id", "username"),
    "create_group": ("group_id", "name"),
    "create_group_announcement": ("id", "title"),
    "add_group_file": ("file_id", "name"),
}
