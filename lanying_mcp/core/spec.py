"""The unit of work: one Lanying API operation, described as data.

An `Operation` names the HTTP call, the pydantic model of its arguments and the type of the
envelope's `data`. Each argument field says where it travels (header, query, JSON body or the
whole raw body) through an `Annotated` marker, so one dispatcher (`client.build_request`) can send
every operation without per-tool code. Only multi-step operations carry a `handler`.

Texts are bilingual: titles and descriptions are `(english, chinese)` pairs, and argument fields
carry their Chinese description under the `x-zh` schema key (see `schema.py`), so `--lang zh`
shows the same facts in Chinese.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BODY",
    "QUERY",
    "RAW_BODY",
    "AsGroup",
    "AsUser",
    "AsUserRequired",
    "Audience",
    "Batch",
    "ByName",
    "ApiModel",
    "Consent",
    "Effect",
    "Inverse",
    "Never",
    "Target",
    "undo",
    "Risk",
    "SECRET",
    "secret_arguments",
    "DANGER",
    "DELETE",
    "Hints",
    "IdPaths",
    "ITEMS",
    "MESSAGES",
    "UNPAGED",
    "In",
    "Loc",
    "Named",
    "Operation",
    "Pages",
    "Paging",
    "Params",
    "READ",
    "Toolset",
    "UPDATE",
    "WRITE",
    "Header",
    "Query",
    "Body",
    "f",
    "by_name",
    "username_list",
]


class In(str, enum.Enum):
    """Where an argument travels in the HTTP request."""

    HEADER = "header"
    QUERY = "query"
    BODY = "body"  # one key of the JSON object body
    RAW = "raw"  # the field's value is the whole body (a bare array, or a raw JSON string)


@dataclass(frozen=True)
class Loc:
    """Placement marker used inside `Annotated[...]` on a params field."""

    where: In
    wire: str | None = None  # name on the wire when it differs from the field name


def Query(wire: str | None = None) -> Loc:  # noqa: N802 - reads like a type marker
    return Loc(In.QUERY, wire)


def Body(wire: str | None = None) -> Loc:  # noqa: N802
    return Loc(In.BODY, wire)


def Header(wire: str) -> Loc:  # noqa: N802
    return Loc(In.HEADER, wire)


QUERY = Query()
BODY = Body()
RAW_BODY = Loc(In.RAW)

# Act-as headers: with the admin token, `user_id` makes the call as that user and `group_id` as
# an admin of that group. Tool arguments are named `as_user_id` / `as_group_id` so they never
# clash with the many query/body fields called `user_id` / `group_id`.
if TYPE_CHECKING:
    AsUser = int | None
    AsGroup = int | None
    AsUserRequired = int
else:
    from typing import Annotated

    AsUser = Annotated[int | None, Header("user_id")]
    AsGroup = Annotated[int | None, Header("group_id")]
    AsUserRequired = Annotated[int, Header("user_id")]


@dataclass(frozen=True)
class SecretArg:
    """Marks an argument that carries a credential (password, push token, signature): logs never keep it."""


SECRET = SecretArg()


def f(en: str, zh: str, default: Any = ..., *, secret: bool = False, **kwargs: Any) -> Any:
    """A params/result field with its English description and its Chinese twin; `secret` marks a credential."""
    extra: dict[str, Any] = kwargs.pop("json_schema_extra", None) or {}
    info = Field(default, description=en, json_schema_extra={**extra, "x-zh": zh}, **kwargs)
    if secret:
        info.metadata.append(SECRET)
    return info


def secret_arguments(model: type[BaseModel]) -> frozenset[str]:
    """The names of a params model's secret arguments, nested models' included."""
    found: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def walk(m: type[BaseModel]) -> None:
        if m in seen:
            return
        seen.add(m)
        for name, field in m.model_fields.items():
            if SECRET in field.metadata:
                found.add(name)
            for sub in _models_in(field.annotation):
                walk(sub)

    walk(model)
    return frozenset(found)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation mentions (in lists, unions, optionals)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    args: tuple[Any, ...] = getattr(cast(object, annotation), "__args__", None) or ()
    for arg in args:
        out.extend(_models_in(arg))
    return out


@dataclass(frozen=True)
class ByName:
    """Marks a list of usernames that stands for users of the user-ID list argument `ids`.

    The server looks the names up before the arguments are validated (usernames.py) and merges their
    IDs into `ids`, so the consent rule, the question and the request see user IDs only; the names
    themselves are never sent. `required`: the call needs `ids` or the names (at least one user).
    """

    ids: str = "user_ids"
    required: bool = False


def username_list(ids: str = "user_ids", *, required: bool = False) -> Any:
    """The `usernames` argument beside a user-ID list: `usernames: list[str] | None = username_list()`."""
    info = f("Or by username.", "或按用户名。", None, exclude=True)
    info.metadata.append(ByName(ids, required))
    return info


def by_name(model: type[BaseModel]) -> tuple[tuple[str, ByName], ...]:
    """The params model's username arguments, each with its marker."""
    found = _BY_NAME.get(model)
    if found is None:
        found = tuple(
            (name, mark)
            for name, info in model.model_fields.items()
            for mark in info.metadata
            if isinstance(mark, ByName)
        )
        _BY_NAME[model] = found
    return found


