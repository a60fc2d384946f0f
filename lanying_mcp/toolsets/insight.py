"""Insight: find users and groups by what an admin calls them, without guessing.

The API finds a user only by exact username, mobile or ID, and a group only by ID. Admins say
"Alice" or "the Ops group". `find_by_name` combines the exact lookups with a bounded scan (users
by nickname, a user's groups by name) and answers "one", "several" or "none", listing candidates
with their IDs, so the model asks instead of picking. Every read goes through `ctx.call`, so it
keeps the same retry and error rules as the tools it reuses. The diagnostics live in diagnose.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

import anyio

from ..client import Envelope
from ..errors import ArgumentError, LanyingError
from ..spec import READ, ApiModel, IdPaths, Operation, Params, Toolset, f

if TYPE_CHECKING:
    from ..dispatch import CallContext

TOOLSET = Toolset(
    "insight",
    (
        "Find users and groups by name; diagnose push, messaging and joining problems.",
        "按名称查找用户和群;诊断推送、发消息和入群问题。",
    ),
)

PAGE = 100  # users per list_users page while scanning
LOOKUPS = 8  # profile lookups in flight at once
MAX_SHOWN = 20  # candidates listed in one result
_MOBILE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")


def pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


class FindByName(Params):
    text: str = f(
        "Users: username, nickname or mobile. Groups: group name.",
        "用户:用户名、昵称或手机号。群:群名称。",
        min_length=1,
        max_length=128,
    )
    kind: Literal["user", "group"] = f("What to find.", "查找用户(user)或群(group)。", "user")
    member_id: int | None = f(
        "For groups: search this user's groups (required).", "查群时必填:在此用户所在的群中查找。", None
    )
    max_scan: int = f(
        "Users scanned for nicknames, one lookup each; 0: exact username/mobile only.",
        "按昵称扫描的用户数(每人一次查询);0则只精确匹配用户名/手机号。",
        100,
        ge=0,
        le=1000,
    )


class Found(ApiModel):
    user_id: int | None = None
    username: str | None = None
    nick_name: str | None = None
    group_id: int | None = None
    name: str | None = None
    matched: str = f("What matched; ~ = partly.", "匹配项;~表示部分匹配。")


class FindResult(ApiModel):
    outcome: Literal["one", "several", "partial", "none"] = f(
        "one exact match; several or partial: ask which.", "one唯一精确匹配;several/partial需确认。"
    )
    summary: str
    matches: list[Found] = f("Candidates (at most 20).", "候选项(最多20个)。")
    scanned: int | None = f("Users or groups examined.", "检查过的数量。", None)
    complete: bool = f("false: stopped at max_scan.", "false:在max_scan处停止。")


async def attempt(ctx: CallContext, tool: str, args: dict[str, Any]) -> Envelope | LanyingError:
    """One read whose failure is a fact to report, not the end of the tool call."""
    try:
        return await ctx.call(tool, args)
    except LanyingError as exc:
        return exc


def _user(data: Any, matched: str) -> Found:
    d = data if isinstance(data, dict) else {}
    return Found(user_id=d.get("user_id"), username=d.get("username"), nick_name=d.get("nick_name"), matched=matched)


async def _scan_users(ctx: CallContext, text: str, limit: int) -> tuple[list[Found], list[Found], int, bool]:
    """Nickname (and partial username) matches among the first `limit` users of list_users."""
    needle = text.casefold()
    exact: list[Found] = []
    partial: list[Found] = []
    scanned, page, complete = 0, 1, True
    limiter = anyio.CapacityLimiter(LOOKUPS)

    async def look(row: dict[str, Any]) -> None:
        async with limiter:
            got = await attempt(ctx, "find_user_by_id", {"user_id": row["user_id"]})
        prof = got.data if isinstance(got, Envelope) and isinstance(got.data, dict) else row
        nick = str(prof.get("nick_name") or "")
        if nick and nick.casefold() == needle:
            exact.append(_user(prof, "nickname"))
        elif nick and needle in nick.casefold():
            partial.append(_user(prof, "~nickname"))
        elif needle in str(row.get("username") or "").casefold():
            partial.append(_user(prof, "~username"))

    while scanned < limit:
        size = min(PAGE, limit - scanned, ctx.lookups_left() - 1)  # a page read, then one look-up per row
        if size < 1:
            ctx.capped = True  # the call's look-up cap ends the scan here
            complete = False
            break
        env = await ctx.call("list_users", {"page_num": page, "page_size": size})
        rows = [r for r in (env.data or []) if isinstance(r, dict) and r.get("user_id") is not None]
        async with anyio.create_task_group() as tg:
            for row in rows:
                tg.start_soon(look, row)
        scanned += len(rows)
        if len(rows) < size:
            break
        page += 1
    else:
        complete = False
    return exact, partial, scanned, complete


async def _find_users(ctx: CallContext, p: FindByName) -> tuple[list[Found], list[Found], int | None, bool]:
    exact: list[Found] = []
    got = await attempt(ctx, "find_user_by_name", {"username": p.text})
    if isinstance(got, Envelope) and got.data:
        exact.append(_user(got.data, "username"))
    if _MOBILE.match(p.text):
        got = await attempt(ctx, "find_user_by_mobile", {"mobile": p.text})
        if isinstance(got, Envelope) and got.data:
            exact.append(_user(got.data, "mobile"))
    if p.max_scan == 0:
        return exact, [], None, True
    more, partial, scanned, complete = await _scan_users(ctx, p.text, p.max_scan)
    return exact + more, partial, scanned, complete


async def _find_groups(ctx: CallContext, p: FindByName) -> tuple[list[Found], list[Found], int | None, bool]:
    if p.member_id is None:
        raise ArgumentError("kind=group needs member_id: the user whose groups are searched")
    ids = (await ctx.call("list_user_groups", {"as_user_id": p.member_id})).data or []
    needle = p.text.casefold()
    exact: list[Found] = []
    partial: list[Found] = []
    for start in range(0, len(ids), PAGE):
        briefs = (await ctx.call("get_groups_info", {"group_ids": ids[start : start + PAGE]})).data or []
        for g in briefs:
            name = str(g.get("name") or "") if isinstance(g, dict) else ""
            if name.casefold() == needle:
                exact.append(Found(group_id=g.get("group_id"), name=name, matched="name"))
            elif needle in name.casefold():
                partial.append(Found(group_id=g.get("group_id"), name=name, matched="~name"))
    return exact, partial, len(ids), True


def _dedupe(items: list[Found]) -> list[Found]:
    seen: set[tuple[int | None, int | None]] = set()
    out = []
    for item in items:
        key = (item.user_id, item.group_id)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


async def find_by_name(ctx: CallContext, p: FindByName) -> FindResult:
    run = _find_users if p.kind == "user" else _find_groups
    exact, partial, scanned, complete = await run(ctx, p)
    exact = _dedupe(exact)
    partial = [m for m in _dedupe(partial) if (m.user_id, m.group_id) not in {(e.user_id, e.group_id) for e in exact}]
    one, what = ("user", "users") if p.kind == "user" else ("group", "groups")
    what_zh = "用户" if p.kind == "user" else "群"
    if len(exact) == 1:
        outcome, summary = "one", pick(ctx.lang, f"one {one} matches exactly", f"唯一精确匹配的{what_zh}")
        shown = exact
    elif exact:
        outcome = "several"
        summary = pick(
            ctx.lang, f"{len(exact)} {what} match; ask which one", f"{len(exact)}个{what_zh}匹配,请确认是哪一个"
        )
        shown = exact
    elif partial:
        outcome = "partial"
        summary = pick(
            ctx.lang,
            f"no exact match; {len(partial)} {what} match partly: confirm before use",
            f"无精确匹配;{len(partial)}个{what_zh}部分匹配,使用前请确认",
        )
        shown = partial
    else:
        outcome, summary, shown = "none", pick(ctx.lang, f"no {what} match", f"没有匹配的{what_zh}"), []
    if not complete and ctx.capped:
        cap = ctx.client.settings.max_lookups
        summary += pick(
            ctx.lang,
            f" (scanned the first {scanned} users only: a call makes at most {cap} look-ups; "
            "search by exact username or mobile to find others)",
            f"(仅扫描了前{scanned}个用户:每次调用最多{cap}次查询;请用确切的用户名或手机号查找其他用户)",
        )
    elif not complete:
        summary += pick(
            ctx.lang,
            f" (scanned the first {scanned} users only; raise max_scan to look further)",
            f"(仅扫描了前{scanned}个用户;增大max_scan可继续查找)",
        )
    return FindResult(outcome=outcome, summary=summary, matches=shown[:MAX_SHOWN], scanned=scanned, complete=complete)


OPERATIONS: list[Operation] = [
    Operation(
        name="find_by_name",
        ids=IdPaths(
            plain=("data.matches[].user_id", "data.matches[].group_id"),  # each match already carries its names
            text=("data.matches[].username", "data.matches[].nick_name", "data.matches[].name"),
        ),
        http="GET /roster/name",
        calls=(
            "GET /roster/name",
            "GET /roster/mobile",
            "GET /user/list",
            "GET /roster/id",
            "GET /group/user_joined",
            "POST /group/info/batch",
        ),
        params=FindByName,
        result=FindResult,
        handler=find_by_name,
        title=("Find user or group by name", "按名称查找用户或群"),
        description=(
            "Resolve a username, nickname or mobile to users, or a group name among member_id's groups. "
            "Lists every candidate with IDs; never guesses.",
            "将用户名、昵称或手机号解析为用户,或在member_id所在群中按名称找群。列出全部候选及ID,从不猜测。",
        ),
        hints=READ,
        default=True,
    ),
]
