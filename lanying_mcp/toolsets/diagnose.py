"""Diagnostics: why a user gets no push, cannot message someone, or cannot join a group.

Each tool reads the state that decides the answer through the tools that expose it and returns a
verdict, the facts (each with the tool that reads it, so the model can check or dig deeper) and the
next step. They only read. What the API offers no read for (a device's vendor token, the badge,
aliases, how often a user was kicked) is reported as unreadable, never guessed.

The verdict is made of the facts alone: each fact that stops the action contributes its own
sentence, worded from the value it shows, and facts that could not be read are named as such.
Users and groups appear in it by ID; their names are in the result's `users` and `groups` maps,
where end-user text is cleaned and marked, so a username or group name never speaks inside our
sentences. Push tags, set by end users' apps, are cleaned and marked where they appear.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from pydantic import model_validator
from pydantic.json_schema import SkipJsonSchema

from ..core.json_values import as_array, as_object, objects
from ..core.spec import READ, ApiModel, IdPaths, Named, Operation, Params, f
from ..engine.client import Envelope
from ..safety.untrusted import clean
from .insight import TOOLSET, attempt, pick

if TYPE_CHECKING:
    from ..engine.call import CallContext

__all__ = ["OPERATIONS", "TOOLSET"]

SCAN = 1000  # rows read at most from a paged list (group blacklist, app users) per fact
AUTH: dict[Any, str] = {0: "anyone may add", 1: "needs approval", 2: "must answer a question", 3: "refuses all"}
AUTH_ZH: dict[Any, str] = {0: "任何人可加", 1: "需同意", 2: "需答题", 3: "拒绝所有"}
Words = tuple[str, str]


class Fact(ApiModel):
    fact: str
    value: Any = f("As read; `fact` says what it means.", "读到的值,含义见fact。", None)
    blocks: bool | None = f(
        "true: stops it; false: fine; absent: context only.", "true阻止;false正常;缺省仅供参考。", None
    )
    tool: str | None = f("Tool that reads it; absent: the API has no read.", "读取它的工具;缺省表示API无法读取。", None)


class Diagnosis(ApiModel):
    ok: bool = f("true: nothing found that stops it.", "true表示未发现阻止因素。")
    verdict: str
    # The users and groups the verdict names by ID, so their names come beside it (the users/groups maps).
    # Left out of the schema: the listing stays within its budget, and the maps are explained server-wide.
    user_ids: SkipJsonSchema[list[int]] = []
    group_ids: SkipJsonSchema[list[int]] = []
    facts: list[Fact]
    next_step: str


def user(lang: str, uid: int) -> str:
    return pick(lang, f"user {uid}", f"用户{uid}")


def group(lang: str, gid: int) -> str:
    return pick(lang, f"group {gid}", f"群{gid}")


class Probe:
    """Collects facts in the server's language; the blocking ones, each in its own words, make the verdict."""

    def __init__(self, ctx: CallContext) -> None:
        self.ctx = ctx
        self.facts: list[Fact] = []
        self.blockers: list[str] = []
        self.unread: list[str] = []
        self.steps: list[str] = []
        self.hints: list[str] = []

    def t(self, en: str, zh: str) -> str:
        return pick(self.ctx.lang, en, zh)

    async def read(self, tool: str, args: dict[str, Any], about: Words) -> Any:
        """The data, or None after recording the failure as an unreadable fact."""
        got = await attempt(self.ctx, tool, args)
        if isinstance(got, Envelope):
            return got.data
        self.add(about, self.t(f"unreadable: error {got.code}", f"无法读取:错误{got.code}"), tool)
        self.unread.append(self.t(*about))
        return None

    def add(
        self,
        about: Words,
        value: Any,
        tool: str | None,
        blocks: bool | None = None,
        step: Words | None = None,
        says: Words | None = None,
    ) -> None:
        """One fact; when it blocks, `says` is the verdict's sentence for it, worded from `value`."""
        self.facts.append(Fact(fact=self.t(*about), value=value, blocks=blocks, tool=tool))
        if blocks:
            assert says is not None, f"a blocking fact needs its own sentence: {about[0]}"
            self.blockers.append(self.t(*says))
        if step:
            (self.steps if blocks else self.hints).append(self.t(*step))

    def result(
        self, fail: Words, fine: Words, fine_step: str, user_ids: list[int], group_ids: list[int] | None = None
    ) -> Diagnosis:
        ids = {"user_ids": list(dict.fromkeys(user_ids)), "group_ids": group_ids or []}
        if self.blockers:
            verdict = f"{self.t(*fail)}: {'; '.join(self.blockers)}"
            return Diagnosis(ok=False, verdict=verdict, facts=self.facts, next_step=" ".join(self.steps), **ids)
        verdict = self.t(*fine)
        if self.unread:
            verdict += self.t("; could not read: ", ";无法读取:") + self.t(", ", "、").join(self.unread)
        return Diagnosis(ok=True, verdict=verdict, facts=self.facts, next_step=" ".join(self.hints) or fine_step, **ids)