_BY_NAME: dict[type[BaseModel], tuple[tuple[str, ByName], ...]] = {}


class Params(BaseModel):
    """Base of every tool's argument model: unknown arguments are rejected, not dropped."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    @model_validator(mode="after")
    def _some_users(self) -> Any:
        """A user list that is required may be given by IDs, by usernames, or both; not by neither."""
        for name, mark in by_name(type(self)):
            if mark.required and not getattr(self, mark.ids, None) and not getattr(self, name, None):
                raise ValueError(f"give {mark.ids} or {name} (at least one user)")
        return self


class ApiModel(BaseModel):
    """Base of response models: tolerant, since the live service may add or omit fields."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class Hints(NamedTuple):
    read_only: bool
    destructive: bool
    idempotent: bool


READ = Hints(read_only=True, destructive=False, idempotent=True)
WRITE = Hints(read_only=False, destructive=False, idempotent=False)  # creates or sends something new
UPDATE = Hints(read_only=False, destructive=False, idempotent=True)  # sets a value; repeating is harmless
DELETE = Hints(read_only=False, destructive=True, idempotent=True)  # removes; repeating changes nothing more
DANGER = Hints(read_only=False, destructive=True, idempotent=False)  # irreversible and not repeatable


# A multi-step tool's body: (the call's `call.CallContext`, its validated params) -> its data. The context
# is typed `Any` here because this module is the ground floor: the call value builds on it, not under it.
Handler = Callable[[Any, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Batch:
    """A list argument larger than the API accepts is split into calls of `size` items.

    `fields` are the candidate list arguments (the one that is set gets split); batches run with at
    most `concurrency` in flight, and a failed batch does not lose the others' results.
    """

    fields: tuple[str, ...]
    size: int
    concurrency: int = 4


@dataclass(frozen=True)
class Audience:
    """Which arguments name the people a write delivers content to (messages, pushes, notices).

    The operator's policy walks these, and the consent rule counts them for mass reach. Each entry is
    a params field name; `everyone` is a boolean field that means "every user/device", or True when
    every call of the operation reaches everyone (broadcast). `text` names the free-text arguments
    the recipients read (a request's reason, a group's new name) on operations whose main effect is
    not a message: the policy checks their recipients on every call, and the mass-reach rule counts
    them only when one of those arguments is given (an invitation without a reason is a notice).
    """

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    everyone: str | bool = False
    text: tuple[str, ...] = ()


class Risk(str, enum.Enum):
    """Why a call needs a human's yes; one operation may carry several."""

    DESTRUCTIVE = "destructive"  # derived from the destructive hint
    TAKEOVER = "takeover"  # sets or resets another account's credentials
    SECRET = "secret"  # hands a credential or vendor secret to the model
    EVERYONE = "everyone"  # reaches every user or device of the app
    REACH = "reach"  # reaches more people than the policy's threshold (a group counts as its members)
    POWER = "power"  # grants power over others: admin rights, a device or alias binding, mass friendships
    POLICY = "policy"  # the operator's policy lists the tool under confirm_tools


@dataclass(frozen=True)
class Consent:
    """What an operation's human confirmation is about, beyond what its hints already say.

    `risks` are always asked about (destructive calls need not list DESTRUCTIVE: the hint says it).
    `duration` names the argument that bounds the effect (minutes). `grants` names the arguments
    listing the people a power grant reaches (friendships made without asking): above the reach
    threshold such a call carries `Risk.POWER`, below it none. Whether and how the effect can be
    undone is the operation's `Effect`, not part of this: creating a user, a group or a membership is
    no power grant, although its inverse is destructive.
    """

    risks: tuple[Risk, ...] = ()
    duration: str | None = None
    grants: tuple[str, ...] = ()


class Target(str, enum.Enum):
    """The kind of thing a write changes."""

    USER = "user"  # an account and its profile
    SETTINGS = "settings"  # a user's preference keys
    DEVICE = "device"  # a signed-in device
    BINDING = "device binding"  # a push token, alias or tag bound to a user's devices
    FRIENDSHIP = "friendship"
    REQUEST = "request"  # a friend request, group application or invitation answer
    GROUP = "group"  # a group and its settings
    MEMBER = "member"  # a user's membership and role in a group
    ANNOUNCEMENT = "announcement"
    FILE = "file"
    MESSAGE = "message"
    CONVERSATION = "conversation"
    PUSH = "push"
    TOKEN = "token"
    CHATBOT = "chatbot"


@dataclass(frozen=True)
class Inverse:
    """The operation that reverses a write, and where each of its arguments comes from.

    `args` pairs an argument of `tool` with its source:
    - `"x"`: the forward call's argument `x`;
    - `"before.x"`: field `x` of the target as read before the write (one of the Effect's `fields`);
    - `"result.x"`: field `x` of the forward call's answer (`"result"`: the whole answer);
    - `"[s]"`: a one-item list holding source `s`;
    - `"item"`: with `each`, the current item of that list argument (the inverse runs once per item);
    - any value that is not a string: that value.
    `note` is said beside the undo sentence, e.g. that an invited member must accept.
    """

    tool: str
    args: tuple[tuple[str, Any], ...] = ()
    each: str | None = None
    note: tuple[str, str] | None = None


def undo(tool: str, *same: str, each: str | None = None, note: tuple[str, str] | None = None, **mapped: Any) -> Inverse:
    """`undo("add_group_admins", "group_id", "user_ids")`: arguments named in `same` pass through unchanged."""
    return Inverse(tool, tuple((name, name) for name in same) + tuple(mapped.items()), each, note)


@dataclass(frozen=True)
class Effect:
    """What a write changes, as data: the kind of target, its fields, and how (or why not) to take it back.

    Exactly one of `inverse` and `irreversible` is set; `irreversible` is the reason as
    (english, chinese). `recall` names a tool that withdraws part of an irreversible effect where it
    can (a sent message within the recall window).
    """

    target: Target
    fields: tuple[str, ...]
    inverse: Inverse | None = None
    irreversible: tuple[str, str] | None = None
    recall: str | None = None


@dataclass(frozen=True)
class IdPaths:
    """Where a result names users and groups by ID, and where it carries text written by end users.

    Paths point into the structured result: `data.owner_id`, `data[].user_id` (every item), `data[]`
    (a bare list of IDs). `users`/`groups` get names beside them (names.py); `either` are IDs that name
    a user or a group (a conversation's other side), named as whichever they are; `plain` are IDs
    declared on purpose to get none (a result that already names them, or a user's own devices);
    `text` marks end-user content for the untrusted-content convention (untrusted.py). `members`
    says the result lists a group's members (`group_id` argument): each gets its role and mute end.
    """

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    plain: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    members: bool = False
    either: tuple[str, ...] = ()


@dataclass(frozen=True)
class Named:
    """What a confirmation question names, as the operation's arguments: question.py reads only this.

    Each entry is a params field name. `group`: the one group acted on (its name and size are read
    fresh; an unknown group means nobody is asked). `account`: the user whose account or devices the
    call changes; `acting`: the user the call acts as (who leaves, who answers), named last;
    `acting_group`: the group the call acts as, passed on to the reads. `users`/`groups`: lists of user
    and group IDs (users are members when a group is named). `user`: one user ID; `new_owner`: the
    user a group is handed to; `usernames`: arguments naming a user by their name. `message` and
    `conversation`: a message ID and the conversation it is in (a group's or the peer user's ID);
    `announcement`: an announcement of the group; `files`: file IDs of the group; `device`: a device
    serial (left out on a device write, every device of the user); `tags`, `aliases`: device tags and
    aliases. On a delivery (an operation with an `Audience`): `push` is the notification (its title
    and body), `content` the message text, `sender` the user it is sent as.
    """

    group: str | None = None
    account: str | None = None
    acting: str | None = None
    acting_group: str | None = None
    users: str | None = None
    groups: str | None = None
    user: str | None = None
    new_owner: str | None = None
    usernames: tuple[str, ...] = ()
    message: str | None = None
    conversation: str | None = None
    announcement: str | None = None
    files: str | None = None
    device: str | None = None
    tags: str | None = None
    aliases: str | None = None
    push: str | None = None
    content: str | None = None
    sender: str | None = None


class Pages(str, enum.Enum):
    """How a listing gives its items: all at once, or a page at a time and how the next is asked for."""

    WHOLE = "whole"  # every item in one answer: the count is said, no next page
    NUMBER = "number"  # numbered pages: the next is the page number plus one, a short page is the last
    CURSOR = "cursor"  # the answer carries a cursor, passed back for the next page; an empty one is the last
    WINDOW = "window"  # a window of messages: the answer names the ID to start the next window from


ITEMS = ("items", "项")
MESSAGES = ("messages", "条消息")


@dataclass(frozen=True)
class Paging:
    """How a listing's result is paged, as data: the one-line summary before its JSON is read from this.

    `items` is the key of `data` holding the list when `data` is an object (else `data` is the list);
    `unit` names what is counted (english plural, chinese measure word). `arg` is the argument that asks
    for the next page (NUMBER: the page number, its size in `size`; CURSOR: the cursor; WINDOW: the
    start ID). `next` is where the answer holds the next page's value: a top-level key of the result
    (CURSOR) or a key of `data` (WINDOW, with `last` the key of `data` that says it is the last window).
    `total` is the result's top-level key with the count of all items, when the API gives one.
    """

    style: Pages
    items: str | None = None
    unit: tuple[str, str] = ITEMS
    arg: str | None = None
    size: str | None = None
    next: str | None = None
    last: str | None = None
    total: str | None = None


UNPAGED = Paging(Pages.WHOLE)  # a list answered whole: its count only


@dataclass(frozen=True)
class Toolset:
    name: str
    description: tuple[str, str]


@dataclass(frozen=True)
class Operation:
    """One API operation = one MCP tool."""

    name: str
    http: str  # "METHOD /path": the request the dispatcher sends
    params: type[Params]
    result: Any  # the type of the envelope's `data`
    title: tuple[str, str]
    description: tuple[str, str]
    hints: Hints
    toolset: str = ""
    extras: tuple[str, ...] = ()  # top-level envelope fields returned beside data (cursor, total, ...)
    handler: Handler | None = None  # multi-step operations only
    calls: tuple[str, ...] = ()  # the HTTP calls a handler makes, for `_meta`
    redirect: bool = False  # the API answers 302: the result is the Location, not a body
    default: bool = False  # part of the default tool selection
    aliases: tuple[str, ...] = ()  # other methods the API accepts for the same operation
    local: bool = False  # answered by this server itself (no HTTP call), e.g. explain_error
    batch: Batch | None = None  # split oversized list arguments into several calls
    # Safety, as data (see consent.py and policy.py): what a human is asked about, who receives
    # content, which argument de-duplicates a retried send, and which result fields are secrets.
    consent: Consent = Consent()
    audience: Audience | None = None
    dedup_key: str | None = None
    secret_fields: tuple[str, ...] = ()  # keys in the result masked unless the operator reveals secrets
    # A local meta-operation that runs another operation (discovery's call_tool): from its validated
    # params, the name and arguments of the operation that will really run. Consent is decided on that.
    runs: Callable[[Any], tuple[str, dict[str, Any]]] | None = None
    # A local meta-operation whose calls are known only after a look-up (undo_change reads the journal):
    # the exact calls it will run, validated, so the confirmation gate asks about those and grants them.
    expands: Callable[[Any, Any], Awaitable[list[tuple[Operation, Params]]]] | None = None  # (CallContext, params)
    # A local meta-operation that runs several operations in order (apply_plan): consent is decided per
    # step, one question for all that need it (plan.py, gate.py).
    plan: bool = False
    ids: IdPaths | None = None  # result paths holding user/group IDs and end-user text (names.py, untrusted.py)
    effect: Effect | None = None  # what a write changes and how it is undone (every write declares one)
    paging: Paging | None = None  # how a list result is paged (every list result declares one; paging.py)
    named: Named = Named()  # what a confirmation question names (question.py)

    @property
    def method(self) -> str:
        return self.http.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.http.split(" ", 1)[1]

    @property
    def http_meta(self) -> str | list[str]:
        """What `_meta["lanying/http"]` says: the one call, or every call of a multi-step tool."""
        if self.local:
            return []
        return list(self.calls) if self.calls else self.http

    def text(self, lang: str) -> tuple[str, str]:
        """(title, description) in the chosen language."""
        i = 1 if lang == "zh" else 0
        return self.title[i], self.description[i]


class Never:
    """Why a write cannot be taken back, as (english, chinese): the reasons `Effect.irreversible` gives."""

    SENT = (
        "a delivered message cannot be taken back from its recipients",
        "已送达的消息无法从接收者处收回",
    )
    PUSHED = ("a delivered push notification cannot be recalled", "已送达的推送通知无法撤回")
    DELETED = ("what is deleted cannot be restored", "删除的内容无法恢复")
    DESTROYED = (
        "a destroyed group cannot be restored, with its members and history",
        "解散的群及其成员和历史消息无法恢复",
    )
    ACCOUNT = ("a deleted account and its data cannot be restored", "删除的账号及其数据无法恢复")
    PASSWORD = ("the old password is not known, so it cannot be set back", "旧密码未知,无法改回")
    SIGNED_OUT = ("a signed-out device stays signed out until it signs in again", "被下线的设备须重新登录")
    DEVICE = (
        "a removed device record comes back only when the device signs in again",
        "删除的设备记录需设备重新登录才会出现",
    )
    TOKEN = ("an issued token stays valid until it expires", "已签发的令牌在过期前一直有效")
    REQUEST = ("a sent request cannot be withdrawn", "已发出的申请无法撤回")
    ANSWERED = ("an answered request is closed; a new one must be made", "已处理的申请已关闭,只能重新发起")
    READ = ("a read receipt cannot be taken back", "已读回执无法撤回")
    RECALLED = ("a recalled message cannot be restored", "撤回的消息无法恢复")
    ACCOUNTS = (
        "no one call removes the new accounts; each must be deleted on its own",
        "没有一次删除这批新账号的调用,只能逐个删除",
    )
    KNOWLEDGE = ("an uploaded document cannot be removed through this server", "已上传的文档无法通过本服务删除")
