"""Approval channels: how a human's yes reaches a confirmed call, and the pending approvals of the page.

The gate (gate.py) decides that a call needs a yes; `channel_for` decides how the human is asked,
per call, from the operator's `LANYING_APPROVAL` and what the client declares:
- `elicitation`: the client asks (a form, both protocol eras);
- `page`: the server keeps a pending approval here and answers `approval_pending`; a human opens the
  approval page (approval_page.py) with a one-time secret the model never sees, and says yes or no;
  the model waits with `await_approval` (or calls again with `approval_id`);
- `askpass`: a local program asks (the SSH_ASKPASS convention); without one configured, refused;
- none (`off`, or `elicitation` with a client that cannot ask): `confirmation_required`.
`auto` is elicitation where the client declares it, the page otherwise.

A pending approval lives in the state store (so a replica can serve the page of another's call) and
holds: the caller and the call's fingerprint (the same seal as an elicited yes), the tool and its
arguments (to run exactly that call once), what the page shows (the preview's facts), the secret's
SHA-256 (never the secret), the form's CSRF token, and the human's decision. Redeeming it takes it
out of the store, so a yes runs one call once; a record past its time is gone, and nothing is sent.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from ..core.spec import DANGER, Operation, Params, f
from ..engine.state import State

APPROVALS = "approval"  # approval ID -> the pending approval (JSON), kept approval_seconds
AWAIT_APPROVAL = "await_approval"
POLL_SECONDS = 0.25  # how often a waiting call looks at the store (the human's answer may come from a replica)
PROGRESS_SECONDS = 5.0  # how often a waiting call tells the client it is still waiting


class Channel(str, enum.Enum):
    """The operator's choice (`LANYING_APPROVAL`); `auto` resolves per call to elicitation or page."""

    AUTO = "auto"
    ELICITATION = "elicitation"
    PAGE = "page"
    ASKPASS = "askpass"
    OFF = "off"


def channel_for(setting: str, can_elicit: bool) -> Channel:
    """The channel one call's question goes to; OFF when none can ask it (the call is refused)."""
    chosen = Channel(setting)
    if chosen is Channel.AUTO:
        return Channel.ELICITATION if can_elicit else Channel.PAGE
    if chosen is Channel.ELICITATION and not can_elicit:
        return Channel.OFF
    return chosen


def may_use_page(setting: str) -> bool:
    """Whether a call could ever be approved outside the protocol here (so await_approval is listed)."""
    return Channel(setting) in (Channel.AUTO, Channel.PAGE, Channel.ASKPASS)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Approvals:
    """Pending approvals in the state store: opened by the gate, decided on the page, redeemed once."""

    def __init__(self, state: State, seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.seconds = seconds
        self.clock = clock
        self.opened: dict[str, float] = {}  # this process's open approvals and when they expire (the listener's life)

    async def open(
        self, *, who: str, call: str, tool: str, arguments: dict[str, Any], page: dict[str, Any]
    ) -> tuple[str, str]:
        """A new pending approval: (its ID, for the model; its secret, for the human's browser only)."""
        secret = secrets.token_urlsafe(24)
        expires = self.clock() + self.seconds
        record = {
            "caller": who,
            "call": call,
            "tool": tool,
            "arguments": arguments,
            "page": page,
            "secret": digest(secret),
            "csrf": secrets.token_urlsafe(24),
            "status": "pending",
            "expires": expires,
        }
        while not await self.state.add(
            APPROVALS, approval_id := "ap_" + secrets.token_hex(6), json.dumps(record), self.seconds
        ):
            pass  # taken (vanishingly rare): draw again
        self.opened[approval_id] = expires
        return approval_id, secret

    async def get(self, approval_id: str) -> dict[str, Any] | None:
        raw = await self.state.get(APPROVALS, approval_id)
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        if record.get("expires", 0) <= self.clock():
            return None
        return record

    async def for_human(self, approval_id: str, secret: str) -> dict[str, Any] | None:
        """The pending approval when `secret` is its own; None otherwise (the page then answers 403)."""
        record = await self.get(approval_id) if approval_id.startswith("ap_") else None
        if record is None or not secret:
            return None
        return record if hmac.compare_digest(record["secret"], digest(secret)) else None

    async def decide(self, approval_id: str, record: dict[str, Any], yes: bool) -> bool:
        """Record the human's answer once; False when it was already given."""
        if record.get("status") != "pending":
            return False
        record["status"] = "approved" if yes else "declined"
        left = record["expires"] - self.clock()
        if left <= 0:
            return False
        await self.state.put(APPROVALS, approval_id, json.dumps(record), left)
        return True

    async def wait(
        self, approval_id: str, seconds: float, progress: Callable[[float, float | None, str | None], Awaitable[None]]
    ) -> dict[str, Any] | None:
        """The approval once the human answered, or as it stands after `seconds`; None when it is gone."""
        start = self.clock()
        told = start
        progress_seconds = PROGRESS_SECONDS  # read at each wait, so a test may shorten it
        while True:
            record = await self.get(approval_id)
            if record is None or record.get("status") != "pending":
                return record
            now = self.clock()
            if now - start >= seconds:
                return record
            if now - told >= progress_seconds:
                told = now
                await progress(round(now - start, 1), seconds, "waiting for the human's answer on the approval page")
            await anyio.sleep(POLL_SECONDS)

    async def redeem(self, approval_id: str, who: str, call: str) -> str | None:
        """Use up an approved approval: None when it was approved, for this caller and this exact call;
        else why it cannot run the call (it is used up in every case: a yes is good once)."""
        raw = await self.state.take(APPROVALS, approval_id)
        self.opened.pop(approval_id, None)
        if raw is None:
            return "the approval expired or was already used"
        record = json.loads(raw)
        if record.get("expires", 0) <= self.clock():
            return "the approval expired"
        if record.get("caller") != who:
            return "the approval was given to another caller"
        if record.get("call") != call:
            return "the approval was given for other arguments"
        if record.get("status") != "approved":
            return "the human did not approve it"
        return None

    async def close(self, approval_id: str) -> None:
        self.opened.pop(approval_id, None)
        await self.state.delete(APPROVALS, approval_id)

    def open_here(self) -> int:
        """How many approvals opened by this process are still within their time."""
        now = self.clock()
        for key in [k for k, t in self.opened.items() if t <= now]:
            del self.opened[key]
        return len(self.opened)


class AwaitApproval(Params):
    approval_id: str = f("From approval_pending.", "来自approval_pending。")


async def _served_by_server(ctx: Any, p: AwaitApproval) -> Any:  # the server answers it (server.await_approval)
    raise RuntimeError("await_approval is answered by the server")


AWAIT_OPERATION = Operation(
    name=AWAIT_APPROVAL,
    http="LOCAL await_approval",
    local=True,
    params=AwaitApproval,
    result=dict[str, Any],  # the result of the call it runs, whatever that is
    handler=_served_by_server,
    hints=DANGER,  # it runs the approved call, which may destroy or send
    toolset="discovery",
    title=("Await approval", "等待审批"),
    description=(
        "After approval_pending: await the human's yes, then run that call once.",
        "收到approval_pending后:等待人工批准,再执行该调用一次。",
    ),
)
