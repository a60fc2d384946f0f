"""Which operations an OAuth token's scopes let a caller list and run.

Three levels, each adding to the one below; the scope names are settings (defaults in brackets):
- read [`lanying:read`]: reads, and the local tools that send nothing (search, schemas, previews);
- write [`lanying:write`]: writes, `apply_plan` and `undo_change` (each step is decided again below);
- admin [`lanying:admin`]: destructive calls, account takeover, secrets handed out, and mass reach.

A token holds the highest level whose scope it carries (admin includes write, write includes read).
Reach depends on the arguments, so a sending tool is listed under write and a call that reaches
everyone or more people than the policy's threshold needs admin: `needed` decides on the operation
that will really run and its validated arguments, whichever path the call took (directly, through
`call_tool`, a step of `apply_plan`, or an inverse of `undo_change`). Scopes only narrow what the
operator's selection and policy allow; a server without OAuth has no scopes and nothing is narrowed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ..core.spec import Operation, Params, Risk
from . import consent
from .policy import Policy


class Level(enum.IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2
    ADMIN = 3


# Risks that only the admin scope may take, whatever the operation's hints say.
ADMIN_RISKS = frozenset({Risk.DESTRUCTIVE, Risk.TAKEOVER, Risk.SECRET})
# Risks of reach, decided by the arguments at call time.
MASS_RISKS = frozenset({Risk.EVERYONE, Risk.REACH, Risk.POWER})


@dataclass(frozen=True)
class ScopeNames:
    read: str = "lanying:read"
    write: str = "lanying:write"
    admin: str = "lanying:admin"

    def name(self, level: Level) -> str:
        return {Level.READ: self.read, Level.WRITE: self.write, Level.ADMIN: self.admin}.get(level, self.read)

    def level(self, scopes: Iterable[str]) -> Level:
        """The highest level these scopes grant (admin includes write, write includes read)."""
        held = set(scopes)
        for level in (Level.ADMIN, Level.WRITE, Level.READ):
            if self.name(level) in held:
                return level
        return Level.NONE

    def all(self) -> list[str]:
        return [self.read, self.write, self.admin]


def listed_level(op: Operation) -> Level:
    """The level at which a tool is listed: what its every call needs, before its arguments are known."""
    if op.local:
        # apply_plan and undo_change make writes, and await_approval runs a confirmed one (a read never needs
        # a yes); search, schemas, previews and explanations send nothing.
        return Level.WRITE if op.plan or op.expands is not None or op.hints.destructive else Level.READ
    if op.hints.destructive or ADMIN_RISKS & set(op.consent.risks):
        return Level.ADMIN
    return Level.READ if op.hints.read_only else Level.WRITE


def needed(op: Operation, params: Params, policy: Policy | None = None) -> tuple[Level, str]:
    """The level this exact call needs, and why (for the refusal); decided on its validated arguments."""
    level = listed_level(op)
    if level is Level.ADMIN:
        risky = [r.value for r in consent.risks(op, params, policy) if r in ADMIN_RISKS] or ["destructive"]
        return level, ", ".join(risky)
    if not op.local and not op.hints.read_only:
        mass = [r.value for r in consent.risks(op, params, policy) if r in MASS_RISKS]
        if mass:
            return Level.ADMIN, "reach: " + ", ".join(mass)
    return level, "writes" if level is Level.WRITE else "reads"


def refusal(op: Operation, params: Params, held: Level, names: ScopeNames, policy: Policy | None = None) -> str | None:
    """Why a token at level `held` may not make this call, naming the scope it needs; None when it may."""
    level, why = needed(op, params, policy)
    if held >= level:
        return None
    return (
        f"{op.name} needs the OAuth scope {names.name(level)!r} ({why}) and this access token does not carry it; "
        f"nothing was done. Ask the server's operator for the scope, or sign in again with it"
    )


@dataclass(frozen=True)
class Access:
    """What one OAuth token may do: its level, and the scope names to name in a refusal."""

    held: Level
    names: ScopeNames

    @classmethod
    def of(cls, scopes: Iterable[str], names: ScopeNames) -> Access:
        return cls(names.level(scopes), names)

    def may_list(self, op: Operation) -> bool:
        return self.held >= listed_level(op)

    def refusal(self, op: Operation, params: Params, policy: Policy | None = None) -> str | None:
        return refusal(op, params, self.held, self.names, policy)
