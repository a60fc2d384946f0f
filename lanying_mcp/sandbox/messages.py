"""Sandbox messages: `/message/*` and conversation pins, with per-user read state and history.

A conversation is named, for each participant, by the other side: the peer's user ID for
one-to-one chats (0 for notices from the system admin), the group ID for group chats. IDs come
from one counter, so message order is msg_id order and users and groups never share an ID.
Read state, deleted conversations and pins are per user and kept as msg_id watermarks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..core import facts
from . import groups as G
from . import roster
from .core import Call, Fail, Reply, Routes, Store

ROUTES = Routes()

CTYPES = {
    0: "TEXT",
    1: "IMAGE",
    2: "AUDIO",
    3: "VIDEO",
    4: "FILE",
    5: "LOCATION",
    6: "COMMAND",
    7: "FORWARD",
    9: "READ_ACK",
    10: "RECALL",
    11: "APPEND",
    12: "REPLACE",
}


@dataclass
class Message:
    msg_id: int
    from_uid: int  # 0 = the system admin
    to_id: int
    chat_type: str  # CHAT | GROUPCHAT
    content: str
    ctype: str
    timestamp: int
    attachment: str = ""
    ext: str = ""
    config: str = ""
    status: str = "UNREAD"  # one-to-one messages: READ once the recipient acknowledged it
    system: bool = False
    recalled: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "msg_id": self.msg_id,
            "from_xid": {"uid": self.from_uid, "device_sn": 0},
            "to_xid": {"uid": self.to_id, "device_sn": 0},
            "ctype": self.ctype,
            "content": self.content,
            "attachment": self.attachment or None,
            "ext": self.ext or None,
            "config": self.config or None,
            "timestamp": self.timestamp,
            "status": self.status,
        }

    def conversation_for(self, user: int) -> int:
        """The conversation ID this message belongs to, as `user` sees it."""
        if self.chat_type == "GROUPCHAT":
            return self.to_id
        return self.from_uid if self.to_id == user else self.to_id


@dataclass
class Messages:
    log: list[Message] = field(default_factory=list[Message])
    by_id: dict[int, Message] = field(default_factory=dict[int, Message])
    transactions: dict[tuple[int, int], list[int]] = field(
        default_factory=dict[tuple[int, int], list[int]]
    )  # (sender, txn) -> msg ids
    read_upto: dict[tuple[int, int], int] = field(
        default_factory=dict[tuple[int, int], int]
    )  # (user, conversation) -> last read msg_id
    cleared: dict[tuple[int, int], int] = field(
        default_factory=dict[tuple[int, int], int]
    )  # (user, conversation) -> hidden up to msg_id
    pins: dict[int, list[int]] = field(
        default_factory=dict[int, list[int]]
    )  # user -> pinned conversation IDs, in pin order

    def newest_id(self) -> int:
        return self.log[-1].msg_id if self.log else 0


def messages(store: Store) -> Messages:
    return store.part(Messages)


def log_since(store: Store, index: int) -> list[Message]:
    """The messages recorded after the log held `index` of them (see `log_size`)."""
    return messages(store).log[index:]


def log_size(store: Store) -> int:
    return len(messages(store).log)


def forget_user(store: Store, user_id: int) -> None:
    """The messages area's part of deleting a user: their read state, deletions and pins.

    The log keeps their messages (the other side's history still holds them), but no one's unread
    list names a conversation with a deleted user, and everyone's pin on them goes.
    """
    box = messages(store)
    for table in (box.read_upto, box.cleared):
        for key in [k for k in table if user_id in k]:
            del table[key]
    box.pins.pop(user_id, None)
    for pins in box.pins.values():
        if user_id in pins:
            pins.remove(user_id)


def _json_string(call: Call, name: str) -> str:
    value = call.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Fail(10002, f"{name} must be a JSON-encoded string")
    try:
        json.loads(value)
    except json.JSONDecodeError:
        raise Fail(10002, f"{name} is not valid JSON") from None
    return value


def record(store: Store, sender: int, to_id: int, chat_type: str, content: str, ctype: str, **extra: Any) -> Message:
    """Store one message in the log; every path that creates messages goes through here."""
    msg = Message(store.next_id(), sender, to_id, chat_type, content, ctype, store.now_ms(), **extra)
    box = messages(store)
    box.log.append(msg)
    box.by_id[msg.msg_id] = msg
    return msg


def deliver(call: Call, *, system: bool = False) -> Reply:
    """Shared by /message/send and /message/notify (and the AI send)."""
    targets = call.ints("targets")
    if not targets:
        raise Fail(10002, "targets must name at least one user or group")
    ttype = call.int("type")
    ctype_num = call.int("content_type")
    content = call.body_fields().get("content")
    if not isinstance(content, str):
        raise Fail(10002, "missing required parameter 'content' (body): give a string, empty for a file message")
    if ttype not in facts.MESSAGE_TYPES or ctype_num not in CTYPES:
        raise Fail(10002, "type must be 1 or 2 and content_type a documented value")
    store = call.store
    sender = call.int("from_user_id", required=False)
    if sender is None:
        sender = call.actor.user_id or 0
    elif not call.actor.admin and sender != call.actor.user_id:
        raise Fail(10010, "only the admin token may send as another user")
    if sender:
        store.user(sender)
        if store.users[sender].status == 1:
            raise Fail(10010, f"user {sender} is disabled")
    txn = call.int("transaction_id", required=False)
    box = messages(store)
    if txn is not None and (sender, txn) in box.transactions:
        return Reply(True, {"msg_ids": box.transactions[(sender, txn)]})
    for tid in targets:  # validate every target before delivering to any
        if ttype == 1:
            store.user(tid)
            if sender and not system and roster.separated(store, sender, tid):
                raise Fail(10006, f"user {tid} and user {sender} are separated by a blacklist")
        else:
            g = G.get_group(call, tid)
            if sender and not system:
                if sender not in g.members:
                    raise Fail(20002, f"user {sender} is not a member of group {tid}")
                m = g.members[sender]
                now_ms = store.now_ms()
                if m.mute_until == -1 or m.mute_until > now_ms:
                    raise Fail(20011, f"user {sender} is muted in group {tid}")
                if (
                    g.ban_all_until
                    and g.role(sender) < G.ADMIN
                    and (g.ban_all_until == -1 or g.ban_all_until * 1000 > now_ms)
                ):
                    raise Fail(20011, f"group {tid} is muted for members (ban all)")
    extra = {
        "attachment": _json_string(call, "attachment"),
        "ext": _json_string(call, "ext"),
        "config": _json_string(call, "config"),
        "system": system,
    }
    chat_type = "CHAT" if ttype == 1 else "GROUPCHAT"
    ids = [record(store, sender, tid, chat_type, content, CTYPES[ctype_num], **extra).msg_id for tid in targets]
    if txn is not None:
        box.transactions[(sender, txn)] = ids if len(ids) == 1 else []
    return Reply(True, {"msg_ids": ids if len(ids) == 1 else []})


@ROUTES.route("POST", "PUT", "/message/send")
def send(call: Call) -> Reply:
    return deliver(call)


@ROUTES.route("POST", "PUT", "/message/notify")
def notify(call: Call) -> Reply:
    if not call.actor.admin:
        raise Fail(10010, "system notices need the admin token")
    return deliver(call, system=True)


@ROUTES.route("POST", "/message/broadcast")
def broadcast(call: Call) -> dict[str, Any]:
    if not call.actor.admin:
        raise Fail(10010, "a broadcast needs the admin token")
    if call.int("type") != 1:
        raise Fail(10002, "type must be 1 (ordinary users)")
    ctype_num = call.int("content_type")
    if not 0 <= ctype_num <= facts.BROADCAST_CONTENT_TYPE_MAX:
        raise Fail(10002, "a broadcast's content_type is 0..6")
    store = call.store
    sender = call.actor.user_id or 0
    content = call.str("content", required=False, default="")
    extra = {
        "attachment": _json_string(call, "attachment"),
        "ext": _json_string(call, "ext"),
        "config": _json_string(call, "config"),
        "system": True,
    }
    sent = 0
    for uid in sorted(store.users):
        if uid != sender:
            record(store, sender, uid, "CHAT", content, CTYPES[ctype_num], **extra)
            sent += 1
    return {"send_num": sent, "success": True}


@ROUTES.route("POST", "PUT", "/message/recall")
def recall(call: Call) -> bool:
    conversation = call.int("conversation_id")
    msg = messages(call.store).by_id.get(call.int("msg_id"))
    if msg is None or msg.recalled:
        raise Fail(10002, "no such message (or it was already recalled)")
    actor = call.actor
    is_sender = actor.user_id is not None and actor.user_id == msg.from_uid
    if msg.chat_type == "GROUPCHAT":
        if conversation != msg.to_id:
            raise Fail(10002, f"message {msg.msg_id} is not in conversation {conversation}")
        level = G.caller_level(call, G.get_group(call, msg.to_id))
        if not (is_sender or level >= G.ADMIN):
            if level == 0:
                raise Fail(20002, "only members of the group may recall its messages")
            raise Fail(20012, "only the sender or a group admin may recall this message")
    else:
        sides = {msg.from_uid, msg.to_id}
        expected = {msg.conversation_for(actor.user_id)} if actor.user_id in sides else sides
        if conversation not in expected:
            raise Fail(10002, f"message {msg.msg_id} is not in conversation {conversation}")
        if not (is_sender or actor.is_app_admin):
            raise Fail(10010, "only the sender or the app admin may recall this message")
    msg.recalled = True
    return True


def _check_conversation(call: Call, conversation: int) -> None:
    """A conversation names a group or a user; 0 is the system admin's notices.

    A destroyed group's ID answers 20001 (group does not exist), not 10000 (user does not exist).
    """
    if conversation == 0 or G.find_group(call.store, conversation) is not None:
        return
    if G.was_destroyed(call.store, conversation):
        raise Fail(20001, f"group {conversation} does not exist (it was destroyed)")
    call.store.user(conversation)


def _visible(call: Call, user: int, msg: Message) -> bool:
    """Whether `user` sees `msg` in their conversation list (membership, history visibility, deletion)."""
    if msg.recalled:
        return False
    conversation = msg.conversation_for(user)
    if msg.msg_id <= messages(call.store).cleared.get((user, conversation), 0):
        return False
    if msg.chat_type == "CHAT":
        return user in (msg.from_uid, msg.to_id)
    g = G.find_group(call.store, msg.to_id)
    member = g.members.get(user) if g else None
    if g is None or member is None:
        return False
    return g.history_visible or msg.timestamp >= member.join_time


def _status(box: Messages, msg: Message, viewer: int | None) -> str:
    if viewer is None or msg.from_uid == viewer or msg.chat_type == "CHAT":
        return msg.status
    return "READ" if msg.msg_id <= box.read_upto.get((viewer, msg.to_id), 0) else "UNREAD"


@ROUTES.route("GET", "/message/conversation")
def history(call: Call) -> dict[str, Any]:
    opposite = call.int("opposite_id", "query")
    start = call.int("msg_id_start", "query")  # required by the Swagger; 0 = from the newest
    limit = call.int("limit", "query")
    if limit <= 0 or start < 0:
        raise Fail(10002, "limit must be positive and msg_id_start 0 or a message ID")
    box = messages(call.store)
    g = G.find_group(call.store, opposite)
    viewer = call.actor.user_id
    if g is not None:
        if G.caller_level(call, g) == 0:
            raise Fail(20002, f"user {viewer} is not a member of group {opposite}")
        found = [m for m in box.log if m.chat_type == "GROUPCHAT" and m.to_id == opposite]
        if viewer is None:  # the app admin, or the admin token acting as the group's admin: everything
            found = [m for m in found if not m.recalled]
        else:
            found = [m for m in found if _visible(call, viewer, m)]
    else:
        viewer = call.acting_user()
        assert viewer is not None
        _check_conversation(call, opposite)
        found = [
            m
            for m in box.log
            if m.chat_type == "CHAT" and m.conversation_for(viewer) == opposite and _visible(call, viewer, m)
        ]
    older = [m for m in reversed(found) if not start or m.msg_id <= start]
    chunk, rest = older[:limit], older[limit:]
    views: list[dict[str, Any]] = []
    for m in chunk:
        v = m.view()
        v["status"] = _status(box, m, viewer)
        views.append(v)
    return {"messages": views, "next_msg_id": rest[0].msg_id if rest else None, "is_last": not rest}


@ROUTES.route("DELETE", "/message/conversation")
def delete_conversation(call: Call) -> bool:
    user = call.acting_user()
    assert user is not None
    conversation = call.int("conversation_id", "query")
    _check_conversation(call, conversation)
    box = messages(call.store)
    box.cleared[(user, conversation)] = box.newest_id()
    return True


@ROUTES.route("GET", "/message/ack")
def ack(call: Call) -> bool:
    reader = call.acting_user()
    assert reader is not None
    conversation = call.int("conversation_id", "query", required=False)
    msg_id = call.int("msg_id", "query", required=False)
    call.int("device_sn", "query", required=False)
    box = messages(call.store)
    if msg_id is not None:
        msg = box.by_id.get(msg_id)
        if msg is None:
            raise Fail(10002, f"message {msg_id} does not exist")
        if msg.chat_type == "CHAT" and reader not in (msg.from_uid, msg.to_id):
            raise Fail(10002, f"message {msg_id} is not in a conversation of user {reader}")
        if msg.chat_type == "GROUPCHAT" and reader not in G.get_group(call, msg.to_id).members:
            raise Fail(20002, f"user {reader} is not a member of group {msg.to_id}")
        if conversation is not None and conversation != msg.conversation_for(reader):
            raise Fail(10002, f"message {msg_id} is not in conversation {conversation}")
        conversation, upto = msg.conversation_for(reader), msg_id
    elif conversation is not None:
        _check_conversation(call, conversation)
        upto = box.newest_id()
    else:
        # Every parameter is optional in the Swagger; with none, the sandbox reads everything the
        # reader has (its documented guess: an ack without a target acknowledges all conversations).
        for other in {m.conversation_for(reader) for m in box.log if _visible(call, reader, m)}:
            _mark_read(box, reader, other, box.newest_id())
        return True
    _mark_read(box, reader, conversation, upto)
    return True


def _mark_read(box: Messages, reader: int, conversation: int, upto: int) -> None:
    key = (reader, conversation)
    box.read_upto[key] = max(box.read_upto.get(key, 0), upto)
    for m in box.log:
        if m.chat_type == "CHAT" and m.to_id == reader and m.from_uid == conversation and m.msg_id <= upto:
            m.status = "READ"


@ROUTES.route("GET", "/message/unread")
def unread(call: Call) -> list[dict[str, Any]]:
    user = call.acting_user()
    assert user is not None
    box = messages(call.store)
    latest: dict[int, int] = {}
    counts: dict[int, int] = {}
    for m in box.log:
        if not _visible(call, user, m):
            continue
        conversation = m.conversation_for(user)
        if m.chat_type == "CHAT" and conversation and conversation not in call.store.users:
            continue  # the peer was deleted: its history answers 10000, so it is not listed either
        latest[conversation] = m.msg_id
        fresh = m.from_uid != user and m.msg_id > box.read_upto.get((user, conversation), 0)
        counts[conversation] = counts.get(conversation, 0) + int(fresh)
    order = sorted(latest, key=latest.__getitem__, reverse=True)
    return [{"conversation_id": {"uid": c}, "num": counts[c]} for c in order]


@ROUTES.route("POST", "PUT", "/user/conversation/pin")
def pin(call: Call) -> bool:
    user = call.acting_user()
    assert user is not None
    conversation = call.int("conversation_id")
    _check_conversation(call, conversation)
    pins = messages(call.store).pins.setdefault(user, [])
    if conversation not in pins:
        pins.append(conversation)
    return True


@ROUTES.route("POST", "PUT", "/user/conversation/unpin")
def unpin(call: Call) -> bool:
    user = call.acting_user()
    assert user is not None
    pins = messages(call.store).pins.setdefault(user, [])
    conversation = call.int("conversation_id")
    if conversation in pins:
        pins.remove(conversation)
    return True


@ROUTES.route("GET", "/user/conversation/pin_list")
def pin_list(call: Call) -> dict[str, Any]:
    user = call.acting_user()
    assert user is not None
    return {"conversation_ids": list(messages(call.store).pins.get(user, []))}