def _in_list(rows: Any, key: str, wanted: int) -> bool:
    return any(r.get(key) == wanted for r in objects(rows))


async def _scan(ctx: CallContext, tool: str, args: dict[str, Any], key: str, wanted: int) -> tuple[bool, int] | None:
    """Whether `wanted` appears (as `key`) in a cursor-paged list, and how many rows were read; None if unreadable."""
    cursor, seen = None, 0
    while seen < SCAN:
        got = await attempt(ctx, tool, {**args, "cursor": cursor} if cursor else args)
        if not isinstance(got, Envelope):
            return None
        rows: list[Any] = got.data or []
        if _in_list(rows, key, wanted):
            return True, seen + len(rows)
        seen += len(rows)
        cursor = got.extras.get("cursor")
        if not cursor or not rows:
            return False, seen
    return False, seen


async def _user_status(p: Probe, user_id: int) -> None:
    """App-wide ban (status 1), read from list_users: the only operation that reports it."""
    about = ("disabled app-wide", "全应用封禁")
    for page in range(1, SCAN // 200 + 1):
        got = await attempt(p.ctx, "list_users", {"page_num": page, "page_size": 200})
        if not isinstance(got, Envelope):
            p.add(about, p.t(f"unreadable: error {got.code}", f"无法读取:错误{got.code}"), "list_users")
            p.unread.append(p.t(*about))
            return
        rows: list[Any] = got.data or []
        for row in objects(rows):
            if row.get("user_id") == user_id:
                banned = row.get("status") == 1
                p.add(
                    about,
                    banned,
                    "list_users",
                    banned,
                    ("Lift the ban with enable_users.", "用enable_users解除封禁。"),
                    (f"user {user_id} is disabled app-wide", f"用户{user_id}已被全应用封禁"),
                )
                return
        if len(rows) < 200:
            break
    p.add(about, p.t(f"unknown: not in the first {SCAN} users", f"未知:不在前{SCAN}个用户中"), "list_users")
    p.unread.append(p.t(*about))


# --- push -------------------------------------------------------------------------------------
class CheckPush(Params):
    user_id: int = f("The user who should get pushes.", "应收到推送的用户ID。")


async def check_push_delivery(ctx: CallContext, args: CheckPush) -> Diagnosis:
    p, uid = Probe(ctx), args.user_id
    await ctx.call("find_user_by_id", {"user_id": uid})  # an unknown user is an error, not a verdict
    s = as_object(await p.read("get_user_settings", {"as_user_id": uid}, ("settings", "用户设置")))
    quiet_span: tuple[int, int] | None = None
    if s is not None:
        off = bool(s.get("no_push"))
        p.add(
            ("push turned off (no_push)", "推送已关闭(no_push)"),
            off,
            "get_user_settings",
            off,
            (
                "Turn it on: set_user_push_disabled with disabled=false.",
                "开启:set_user_push_disabled设disabled=false。",
            ),
            ("push is turned off (no_push is true)", "推送已关闭(no_push为true)"),
        )
        start, end = s.get("no_push_start_hour") or 0, s.get("no_push_end_hour") or 0
        quiet = start != end
        quiet_span = (start, end) if quiet else None
        p.add(
            ("quiet hours (no_push_start/end_hour; equal = off)", "免打扰时段(开始/结束小时相同为关闭)"),
            f"{start}-{end}" + ("" if quiet else p.t(" (off)", "(关闭)")),
            "get_user_settings",
            False if not quiet else None,
            (
                f"No pushes {start}:00-{end}:00 daily; clear with set_user_quiet_hours 0/0.",
                f"每天{start}点至{end}点不推送;用set_user_quiet_hours设0/0取消。",
            )
            if quiet
            else None,
        )
        p.add(
            ("push hides message text (no_push_detail)", "推送隐藏内容(no_push_detail)"),
            bool(s.get("no_push_detail")),
            "get_user_settings",
        )
        silent = (s.get("silence_start_time") or 0, s.get("silence_end_time") or 0)
        p.add(
            ("silent hours, no sound (silence_start/end_time)", "不提醒时段(silence_start/end_time)"),
            f"{silent[0]}-{silent[1]}",
            "get_user_settings",
        )
    devices = await p.read("list_user_devices", {"as_user_id": uid}, ("devices", "设备"))
    if devices is not None:
        platforms = [d.get("platform") for d in objects(devices)]
        p.add(
            ("devices logged in (platforms)", "登录过的设备(平台)"),
            platforms,
            "list_user_devices",
            not platforms,
            (
                "The user must log in on a device first (get_user_token with device_guid).",
                "用户须先在设备上登录(get_user_token带device_guid)。",
            ),
            ("no device has logged in", "没有登录过的设备"),
        )
    tags = await p.read("list_push_tags", {"as_user_id": uid}, ("push tags", "推送标签"))
    if isinstance(tags, list):  # set by end users' apps: cleaned here, and marked (ids.text)
        tags = [clean(t) if isinstance(t, str) else t for t in cast(list[Any], tags)]
    if tags is not None:
        p.add(
            ("push tags (send_push by tag reaches only these)", "推送标签(按标签推送只达这些)"), tags, "list_push_tags"
        )
    p.add(
        ("vendor push tokens, alias, badge", "厂商推送token、别名、角标"),
        p.t("not readable by the API", "API无法读取"),
        None,
    )
    who = (f"user {uid}", f"用户{uid}")
    fine = (f"{who[0]} can get push notifications", f"{who[1]}可以收到推送")
    if quiet_span:
        a, b = quiet_span
        fine = (f"{fine[0]}, except in quiet hours {a}:00-{b}:00", f"{fine[1]}(免打扰时段{a}点至{b}点除外)")
    return p.result(
        (f"{who[0]} gets no push notifications", f"{who[1]}收不到推送"),
        fine,
        p.t("Send a test with send_push user_ids=[user_id].", "可用send_push按user_ids发一条测试推送。"),
        [uid],
    )


# --- messaging --------------------------------------------------------------------------------
class CheckMessaging(Params):
    from_user_id: int = f("The sender.", "发送者用户ID。")
    to_user_id: int | None = f("The recipient user; or give to_group_id.", "接收用户ID;或填to_group_id。", None)
    to_group_id: int | None = f("The recipient group.", "接收群ID。", None)

    @model_validator(mode="after")
    def _one_target(self) -> CheckMessaging:
        if (self.to_user_id is None) == (self.to_group_id is None):
            raise ValueError("give exactly one of to_user_id or to_group_id")
        return self


async def _to_user(p: Probe, a: int, b: int) -> None:
    peer: dict[str, Any] = (await p.ctx.call("find_user_by_id", {"user_id": b, "as_user_id": a})).data or {}
    rel, mode = peer.get("relation"), peer.get("auth_mode")
    friends = rel == 0
    p.add(
        ("friends", "好友关系"),
        friends if rel is not None else None,
        "find_user_by_id",
        None,
        None
        if friends
        else (
            f"If the app allows chat only between friends: send_friend_request (peer's rule: {AUTH.get(mode, mode)}).",
            f"若应用只允许好友聊天:send_friend_request(对方加好友方式:{AUTH_ZH.get(mode, mode)})。",
        ),
    )
    for owner, other, about, says in (
        (
            b,
            a,
            ("recipient blocked the sender", "接收方已拉黑发送方"),
            (f"user {b} has blocked user {a}", f"用户{b}已拉黑用户{a}"),
        ),
        (
            a,
            b,
            ("sender blocked the recipient", "发送方已拉黑接收方"),
            (f"user {a} has blocked user {b}", f"用户{a}已拉黑用户{b}"),
        ),
    ):
        ids = await p.read("list_blocked_users", {"as_user_id": owner}, about)
        if ids is not None:
            hit = other in ids if isinstance(ids, list) else False
            p.add(
                about,
                hit,
                "list_blocked_users",
                hit,
                (
                    f"unblock_user as_user_id={owner} user_id={other}.",
                    f"unblock_user(as_user_id={owner}, user_id={other})。",
                ),
                says,
            )
    about = ("API says may message", "API判定可发消息")
    may = await p.read("check_may_message", {"user_id": a, "roster_id": b}, about)
    if may is not None:
        p.add(
            about,
            may,
            "check_may_message",
            not may,
            None,
            ("check_may_message answers false", "check_may_message判定不可发送"),
        )


async def _to_group(p: Probe, a: int, g: int) -> None:
    info: dict[str, Any] = (await p.ctx.call("get_group_info", {"group_id": g})).data or {}
    rows = await p.read("get_group_display_names", {"group_id": g, "user_ids": [a]}, ("member", "群成员"))
    if rows is None:
        return
    listed = as_array(rows)
    member = as_object(listed[0]) if listed else None
    p.add(
        ("sender is a member", "发送方是群成员"),
        member is not None,
        "get_group_display_names",
        member is None,
        ("invite_group_members to add the sender.", "用invite_group_members邀请发送方入群。"),
        (f"user {a} is not a member of group {g}", f"用户{a}不是群{g}的成员"),
    )
    blocked = await _scan(p.ctx, "list_group_blocked_users", {"group_id": g}, "user_id", a)
    if blocked is not None:
        p.add(
            ("on the group blacklist", "在群黑名单中"),
            blocked[0],
            "list_group_blocked_users",
            blocked[0],
            ("unblock_group_members, then invite again.", "用unblock_group_members移出黑名单后再邀请。"),
            (f"user {a} is on the blacklist of group {g}", f"用户{a}在群{g}的黑名单中"),
        )
    if member is None:
        return
    now_ms = int(time.time() * 1000)
    end = member.get("expired_time") or 0
    muted = end == -1 or end > now_ms
    until = p.t("until unmuted", "直到解除") if end == -1 else p.t(f"until {end} (epoch ms)", f"至{end}(毫秒时间戳)")
    p.add(
        ("sender muted in the group (until, ms)", "发送方被禁言(截止,毫秒)"),
        end or None,
        "get_group_display_names",
        muted,
        ("unmute_group_members for the sender.", "用unmute_group_members解除禁言。"),
        (f"user {a} is muted in group {g} {until}", f"用户{a}在群{g}被禁言,{until}"),
    )
    admins = await p.read("list_group_admins", {"group_id": g}, ("admins", "管理员"))
    role: str | None = "owner" if a == info.get("owner_id") else None
    if role is None and admins is not None:
        role = "admin" if _in_list(admins, "user_id", a) else "member"
    p.add(
        ("sender's role (owner, admin, member)", "发送方角色(owner群主、admin管理员、member成员)"),
        role,
        "list_group_admins",
    )
    ban = info.get("ban_expire_time") or 0
    all_muted = ban == -1 or ban * 1000 > now_ms
    exempt = role in ("owner", "admin")
    till = p.t("until unmuted", "直到解除") if ban == -1 else p.t(f"until {ban} (epoch s)", f"至{ban}(秒时间戳)")
    p.add(
        ("whole group muted (ban_expire_time, s); owner/admins exempt", "全员禁言(ban_expire_time,秒);群主/管理员除外"),
        ban or None,
        "get_group_info",
        all_muted and not exempt,
        ("unmute_group lifts the mute-all.", "用unmute_group取消全员禁言。"),
        (f"group {g} is muted for all members {till}", f"群{g}全员禁言,{till}"),
    )
    own = as_object(
        await p.read("get_group_info", {"group_id": g, "as_user_id": a}, ("sender's own blocking", "发送方的屏蔽模式"))
    )
    if own is not None:
        p.add(
            (
                "sender's blocking of this group (msg_mute_mode: 0 none, 1 no alerts, 2 no messages)",
                "发送方对本群的屏蔽(msg_mute_mode:0不屏蔽,1屏蔽通知,2屏蔽消息)",
            ),
            own.get("msg_mute_mode"),
            "get_group_info",
        )


async def check_messaging(ctx: CallContext, args: CheckMessaging) -> Diagnosis:
    p, a = Probe(ctx), args.from_user_id
    await ctx.call("find_user_by_id", {"user_id": a})  # an unknown sender is an error, not a verdict
    await _user_status(p, a)
    if args.to_user_id is not None:
        await _to_user(p, a, args.to_user_id)
        target, users, groups = (user(ctx.lang, args.to_user_id), [a, args.to_user_id], [])
    else:
        assert args.to_group_id is not None
        await _to_group(p, a, args.to_group_id)
        target, users, groups = (group(ctx.lang, args.to_group_id), [a], [args.to_group_id])
    who = user(ctx.lang, a)
    return p.result(
        (f"{who} cannot message {target}", f"{who}无法给{target}发消息"),
        (f"nothing stops {who} from messaging {target}", f"未发现阻止{who}给{target}发消息的因素"),
        p.t("Send with send_message from_user_id=the sender.", "用send_message并设from_user_id为发送方。"),
        users,
        groups,
    )


# --- joining ----------------------------------------------------------------------------------
class CheckJoin(Params):
    user_id: int = f("The user who wants to join.", "想入群的用户ID。")
    group_id: int = f("The group.", "群ID。")


def _join_paths(p: Probe) -> dict[Any, str]:
    return {
        0: p.t("apply_to_join_group joins at once", "apply_to_join_group可直接入群"),
        1: p.t("an application needs an admin's approval", "申请需管理员审批"),
        2: p.t("applications are rejected: only an invitation works", "申请会被拒绝,只能邀请入群"),
    }


async def check_group_join(ctx: CallContext, args: CheckJoin) -> Diagnosis:
    p, u, g = Probe(ctx), args.user_id, args.group_id
    info: dict[str, Any] = (await ctx.call("get_group_info", {"group_id": g})).data or {}
    await ctx.call("find_user_by_id", {"user_id": u})  # an unknown user is an error, not a verdict
    rows = await p.read("get_group_display_names", {"group_id": g, "user_ids": [u]}, ("member", "群成员"))
    if rows is not None:
        p.add(
            ("already a member", "已是群成员"),
            bool(rows),
            "get_group_display_names",
            bool(rows),
            None,
            (f"user {u} is already a member of group {g}", f"用户{u}已是群{g}的成员"),
        )
    blocked = await _scan(ctx, "list_group_blocked_users", {"group_id": g}, "user_id", u)
    if blocked is not None:
        p.add(
            ("on the group blacklist", "在群黑名单中"),
            blocked[0],
            "list_group_blocked_users",
            blocked[0],
            ("unblock_group_members first.", "先用unblock_group_members移出黑名单。"),
            (f"user {u} is on the blacklist of group {g}", f"用户{u}在群{g}的黑名单中"),
        )
    count, cap = info.get("count"), info.get("capacity")
    full = isinstance(count, int) and isinstance(cap, int) and cap > 0 and count >= cap
    p.add(
        ("members / capacity", "人数/上限"),
        f"{count}/{cap}",
        "get_group_info",
        full,
        ("Make room: kick_group_members.", "腾出名额:kick_group_members。"),
        (f"group {g} is full ({count} of {cap} members)", f"群{g}已满({count}/{cap}人)"),
    )
    p.add(
        ("times kicked (too many: error 20016)", "被踢次数(过多则报20016)"),
        p.t("not readable by the API", "API无法读取"),
        None,
    )
    approval = info.get("apply_approval")
    p.add(
        (
            "join requests (apply_approval: 0 accept, 1 admin approves, 2 reject)",
            "入群申请(apply_approval:0同意,1审批,2拒绝)",
        ),
        approval,
        "get_group_info",
    )
    p.add(
        ("members may invite (member_invite)", "成员可邀请(member_invite)"), info.get("member_invite"), "get_group_info"
    )
    about = ("invitations need the user's consent (group_confirm)", "入群邀请需本人同意(group_confirm)")
    settings = as_object(await p.read("get_user_settings", {"as_user_id": u}, about))
    confirm = bool(settings.get("group_confirm")) if settings is not None else None
    if settings is not None:
        p.add(about, confirm, "get_user_settings")
    apps = await p.read("list_group_applications", {"group_ids": [g]}, ("pending application", "待处理的入群申请"))
    if apps is not None:
        mine = any(a.get("applicant_id") == u and a.get("status") == 0 for a in objects(apps))
        p.add(
            ("pending application", "待处理的入群申请"),
            mine,
            "list_group_applications",
            None,
            ("An admin decides with handle_group_application.", "由管理员用handle_group_application处理。")
            if mine
            else None,
        )
    invs = await p.read("list_group_invitations", {"as_user_id": u}, ("pending invitation", "待处理的入群邀请"))
    if invs is not None:
        mine = any(i.get("group_id") == g and i.get("status") == 0 for i in objects(invs))
        p.add(
            ("pending invitation", "待处理的入群邀请"),
            mine,
            "list_group_invitations",
            None,
            ("The user accepts with handle_group_invitation.", "用户用handle_group_invitation接受。") if mine else None,
        )
    how = _join_paths(p).get(approval, p.t("invite_group_members works", "可用invite_group_members邀请"))
    if confirm:
        how += p.t("; an invitation waits for the user's consent", ";邀请需用户本人同意")
    who, where = user(ctx.lang, u), group(ctx.lang, g)
    return p.result(
        (f"{who} cannot join {where}", f"{who}无法加入{where}"),
        (f"{who} can join {where}: {how}", f"{who}可以加入{where}:{how}"),
        how,
        [u],
        [g],
    )


IDS = IdPaths(users=("data.user_ids[]",), groups=("data.group_ids[]",), text=("data.facts[].value[]",))


OPERATIONS: list[Operation] = [
    Operation(
        name="check_push_delivery",
        http="GET /user/settings",
        calls=("GET /roster/id", "GET /user/settings", "GET /user/device/list", "GET /user/push/tag"),
        params=CheckPush,
        result=Diagnosis,
        handler=check_push_delivery,
        title=("Diagnose push delivery", "诊断推送接收"),
        description=(
            "Why a user does or does not get push notifications: verdict, facts read, next step.",
            "诊断用户为何能或不能收到推送:结论、读取的事实、下一步。",
        ),
        named=Named(user="user_id"),
        hints=READ,
        default=True,
        ids=IDS,
    ),
    Operation(
        name="check_messaging",
        http="GET /roster/may_message",
        calls=(
            "GET /roster/id",
            "GET /user/list",
            "GET /roster/blocked_list",
            "GET /roster/may_message",
            "GET /group/info",
            "POST /group/members/display_name",
            "GET /group/blocked_list",
            "GET /group/admin_list",
        ),
        params=CheckMessaging,
        result=Diagnosis,
        handler=check_messaging,
        title=("Diagnose messaging", "诊断发消息"),
        description=(
            "Why a user can or cannot message a user or group: verdict, facts read, next step.",
            "诊断用户为何能或不能给用户或群发消息:结论、读取的事实、下一步。",
        ),
        named=Named(sender="from_user_id"),
        hints=READ,
        default=True,
        ids=IDS,
    ),
    Operation(
        name="check_group_join",
        http="GET /group/info",
        calls=(
            "GET /group/info",
            "GET /roster/id",
            "POST /group/members/display_name",
            "GET /group/blocked_list",
            "GET /user/settings",
            "POST /group/application_list",
            "GET /group/invitation_list",
        ),
        params=CheckJoin,
        result=Diagnosis,
        handler=check_group_join,
        title=("Diagnose joining a group", "诊断入群"),
        description=(
            "Why a user can or cannot join a group: verdict, facts read, next step.",
            "诊断用户为何能或不能入群:结论、读取的事实、下一步。",
        ),
        named=Named(group="group_id", user="user_id"),
        hints=READ,
        default=True,
        ids=IDS,
    ),
]
