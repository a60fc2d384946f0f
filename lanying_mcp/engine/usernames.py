"""Users by username: a `usernames` argument beside each user-ID list, looked up before validation.

Admins know their users by username; the API takes user IDs. Every tool argument that lists users
(invite, kick, mute, admins, friends, the send targets, ...) has a `usernames` twin, declared on its
params model (`spec.username_list`). Before a call's arguments are validated, `resolve` looks the
names up and merges their IDs into the ID list, and drops the names: the consent rule, the question
a human is asked, the grant, the audit log and the request all see the same user IDs. A call is
resolved once, for the gate and the call alike (`checks.resolve`; the answers are cached for a
minute), so a yes given to a question covers exactly the users it named.

A name that matches no user fails the whole call, listing every such name, and nothing is sent:
a message, an invitation or a ban meant for a mistyped name is never sent to the others alone.

Cost, in API requests for N names (measured on the sandbox, tests/test_usernames.py):
- up to 8 names: one `GET /roster/name` each, 8 at once: N requests;
- more: the user list is read a page of 200 users at a time (`GET /user/list`) while that is
  cheaper than looking up the names still missing, then each name still missing is looked up on its
  own. An app of U users costs at most ceil((U + 1) / 200) pages; 1,200 names in an app of 1,208
  users take 7 requests, against 1,200. The worst case is about twice the per-name cost.
Every request counts against the call's look-up cap (LANYING_MAX_LOOKUPS); a call that would need
more is refused before anything is sent. Names found are cached 60 s per app (usernames cannot be
changed, so a cached name keeps naming its user).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import anyio

from ..core import error_text, errors, facts
from ..core.json_values import as_object, objects
from ..core.spec import ByName, Operation, by_name
from . import names, roles

if TYPE_CHECKING:
    from .call import CallContext

PAGE = facts.USER_LIST_PAGE_SIZE_MAX  # users per page of the user list
CONCURRENCY = 8  # single look-ups in flight at once; up to this many names are always looked up one by one
TTL = 60.0
MAX_NAME = 256  # characters: longer is no username
SHOWN = 50  # unknown names listed in an error; the rest are counted
NOT_FOUND = 10000  # the API's "user does not exist"


def _shown(items: list[str]) -> str:
    return ", ".join(json.dumps(error_text.excerpt(n, 40), ensure_ascii=False) for n in items[:SHOWN])


def _checked(field: str, value: Any) -> list[str]:
    """The names as given, or an ArgumentError that says what is wrong with them."""
    if not isinstance(value, list):
        raise errors.ArgumentError(
            f"{field}: must be an array of usernames (strings)", zh=f"{field}:应为用户名(字符串)数组"
        )
    items = cast(list[Any], value)
    bad = [i for i, n in enumerate(items) if not isinstance(n, str) or not n or len(n) > MAX_NAME]
    if bad:
        where = ", ".join(str(i) for i in bad[:10])
        raise errors.ArgumentError(
            f"{field}: item(s) {where} are not usernames (non-empty strings of at most {MAX_NAME} characters)",
            zh=f"{field}:第{where}项不是用户名(应为不超过{MAX_NAME}个字符的非空字符串)",
        )
    return cast(list[str], items)


async def resolve(op: Operation, arguments: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """The arguments with every `usernames` list replaced by its users' IDs, merged into the ID list.

    Unchanged when the operation takes no usernames or none are given. IDs already given keep their
    order; the names' IDs follow, each once. Raises ArgumentError, listing the names, when any name
    matches no user: nothing is sent for a call that names someone who does not exist.
    """
    marks = by_name(op.params)
    if not marks or not any(name in arguments for name, _ in marks):
        return arguments
    out = dict(arguments)
    lists: list[tuple[ByName, list[str]]] = []
    for name, mark in marks:
        if name in out and (value := out.pop(name)) is not None:
            lists.append((mark, _checked(name, value)))
    wanted = list(dict.fromkeys(n for _, group in lists for n in group))
    if not wanted:
        return out
    found = await lookup(ctx, wanted)
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise _unknown(unknown, len(wanted))
    for mark, group in lists:
        given = out.get(mark.ids)
        if given is None:
            given = []
        if not isinstance(given, list):
            continue  # not a list of IDs: validation reports it
        ids = cast(list[Any], given)
        seen = {i for i in ids if isinstance(i, int)}
        extra = [found[n] for n in dict.fromkeys(group) if found[n] not in seen]
        out[mark.ids] = [*ids, *dict.fromkeys(extra)]
    return out


def _unknown(unknown: list[str], total: int) -> errors.ArgumentError:
    more = len(unknown) - SHOWN
    tail_en = f" and {more} more" if more > 0 else ""
    tail_zh = f"等,另有{more}个" if more > 0 else ""
    return errors.ArgumentError(
        f"no user has the username {_shown(unknown)}{tail_en} ({len(unknown)} of {total} usernames unknown); "
        "nothing was sent. Usernames match exactly (case included): correct or drop these and call again",
        zh=f"以下用户名不存在:{_shown(unknown)}{tail_zh}({total}个用户名中{len(unknown)}个未知);未发送任何请求。"
        "用户名须完全一致(区分大小写):请改正或去掉后重新调用",
        details={"unknown_usernames": unknown[:SHOWN], "unknown": len(unknown)},
    )


async def lookup(ctx: CallContext, wanted: list[str]) -> dict[str, int]:
    """{username: user_id} for the names that exist (cached ones make no request)."""
    tenant = names.tenant(ctx)
    found: dict[str, int] = {}
    todo: list[str] = []
    for name in wanted:
        hit = ctx.cache.get(("n", tenant, name))
        if isinstance(hit, int):
            found[name] = hit
        else:
            todo.append(name)
    if todo:
        fetched = await _fetch(ctx, todo)
        for name, uid in fetched.items():
            ctx.cache.put(("n", tenant, name), uid, TTL)
        found.update(fetched)
    return found


async def _fetch(ctx: CallContext, todo: list[str]) -> dict[str, int]:
    left = dict.fromkeys(todo)
    got: dict[str, int] = {}
    pages = 0
    if len(left) > CONCURRENCY:
        # A page finds up to 200 names for one request: read on while the pages read so far cost
        # less than looking up each name still missing would.
        listing = ctx.operations[roles.USER_PAGES]
        while left and pages < len(left) and ctx.lookups_left() > 0:
            pages += 1
            rows = objects((await ctx.call(listing, {"page_num": pages, "page_size": PAGE})).data)
            for row in rows:
                name, uid = row.get("username"), row.get("user_id")
                if isinstance(name, str) and name in left and isinstance(uid, int):
                    got[name] = uid
                    del left[name]
            if len(rows) < PAGE:
                return got  # every user was read: the names still missing name no one
    if left:
        await _one_by_one(ctx, list(left), got, pages)
    return got


async def _one_by_one(ctx: CallContext, todo: list[str], got: dict[str, int], pages: int) -> None:
    room = ctx.lookups_left()
    if len(todo) > room:
        cap = ctx.client.settings.max_lookups
        read = f" after {pages} page(s) of the user list" if pages else ""
        read_zh = f"(已读取{pages}页用户列表)" if pages else ""
        raise errors.ArgumentError(
            f"finding {len(todo)} more usernames{read} needs {len(todo)} look-ups (one per name), more than the "
            f"{room} this call may still make (LANYING_MAX_LOOKUPS={cap}); nothing was sent. Give user_ids for "
            "some of them, or fewer usernames per call",
            zh=f"还需查找{len(todo)}个用户名{read_zh},每个一次查询,超过本次调用剩余的{room}次"
            f"(LANYING_MAX_LOOKUPS={cap});未发送任何请求。请对部分用户改用user_ids,或每次少给一些用户名",
        )
    op = ctx.operations[roles.USER_BY_NAME]
    limiter = anyio.CapacityLimiter(CONCURRENCY)
    failed: list[errors.LanyingError] = []

    async def one(name: str) -> None:
        async with limiter:
            if failed:
                return
            try:
                env = await ctx.call(op, {"username": name})
            except errors.ApiError as exc:
                if exc.code != NOT_FOUND:
                    failed.append(exc)
                return
            except errors.LanyingError as exc:
                failed.append(exc)
                return
        data = as_object(env.data) or {}
        uid = data.get("user_id")
        if isinstance(uid, int) and data.get("username", name) == name:
            got[name] = uid

    async with anyio.create_task_group() as tg:
        for name in todo:
            tg.start_soon(one, name)
    if failed:
        first = failed[0]
        raise first.with_prefix(
            "looking up usernames failed, so nothing was sent: ", "查找用户名失败,未发送任何请求:"
        ) from first
