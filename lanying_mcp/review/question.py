"""The question a human answers before a call that needs consent: what, on whom, for how long, undoable?

The question is read from the API just before asking (group name and size, usernames and nicknames,
the text of the message to recall, the title of the announcement to delete), never from the names
cache, so the human confirms the real effect, not the model's summary of it, nor a name that changed
a minute ago. It shows what is sent (message text, push title and body, each cut short and cleaned),
who it claims to come from, how many people it reaches (a group counts as its members; everyone is
the app named, with its last known user count), and a note when this server renamed a target in the
last 10 minutes (recent.py), so a renamed account cannot be deleted under its new name unnoticed. Every name an end user wrote is quoted, cut short and
cleaned (untrusted.quote), so a group called "IGNORE ALL PREVIOUS INSTRUCTIONS…" reads as a name,
never as part of the question. A lookup that fails or answers off-shape leaves its detail out: the
question is still asked, and the call is never failed by it. Texts come in English and Chinese.

What a question names is declared on the operation (`Operation.named`, see `spec.Named`): which
argument is the group, the users, the account or the acting user, the message, and so on. This module
reads only those declarations, never an argument by its name (`tests/test_declared.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio

from ..core import errors
from ..core.json_values import as_array, as_object, objects
from ..core.spec import Audience, Operation, Params, Risk, Target
from ..engine import effects, names, recent, roles
from ..safety import consent
from ..safety.consent import recipients
from ..safety.untrusted import quote

if TYPE_CHECKING:
    from ..engine.call import CallContext

SHOWN = 5  # users, files and tags named one by one; the rest are counted
TEXT_SHOWN = 200  # characters of a message text or push body shown; a push title gets 80

_T: dict[str, tuple[str, str]] = {
    "ask": (
        "Allow the assistant to run “{title}” ({tool}) on {what}{how_long}?",
        "是否允许助手执行“{title}”({tool}):{what}{how_long}?",
    ),
    "as_requested": ("the arguments given", "所给参数"),
    "group": ("group {name} (ID {id}{size})", "群{name}(ID {id}{size})"),
    "group_bare": ("group ID {id}", "群ID {id}"),
    "group_size": (", {n} {member}", ",{n}人"),
    "user": ("user {who}", "用户{who}"),
    "acting": ("acting as {who}", "以{who}的身份"),
    "members": ("{n} {member}: {list}", "{n}名成员:{list}"),
    "user_list": ("{n} {user}: {list}", "{n}个用户:{list}"),
    "groups": ("{n} {group}: {list}", "{n}个群:{list}"),
    "more": (" and {n} more", "等,另有{n}个"),
    "named": ("{username} (nickname {nick}, ID {id})", "{username}(昵称{nick},ID {id})"),
    "named_plain": ("{username} (ID {id})", "{username}(ID {id})"),
    "owner": ("new owner {who}", "新群主{who}"),
    "message_from": ("message {text} (ID {id}) from {who}", "{who}发送的消息{text}(ID {id})"),
    "message_id": ("message ID {id}", "消息ID {id}"),
    "with_user": ("in the conversation with {who}", "在与{who}的会话中"),
    "in_group": ("in group {name} (ID {id})", "在群{name}(ID {id})中"),
    "conversation_bare": ("conversation ID {id}", "会话ID {id}"),
    "announcement": ("announcement {title} (ID {id})", "公告{title}(ID {id})"),
    "announcement_bare": ("announcement ID {id}", "公告ID {id}"),
    "files": ("{n} {file}: {list}", "{n}个文件:{list}"),
    "device": ("device {sn}", "设备{sn}"),
    "tag_list": ("tags {list}", "标签{list}"),
    "alias_list": ("aliases {list}", "别名{list}"),
    "all_user_devices": ("ALL devices of the user", "该用户的所有设备"),
    "all_of_app": ("EVERY user and device of the app", "应用的所有用户和设备"),
    "all_of_app_named": ("EVERY user and device of app {app}{known}", "应用{app}的所有用户和设备{known}"),
    "known": (" ({n} users at the last count)", "(上次统计为{n}个用户)"),
    "content_text": ("text {text}", "内容{text}"),
    "push_text": ("push title {title}, body {body}", "推送标题{title},正文{body}"),
    "no_text": ("(none)", "(无)"),
    "from": ("sent as {who}", "发送者为{who}"),
    "from_admin": ("sent as the app's system admin", "发送者为应用的系统管理员"),
    "group_sized": ("{name} (ID {id}, {n} {member})", "{name}(ID {id},{n}人)"),
    "group_unsized": ("{name} (ID {id}, size unknown)", "{name}(ID {id},人数未知)"),
    "id_sized": ("ID {id} ({n} {member})", "ID {id}({n}人)"),
    "id_unsized": ("ID {id} (size unknown)", "ID {id}(人数未知)"),
    "id_missing": ("ID {id} (not found)", "ID {id}(不存在)"),
    "for": (" for {span}", ",时长{span}"),
    Risk.TAKEOVER.value: (
        "This hands over the account: whoever knows the new password can sign in as this user.",
        "这会交出该账号:知道新密码的人即可以该用户身份登录。",
    ),
    Risk.SECRET.value: ("This shows the user's token to the assistant.", "这会把该用户的令牌交给助手。"),
    Risk.EVERYONE.value: ("This reaches EVERY user or device of the app.", "这会送达应用的所有用户或设备。"),
    Risk.REACH.value: ("This reaches {n} {recipient}.", "这会送达{n}个接收者。"),
    "reach_people": ("This reaches {n} {person}.", "这会送达{n}人。"),
    "reach_groups": (
        "This reaches {n} {person} (each group counted by its members).",
        "这会送达{n}人(群按成员人数计)。",
    ),
    "reach_unbounded": (
        "This reaches more people than can be counted: a group's size could not be read.",
        "送达人数无法统计:有群的人数读取失败。",
    ),
    "power_member": (
        "This gives admin rights: the new admins can kick, mute and manage the group's members.",
        "这会授予管理员权限:新管理员可以踢人、禁言和管理群成员。",
    ),
    "power_binding": (
        "This changes where the user's notifications go: whoever holds the bound device or alias receives them.",
        "这会改变该用户通知的去向:持有所绑定设备或别名的人将收到这些通知。",
    ),
    "power_friendship": (
        "This makes {n} friendships at once, without anyone accepting a request.",
        "这会一次建立{n}个好友关系,无需任何人同意。",
    ),
}
_NOUNS = {
    "member": ("member", "members"),
    "user": ("user", "users"),
    "group": ("group", "groups"),
    "file": ("file", "files"),
    "recipient": ("recipient", "recipients"),
    "person": ("person", "people"),
}


class _Gone(Exception):
    """The target does not exist: the call would fail anyway, so nobody is asked."""


def plural(n: int, noun: str) -> str:
    one, many = _NOUNS[noun]
    return one if n == 1 else many


def span(minutes: int, lang: str) -> str:
    """90 → "1 hour 30 minutes" / "1小时30分钟"."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if lang == "zh":
        return "".join(f"{v}{u}" for v, u in ((days, "天"), (hours, "小时"), (mins, "分钟")) if v) or "0分钟"
    parts = [f"{v} {u if v == 1 else u + 's'}" for v, u in ((days, "day"), (hours, "hour"), (mins, "minute")) if v]
    return " ".join(parts) or "0 minutes"


