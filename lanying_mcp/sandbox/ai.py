"""Sandbox ai: `/ai/message/send` with a deterministic chatbot.

Any user can be a chatbot. It answers each question with an echo that says how many knowledge
documents it has been given, counting what `upload_knowledge_document` sends: file messages and
web-page URLs whose `ext` carries `{"ai": {"metadata": …}}`. So a test can watch uploads arrive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from . import messages as M
from .core import Call, Fail, Routes, Store

ROUTES = Routes()

QUOTA_PER_REPLY = 1.0


@dataclass
class Chatbots:
    answered: dict[tuple[int, int], dict[str, Any]] = field(
        default_factory=dict[tuple[int, int], dict[str, Any]]
    )  # (asker, txn) -> reply


def chatbots(store: Store) -> Chatbots:
    return store.part(Chatbots)


def _is_knowledge(msg: M.Message) -> bool:
    if msg.recalled or not msg.ext:
        return False
    try:
        ext = json.loads(msg.ext)
    except json.JSONDecodeError:
        return False
    ai = cast(dict[str, Any], ext).get("ai") if isinstance(ext, dict) else None  # a JSON object
    if not isinstance(ai, dict) or "metadata" not in ai:
        return False
    return msg.ctype == "FILE" or (msg.ctype == "TEXT" and msg.content.startswith(("http://", "https://")))


def knowledge_count(store: Store, bot: int) -> int:
    return sum(1 for m in M.log_since(store, 0) if m.chat_type == "CHAT" and m.to_id == bot and _is_knowledge(m))


@ROUTES.route("POST", "PUT", "/ai/message/send")
def ask(call: Call) -> dict[str, Any]:
    if call.int("type") != 1:
        raise Fail(10002, "chatbots are addressed one to one: type must be 1 and targets chatbot user IDs")
    asker = call.int("from_user_id", required=False) or call.actor.user_id
    if not asker:
        raise Fail(10002, "say who asks: from_user_id, the user_id header, or a user token")
    store = call.store
    txn = call.int("transaction_id", required=False)
    bots = chatbots(store)
    if txn is not None and (asker, txn) in bots.answered:
        return bots.answered[(asker, txn)]
    before = M.log_size(store)
    M.deliver(call)
    replies: list[dict[str, Any]] = []
    for question in M.log_since(store, before):
        bot = question.to_id
        docs = knowledge_count(store, bot)
        text = (
            f"[sandbox chatbot {bot}] You asked: {question.content!r}. "
            f"My knowledge base holds {docs} document{'s' if docs != 1 else ''}."
        )
        reply = M.record(store, bot, asker, "CHAT", text, "TEXT")
        view = reply.view()
        view.pop("status")
        view["type"] = reply.chat_type  # the AI reply message documents `type`; history messages do not
        replies.append(view)
    answer: dict[str, Any] = {"message_quota_usage": QUOTA_PER_REPLY * len(replies), "messages": replies}
    if txn is not None:
        bots.answered[(asker, txn)] = answer
    return answer


def forget_user(store: Store, user_id: int) -> None:
    """Chatbot answers are messages; the messages area keeps them."""
