"""The confirmation gate: ask a human before a risky call, and turn the answer into a Grant or a refusal.

`ask` runs before the tool (as the SDK's resolver): it resolves the call once (`resolve`: routed, the
operation that will really run found with its final arguments, validated, its risks decided by
`consent.risks`, its fingerprint) and hands that `ResolvedCall` to the tool body of the same request.
`settle` runs in the tool: a yes becomes a `Grant` for exactly that call's fingerprint, anything else
ends the call with nothing done. `dispatch.execute` checks the Grant against the same fingerprint, so a
call that skipped the gate is refused there. In the multi-round protocol the resolver runs again on the
round that carries the answer: the call resolved in the first round is kept here, in memory, under its
question's nonce (bounded, expiring with the question) and reused; a round that finds none (another
replica, or expired) resolves the call again, and `resolved_again` counts it.

A yes is good once, for one caller and one exact call:
- each question carries a fresh nonce (`ref`, named in its text), issued in the state store with the
  caller's identity and the call's fingerprint (the operation and its validated arguments). The
  multi-round protocol's sealed state commits to the exact question, hence to the nonce;
- the answer redeems the nonce (`State.take`): a second use of the same answer finds nothing, and the
  resolver, asked again for it, issues a new nonce, so the echoed answer no longer fits its question
  and the human is asked again. A nonce issued to another caller or for other arguments is refused;
- a question stays answerable `QUESTION_SECONDS`; the yes then covers its call for `GRANT_SECONDS`.

How the human is asked is chosen per call (`channel`, see approval.py): elicitation, the approval
page, or askpass; each channel gets the same question and the same fingerprint, and its yes becomes
the same single-use Grant. On the page, the yes is redeemed from the pending approval (caller and
fingerprint checked, taken once) when `await_approval`, or the call again with `approval_id`, runs it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core import errors
from ..core.errors import StateError
from ..core.identity import caller_identity
from ..core.settings import Settings
from ..core.spec import Operation, Params, Risk
from ..engine import metrics
from ..engine.call import CallContext, Outcome, failure
from ..engine.checks import resolve
from ..engine.resolved import ResolvedCall, Route
from ..engine.state import MemoryState, State
from ..engine.trail import record
from ..review import askpass, plan, preview
from ..review.approval import Approvals, Channel, channel_for
from ..review.question import describe
from ..safety import consent
from ..safety.policy import Policy
from .routing import Router
from .sdk import Answer, Answered, Caller, Decision, Pending, Question

log = logging.getLogger("lanying_mcp")

NONCES = "grant"  # nonce -> {caller, call}: one asked question, redeemed once by its answer
PENDING = "grant-pending"  # digest(caller, call) -> nonce: the open question for that caller and call

_REF = {"en": " (Confirmation {ref}.)", "zh": "(确认编号 {ref})"}
APPROVAL_ARG = "approval_id"  # a confirmed call sent again with this argument waits for its page approval
KEPT_MAX = 1024  # resolved calls kept for the later rounds of their questions (2026-07-28 era), at most


@dataclass(frozen=True)
class _Kept:
    """A call resolved in the first round of its question, kept under the question's nonce for the next rounds."""

    call: ResolvedCall
    asked: Question
    slot: str  # digest of the caller, the tool and its arguments as given: how the next round finds it
    expires: float


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
        self.approvals = Approvals(self.state, settings.approval_seconds)
        # Shows a new approval to the human (the server opens the page): (approval ID, one-time secret).
        self.announce: Callable[[str, str], Awaitable[None]] | None = None
        # The multi-round protocol runs the resolver again on each round: the call resolved in the first round
        # is kept here under its question's nonce (in memory, bounded, expiring with the question) and reused.
        self._kept: dict[str, _Kept] = {}  # nonce -> the resolved call and its question
        self._kept_slots: dict[str, str] = {}  # slot -> nonce
        self.resolved_again = 0  # later rounds that found nothing kept (another replica, expired) and resolved again

    async def resolve(self, op: Operation, caller: Caller, arguments: dict[str, Any]) -> ResolvedCall:
        """The call resolved once, at the edge: routed, its target found and validated, its risks decided.

        Raises LanyingError when the call cannot be routed (the call itself reports it)."""
        call, _ = await self._resolve(op, caller, arguments)
        return call

    def route(self, op: Operation, caller: Caller, arguments: dict[str, Any]) -> Route:
        """Where the call goes (routing.Router.route), without the arguments the gate reads itself."""
        if APPROVAL_ARG in arguments and consent.may_ask(op, self.policy):  # read by the gate, not an argument
            arguments = {k: v for k, v in arguments.items() if k != APPROVAL_ARG}
        return self.router.route(op, caller.headers(), arguments, _profile(caller))

    async def _resolve(
        self, op: Operation, caller: Caller, arguments: dict[str, Any]
    ) -> tuple[ResolvedCall, CallContext]:
        route = self.route(op, caller, arguments)
        ctx = self.context(caller, route.client)
        return await resolve(op, route, arguments, ctx), ctx

    def _slot(self, who: str, op: Operation, arguments: Mapping[str, Any]) -> str:
        body = json.dumps(arguments, sort_keys=True, default=repr)
        return hashlib.sha256(f"{who}\0{op.name}\0{body}".encode()).hexdigest()

    def _keep(self, ref: str, call: ResolvedCall, asked: Question, slot: str) -> None:
        now = self.clock()
        if len(self._kept) >= KEPT_MAX:
            for nonce in [n for n, k in self._kept.items() if k.expires <= now]:
                self._forget(nonce)
            while len(self._kept) >= KEPT_MAX:
                self._forget(next(iter(self._kept)))
        self._forget(ref)
        self._kept[ref] = _Kept(call, asked, slot, now + self.question_seconds)
        self._kept_slots[slot] = ref

    def _forget(self, ref: str | None) -> None:
        kept = self._kept.pop(ref, None) if ref is not None else None
        if kept is not None and self._kept_slots.get(kept.slot) == ref:
            del self._kept_slots[kept.slot]

    async def _kept_for(self, slot: str) -> _Kept | None:
        """The call resolved in an earlier round of this caller's question, while that question is still open."""
        ref = self._kept_slots.get(slot)
        kept = self._kept.get(ref) if ref is not None else None
        if ref is None or kept is None:
            return None
        if kept.expires <= self.clock():
            self._forget(ref)
            return None
        try:
            still = await self.state.get(NONCES, ref)  # answered or expired in the store: resolved afresh
        except StateError:
            still = None
        if still is None:
            self._forget(ref)
            return None
        return kept

    def channel(self, caller: Caller) -> Channel:
        """The channel this call's question goes to (OFF: none can ask it)."""
        return channel_for(self.settings.approval, caller.can_elicit())

    def _unreachable(self, via: Channel) -> Decision | None:
        """The refusal when no human can be asked on `via`; None when the question can go there."""
        if via is Channel.OFF:
            return Decision.REFUSE
        if via is Channel.ASKPASS:
            return self._by_askpass()
        return None

    def _by_askpass(self) -> Decision | None:
        """askpass: a local program asks the human (askpass.py). Without one configured, refused."""
        return None if self.settings.askpass else Decision.UNCONFIGURED

    async def _ask_askpass(self, caller: Caller, name: str, call: str, text: str) -> Answered | Decision:
        """The elicitation's question (its text and confirmation code, issued for this caller and call), shown
        by the operator's askpass program. Its yes is redeemed in `settle` exactly like a form's: once, for
        this caller and this exact call; a no, a crash, a hang or a missing program closes the question."""
        asked = await self._by_elicitation(caller, call, text)
        if not isinstance(asked, Question):
            return asked
        yes = await askpass.ask(
            self.settings.askpass, asked.text, title=f"lanying-mcp: {name}", timeout=self.settings.askpass_seconds
        )
        return Answered(asked.ref, yes)

    async def _dispatch(
        self, via: Channel, caller: Caller, op: Operation, arguments: dict[str, Any], call: str, text: str, look: Any
    ) -> Question | Pending | Answered | Decision:
        """Send the question to its channel: one method per channel, each sealing the same `call`."""
        if via is Channel.PAGE:
            return await self._by_page(caller, op, arguments, call, text, look)
        if via is Channel.ASKPASS:
            return await self._ask_askpass(caller, op.name, call, text)
        return await self._by_elicitation(caller, call, text)

    async def _by_elicitation(self, caller: Caller, call: str, text: str) -> Question | Decision:
        try:
            ref = await self._issue(caller_identity(caller.headers(), caller.principal()), call)
        except StateError as exc:
            log.warning("a confirmation could not be recorded: %s", exc)
            return Decision.UNRECORDED
        return Question(text + _REF["zh" if self.settings.lang == "zh" else "en"].format(ref=ref), ref)

    async def _by_page(
        self, caller: Caller, op: Operation, arguments: dict[str, Any], call: str, text: str, look: Any
    ) -> Pending | Decision:
        """A pending approval, shown on the page with the preview's facts, and announced to the human."""
        target, targs, ctx = look
        facts: dict[str, Any] = {"tool": target.name, "question": text}
        try:
            resolved = caller.resolved if isinstance(caller.resolved, ResolvedCall) else None
            found = await preview.preview(target, targs, ctx, resolved)
        except Exception:  # the question alone still says what happens; the page must not fail over it
            log.warning("the approval page's preview could not be built", exc_info=True)
            found = None
        if isinstance(found, preview.PreviewResult):
            shown = found.model_dump(mode="json", exclude_none=True)
            for key in ("requests", "more_requests", "changes", "changes_summary", "reach", "undo"):
                if key in shown:
                    facts[key] = shown[key]
        try:
            approval_id, secret = await self.approvals.open(
                who=caller_identity(caller.headers(), caller.principal()),
                call=call,
                tool=op.name,
                arguments=arguments,
                page=facts,
            )
        except StateError as exc:
            log.warning("an approval could not be recorded: %s", exc)
            return Decision.UNRECORDED
        log.info("approval %s opened for %s", approval_id, target.name)
        if self.announce is not None:
            await self.announce(approval_id, secret)
        return Pending(approval_id)

    async def ask(
        self, op: Operation, caller: Caller, arguments: dict[str, Any]
    ) -> Question | Pending | Answered | Decision:
        """The question for the human, or the decision when none is needed or none can be asked."""
        if not self.settings.confirm:
            return Decision.GO
        approval_id = arguments.get(APPROVAL_ARG)
        if isinstance(approval_id, str) and approval_id:
            return Pending(approval_id, wait=True)  # redeemed in settle: only for this caller and this exact call
        slot = self._slot(caller_identity(caller.headers(), caller.principal()), op, arguments)
        if caller.resumed():  # a later round of the multi-round protocol: the question asked in the first
            kept = await self._kept_for(slot)
            if kept is not None:
                caller.resolved = kept.call
                return kept.asked
            self.resolved_again += 1
            log.debug("no call kept for this round of %s: resolved again", op.name)
        try:
            # Routed, validated (usernames become user IDs first) and decided once: the question, the reach,
            # the grant's fingerprint and the call itself are about the same users the call will send to.
            call, ctx = await self._resolve(op, caller, arguments)
        except errors.LanyingError:
            return Decision.GO  # the call itself reports it, before anything is sent
        caller.resolved = call
        stripped = {k: v for k, v in arguments.items() if k != APPROVAL_ARG}
        decided = await self._decide(op, caller, call, ctx, stripped)
        if isinstance(decided, Question):
            self._keep(decided.ref, call, decided, slot)
        return decided

    async def _decide(
        self, op: Operation, caller: Caller, call: ResolvedCall, ctx: CallContext, arguments: dict[str, Any]
    ) -> Question | Pending | Answered | Decision:
        """The question about the resolved call, or the decision when none is needed or none can be asked.

        `arguments`: the tool's own arguments (routing ones included), as a page approval runs them again."""
        client = call.route.client
        target, targs, params = call.target, call.arguments, call.params
        if target is None:
            return Decision.GO
        if target.plan:
            return await self._ask_plan(op, arguments, target, targs, caller, client)
        if params is None or not call.allowed:
            # the call itself reports the bad arguments, the policy refusal, or the scopes it lacks
            return Decision.GO
        if target.expands is not None:
            return await self._ask_expanded(op, arguments, target, params, targs, caller, client)
        risks = call.risks
        if not risks or call.fingerprint is None:
            return Decision.GO
        via = self.channel(caller)
        if (refused := self._unreachable(via)) is not None:
            return refused
        question = await describe(target, params, ctx, risks)
        if question is None:
            return Decision.ABSENT  # never a yes: the call is refused (see settle)
        return await self._dispatch(via, caller, op, arguments, call.fingerprint, question, (target, targs, ctx))

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
        self,
        called: Operation,
        arguments: dict[str, Any],
        target: Operation,
        params: Params,
        targs: dict[str, Any],
        caller: Caller,
        client: Any,
    ) -> Question | Pending | Answered | Decision:
        """One question about every risky call a meta-operation will run (an undo's inverse calls)."""
        risky = await self._expand(target, params, caller, client)
        if not risky:
            return Decision.GO
        access = self.context(caller, client).access
        if access is not None and any(access.refusal(op, p, self.policy) for op, p, _ in risky):
            return Decision.GO  # an inverse beyond the token's scopes: refused when it runs, no human is asked
        via = self.channel(caller)
        if (refused := self._unreachable(via)) is not None:
            return refused
        ctx = self.context(caller, client)
        texts = [t for op, p, found in risky if (t := await describe(op, p, ctx, found)) is not None]
        if not texts:
            return Decision.ABSENT
        lang = "zh" if self.settings.lang == "zh" else "en"
        head = target.text(lang)[0] + (":" if lang == "zh" else ": ")  # e.g. "Undo change: "
        call = caller.resolved.fingerprint if isinstance(caller.resolved, ResolvedCall) else None
        call = call or consent.fingerprint(target, params)
        return await self._dispatch(via, caller, called, arguments, call, head + " ".join(texts), (target, targs, ctx))

    async def plan_asks(
        self, op: Operation, arguments: dict[str, Any], ctx: CallContext
    ) -> list[tuple[plan.Step, tuple[Risk, ...]]] | None:
        """The steps of a plan that need a yes, with their risks; None when the plan is broken (see plan.asks)."""
        return await plan.asks(op, arguments, ctx, self.policy)

    async def _ask_plan(
        self,
        called: Operation,
        raw: dict[str, Any],
        op: Operation,
        arguments: dict[str, Any],
        caller: Caller,
        client: Any,
    ) -> Question | Pending | Answered | Decision:
        """One question for every step of a plan that needs a yes."""
        ctx = self.context(caller, client)
        asks = await self.plan_asks(op, arguments, ctx)
        if ctx.access is not None and any(
            s.params is not None and ctx.access.refusal(s.op, s.params, self.policy) for s, _ in asks or ()
        ):
            return Decision.GO  # a step beyond the token's scopes: the plan refuses it before any step runs
        if not asks:
            return Decision.GO  # nothing risky, or a broken plan that fails on its own before any step runs
        via = self.channel(caller)
        if (refused := self._unreachable(via)) is not None:
            return refused
        lang = "zh" if self.settings.lang == "zh" else "en"
        text = await plan.question(op, arguments, asks, ctx, lang)
        call = plan.plan_fingerprint([s for s, _ in asks])
        return await self._dispatch(via, caller, called, raw, call, text, (op, arguments, ctx))

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
        self, op: Operation, call: ResolvedCall, answer: Answer, caller: Caller | None = None
    ) -> consent.Grant | Outcome:
        """A Grant for exactly the confirmed call, or the Outcome that ends the call with nothing done.

        The yes is checked against the fingerprint the call was resolved with: nothing is resolved again."""
        if answer in (Answer.NOT_ASKED,):
            return consent.Grant()
        target, targs, client = call.target, call.arguments, call.route.client
        if caller is not None:
            self._forget(caller.ref)  # the question is answered: its later rounds ask afresh
        if answer is Answer.YES:
            metrics.consent("granted")
        elif answer in (Answer.DECLINED, Answer.CANCELLED):
            metrics.consent("declined")
        name = target.name if target else op.name
        if answer is Answer.PENDING:
            return await self._pending(name, caller.ref if caller is not None else None)
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
        if answer in (Answer.YES, Answer.AWAIT):
            if target is None:
                return consent.Grant()
            granted: list[str]
            sealed: str
            if target.plan:
                asks = await self.plan_asks(target, targs, self.context(caller, client))
                if not asks:
                    return consent.Grant()  # nothing to cover, or a broken plan that reports itself
                granted = [plan.step_fingerprint(s) for s, _ in asks]
                sealed = plan.plan_fingerprint([s for s, _ in asks])
            else:
                if call.params is None:
                    return consent.Grant()  # the call reports its bad arguments (or unknown usernames)
                sealed = call.fingerprint or consent.fingerprint(target, call.params)
                granted = [sealed]
            if answer is Answer.AWAIT:  # the page's yes: wait for it, then redeem it like an elicited one
                waited = await self._await(name, caller, sealed)
                if isinstance(waited, Outcome):
                    if not target.hints.read_only and waited.structured["error"]["code"] != "approval_pending":
                        record(self.context(caller, client), target, targs, waited, note="approval_not_given")
                    return waited
                why = waited
            else:
                try:
                    why = await self._redeem(caller, sealed)
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
            if target.expands is not None and call.params is not None:  # the yes covers exactly the calls asked about
                expanded = await self._expand(target, call.params, caller, client)
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
        elif answer is Answer.UNCONFIGURED:
            exc = errors.NotAllowed(
                f"{name} needs a human's confirmation, and the operator chose askpass to ask it "
                "(LANYING_APPROVAL=askpass), but no askpass program is configured (LANYING_ASKPASS); nothing was done",
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

    async def _pending(self, name: str, approval_id: str | None) -> Outcome:
        """approval_pending: what waits for the human and how to continue; no link and no secret."""
        record = await self.approvals.get(approval_id) if approval_id else None
        if record is None or approval_id is None:
            return self._expired(name)
        left = max(0, int(record["expires"] - self.clock()))
        question = str(record.get("page", {}).get("question", name))
        exc = errors.NotAllowed(
            f"{name} was not run yet: it waits for a human's approval on the approval page, which the server "
            f"showed to the admin. Call await_approval with approval_id {approval_id} to wait for the answer; it "
            f"then runs this call once. The approval expires in {left} s",
            code="approval_pending",
            zh=f"{name}尚未执行:它在等待管理员在审批页面上批准(服务器已向管理员展示该页面)。请用approval_id "
            f"{approval_id}调用await_approval等待答复;获批后执行此调用一次。审批将在{left}秒后过期",
            details={"approval_id": approval_id, "waiting": question, "expires_in_s": left},
        )
        return failure(name, exc, self.settings.lang)

    def _expired(self, name: str) -> Outcome:
        exc = errors.NotAllowed(
            f"{name} was not run: its approval expired before a human answered, or it was already used; nothing "
            "was done. Call the tool again to ask the human afresh",
            code="approval_expired",
            zh=f"{name}未执行:审批在人工作答前已过期,或已被使用;未执行任何操作。如需继续,请重新调用该工具以再次请求批准",
        )
        return failure(name, exc, self.settings.lang)

    async def _await(self, name: str, caller: Caller | None, call: str) -> Outcome | str | None:
        """Wait for the page's answer to the caller's approval: None when approved and redeemed for this
        call; why not (a sentence) when it cannot run it; or the Outcome that ends the call."""
        approval_id = caller.ref if caller is not None else None
        if caller is None or not approval_id:
            return "no approval was asked for this call"
        progress = caller.progress
        try:
            first = await self.approvals.get(approval_id)
            if first is not None and first.get("caller") != caller_identity(caller.headers(), caller.principal()):
                return "the approval was given to another caller"  # refused at once: no wait for someone else's
            got = await self.approvals.wait(approval_id, self.settings.approval_wait_seconds, progress)
            if got is None:
                return self._expired(name)
            if got.get("caller") != caller_identity(caller.headers(), caller.principal()):
                return "the approval was given to another caller"
            if got.get("status") == "pending":
                return await self._pending(name, approval_id)
            if got.get("status") == "declined":
                await self.approvals.close(approval_id)
                exc = errors.NotAllowed(
                    f"the human declined {name} on the approval page; nothing was done", code="declined"
                )
                return failure(name, exc, self.settings.lang)
            return await self.approvals.redeem(approval_id, caller_identity(caller.headers(), caller.principal()), call)
        except StateError as exc:
            return f"the approval could not be checked ({exc})"

    def cannot_ask(self, name: str, why: str) -> Outcome:
        exc = errors.NotAllowed(
            f"{name} needs a human's confirmation, and it could not be asked over this connection ({why}); "
            "nothing was done",
            code="confirmation_required",
        )
        return failure(name, exc, self.settings.lang)
