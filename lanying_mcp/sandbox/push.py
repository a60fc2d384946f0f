"""Sandbox push: `/push/*` — records push tasks, their audiences and what became of them.

The delivery model, the same one `check_push_delivery` reads through the API: a push task targets
the existing users its audience names (every user for "all"; users carrying a tag or alias, or
owning a device with the push token). Of those, it is sent to each user who has push on
(`no_push` false), has logged in on at least one device, and is outside their quiet hours
(`no_push_start_hour`-`no_push_end_hour`, by the sandbox's UTC clock; equal hours mean none).
The sandbox has no vendor channels: everything goes through Lanying's own (`mxpush`), and every
push sent arrives, so received equals sent. The counts are users, taken when the push is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.facts import PUSH_MAX_TARGETS
from ..core.json_values import as_array, as_object
from .core import Call, Fail, Routes, Store
from .devices import audience as tagged_users
from .devices import has_device

ROUTES = Routes()


@dataclass
class Pushes:
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict[int, dict[str, Any]])
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
    message = as_object(message)
    if message is None:
        raise Fail(10002, "message must be an object")
    if message.get("type", "text") not in ("text", "image", "cmd"):
        raise Fail(10002, "message.type must be text, image or cmd")
    if message.get("type") == "image":
        url = str(message.get("attachment_url") or "")
        if not url.lower().endswith((".jpg", ".jpeg", ".png")):
            raise Fail(12004, "an image push needs an attachment_url ending in .jpg, .jpeg or .png")
    if audience != "all":
        chosen = as_object(audience)
        if chosen is None or len(chosen) != 1:
            raise Fail(10002, 'audience must be "all" or an object with one of tag, alias, user_id, push_token')
        ((kind, value),) = chosen.items()
        targets = as_array(value)
        if kind not in ("tag", "alias", "user_id", "push_token") or not targets:
            raise Fail(10002, "audience must hold one non-empty list of tag, alias, user_id or push_token")
        if len(targets) > PUSH_MAX_TARGETS:
            raise Fail(12005, f"the audience list has {len(targets)} entries; at most {PUSH_MAX_TARGETS} are allowed")
    task_id = call.store.next_id()
    now = call.store.now_ms()
    targeted = targets_of(call.store, audience)
    sent = [uid for uid in targeted if deliverable(call.store, uid, now)]
    pushes(call.store).tasks[task_id] = {
        "task_id": task_id,
        "audience": audience,
        "message": message,
        "created_at": now,
        "targeted": len(targeted),
        "sent": len(sent),
        "received": len(sent),  # no vendor channel to lose it: what is sent arrives
    }
    return {"task_id": task_id}


STATS = (("target", "targeted"), ("sent", "sent"), ("received", "received"))
CHANNELS = ("mxpush", "apns", "fcm", "huawei", "xiaomi", "oppo", "vivo", "flyme")
PROVIDERS = {1: "apns", 2: "huawei", 3: "xiaomi", 4: "meizu", 5: "vivo", 6: "oppo", 7: "fcm"}


def targets_of(store: Store, audience: Any) -> list[int]:
    """The existing users a push audience names."""
    if audience == "all":
        return list(store.users)
    ((kind, values),) = audience.items()
    if kind == "user_id":
        return [uid for uid in dict.fromkeys(values) if isinstance(uid, int) and uid in store.users]
    return sorted(uid for uid in tagged_users(store, kind, values) if uid in store.users)


def in_quiet_hours(settings: dict[str, Any], now_ms: int) -> bool:
    start, end = settings.get("no_push_start_hour") or 0, settings.get("no_push_end_hour") or 0
    hour = now_ms // 3_600_000 % 24
    if start == end:
        return False
    return start <= hour < end if start < end else hour >= start or hour < end


def deliverable(store: Store, user_id: int, now_ms: int) -> bool:
    """Whether a push made now reaches the user: push on, a device logged in, outside quiet hours."""
    user = store.users.get(user_id)
    if user is None or user.settings.get("no_push"):
        return False
    return has_device(store, user_id) and not in_quiet_hours(user.settings, now_ms)


@ROUTES.route("POST", "/push/task/detail")
def task_detail(call: Call) -> list[dict[str, Any]]:
    """Counts per channel, as taken when the push was made (see the delivery model above)."""
    ids = call.ints("list")
    if not ids:
        raise Fail(10002, "list must name at least one task ID")
    tasks = pushes(call.store).tasks
    out: list[dict[str, Any]] = []
    for task_id in ids:
        task = tasks.get(task_id)
        if task is None:
            continue
        row: dict[str, Any] = {"task_id": task_id}
        for channel in CHANNELS:
            own = channel == "mxpush"
            row.update({f"{channel}_{k}": task[stat] if own else 0 for k, stat in STATS})
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
