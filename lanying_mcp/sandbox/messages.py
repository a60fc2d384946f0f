"""Sandbox messages: `/message/*` with per-conversation history and transaction de-duplication."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import groups as G
from .core import Call, Fail, Reply, Store, route

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
    status: str = "UNREAD"
    system: bool = False
    recalled: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "msg_id": self.msg_id,
            "from_xid": {"uid": self.from_uid, "device_sn": 0},
            "to_xid": {"uid": self.to_id, "device_sn": 0},
            "type": self.chat_type,
            "ctype": self.ctype,
            "content": self.content,
            "attachment": self.attachment or None,
            "ext": self.ext or None,
            "config": self.config or None,
            "timestamp": self.timestamp,
            "status": self.status,
        }


@dataclass
class Messages:
    log: list[Message] = field(default_factory=list)
    by_id: dict[int, Message] = field(default_factory=dict)
    transactions: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (sender, txn) -> msg ids


def messages(store: Store) -> Messages:
    return store.part(Messages)


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


def deliver(call: Call, *, system: bool = False) -> Reply:
    """Shared by /message/send and /message/notify (and the AI send)."""
    targets = call.ints("targets")
    if not targets:
        raise Fail(10002, "targets must name at least one user or group")
    ttype = call.int("type")
    ctype_num = call.int("content_type", default=0)
    if ttype not in (1, 2) or ctype_num not in CTYPES:
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
    ids = []
    for tid in targets:
        msg = Message(
            store.next_id(),
            sender,
            tid,
            "CHAT" if ttype == 1 else "GROUPCHAT",
            call.str("content", required=False, default=""),
            CTYPES[ctype_num],
            store.now_ms(),
            attachment=_json_string(call, "attachment"),
            ext=_json_string(call, "ext"),
            config=_json_string(call, "config"),
            system=system,
        )
        box.log.append(msg)
        box.by_id[msg.msg_id] = msg
        ids.append(msg.msg_id)
    if txn is not None:
        box.transactions[(sender, txn)] = ids if len(ids) == 1 else []
    return Reply(True, {"msg_ids": ids if len(ids) == 1 else []})


@route("POST", "PUT", "/message/send")
def send(call: Call) -> Reply:
    return deliver(call)