class _Text:
    def __init__(self, lang: str) -> None:
        self.i = 1 if lang == "zh" else 0
        self.lang = lang

    def __call__(self, key: str, **values: Any) -> str:
        for noun in _NOUNS:
            if noun in values:
                values[noun] = plural(values["n"], noun)
        return _T[key][self.i].format(**values)

    def join(self, parts: list[str]) -> str:
        return ("、" if self.i else ", ").join(parts)


def _person(t: _Text, uid: int, found: dict[int, dict[str, str]]) -> str:
    entry = found.get(uid) or {}
    username, nick = entry.get("username"), entry.get("nick_name")
    if username and nick:
        return t("named", username=quote(username), nick=quote(nick), id=uid)
    if username or nick:
        return t("named_plain", username=quote(username or nick or ""), id=uid)
    return f"ID {uid}"


def _people(t: _Text, ids: list[int], found: dict[int, dict[str, str]]) -> str:
    shown = t.join([_person(t, uid, found) for uid in ids[:SHOWN]])
    return shown + (t("more", n=len(ids) - SHOWN) if len(ids) > SHOWN else "")


async def _lookup(ctx: CallContext, tool: str, args: dict[str, Any]) -> Any:
    return (await ctx.call(ctx.operations[tool], {k: v for k, v in args.items() if v is not None})).data


