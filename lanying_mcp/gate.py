"""The confirmation gate: ask a human before a risky call, and turn the answer into a Grant or a refusal.

`ask` runs before the tool (as the SDK's resolver): it routes the call, finds the operation that will
really run with its final arguments, and asks `consent.risks` whether a yes is needed. `settle` runs
in the tool: a yes becomes a `Grant` for exactly that call, anything else ends the call with nothing
done. `dispatch.execute` checks the Grant again, so a call that skipped the gate is refused there.

A yes is good once, for one caller and one exact call:
- each question carries a fresh nonce (`ref`, named in its text), issued in the state store with the
  caller's identity and the call's fingerprint (the operation and its validated arguments). The
  multi-round protocol's sealed state commits to the exact question, hence to the nonce;
- the answer redeems the nonce (`State.take`): a second use of the same answer finds nothing, and the
  resolver, asked again for it, issues a new nonce, so the echoed answer no longer fits its question
  and the human is asked again. A nonce issued to another caller or for other arguments is refused;
- a question stays answerable `QUESTION_SECONDS`; the yes then covers its call for `GRANT_SECONDS`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from . import consent, errors, metrics, plan, usernames
from .dispatch import CallContext, Outcome, failure, record, validate
from .identity import caller_identity
from .policy import Policy
from .question import describe
from .routing import Router
from .sdk import Answer, Caller, Decision, Question
from .settings import Settings
from .spec import Operation, Params, Risk
from .state import MemoryState, State, StateError

log = logging.getLogger("lanying_mcp")

NONCES = "grant"  # nonce -> {caller, call}: one asked question, redeemed once by its answer
PENDING = "grant-pending"  # digest(caller, call) -> nonce: the open question for that caller and call

_REF = {"en": " (Confirmation {ref}.)", "zh": "(确认编号 {ref})"}


def _profile(caller: Caller) -> str | None:
    principal = caller.principal()
    return principal.profile if principal is not None else None


class Gate:
    def __init__(
        self,
        settings: Settings,
        policy: Policy | None,
        router: Router,
        context: Callable[..., CallContext],
        state: State | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.router = router
        self.context = context
        self.state = state if state is not None else MemoryState()
        self.question_seconds = consent.QUESTION_SECONDS
        self.grant_seconds = consent.GRANT_SECONDS
        self.clock: Callable[[], float] = time.time

    async def ask(self, op: Operation, caller: Caller, arguments: dict[str, Any]) -> Question | Decision:
        """The question for the human, or the decision when none is needed or none can be asked."""
        if not self.settings.confirm:
            return Decision.GO
        try:
            client, args = self.router.route(op, caller.headers(), arguments, _profile(caller))
        except errors.LanyingError:
            return Decision.GO  # the call itself reports it, before anything is sent
        target, targs = self.router.target(op, args)
        if target is None:
            return Decision.GO
        if target.plan:
            return await self._ask_plan(target, targs, caller, client)
        ctx = self.context(caller, client)
        try:
            # Usernames become user IDs here as in the call itself, so the question, the reach and the
            # grant's fingerprint are about the same users the call will send to.
            params = validate(target, await usernames.resolve(target, targs, ctx))
            if self.policy is not None:
                self.policy.check(target, params)
        except errors.LanyingError:
            return Decision.GO  # the call itself reports the bad arguments or the policy refusal
        if ctx.access is not None and ctx.access.refusal(target, params, self.policy):
            return Decision.GO  # beyond the token's scopes: refused by the call itself, no human is asked
        if target.expands is not None:
            return await self._ask_expanded(target, params, caller, client)
        sizes = None
        if consent.needs_sizes(target, params, self.policy):  # a group reaches its members
            sizes = await consent.group_sizes(target, params, ctx)
        risks = consent.risks(target, params, self.policy, sizes)
        if not risks:
            return Decision.GO
        if not caller.can_elicit():
            return Decision.REFUSE
        question = await describe(target, params, ctx, risks)
        if question is None:
            return Decision.ABSENT  # never a yes: the call is refused (see settle)
        try:
            ref = await self._issue(
                caller_identity(caller.headers(), caller.principal()), consent.fingerprint(target, params)
            )
        except StateError as exc:
            log.warning("a confirmation could not be recorded: %s", exc)
            return Decision.UNRECORDED
        return Question(question + _REF["zh" if self.settings.lang == "zh" else "en"].format(ref=ref), ref)

    async def _expand(self, target: Operation, params: Params, caller: Caller | None, client: Any) -> list[Any]:
        """The calls a meta-operation such as undo_change will run, each with its risks; [] when it will refuse."""
        assert target.expands is not None
        ctx = self.context(caller, client)
        try:
            calls = await target.expands(ctx, params)
        except errors.LanyingError:
            return []
        return [(op, p, found) for op, p in calls if (found := consent.risks(op, p, self.policy))]

    async def _ask_expanded(
        self, target: Operation, params: Params, caller: Caller, client: Any
    ) -> Question | Decision:
        """One question about every risky call a meta-operation will run (an undo's inverse calls)."""
        risky = await self._expand(target, params, caller, client)
        if not risky:
            return Decision.GO
        access = self.context(caller, client).access
        if access is not None and any(access.refusal(op, p, self.policy) for op, p, _ in risky):
            return Decision.GO  # an inverse beyond the token's scopes: refused when it runs, no human is asked
        if not caller.can_elicit():
            return Decision.REFUSE
        ctx = self.context(caller, client)
        texts = [t for op, p, found in risky if (t := await describe(op, p, ctx, found)) is not None]
        if not texts:
            return Decision.ABSENT
        try:
            ref = await self._issue(
                caller_identity(caller.headers(), caller.principal()), consent.fingerprint(target, params)
            )
        except StateError as exc:
            log.warning("a confirmation could not be recorded: %s", exc)
            return Decision.UNRECORDED
        lang = "zh" if self.settings.lang == "zh" else "en"
        head = target.text(lang)[0] + (":" if lang == "zh" else ": ")  # e.g. "Undo change: "
        return Question(head + " ".join(texts) + _REF[lang].format(ref=ref), ref)

    async def plan_asks(
        self, op: Operation, arguments: dict[str, Any], ctx: CallContext
    ) -> list[tuple[plan.Step, tuple[Risk, ...]]] | None:
        """The steps of a plan that need a yes, with their risks; None when the plan is broken (see plan.asks)."""
        return await plan.asks(op, arguments, ctx, self.policy)

    async def _ask_plan(
        self, op: Operation, arguments: dict[str, Any], caller: Caller, client: Any
    ) -> Question | Decision:
        """One question for every step of a plan that needs a yes."""
        ctx = self.context(caller, client)
        asks = await self.plan_asks(op, arguments, ctx)
        if ctx.access is not None and any(
            s.params is not None and ctx.access.refusal(s.op, s.params, self.policy) for s, _ in asks or ()
        ):
            return Decision.GO  # a step beyond the token's scopes: the plan refuses it before any step runs
        if not asks:
            return Decision.GO  # nothing risky, or a broken plan that fails on its own before any step runs
        if not caller.can_elicit():
            return Decision.REFUSE
        lang = "zh" if self.settings.lang == "zh" else "en"
        text = await plan.question(op, arguments, asks, ctx, lang)
        try:
            ref = await self._issue(
                caller_identity(caller.headers(), caller.principal()), plan.plan_fingerprint([s for s, _ in asks])
            )
        except StateError as exc:
            log.warning("a confirmation could not be recorded: %s", exc)
            return Decision.UNRECORDED
        return Question(text + _REF[lang].format(ref=ref), ref)

    async def _issue(self, who: str, call: str) -> str:
        """The nonce of the open question for this caller and call: the one already asked, or a new one."""
        slot = hashlib.sha256(f"{who}\0{call}".encode()).hexdigest()
        ref = await self.state.get(PENDING, slot)
        if ref is not None and await self.state.get(NONCES, ref) is not None:
            return ref  # the same question again (the multi-round protocol re-asks it to read its answer)
        record = json.dumps({"caller": who, "call": call})
        while not await self.state.add(NONCES, ref := secrets.token_hex(5), record, self.question_seconds):
            pass  # taken (vanishingly rare): draw again
        await self.state.put(PENDING, slot, ref, self.question_seconds)
        metrics.consent("asked")  # a new question (not the same one read again in the multi-round protocol)
        return ref

    async def _redeem(self, caller: Caller | None, call: str) -> str | None:
        """Use up the answered question's nonce: None when it was this caller's, for this exact call
        (its fingerprint), and still open; else why the answer cannot be used."""
        if caller is None or caller.ref is None:
            return "no question was asked for this answer"
        raw = await self.state.take(NONCES, caller.ref)
        if raw is None:
            return "this answer was already used, or its question expired"
        record = json.loads(raw)
        who = caller_identity(caller.headers(), caller.principal())
        await self.state.delete(PENDING, hashlib.sha256(f"{record['caller']}\0{record['call']}".encode()).hexdigest())
        if record.get("caller") != who:
            return "this answer was given to another caller"
        if record.get("call") != call:
            return "this answer was given for other arguments"
        return None

    async def settle(
        self, op: Operation, arguments: dict[str, Any], answer: Answer, client: Any, caller: Caller | None = None
    ) -> consent.Grant | Outcome:
        """A Grant for exactly the confirmed call, or the Outcome that ends the call with nothing done."""
        target, targs = self.router.target(op, arguments)
        if answer in (Answer.NOT_ASKED,):
            return consent.Grant()
        if answer is Answer.YES:
            metrics.consent("granted")
        elif answer in (Answer.DECLINED, Answer.CANCELLED):
            metrics.consent("declined")
        name = target.name if target else op.name
        if answer is Answer.ABSENT and target is not None:
            # The question's look-up said the target does not exist. That is no yes: an upstream whose read
            # and write disagree would otherwise run a risky call nobody confirmed.
            exc = errors.NotAllowed(
                f"{name} was not run: it needs a human's confirmation, and the look-up that names its target "
                "for the question answered that the target does not exist, so no question was asked; check "
                "the IDs with a read and call again",
                code="confirmation_required",
                zh=f"{name}未执行:它需要人工确认,而为提问读取目标时得到“目标不存在”,因此没有提问;"
                "请先读取核对ID,再重新调用",
            )
            outcome = failure(name, exc, self.settings.lang)
            if not target.hints.read_only:
                record(self.context(caller, client), target, targs, outcome, note="target_not_found")
            return outcome
        if answer is Answer.YES:
            if target is None:
                return consent.Grant()
            granted: list[str]
            if target.plan:
                if answer is not Answer.YES:
                    return consent.Grant()  # a plan is never "absent": without a yes, its risky steps are refused
                asks = await self.plan_asks(target, targs, self.context(caller, client))
                if not asks:
                    return consent.Grant()  # nothing to cover, or a broken plan that reports itself
                granted = [plan.step_fingerprint(s) for s, _ in asks]
                call = plan.plan_fingerprint([s for s, _ in asks])
            else:
                try:
                    params = validate(target, await usernames.resolve(target, targs, self.context(caller, client)))
                except errors.LanyingError:
                    return consent.Grant()  # the call reports its bad arguments (or unknown usernames)
                call = consent.fingerprint(target, params)
                granted = [call]
            if answer is Answer.YES:
                try:
                    why = await self._redeem(caller, call)
                except StateError as exc:
                    why = f"the confirmation could not be checked ({exc})"
                if why is not None:
                    exc = errors.NotAllowed(
                        f"{name} was not run: {why}. A yes is good once, for the caller and the exact arguments "
                        "it was given to; call the tool again to ask the human afresh",
                        code="confirmation_required",
                    )
                    outcome = failure(name, exc, self.settings.lang)
                    if not target.hints.read_only:
                        record(self.context(caller, client), target, targs, outcome, note="answer_not_usable")
                    return outcome
            if target.expands is not None:  # the yes covers exactly the calls the question was about
                expanded = await self._expand(target, validate(target, targs), caller, client)
                granted += [consent.fingerprint(o, p) for o, p, _ in expanded]
            return consent.Grant(frozenset(granted), expires=self.clock() + self.grant_seconds)
        if caller is not None and caller.ref is not None:
            try:  # a no (or no answer) also closes its question
                await self.state.take(NONCES, caller.ref)
            except StateError:
                pass
        if answer is Answer.UNRECORDED:
            exc = errors.NotAllowed(
                f"{name} needs a human's confirmation, and it could not be recorded to check the answer (the "
                "state store failed; see the server log); nothing was done",
                code="confirmation_required",
            )
        elif answer is Answer.CANNOT_ASK:
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
