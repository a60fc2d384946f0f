"""What this server recently did that a confirmation question must say: renames, and the app's user count.

Renames: a model can rename an account ("ceo" → "qa_test_7") with writes that need no yes, and then ask
to delete "qa_test_7". So every rename this server sends (a user's nickname or username, a group's name)
is recorded in the state store for 10 minutes, with the name it replaced, and a question naming that
target says so: 'renamed from "ceo" to "qa_test_7" at 07:41:09 UTC' (the rename's own time, so the question
reads the same when it is rendered again to check an answer). The record is made before the write is sent (the old name
read fresh, one read per rename); a question shows it only while the target still bears the name this
server gave it, so a rename that failed says nothing.

The user count: a broadcast answers how many users it went to (`send_num`); the last count of each app
is kept (30 days), so a question about reaching everyone can say how many people that is.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from ..core.identity import app_key
from ..core.json_values import as_object
from ..core.spec import Operation, Params, Target
from ..safety.untrusted import quote
from . import names

if TYPE_CHECKING:
    from .call import CallContext

log = logging.getLogger("lanying_mcp")

RENAMES = "renamed"  # "<app key>|user|<id>" → {field: {before, after, at}}
RENAME_SECONDS = 600.0
USERS = "app-users"  # "<app key>" → {count, at}
USERS_SECONDS = 30 * 86400.0
USER_FIELDS = ("nick_name", "username")  # what a question names a user by

_T = {
    "renamed": (
        "Note: this server renamed {what} from {before} to {after} at {at} UTC.",
        "注意:本服务于{at}(协调世界时)把{what}从{before}改名为{after}。",
    ),
    "set": (
        "Note: this server set {what} to {after} at {at} UTC.",
        "注意:本服务于{at}(协调世界时)把{what}设为{after}。",
    ),
    "nick_name": ("the nickname of user ID {id}", "用户ID {id}的昵称"),
    "username": ("the username of user ID {id}", "用户ID {id}的用户名"),
    "name": ("group ID {id}", "群ID {id}"),
}


def _key(ctx: CallContext, kind: str, ident: int) -> str:
    s = ctx.client.settings
    return f"{app_key(s.endpoint, s.app_id, s.access_token.get_secret_value())}|{kind}|{ident}"


def renamed(op: Operation, params: Params) -> list[tuple[str, int, str, str]]:
    """(kind, id, field, new name) of every name this write sets, read from its declared effect and arguments."""
    effect = op.effect
    if effect is None or op.hints.read_only:
        return []
    out: list[tuple[str, int, str, str]] = []
    if effect.target is Target.USER:
        who = getattr(params, "as_user_id", None)
        for field in USER_FIELDS:
            value = getattr(params, field, None)
            if isinstance(who, int) and isinstance(value, str) and value and field in type(params).model_fields:
                out.append(("user", who, field, value))
        for change in getattr(params, "changes", None) or ():
            uid, nick = getattr(change, "user_id", None), getattr(change, "nick_name", None)
            if isinstance(uid, int) and isinstance(nick, str) and nick:
                out.append(("user", uid, "nick_name", nick))
    elif effect.target is Target.GROUP and "name" in effect.fields:
        gid, value = getattr(params, "group_id", None), getattr(params, "value", None)
        if isinstance(gid, int) and isinstance(value, str) and value:
            out.append(("group", gid, "name", value))
    return out


async def record(op: Operation, params: Params, ctx: CallContext) -> None:
    """Before a rename is sent: keep the name it replaces (read fresh) for RENAME_SECONDS.

    A chain of renames keeps the first name: "ceo" → "a" → "qa_test_7" is said as renamed from "ceo"."""
    state = ctx.state
    targets = renamed(op, params) if state is not None else []
    if state is None or not targets:
        return
    user_ids = [i for kind, i, _, _ in targets if kind == "user"]
    group_ids = [i for kind, i, _, _ in targets if kind == "group"]
    users = await names.users(ctx, user_ids, fresh=True) if user_ids else {}
    groups = await names.groups(ctx, group_ids, fresh=True) if group_ids else {}
    now = time.time()
    try:
        for kind, ident, field, new in targets:
            before = users.get(ident, {}).get(field) if kind == "user" else groups.get(ident)
            if before == new:
                continue
            key = _key(ctx, kind, ident)
            raw = await state.get(RENAMES, key)
            entry: dict[str, Any] = json.loads(raw) if raw else {}
            old = as_object(entry.get(field))
            if old is not None and old.get("after") == before:
                before = old.get("before")  # the chain goes on: keep the name it started from
            entry[field] = {"before": before, "after": new, "at": now}
            await state.put(RENAMES, key, json.dumps(entry), RENAME_SECONDS)
    except Exception as exc:  # the rename itself is never stopped by its record
        log.warning("a rename could not be recorded: %s", type(exc).__name__)


def _at(when: float) -> str:
    """The rename's own time, HH:MM:SS UTC: a question that names it reads the same each time it is rendered
    (in the 2026-07-28 era the answer comes in a new request, which renders the question again to check it)."""
    return time.strftime("%H:%M:%S", time.gmtime(when))


async def notices(
    ctx: CallContext,
    users: dict[int, dict[str, str]],
    groups: dict[int, str],
    shown_users: list[int],
    shown_groups: list[int],
) -> list[str]:
    """One sentence per name of a shown target that this server set in the last RENAME_SECONDS.

    `users`/`groups` are the names as read now: a record whose new name the target no longer bears
    (the rename failed, or someone renamed it since) says nothing; one whose target could not be read
    is said anyway."""
    state = ctx.state
    if state is None:
        return []
    i = 1 if ctx.lang == "zh" else 0
    out: list[str] = []
    wanted = [("user", u) for u in dict.fromkeys(shown_users)] + [("group", g) for g in dict.fromkeys(shown_groups)]
    for kind, ident in wanted:
        try:
            raw = await state.get(RENAMES, _key(ctx, kind, ident))
        except Exception:
            continue
        if not raw:
            continue
        for field, rec in json.loads(raw).items():
            if kind == "user":
                now_name = users.get(ident, {}).get(field) if ident in users else None
            else:
                now_name = groups.get(ident)
            if now_name is not None and now_name != rec.get("after"):
                continue
            before = rec.get("before")
            out.append(
                _T["renamed" if isinstance(before, str) else "set"][i].format(
                    what=_T[field][i].format(id=ident),
                    before=quote(before) if isinstance(before, str) else "",
                    after=quote(str(rec.get("after"))),
                    at=_at(float(rec.get("at", 0))),
                )
            )
    return out


async def remember_users(op: Operation, structured: dict[str, Any], ctx: CallContext) -> None:
    """After a delivery to everyone: keep how many users it reached (`send_num`), the app's last known count."""
    data = as_object(structured.get("data"))
    if ctx.state is None or op.audience is None or op.audience.everyone is not True or data is None:
        return
    count = data.get("send_num")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        try:
            key = _key(ctx, "app", 0)
            await ctx.state.put(USERS, key, json.dumps({"count": count, "at": time.time()}), USERS_SECONDS)
        except Exception as exc:
            log.warning("the app's user count could not be kept: %s", type(exc).__name__)


async def known_users(ctx: CallContext) -> int | None:
    """The app's user count as last reported by a broadcast, or None when not known."""
    if ctx.state is None:
        return None
    try:
        raw = await ctx.state.get(USERS, _key(ctx, "app", 0))
    except Exception:
        return None
    count = json.loads(raw).get("count") if raw else None
    return count if isinstance(count, int) else None