async def _facts(op: Operation, params: Params, ctx: CallContext, t: _Text) -> tuple[list[str], dict[str, Any]]:
    """The phrases naming what the call touches, and what was read for them; lookups run at once, each
    may fail alone, and names are read fresh (never from the names cache)."""

    n = op.named

    def get(name: str | None) -> Any:
        return getattr(params, name, None) if name else None

    group_id, acting = get(n.group), get(n.account or n.acting)
    user_list = [u for u in as_array(get(n.users)) or [] if isinstance(u, int)]
    group_list = [g for g in as_array(get(n.groups)) or [] if isinstance(g, int)]
    singles = [u for u in (get(n.user), get(n.new_owner)) if isinstance(u, int)]
    account = acting if n.account and isinstance(acting, int) else None
    conversation = get(n.conversation) if isinstance(get(n.conversation), int) else None
    sender = get(n.sender) if isinstance(get(n.sender), int) else None
    # The named ones first: a batch look-up acts as its first users, and they surely exist.
    ids = (sender, acting, *singles, conversation, *user_list[:SHOWN])
    everyone_ids = list(dict.fromkeys(u for u in ids if isinstance(u, int)))
    got: dict[str, Any] = {}

    async def group() -> None:
        try:
            got["group"] = await _lookup(ctx, roles.GROUP_INFO, roles.group_info(group_id))
        except errors.ApiError as exc:
            if exc.code == 20001:
                got["gone"] = True

    async def people() -> None:
        got["people"] = await names.users(ctx, everyone_ids, fresh=True)

    async def groups() -> None:
        shown = [*group_list[:SHOWN], *([conversation] if conversation else [])]
        got["groups"] = await names.groups(ctx, shown, fresh=True)

    async def sizes() -> None:
        got["sizes"] = await names.group_sizes(op, params, ctx)

    async def everyone() -> None:
        got["known_users"] = await recent.known_users(ctx)

    async def message() -> None:
        wanted = get(n.message)
        page = await _lookup(
            ctx, roles.MESSAGES, roles.message(get(n.conversation), wanted, acting, get(n.acting_group))
        )
        for item in objects((as_object(page) or {}).get("messages")):
            if item.get("msg_id") == wanted:
                got["msg"] = item
                sender = _sender(item)
                if isinstance(sender, int):
                    got["sender"] = await names.users(ctx, [sender], fresh=True)

    async def announcement() -> None:
        got["announcement"] = await _lookup(
            ctx, roles.ANNOUNCEMENT, roles.announcement(group_id, get(n.announcement), acting)
        )

    async def files() -> None:
        wanted = (as_array(get(n.files)) or [])[:SHOWN]
        rows = [await _lookup(ctx, roles.GROUP_FILE, roles.group_file(group_id, fid)) for fid in wanted]
        got["files"] = {
            r["file_id"]: r.get("name") for row in rows if (r := as_object(row)) is not None and "file_id" in r
        }

    jobs: list[Callable[[], Coroutine[Any, Any, None]]] = []
    if isinstance(group_id, int):
        jobs.append(group)
    if everyone_ids:
        jobs.append(people)
    if group_list or conversation:
        jobs.append(groups)
    if group_list and op.audience is not None and op.audience.groups:
        jobs.append(sizes)
    if op.audience is not None and consent.everyone(op.audience, params):
        jobs.append(everyone)
    if isinstance(get(n.message), int) and isinstance(get(n.conversation), int):
        jobs.append(message)
    if isinstance(get(n.announcement), int) and isinstance(group_id, int):
        jobs.append(announcement)
    if get(n.files) and isinstance(group_id, int):
        jobs.append(files)
    await _run(jobs)
    if got.get("gone"):
        raise _Gone
    got["shown_users"] = everyone_ids
    got["shown_groups"] = [g for g in (group_id, *group_list[:SHOWN], conversation) if isinstance(g, int)]
    got["app"] = ctx.client.settings.app_id
    return _phrases(op, params, t, got, user_list, group_list, singles, account, acting), got


