"""The one decision: does this exact call, with these arguments, need a human's yes — and why.

Every path that runs an operation asks `risks()` with the operation that will really run and its
validated arguments: the MCP gate before a direct call or discovery's `call_tool`, the `call` CLI
before `--yes` is taken into account, and `dispatch.execute` itself, which refuses a risky call that
carries no matching `Grant`. So a path that forgets to ask fails closed instead of running ungated.

The rules are data on the operation (see `spec.Consent` and `spec.Audience`):
- the destructive hint;
- declared risks: account takeover, a secret handed to the model, a power grant (admin rights, a
  device or alias binding);
- an audience that means everyone (all devices, broadcast), or more people than the threshold: a
  group counts as its members (`group_sizes` reads them; a group whose size cannot be read counts as
  more than any threshold, so a failed look-up asks instead of letting the call through);
- friendships made without asking (`Consent.grants`) for more people than the threshold;
- the operator's `confirm_tools`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..core.spec import Audience, Operation, Params, Risk
from .policy import DEFAULT_REACH, Policy, named

QUESTION_SECONDS = 300.0  # how long a question stays answerable (its nonce and its sealed request state)
GRANT_SECONDS = 120.0  # how long a yes stays usable after the answer arrives


def everyone(audience: Audience, params: Params) -> bool:
    """Whether the call reaches every user or device of the app."""
    if audience.everyone is True:
        return True
    return isinstance(audience.everyone, str) and bool(getattr(params, audience.everyone, False))


def carries_text(audience: Audience, params: Params) -> bool:
    """Whether the call delivers words of its own: always, unless the audience names optional text fields."""
    return not audience.text or any(value != "" for name in audience.text for value in named(params, name))


UNBOUNDED = 10**12  # the reach of a group whose size is not known: more than any threshold


def group_ids(audience: Audience, params: Params) -> list[int]:
    """The distinct group IDs a delivery names."""
    found = [g for name in audience.groups for g in named(params, name) if isinstance(g, int)]
    return list(dict.fromkeys(found))


def recipients(audience: Audience, params: Params, sizes: Mapping[int, int] | None = None) -> int:
    """How many recipients the call reaches: users, tags, aliases and push tokens count once each; a group
    counts as its members when `sizes` (from `group_sizes`) is given, and as UNBOUNDED when its size is not
    in it; without `sizes`, a group counts once (a lower bound, for callers that cannot read)."""
    names = (*audience.users, *audience.tags, *audience.aliases, *audience.tokens)
    count = sum(len(named(params, name)) for name in names)
    groups = group_ids(audience, params)
    if sizes is None:
        return count + len(groups)
    return count + sum(sizes.get(g, UNBOUNDED) for g in groups)


def threshold(policy: Policy | None) -> int:
    return policy.confirm_reach if policy is not None else DEFAULT_REACH


def needs_sizes(op: Operation, params: Params, policy: Policy | None = None) -> bool:
    """Whether the call's reach depends on how many members its groups have (read them before deciding)."""
    audience = op.audience
    if op.local or audience is None or not audience.groups or everyone(audience, params):
        return False
    if not carries_text(audience, params) or not group_ids(audience, params):
        return False
    return recipients(audience, params) <= threshold(policy)  # above it already without reading


def risks(
    op: Operation, params: Params, policy: Policy | None = None, sizes: Mapping[int, int] | None = None
) -> tuple[Risk, ...]:
    """Why this call needs a human's yes; empty when it does not. `sizes`: its groups' member counts."""
    if op.local:
        return ()
    found: list[Risk] = []
    if op.hints.destructive:
        found.append(Risk.DESTRUCTIVE)
    found += [r for r in op.consent.risks if r not in found]
    if op.audience is not None:
        if everyone(op.audience, params):
            found.append(Risk.EVERYONE)
        elif carries_text(op.audience, params) and recipients(op.audience, params, sizes) > threshold(policy):
            found.append(Risk.REACH)
    if op.consent.grants and sum(len(named(params, name)) for name in op.consent.grants) > threshold(policy):
        found.append(Risk.POWER)
    if policy is not None and op.name in policy.confirm_tools:
        found.append(Risk.POLICY)
    return tuple(dict.fromkeys(found))


def may_ask(op: Operation, policy: Policy | None = None) -> bool:
    """Whether any call of `op` could need a yes (a tool that never can is built without a gate)."""
    if op.runs is not None or op.expands is not None or op.plan:
        return True  # a meta-tool asks on behalf of whatever it runs
    if op.local:
        return False
    return bool(
        op.hints.destructive
        or op.consent.risks
        or op.consent.grants
        or op.audience is not None
        or (policy is not None and op.name in policy.confirm_tools)
    )


def fingerprint(op: Operation, params: BaseModel) -> str:
    """Identifies one exact call: the operation and its validated arguments."""
    body = params.model_dump_json(round_trip=True)
    return hashlib.sha256(f"{op.name}\0{body}".encode()).hexdigest()


@dataclass(frozen=True)
class Grant:
    """A human's yes (or the operator's --yes) for exact calls; anything else stays refused.

    `expires` (a `time.time()` value) ends a yes given to a question: it covers nothing afterwards."""

    calls: frozenset[str] = field(default_factory=frozenset[str])
    expires: float | None = None

    @classmethod
    def of(cls, pairs: Iterable[tuple[Operation, BaseModel]], expires: float | None = None) -> Grant:
        return cls(frozenset(fingerprint(op, params) for op, params in pairs), expires)

    def covers(self, op: Operation, params: BaseModel) -> bool:
        return self.has(fingerprint(op, params))

    def has(self, call: str) -> bool:
        """Whether the yes, still in time, covers the call with this fingerprint."""
        if self.expires is not None and time.time() >= self.expires:
            return False
        return call in self.calls


def target(
    op: Operation, arguments: dict[str, Any], catalogue: dict[str, Operation], validate: Any
) -> tuple[Operation | None, dict[str, Any]]:
    """The operation a call will really run, and its arguments: for a meta-tool, the one it names.

    `validate(op, arguments)` is dispatch's validator; a meta-call whose own arguments are invalid, or
    that names no known operation, has no target (it fails on its own without reaching the API).
    """
    if op.runs is None:
        return op, arguments
    try:
        name, inner = op.runs(validate(op, arguments))
    except Exception:
        return None, {}
    nested = catalogue.get(name)
    if nested is None or nested.runs is not None:
        return None, {}  # unknown, or a meta-tool running a meta-tool: refused when it runs
    return nested, inner
