"""Sandbox push: `/push/*` — records push tasks and their audiences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..facts import PUSH_MAX_TARGETS
from .core import Call, Fail, Routes, Store

ROUTES = Routes()


@dataclass
class Pushes:
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    enabled: bool = True


def pushes(store: Store) -> Pushes:
    return store.part(Pushes)


@ROUTES.route("POST", "/push/notify")
def notify(call: Call) -> dict[str, Any]:
    if not pushes(call.store).enabled:
        raise Fail(12006, "push is not enabled for this app")
    audience = call.get("audience", required=True)
    message = call.get("message", required=True)
    if audience == "all" and not call.actor.admin:
        # The quick guide lists push under admin operations; the error table's "no permission" fits.
        raise Fail(10010, 'a push to audience "all" needs the admin token')
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
        if len(targets) > PUSH_MAX_TARGETS:
            raise Fail(12005, f"the audience list has {len(targets)} entries; at most {PUSH_MAX_TARGETS} are allowed")
    task_id = call.store.next_id()
    pushes(call.store).tasks[task_id] = {
        "task_id": task_id,
        "audience": audience,
        "message": message,
        "created_at": call.store.now_ms(),
    }
    return {"task_id": task_id}


CHANNELS = ("mxpush", "apns", "fcm", "huawei", "xiaomi", "oppo", "vivo", "flyme")
PROVIDERS = {1: "apns", 2: "huawei", 3: "xiaomi", 4: "meizu", 5: "vivo", 6: "oppo", 7: "fcm"}


def _audience_size(store: Store, audience: Any) -> int:
    if audience == "all":
        return len(store.users)
    ((_, targets),) = audience.items()
    return len(targets)


@ROUTES.route("POST", "/push/task/detail")
def task_detail(call: Call) -> list[dict[str, Any]]:
    """The sandbox has no vendor channels: every push goes through Lanying's own and arrives."""
    ids = call.ints("list")
    if not ids:
        raise Fail(10002, "list must name at least one task ID")
    tasks = pushes(call.store).tasks
    out = []
    for task_id in ids:
        task = tasks.get(task_id)
        if task is None:
            continue
        reached = _audience_size(call.store, task["audience"])
        row: dict[str, Any] = {"task_id": task_id}
        for channel in CHANNELS:
            count = reached if channel == "mxpush" else 0
            row.update({f"{channel}_target": count, f"{channel}_sent": count, f"{channel}_received": count})
        out.append(row)
    return out


@ROUTES.route("GET", "/push/certificate")
def certificate(call: Call) -> dict[str, Any]:
    if not call.actor.admin:
        raise Fail(10010, "push certificates need the admin token")
    provider = call.int("provider", "query")
    environment = call.int("environment", "query", required=False, default=1)
    if provider not in PROVIDERS or environment not in (0, 1):
        raise Fail(10002, "provider must be 1..7 and environment 0 or 1")
    vendor = PROVIDERS[provider]
    stage = "prod" if environment else "dev"
    return {
        "name": f"sandbox-{vendor}-{stage}",
        "app_id": f"{call.store.app_id}-{vendor}",
        "app_key": f"{vendor}-key-{stage}",
        "app_secret": f"{vendor}-secret-{stage}",
        "certificate": "-----BEGIN CERTIFICATE-----\nsandbox\n-----END CERTIFICATE-----" if provider == 1 else "",
    }


def forget_user(store: Store, user_id: int) -> None:
    """Push tasks are history: a deleted user stays counted in the tasks already sent."""
