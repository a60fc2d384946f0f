"""Which calls need a human's yes, and what to tell the human before they answer.

The question names what will be affected, read from the API just before asking (the group's name
and member count, how many users, "every device of the app"), so the human confirms the real
effect, not the model's summary of it. The SDK-specific part (asking through MCP elicitation) lives
in server.py; this module knows nothing of MCP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .spec import Operation, Params, Risk

if TYPE_CHECKING:
    from .dispatch import CallContext


def _ids(values: Any, limit: int = 5) -> str:
    values = list(values or [])
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


async def describe(op: Operation, params: Params, ctx: CallContext, risks: tuple[Risk, ...] = ()) -> str | None:
    """The question for the human, or None when the target does not exist (the call will fail anyway)."""
    title = op.title[0]
    parts: list[str] = []
    group_id = getattr(params, "group_id", None)
    if isinstance(group_id, int):
        try:
            info = (await ctx.call("get_group_info", {"group_id": group_id})).data or {}
        except errors.ApiError as exc:
            if exc.code == 20001:
                return None
            info = {}
        except errors.LanyingError:
            info = {}
        name = info.get("name")
        count = info.get("count")
        what = f"group {name!r} (ID {group_id})" if name else f"group {group_id}"
        if isinstance(count, int):
            what += f", {count} members"
        parts.append(what)
    for field in ("user_ids", "users", "targets"):
        values = getattr(params, field, None)
        if values:
            parts.append(f"{len(values)} user(s): {_ids(values)}")
            break
    if getattr(params, "all_devices", False):
        parts.append("EVERY device of the app")
    if Risk.EVERYONE in risks and not getattr(params, "all_devices", False):
        parts.append("EVERY user of the app")
    acting = getattr(params, "as_user_id", None)
    if acting is not None and op.toolset in ("users", "devices") and not parts:
        parts.append(f"user {acting}")
    for field in ("msg_id", "conversation_id", "new_owner", "file_ids", "announcement_id"):
        value = getattr(params, field, None)
        if value:
            parts.append(f"{field} {value if not isinstance(value, list) else _ids(value)}")
    effect = "; ".join(parts) or "as requested"
    irreversible = " This cannot be undone." if op.hints.destructive else ""
    return f"Allow the assistant to run “{title}” ({op.name}) on {effect}?{irreversible}"
