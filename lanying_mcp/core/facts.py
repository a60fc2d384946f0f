"""Documented facts of the Lanying API that both the tool models and the sandbox rely on.

Kept in one place so the limit a tool's input schema advertises and the limit the sandbox enforces
cannot drift apart. Each fact names where the documentation states it.
"""

from __future__ import annotations

import re

# Quick guide, "注册用户": letters, digits and underscore; not all digits; not starting with maxim or mta.
# (The Swagger's pattern also admits CJK letters; the quick guide is the stricter, user-facing rule.)
USERNAME_CHARS = re.compile(r"^[A-Za-z0-9_]+$")
USERNAME_RESERVED_PREFIXES = ("maxim", "mta")
USERNAME_MAX_LENGTH = 64  # not documented; the tools' own guard against runaway input
# The same rule as a JSON-schema (ECMA-262) pattern, for input schemas; validation uses username_problem.
USERNAME_SCHEMA_PATTERN = r"^(?![0-9]+$)(?![Mm][Aa][Xx][Ii][Mm]|[Mm][Tt][Aa])[A-Za-z0-9_]+$"


def username_problem(name: str) -> str | None:
    """Why `name` breaks the documented username rule, or None when it is fine."""
    if not USERNAME_CHARS.match(name):
        return "username may contain only letters, digits and underscore"
    if name.isdigit():
        return "username must not be all digits"
    if name.lower().startswith(USERNAME_RESERVED_PREFIXES):
        return "username must not start with 'maxim' or 'mta'"
    return None


# Quick guide error table, 12005: "推送目标列表的长度不能超过500".
PUSH_MAX_TARGETS = 500

# Swagger, /user/push/limit: no_push_start_hour / no_push_end_hour minimum 0, maximum 23.
HOUR_MIN, HOUR_MAX = 0, 23

# Swagger, GET /user/list: page_num minimum 1; page_size minimum 1, maximum 200.
USER_LIST_PAGE_MIN = 1
USER_LIST_PAGE_SIZE_MAX = 200

# Swagger, MessageRequest: type 1..2, content_type 0..12; BroadcastMessageRequest: type 1, content_type 0..6.
MESSAGE_TYPES = (1, 2)
BROADCAST_CONTENT_TYPE_MAX = 6

# Swagger, GET/POST /user/mobile and GET /roster/mobile: the mobile number pattern.
MOBILE_PATTERN = r"^(\+[0-9]{8,}|((13[0-9])|(14[0-9])|(15[0-9])|(16[0-9])|(17[0-9])|(18[0-9])|(19[0-9]))\d{8})$"