async def _run(jobs: list[Callable[[], Coroutine[Any, Any, None]]]) -> None:
    async def guarded(job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            await job()
        except Exception:  # a detail the API cannot give is left out of the question
            return

    async with anyio.create_task_group() as tg:
        for job in jobs:
            tg.start_soon(guarded, job)


def _phrases(
    op: Operation,
    params: Params,
    t: _Text,
    got: dict[str, Any],
    user_list: list[int],
    group_list: list[int],
    singles: list[int],
    account: int | None,
    acting: Any,
) -> list[str]:
    n = op.named

    def get(name: str | None) -> Any:
        return getattr(params, name, None) if name else None

    found: dict[int, dict[str, str]] = {**got.get("people", {}), **got.get("sender", {})}
    parts: list[str] = []
    group_id = get(n.group)
    info = got.get("group")
    if isinstance(group_id, int):
        if info is not None and isinstance(info.get("name"), str):
            count = info.get("count")
            size = (
                t("group_size", n=count, member=True) if isinstance(count, int) and not isinstance(count, bool) else ""
            )
            parts.append(t("group", name=quote(info["name"]), id=group_id, size=size))
        else:
            parts.append(t("group_bare", id=group_id))
    if account is not None:
        parts.append(t("user", who=_person(t, account, found)))
    if user_list:
        key, noun = ("members", "member") if isinstance(group_id, int) else ("user_list", "user")
        parts.append(t(key, n=len(user_list), list=_people(t, user_list, found), **{noun: True}))
    if group_list:
        named, sizes = got.get("groups", {}), got.get("sizes")
        shown = t.join([_group(t, g, named, sizes) for g in group_list[:SHOWN]])
        more = t("more", n=len(group_list) - SHOWN) if len(group_list) > SHOWN else ""
        parts.append(t("groups", n=len(group_list), group=True, list=shown + more))
    for key, name in (("user", n.user), ("owner", n.new_owner)):
        value = get(name)
        if isinstance(value, int):
            parts.append(t(key, who=_person(t, value, found)))
    for name in n.usernames:
        value = get(name)
        if isinstance(value, str) and value:
            parts.append(t("user", who=quote(value)))
    if isinstance(get(n.message), int):
        parts.extend(_message(t, get(n.message), get(n.conversation), got, found))
    if isinstance(get(n.announcement), int):
        row = as_object(got.get("announcement"))
        if row is not None and isinstance(row.get("title"), str):
            parts.append(t("announcement", title=quote(row["title"]), id=get(n.announcement)))
        else:
            parts.append(t("announcement_bare", id=get(n.announcement)))
    if get(n.files):
        named_files: dict[Any, Any] = got.get("files", {})
        ids = as_array(get(n.files)) or []
        shown = t.join([f"{quote(named_files[i])} (ID {i})" if named_files.get(i) else f"ID {i}" for i in ids[:SHOWN]])
        more = t("more", n=len(ids) - SHOWN) if len(ids) > SHOWN else ""
        parts.append(t("files", n=len(ids), file=True, list=shown + more))
    if get(n.device) is not None:
        parts.append(t("device", sn=get(n.device)))
    elif n.device is not None and op.effect is not None and op.effect.target is Target.DEVICE:
        parts.append(t("all_user_devices"))  # no device named: the API acts on every device of the user
    for key, name in (("tag_list", n.tags), ("alias_list", n.aliases)):
        values = [str(v) for v in as_array(get(name)) or []]
        if values:
            more = t("more", n=len(values) - SHOWN) if len(values) > SHOWN else ""
            parts.append(t(key, list=t.join([quote(v) for v in values[:SHOWN]]) + more))
    if isinstance(get(n.conversation), int) and not isinstance(get(n.message), int):
        parts.append(_conversation(t, get(n.conversation), got.get("groups", {}), found))
    if op.audience is not None and consent.everyone(op.audience, params):
        count = got.get("known_users")
        known = t("known", n=count) if isinstance(count, int) else ""
        parts.append(t("all_of_app_named", app=quote(str(got.get("app") or "")), known=known))
    if acting is not None and account is None:
        parts.append(t("acting", who=_person(t, acting, found)))  # the actor: who leaves, who acts
    if op.audience is not None:
        parts.extend(_content(t, op, params, found))
    return parts


def _content(t: _Text, op: Operation, params: Params, found: dict[int, dict[str, str]]) -> list[str]:
    """What a delivery sends, cleaned and cut short, and whom it claims to come from."""
    n = op.named

    def get(name: str | None) -> Any:
        return getattr(params, name, None) if name else None

    parts: list[str] = []
    note = get(n.push)
    if note is not None:  # a push notification: its title and body
        title, body = note.title, note.body
        parts.append(
            t(
                "push_text",
                title=quote(title, 80) if title else t("no_text"),
                body=quote(body, TEXT_SHOWN) if body else t("no_text"),
            )
        )
    elif n.content is not None:
        text = get(n.content)
        parts.append(t("content_text", text=quote(text, TEXT_SHOWN) if text else t("no_text")))
    if n.sender is not None:
        sender = get(n.sender)
        parts.append(t("from", who=_person(t, sender, found)) if isinstance(sender, int) else t("from_admin"))
    elif op.audience is not None and op.audience.everyone is True and get(n.account or n.acting) is None:
        parts.append(t("from_admin"))  # a broadcast's sender is its acting user, or the system admin
    return parts


def _group(t: _Text, gid: int, named: dict[int, str], sizes: dict[int, int] | None) -> str:
    """A group as a question names it: its name, and its member count when the reach depends on it."""
    name = named.get(gid)
    if sizes is None:
        return f"{quote(name)} (ID {gid})" if name else f"ID {gid}"
    n = sizes.get(gid)
    if name:
        return (
            t("group_sized", name=quote(name), id=gid, n=n, member=True)
            if n is not None
            else t("group_unsized", name=quote(name), id=gid)
        )
    if n == 0:
        return t("id_missing", id=gid)  # a successful read did not describe it
    return t("id_sized", id=gid, n=n, member=True) if n is not None else t("id_unsized", id=gid)


def _sender(item: dict[str, Any]) -> Any:
    """The user ID of a message row's sender (`from_xid.uid`)."""
    return (as_object(item.get("from_xid")) or {}).get("uid")


def _message(
    t: _Text, msg_id: int, conversation: Any, got: dict[str, Any], found: dict[int, dict[str, str]]
) -> list[str]:
    item = as_object(got.get("msg"))
    parts: list[str] = []
    if item is not None:
        sender = _sender(item)
        who = _person(t, sender, found) if isinstance(sender, int) else "?"
        parts.append(
            t("message_from", text=quote(str(item.get("content") or item.get("ctype") or "")), who=who, id=msg_id)
        )
    else:
        parts.append(t("message_id", id=msg_id))
    if isinstance(conversation, int):
        parts.append(_conversation(t, conversation, got.get("groups", {}), found))
    return parts


def _conversation(t: _Text, conversation: int, groups: dict[int, str], found: dict[int, dict[str, str]]) -> str:
    """A conversation ID is a group's or the peer user's ID: whichever lookup knows it names it."""
    if conversation in groups:
        return t("in_group", name=quote(groups[conversation]), id=conversation)
    if conversation in found:
        return t("with_user", who=_person(t, conversation, found))
    return t("conversation_bare", id=conversation)


def _reach(t: _Text, op: Operation, params: Params, got: dict[str, Any]) -> str:
    """How many the call reaches: people (a group counted as its members), or recipients where tags,
    aliases or push tokens reach an unknown number of devices."""
    declared = op.named

    def one(name: str | None) -> tuple[str, ...]:
        return (name,) if name else ()

    audience = op.audience or Audience(
        users=one(declared.users), groups=one(declared.groups), tags=one(declared.tags), aliases=one(declared.aliases)
    )
    sizes = got.get("sizes") if audience.groups else None
    n = recipients(audience, params, sizes)  # a single-ID field (a friend request's user_id) counts as one
    if n >= consent.UNBOUNDED:
        return t("reach_unbounded")
    devices = (*audience.tags, *audience.aliases, *audience.tokens)
    if any(consent.named(params, name) for name in devices):
        return t(Risk.REACH.value, n=n, recipient=True)
    grouped = any(consent.named(params, name) for name in audience.groups)
    return t("reach_groups" if grouped else "reach_people", n=n, person=True)


def _power(t: _Text, op: Operation, params: Params) -> str | None:
    kind = op.effect.target if op.effect is not None else None
    if kind is Target.MEMBER:
        return t("power_member")
    if kind is Target.BINDING:
        return t("power_binding")
    if kind is Target.FRIENDSHIP:
        names_ = op.consent.grants or ((op.named.users,) if op.named.users else ())
        return t("power_friendship", n=sum(len(consent.named(params, name)) for name in names_))
    return None


async def describe(op: Operation, params: Params, ctx: CallContext, risks: tuple[Risk, ...] = ()) -> str | None:
    """The question for the human, or None when the look-up says the target does not exist (the gate then
    refuses the call: a question that cannot be asked is never a yes)."""
    t = _Text(ctx.lang)
    got: dict[str, Any] = {}
    try:
        parts, got = await _facts(op, params, ctx, t)
    except _Gone:
        return None
    except Exception:  # an unexpected answer never stops the question: it is asked without details
        parts = []
    title = op.title[t.i]
    duration = getattr(params, op.consent.duration, None) if op.consent.duration else None
    how_long = t("for", span=span(duration, t.lang)) if isinstance(duration, int) and duration > 0 else ""
    sentences = [t("ask", title=title, tool=op.name, what=t.join(parts) or t("as_requested"), how_long=how_long)]
    sentences.extend(await _renames(ctx, got))
    everyone = op.audience is not None and consent.everyone(op.audience, params)
    for risk in dict.fromkeys((*risks, *op.consent.risks)):
        if risk is Risk.EVERYONE and everyone and got:
            continue  # already said in the question itself, with the app's name
        if risk is Risk.REACH:
            sentences.append(_reach(t, op, params, got))
        elif risk is Risk.POWER:
            if (said := _power(t, op, params)) is not None:
                sentences.append(said)
        elif risk.value in _T:
            sentences.append(t(risk.value))
    sentences.extend(effects.undo_sentences(op.effect, t.lang, ctx.catalogue))
    return ("" if t.i else " ").join(sentences)


async def _renames(ctx: CallContext, got: dict[str, Any]) -> list[str]:
    """Notes on the shown targets this server renamed in the last 10 minutes, checked against the fresh names."""
    if not got:
        return []
    users: dict[int, dict[str, str]] = {**got.get("people", {}), **got.get("sender", {})}
    groups: dict[int, str] = dict(got.get("groups", {}))
    info = as_object(got.get("group"))
    if info is not None and isinstance(info.get("group_id"), int) and isinstance(info.get("name"), str):
        groups[info["group_id"]] = info["name"]
    try:
        return await recent.notices(ctx, users, groups, got.get("shown_users", []), got.get("shown_groups", []))
    except Exception:  # a note that cannot be read is left out; the question is still asked
        return []
