"""A call resolved once, at the edge: where it goes, what really runs, with which arguments, and why it is risky.

A tool call is resolved once per request (`checks.resolve`, after `routing.Router.route`): the
confirmation question, the grant's fingerprint, the approval page's preview, `dispatch.execute` and the
change journal all read this one value instead of routing, validating and deciding again from the raw
arguments. The value is immutable: what a human was asked about is exactly what runs.

This module is the ground floor: it knows operations and params (spec.py), nothing that runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ..core.spec import Operation, Params, Risk

if TYPE_CHECKING:
    from .client import LanyingClient

__all__ = ["ResolvedCall", "Route"]


class Route(NamedTuple):
    """Where a call goes: the client of its app, the arguments without routing-only ones, and the
    operation that will really run with its arguments (for a meta-tool, the one it names; None when the
    call names none it can run)."""

    client: LanyingClient
    arguments: dict[str, Any]
    target: Operation | None
    target_arguments: dict[str, Any]


@dataclass(frozen=True)
class ResolvedCall:
    """One call, resolved once: routed, its target found, its arguments validated, its risks decided.

    `params` are the target's validated arguments (usernames already turned into user IDs); when they do
    not validate, `error` says why and the call reports it before anything is sent. `risks` is the one
    consent decision (groups counted by their members when a yes is asked for); `fingerprint` identifies
    the exact call a yes covers, set when the call needs one. `allowed` is False when the operator's policy
    or the caller's token scopes refuse the call: it is refused when it runs, and no human is asked.

    `before` and `requests` are filled by the change journal (the targets as read before the write, the
    requests it sends); they stay empty until then.
    """

    op: Operation  # the tool called
    given: Mapping[str, Any]  # the arguments as the tool received them
    route: Route
    params: Params | None = None
    error: Exception | None = None
    allowed: bool = True
    risks: tuple[Risk, ...] = ()
    fingerprint: str | None = None
    before: Any = None
    requests: tuple[Any, ...] = ()

    @property
    def target(self) -> Operation | None:
        return self.route.target

    @property
    def arguments(self) -> dict[str, Any]:
        """The target's arguments as routed (before usernames were resolved): what the audit log records."""
        return self.route.target_arguments

    def runs(self, op: Operation) -> bool:
        """Whether this value describes a call of `op` with arguments that were resolved (not a meta-call's)."""
        return self.route.target is op and (self.params is not None or self.error is not None)

    def made_for(self, op: Operation, given: Mapping[str, Any]) -> bool:
        """Whether this value was resolved for this tool and exactly these arguments."""
        return self.op is op and dict(self.given) == dict(given)
