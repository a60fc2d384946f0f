"""The confirmation gate: ask a human before a risky call, and turn the answer into a Grant or a refusal.

`ask` runs before the tool (as the SDK's resolver): it routes the call, finds the operation that will
really run with its final arguments, and asks `consent.risks` whether a yes is needed. `settle` runs
in the tool: a yes becomes a `Grant` for exactly that call, anything else ends the call with nothing
done. `dispatch.execute` checks the Grant again, so a call that skipped the gate is refused there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import consent, errors
from .dispatch import CallContext, Outcome, failure, record, validate
from .policy import Policy
from .question import describe
from .routing import Router
from .sdk import Answer, Caller, Decision
from .settings import Settings
from .spec import Operation


class Gate:
    def __init__(
        self,
        settings: Settings,
        policy: Policy | None,
        router: Router,
        context: Callable[..., CallContext],
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.router = router
        self.context = context

    async def ask(self, op: Operation, caller: Caller, arguments: dict[str, Any]) -> str | Decision:
        """The question for the human, or the decision when none is needed or none can be asked."""
        if not self.settings.confirm:
            return Decision.GO
        try:
            client, args = self.router.route(op, caller.headers(), arguments)
        except errors.LanyingError:
            return Decision.GO  # the call itself reports it, before anything is sent
        target, targs = self.router.target(op, args)
        if target is None:
            return Decision.GO
        try:
            params = validate(target, targs)
            if self.policy is not None:
                self.policy.check(target, params)
        except errors.LanyingError:
            return Decision.GO  # the call itself reports the bad arguments or the policy refusal
        risks = consent.risks(target, params, self.policy)
        if not risks:
            return Decision.GO
        if not caller.can_elicit():
            return Decision.REFUSE
        question = await describe(target, params, self.context(caller, client), risks)
        return Decision.ABSENT if question is None else question

    def settle(
        self, op: Operation, arguments: dict[str, Any], answer: Answer, client: Any, caller: Caller | None = None
    ) -> consent.Grant | Outcome:
        """A Grant for exactly the confirmed call, or the Outcome that ends the call with nothing done."""
        target, targs = self.router.target(op, arguments)
        if answer in (Answer.NOT_ASKED,):
            return consent.Grant()
        if answer in (Answer.YES, Answer.ABSENT):
            if target is None:
                return consent.Grant()
            try:
                return consent.Grant.of([(target, validate(target, targs))])
            except errors.LanyingError:
                return consent.Grant()  # the call reports its bad arguments
        name = target.name if target else op.name
        if answer is Answer.CANNOT_ASK:
            exc = errors.NotAllowed(
                f"{name} needs a human's confirmation, and this MCP client cannot ask (it does not support "
                "elicitation); nothing was done",
                code="confirmation_required",
            )
        else:
            how = "cancelled" if answer is Answer.CANCELLED else "declined"
            exc = errors.NotAllowed(f"the human {how} {name}; nothing was done", code="declined")
        outcome = failure(name, exc, self.settings.lang)
        if target is not None and not target.hints.read_only:
            record(self.context(caller, client), target, targs, outcome, note=str(exc.code))
        return outcome

    def cannot_ask(self, name: str, why: str) -> Outcome:
        exc = errors.NotAllowed(
            f"{name} needs a human's confirmation, and it could not be asked over this connection ({why}); "
            "nothing was done",
            code="confirmation_required",
        )
        return failure(name, exc, self.settings.lang)
