"""Operator policy: what an agent may do with this server, checked before any HTTP call.

A TOML or JSON file (`--policy FILE` / LANYING_POLICY):

    deny_tools = ["delete_user", "broadcast_message"]   # refused (and not listed)
    confirm_tools = ["send_message"]                    # ask the human first, like destructive tools
    confirm_reach = 1000                                # ask before delivering to more recipients than this

    [allow]                        # when present, messages and pushes may only go to these
    users = [2302128618880]        # user IDs an agent may message or push to
    groups = [2306414607729]       # group IDs an agent may message
    push_tags = ["beta"]           # push audiences by tag ...
    push_aliases = []              # ... or alias
    push_all = false               # push to every device (default false once [allow] exists)
    broadcast = false              # broadcast_message to every user (default false once [allow] exists)

Anything outside the allowlists is refused with a NotAllowed error naming the offending IDs. Which
arguments name a call's recipients is declared on each operation (`Operation.audience`), so every
tool that delivers content is checked the same way, whatever its name.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..core.errors import NotAllowed, SettingsError
from ..core.spec import Operation, Params
from .untrusted import slots

DEFAULT_REACH = 1000  # recipients above which a delivery needs a yes, unless the policy sets another


def named(params: Params, field: str) -> list[Any]:
    """The values an audience entry names: a field (`user_ids`, `user_id`) or one inside list items
    (`requests[].user_id`, as `untrusted.slots` reads paths)."""
    if "." in field or "[]" in field:
        return [value for _, _, value in slots(params.model_dump(), field) if value is not None]
    value = getattr(params, field, None)
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(cast(Collection[Any], value))
    return [] if value is None else [value]


@dataclass(frozen=True)
class Allow:
    users: frozenset[int] | None = None
    groups: frozenset[int] | None = None
    push_tags: frozenset[str] | None = None
    push_aliases: frozenset[str] | None = None
    push_all: bool = False
    broadcast: bool = False


@dataclass(frozen=True)
class Policy:
    deny_tools: frozenset[str] = frozenset()
    confirm_tools: frozenset[str] = frozenset()
    allow: Allow | None = None
    confirm_reach: int = DEFAULT_REACH
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict[str, Any])

    @classmethod
    def load(cls, path: str | Path, known_tools: set[str]) -> Policy:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"cannot read policy file {p}: {exc.strerror}") from None
        import tomllib  # pyright: ignore[reportMissingTypeStubs]  # only when a policy file is read

        try:
            raw = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(
                f"policy file {p} is not valid {'JSON' if p.suffix == '.json' else 'TOML'}: {exc}"
            ) from None
        return cls.from_dict(raw, known_tools, str(p))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], known_tools: set[str], source: str = "") -> Policy:
        unknown_keys = set(raw) - {"deny_tools", "confirm_tools", "confirm_reach", "allow"}
        if unknown_keys:
            raise SettingsError(
                f"policy: unknown keys {sorted(unknown_keys)}; use deny_tools, confirm_tools, confirm_reach, [allow]"
            )
        reach = raw.get("confirm_reach", DEFAULT_REACH)
        if not isinstance(reach, int) or isinstance(reach, bool) or reach < 0:
            raise SettingsError("policy: confirm_reach must be a whole number of recipients (0 or more)")
        deny = _names(raw.get("deny_tools", []), "deny_tools", known_tools)
        confirm = _names(raw.get("confirm_tools", []), "confirm_tools", known_tools)
        allow = None
        if "allow" in raw:
            if not isinstance(raw["allow"], dict):
                raise SettingsError("policy: [allow] must be a table")
            a = cast(dict[str, Any], raw["allow"])
            bad = set(a) - {"users", "groups", "push_tags", "push_aliases", "push_all", "broadcast"}
            if bad:
                raise SettingsError(f"policy: unknown [allow] keys {sorted(bad)}")
            allow = Allow(
                users=_ids(a, "users"),
                groups=_ids(a, "groups"),
                push_tags=_strs(a, "push_tags"),
                push_aliases=_strs(a, "push_aliases"),
                push_all=bool(a.get("push_all", False)),
                broadcast=bool(a.get("broadcast", False)),
            )
        return cls(frozenset(deny), frozenset(confirm), allow, reach, source)

    def check(self, op: Operation, params: Params) -> None:
        """Raise NotAllowed when the call breaks the policy. Runs after validation, before any request."""
        if op.name in self.deny_tools:
            raise NotAllowed(f"the operator's policy denies {op.name}")
        if self.allow is None or op.audience is None:
            return
        a, aud = self.allow, op.audience
        verb = "push to" if aud.tags or aud.aliases or aud.tokens else "send text to" if aud.text else "message"
        if aud.everyone is True and not a.broadcast:
            raise NotAllowed("the operator's policy does not allow broadcasting to every user (allow.broadcast)")
        if isinstance(aud.everyone, str) and getattr(params, aud.everyone, False) and not a.push_all:
            raise NotAllowed("the operator's policy does not allow pushing to all devices (allow.push_all)")
        _within(_values(params, aud.users), a.users, "users", verb)
        _within(_values(params, aud.groups), a.groups, "groups", verb)
        _within(_values(params, aud.tags), a.push_tags, "push_tags", verb)
        _within(_values(params, aud.aliases), a.push_aliases, "push_aliases", verb)
        if _values(params, aud.tokens):
            raise NotAllowed(
                "the operator's policy allows pushes only to listed users, tags or aliases, not to raw push tokens"
            )


def _values(params: Params, names: tuple[str, ...]) -> list[Any]:
    return [value for name in names for value in named(params, name)]


def _within(values: list[Any], allowed: frozenset[Any] | None, key: str, verb: str) -> None:
    if not values:
        return
    if allowed is None:
        raise NotAllowed(f"the operator's policy allows no {key} to {verb} (allow.{key} is not set)")
    outside = [v for v in values if v not in allowed]
    if outside:
        shown = ", ".join(str(v) for v in outside[:10]) + (" …" if len(outside) > 10 else "")
        raise NotAllowed(f"the operator's policy does not allow you to {verb} {key} {shown} (allow.{key})")


def _as_list(value: Any) -> list[Any] | None:
    """`value` when it is a list, typed so its items can be checked one by one; otherwise None."""
    return cast(list[Any], value) if isinstance(value, list) else None


def _names(value: Any, key: str, known: set[str]) -> set[str]:
    items = _as_list(value)
    if items is None or not all(isinstance(v, str) for v in items):
        raise SettingsError(f"policy: {key} must be a list of tool names")
    names: set[str] = set(items)
    unknown = sorted(names - known)
    if unknown:
        raise SettingsError(f"policy: {key} names unknown tools {unknown}")
    return names


def _ids(a: dict[str, Any], key: str) -> frozenset[int] | None:
    if key not in a:
        return None
    items = _as_list(a[key])
    if items is None or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise SettingsError(f"policy: allow.{key} must be a list of integer IDs")
    return frozenset(items)


def _strs(a: dict[str, Any], key: str) -> frozenset[str] | None:
    if key not in a:
        return None
    items = _as_list(a[key])
    if items is None or not all(isinstance(v, str) for v in items):
        raise SettingsError(f"policy: allow.{key} must be a list of strings")
    return frozenset(items)
