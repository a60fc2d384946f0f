"""The checks a call passes before anything is sent: resolved once, then held to its grant.

`resolve` turns a routed call into the one `ResolvedCall` the gate's question, the grant's fingerprint,
the approval page's preview and `dispatch.execute` all read: the target's arguments validated (usernames
turned into user IDs first), whether the operator's policy and the token's scopes allow it, its risks and
its fingerprint. `check_consent` is the fail-closed wall in the pipeline: a call that needs a human's yes
runs only when its grant holds exactly the fingerprint it was resolved with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import errors
from ..core.spec import Operation, Params, Risk
from ..safety import consent
from . import names, usernames
from .call import CallContext, validate
from .resolved import ResolvedCall, Route


async def resolve(op: Operation, route: Route, given: Mapping[str, Any], ctx: CallContext) -> ResolvedCall:
    """The call resolved once: its target's arguments validated (usernames turned into user IDs first), whether
    the policy and the token's scopes allow it, its risks and, when a yes is needed, its fingerprint.

    Nothing here raises: arguments that do not validate are kept as the `error` the call reports. A delivery
    to groups counts their members when a yes may be asked: they are read unless the call's grant covers it."""
    target = route.target
    if target is None:
        return ResolvedCall(op, given, route)
    try:
        params = validate(target, await usernames.resolve(target, route.target_arguments, ctx))
    except Exception as exc:  # the call reports it before anything is sent
        return ResolvedCall(op, given, route, error=exc)
    allowed = True
    if ctx.policy is not None:
        try:
            ctx.policy.check(target, params)
        except errors.LanyingError:
            allowed = False
    if allowed and ctx.access is not None and ctx.access.refusal(target, params, ctx.policy):
        allowed = False
    call: str | None = None
    sizes = None
    if ctx.confirm and allowed and consent.needs_sizes(target, params, ctx.policy):
        call = consent.fingerprint(target, params) if ctx.grant.calls else None
        if call is None or not ctx.grant.has(call):
            sizes = await names.group_sizes(target, params, ctx)
    found = consent.risks(target, params, ctx.policy, sizes) if not target.local else ()
    if call is None and ctx.confirm and (found or target.expands is not None):
        call = consent.fingerprint(target, params)
    return ResolvedCall(op, given, route, params, allowed=allowed, risks=found, fingerprint=call)


async def check_consent(
    op: Operation, params: Params, ctx: CallContext, resolved: ResolvedCall | None = None
) -> tuple[Risk, ...]:
    """Refuse a call that needs a human's yes and carries none (fail closed, whatever path led here).

    The call's risks and fingerprint are those it was resolved with (`resolve`): its grant must hold exactly
    that fingerprint. A delivery to groups counts their members: they are read unless the call's yes already
    covers it."""
    confirm = ctx.confirm
    if resolved is not None and resolved.params is params:
        found = resolved.risks
        covered = resolved.fingerprint is not None and ctx.grant.has(resolved.fingerprint)
    else:
        sizes = None
        if confirm and consent.needs_sizes(op, params, ctx.policy) and not ctx.grant.covers(op, params):
            sizes = await names.group_sizes(op, params, ctx)
        found = consent.risks(op, params, ctx.policy, sizes)
        covered = not (found and confirm) or ctx.grant.covers(op, params)
    if found and confirm and not covered:
        raise errors.NotAllowed(
            f"{op.name} needs a human's confirmation ({', '.join(r.value for r in found)}) and none was given "
            "for these exact arguments; nothing was done",
            code="confirmation_required",
        )
    return found
