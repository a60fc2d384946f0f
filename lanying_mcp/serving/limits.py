"""Calls per minute per caller, counted in the state store so the limit holds across replicas.

A caller is who the request proves it is (`who`): the OAuth subject the resource server validated,
when there is one (`oauth:<sub>`), else the digest of its bearer token and Lanying credentials
(`identity.caller_identity`). Only HTTP calls are limited; over stdio the caller is the local user
who runs the server.

Each caller has one counter per wall-clock minute, `hit` in the store's `calls` namespace. With the
Redis store every replica counts into the same counter, so a caller spread over replicas by a load
balancer still gets `LANYING_CALLS_PER_MINUTE` calls a minute in all. A call over the limit is refused
before anything is sent, with `retry_after`: the seconds left in the minute.

When the store cannot be reached the call is let through (and the server logs it): a limit that
failed closed would turn a store outage into a full outage, reads included, and reads must go on;
writes are refused anyway when their journal entry cannot be written.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from ..core import identity
from ..core.errors import StateError
from ..engine.state import State

log = logging.getLogger("lanying_mcp")

NAMESPACE = "calls"
WINDOW = 60.0  # seconds: the limit is per minute
PRINCIPAL_KEY = "lanying.principal"  # where the OAuth layer leaves the validated principal in the ASGI scope


def principal_subject(scope: Mapping[str, Any] | None) -> str | None:
    """The OAuth subject in an ASGI scope, if the resource server put a validated principal there."""
    if not scope:
        return None
    subject = getattr(scope.get(PRINCIPAL_KEY), "subject", None)
    return subject if isinstance(subject, str) and subject else None


def request_scope(ctx: Any) -> Mapping[str, Any] | None:
    """The ASGI scope of the HTTP request behind an SDK Context, or None (stdio, in-memory)."""
    try:
        request = ctx.request_context.request
    except Exception:  # no request behind this call
        return None
    scope = getattr(request, "scope", None)
    return cast(Mapping[str, Any], scope) if isinstance(scope, Mapping) else None


def who(headers: Mapping[str, str] | None, scope: Mapping[str, Any] | None = None) -> str:
    """The caller a limit counts for: `oauth:<subject>` when a principal was validated, else its identity."""
    subject = principal_subject(scope)
    if subject is not None:
        return "oauth:" + subject
    return identity.caller_identity(headers)


class CallLimiter:
    """Counts each caller's calls per minute in `state`; `check` says how long to wait when over."""

    def __init__(self, state: State, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.per_minute = per_minute
        self.clock = clock

    async def check(self, caller: str) -> float | None:
        """Count one call for `caller`; the seconds until it may call again when this call is over the limit."""
        if self.per_minute <= 0:
            return None
        now = self.clock()
        minute = math.floor(now / WINDOW)
        try:
            # The minute is in the key, so every replica counts into the same window whatever its start;
            # the counter lives a little past its minute, then the store forgets it.
            count = await self.state.hit(NAMESPACE, f"{caller}:{minute}", WINDOW + 5)
        except StateError as exc:
            log.warning("the call limit could not be counted, so the call goes on: %s", exc)
            return None
        if count <= self.per_minute:
            return None
        return max(1.0, (minute + 1) * WINDOW - now)
