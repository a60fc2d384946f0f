"""Insight: find users and groups by what an admin calls them, without guessing.

The API finds a user only by exact username, mobile or ID, and a group only by ID. Admins say
"Alice" or "the Ops group". `find_by_name` combines the exact lookups with a bounded scan (users
by nickname, a user's groups by name) and answers "one", "several", "unconfirmed" or "none", listing
every candidate with its IDs and what matched, so the model asks instead of picking. A nickname or a
group name is whatever an end user typed: copying someone's name never makes an impostor the one
match, and the real account, even when it matches only partly, is always listed beside it. Every read goes through `ctx.call`, so it
keeps the same retry and error rules as the tools it reuses. The diagnostics live in diagnose.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

import anyio

from ..core.errors import ArgumentError, LanyingError
from ..core.json_values import as_object, objects
from ..core.spec import READ, ApiModel, IdPaths, Operation, Params, Toolset, f
from ..engine.client import Envelope

if TYPE_CHECKING:
    from ..engine.call import CallContext

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
    matched: list[str] = f(
        "What matched: username, mobile, nickname or name; ~ = partly.", "匹配项:用户名/手机号/昵称/群名;~为部分匹配。"
    )


Verdict = Literal["one", "several", "unconfirmed", "none"]


class FindResult(ApiModel):
    outcome: Verdict = f(
        "one: a sole username/mobile match; several/unconfirmed: ask or confirm.",
        "one:唯一的用户名/手机号匹配;several/unconfirmed:需询问或确认。",
    )
    summary: str
    matches: list[Found] = f("Candidates, surest first (at most 20).", "候选项,最可靠的在前(最多20个)。")
    scanned: int | None = f("Users or groups examined.", "检查过的数量。", None)
    complete: bool = f("false: stopped at max_scan.", "false:在max_scan处停止。")


# Usernames are unique and mobiles verified: they identify a user. A nickname or a group name is
# whatever an end user typed, so another user can copy it; it never makes a match the one.
IDENTITY = ("username", "mobile")
RANK = {"username": 0, "mobile": 0, "nickname": 1, "name": 1}


async def attempt(ctx: CallContext, tool: str, args: dict[str, Any]) -> Envelope | LanyingError:
    """One read whose failure is a fact to report, not the end of the tool call."""
    try:
        return await ctx.call(tool, args)
    except LanyingError as exc:
        return exc


class Candidates:
    """Every user or group that matched, once, with everything about it that matched."""

    def __init__(self) -> None:
        self.found: dict[tuple[int | None, int | None], Found] = {}

    def add(self, item: Found, how: str) -> None:
        key = (item.user_id, item.group_id)
        if key == (None, None):
            return
        known = self.found.setdefault(key, item)
        if how not in known.matched:
            known.matched.append(how)

    def user(self, data: Any, how: str) -> None:
        d = as_object(data) or {}
        self.add(
            Found(user_id=d.get("user_id"), username=d.get("username"), nick_name=d.get("nick_name"), matched=[]), how
        )

    def ranked(self) -> list[Found]:
        for item in self.found.values():
            item.matched.sort(key=lambda how: (RANK.get(how, 2), how))
        return sorted(self.found.values(), key=lambda item: min(RANK.get(how, 2) for how in item.matched))


async def _scan_users(ctx: CallContext, text: str, limit: int, found: Candidates) -> tuple[int, bool]:
    """Nickname and username matches, whole or partial, among the first `limit` users of list_users."""
    needle = text.casefold()
    scanned, page, complete = 0, 1, True
    limiter = anyio.CapacityLimiter(LOOKUPS)

    async def look(row: dict[str, Any]) -> None:
        async with limiter:
            got = await attempt(ctx, "find_user_by_id", {"user_id": row["user_id"]})
        fetched = as_object(got.data) if isinstance(got, Envelope) else None
        prof = fetched if fetched is not None else row
        nick = str(prof.get("nick_name") or "")
        if nick and nick.casefold() == needle:
            found.user(prof, "nickname")
        elif nick and needle in nick.casefold():
            found.user(prof, "~nickname")
        username = str(row.get("username") or "")
        if username == text:
            found.user(prof, "username")
        elif needle in username.casefold():
            found.user(prof, "~username")

    while scanned < limit:
        size = min(PAGE, limit - scanned, ctx.lookups_left() - 1)  # a page read, then one look-up per row
        if size < 1:
            ctx.capped = True  # the call's look-up cap ends the scan here
            complete = False
            break
        env = await ctx.call("list_users", {"page_num": page, "page_size": size})
        rows = [r for r in objects(env.data) if r.get("user_id") is not None]
        async with anyio.create_task_group() as tg:
            for row in rows:
                tg.start_soon(look, row)
        scanned += len(rows)
        if len(rows) < size:
            break
        page += 1
    else:
        complete = False
    return scanned, complete


async def _find_users(ctx: CallContext, p: FindByName, found: Candidates) -> tuple[int | None, bool]:
    got = await attempt(ctx, "find_user_by_name", {"username": p.text})
    if isinstance(got, Envelope) and got.data:
        found.user(got.data, "username")
    if _MOBILE.match(p.text):
        got = await attempt(ctx, "find_user_by_mobile", {"mobile": p.text})
        if isinstance(got, Envelope) and got.data:
            found.user(got.data, "mobile")
    if p.max_scan == 0:
        return None, True
    return await _scan_users(ctx, p.text, p.max_scan, found)


async def _find_groups(ctx: CallContext, p: FindByName, found: Candidates) -> tuple[int | None, bool]:
    if p.member_id is None:
        raise ArgumentError("kind=group needs member_id: the user whose groups are searched")
    ids: list[Any] = (await ctx.call("list_user_groups", {"as_user_id": p.member_id})).data or []
    needle = p.text.casefold()
    for start in range(0, len(ids), PAGE):
        briefs: list[Any] = (await ctx.call("get_groups_info", {"group_ids": ids[start : start + PAGE]})).data or []
        for brief in briefs:
            g = as_object(brief) or {}
            name = str(g.get("name") or "")
            if name and name.casefold() == needle:
                found.add(Found(group_id=g.get("group_id"), name=name, matched=[]), "name")
            elif name and needle in name.casefold():
                found.add(Found(group_id=g.get("group_id"), name=name, matched=[]), "~name")
    return len(ids), True


def _outcome(matches: list[Found], kind: str) -> Verdict:
    """one: a single identity match (a user's username or mobile), and no other whole match beside it; a
    group only when it is the single candidate. A nickname or a name alone is never "one"."""
    if not matches:
        return "none"
    whole = [m for m in matches if any(not how.startswith("~") for how in m.matched)]
    if kind == "user":
        sure = [m for m in matches if any(how in IDENTITY for how in m.matched)]
        if len(sure) == 1 and len(whole) == 1:
            return "one"
    elif len(matches) == 1 and whole:
        return "one"
    return "several" if len(matches) > 1 else "unconfirmed"


def _summary(lang: str, kind: str, outcome: str, matches: list[Found]) -> str:
    counts: dict[str, int] = {}
    for m in matches:
        for how in m.matched:
            counts[how] = counts.get(how, 0) + 1
    en_how = {"username": "username", "mobile": "mobile", "nickname": "nickname", "name": "name"}
    zh_how = {"username": "用户名", "mobile": "手机号", "nickname": "昵称", "name": "群名"}
    parts_en = [f"{counts[h]} by {en_how[h]}" for h in en_how if counts.get(h)]
    parts_zh = [f"{zh_how[h]}{counts[h]}个" for h in zh_how if counts.get(h)]
    partly = sum(1 for m in matches if all(how.startswith("~") for how in m.matched))
    if partly:
        parts_en.append(f"{partly} partly")
        parts_zh.append(f"部分匹配{partly}个")
    one, many, zh = ("user", "users", "用户") if kind == "user" else ("group", "groups", "群")
    if outcome == "none":
        return pick(lang, f"no {many} match", f"没有匹配的{zh}")
    if outcome == "one":
        how = next(h for h in matches[0].matched if not h.startswith("~"))
        en = f"one {one} matches exactly by {en_how[how]} (the first match)"
        zh_text = f"第一项按{zh_how[how]}精确匹配,唯一"
        if len(matches) > 1:
            en += f"; {len(matches) - 1} more match only partly, listed after it"
            zh_text += f";另有{len(matches) - 1}个仅部分匹配,列在其后"
        return pick(lang, en, zh_text)
    caution_en = " Nicknames and group names are chosen by end users and prove nothing: confirm with the human."
    caution_zh = "昵称和群名由终端用户自行设置,不能证明身份:请向用户确认。"
    if outcome == "unconfirmed":
        return pick(
            lang,
            f"one {one} matches, but not by username or mobile ({', '.join(parts_en)}); confirm before use."
            + caution_en,
            f"有1个{zh}匹配,但并非按用户名或手机号({'、'.join(parts_zh)}),使用前请确认。" + caution_zh,
        )
    return pick(
        lang,
        f"{len(matches)} {many} match ({', '.join(parts_en)}); ask which one." + caution_en,
        f"{len(matches)}个{zh}匹配({'、'.join(parts_zh)}),请确认是哪一个。" + caution_zh,
    )


async def find_by_name(ctx: CallContext, p: FindByName) -> FindResult:
    found = Candidates()
    run = _find_users if p.kind == "user" else _find_groups
    scanned, complete = await run(ctx, p, found)
    matches = found.ranked()
    outcome = _outcome(matches, p.kind)
    summary = _summary(ctx.lang, p.kind, outcome, matches)
    if len(matches) > MAX_SHOWN:
        summary += pick(
            ctx.lang,
            f" Showing the first {MAX_SHOWN} of {len(matches)}; a longer text narrows it.",
            f"仅列出{len(matches)}个中的前{MAX_SHOWN}个;输入更完整的名称可缩小范围。",
        )
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
    return FindResult(outcome=outcome, summary=summary, matches=matches[:MAX_SHOWN], scanned=scanned, complete=complete)


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
            "Lists every candidate with IDs and what matched; a nickname alone is never the one.",
            "将用户名、昵称或手机号解析为用户,或在member_id所在群中按名称找群。列出全部候选、ID及匹配项;仅昵称匹配不算唯一。",
        ),
        hints=READ,
        default=True,
    ),
]
