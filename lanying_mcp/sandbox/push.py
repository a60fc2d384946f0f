"""Sandbox push: `/push/*` — records push tasks and their audiences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .core import Call, Fail, Store, route

MAX_TARGETS = 500


@dataclass
class Pushes:
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    enabled: bool = True


def pushes(store: Store) -> Pushes:
    return store.part(Pushes)


@route("POST", "/push/notify")
def notify(call: Call) -> dict[str, Any]:
    if not pushes(call.store).enabled:
        raise Fail(12006, "push is not enabled for this app")
    audience = call.get("audience", required=True)
    message = call.get("message", required=True)
    if not isinstance(message, dict):
        raise Fail(10002, "message must be an object")
    if message.get("type", "text") not in ("text", "image", "cmd"):
        raise Fail(10002, "message.type must be text, image or cmd")
    if message.get("type") == "image":
        url = str(message.get("attachment_url") or "")
        if not url.lower().endswith((".jpg", ".jpeg", ".png")):
            raise Fail(12004, "an image push needs an attachment_url ending in .jpg, .jpeg or .png")
    if audience != "all":
        if not isinstance(audience, dict) or len(audience) != 1:
            raise Fail(10002, 'audience must be "all" or an object with one of tag, alias, user_id, push_token')
        ((kind, targets),) = audience.items()
        if kind not in ("tag", "alias", "user_id", "push_token") or not isinstance(targets, list) or not targets:
            raise Fail(10002, "audience must hold one non-empty list of tag, alias, user_id or push_token")
        if len(targets) > MAX_TARGETS:
            raise Fail(12005, f"the audience list has {len(targets)} entries; at most {MAX_TARGETS} are allowed")
    task_id = call.store.next_id()
    pushes(call.store).tasks[task_id] = {
        "task_id": task_id,
        "audience": audience,
        "message": message,
        "created_at": call.store.now_ms(),
    }
    return {"task_id": task_id}
