"""Plans: several tool calls, reviewed once, run in order, stopped at the first failure.

`apply_plan {steps: [{name, arguments}]}` runs each step as the tool it names would run (validation,
policy, consent, audit, journal: `dispatch.execute`). A later step may take a value from an earlier
step's result with a reference, an object of exactly two keys:

    {"from_step": 1, "path": "data.group_id"}

`path` walks the earlier step's structured result: dot-separated keys, list indexes (`data.0.user_id`)
and `*` for every item of a list (`data.*.user_id` gives a list).

Consent is asked once for the whole plan. Before anything runs, `steps_of` checks every step (a known,
reachable tool that is not a meta-tool; references only to earlier steps; arguments valid where they
hold no reference), so a broken plan sends nothing. The gate (gate.py) then decides, per step, whether it
needs a yes: a step with exact arguments by `consent.risks`, as if called alone; a step whose arguments
wait on a reference whenever its tool could need a yes at all (`consent.may_ask`), described with the
reference in place of the value. One question lists those steps, and the grant covers exactly them:
exact steps by their call's fingerprint, referring steps by the fingerprint of the arguments as the human
saw them (`template_fingerprint`); when such a step runs, its resolved call is granted only if its
template was. A step the grant does not cover is refused by `checks.check_consent`, as any call is.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from pydantic import Field

from ..core import error_text, errors
from ..core.spec import WRITE, ApiModel, Operation, Params, Risk, f
from ..engine import names, usernames
from ..engine.call import CallContext, Outcome, failure, success, validate
from ..engine.discovery import SEARCH_TOOLS
from ..engine.dispatch import execute
from ..safety import consent, untrusted
from ..safety.policy import Policy
from .question import describe

MAX_STEPS = 20
STEP_RESULT_BYTES = (
    2000  # a step's result larger than this is cut from the plan's answer (it stays usable by references)
)
NAME = "apply_plan"

REFERENCE_HELP = (
    'Its arguments; {"from_step": N, "path": "data.group_id"} stands for that field of step N\'s result '
    "(keys, indexes, * = each item).",
    '其参数;{"from_step": N, "path": "data.group_id"}表示第N步结果中的该字段(键名、下标,*表示每一项)。',
)


class PlanStep(Params):
    name: str = Field(max_length=128)
    arguments: dict[str, Any] = f(REFERENCE_HELP[0], REFERENCE_HELP[1], default_factory=dict)


class ApplyPlan(Params):
    steps: list[PlanStep] = Field(min_length=1, max_length=MAX_STEPS)


class StepOutcome(ApiModel):
    step: int
    name: str
    status: Literal["applied", "failed", "not_run"]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class PlanResult(ApiModel):
    plan_id: str
    applied: int
    failed: int
    not_run: int
    # Each step: {step, name, status (applied, failed, not_run), result or error}. Untyped in the schema
    # on purpose: the listing's budget, and each step's result is its own tool's.
    steps: list[dict[str, Any]] = Field(default_factory=list[dict[str, Any]])


@dataclass(frozen=True)
class Step:
    """One checked step: its tool, its arguments as given, and its validated params when they hold no reference."""

    index: int  # 1-based, as the human and the model count
    op: Operation
    arguments: dict[str, Any]
    params: Params | None  # None: the arguments wait on an earlier step's result

    @property
    def templated(self) -> bool:
        return self.params is None


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(cast(dict[str, Any], value)) == {"from_step", "path"}


def references(value: Any) -> list[tuple[Any, Any]]:
    """Every reference inside an argument value, as (from_step, path)."""
    if _is_ref(value):
        ref = cast(dict[str, Any], value)
        return [(ref["from_step"], ref["path"])]
    if isinstance(value, dict):
        return [r for v in cast(dict[str, Any], value).values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in cast(list[Any], value) for r in references(v)]
    return []


def _walk(value: Any, path: str, where: str) -> Any:
    node = value
    parts = [p for p in path.split(".") if p != ""]
    for i, part in enumerate(parts):
        if part == "*":
            if not isinstance(node, list):
                raise errors.ArgumentError(f"{where}: '*' needs a list at {'.'.join(parts[:i]) or 'the result'}")
            items = cast(list[Any], node)
            rest = ".".join(parts[i + 1 :])
            return [_walk(item, rest, where) for item in items] if rest else items
        if isinstance(node, dict) and part in node:
            node = cast(dict[str, Any], node)[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit():
            items = cast(list[Any], node)
            if not -len(items) <= int(part) < len(items):
                raise errors.ArgumentError(
                    f"{where}: the result has no item {part} at {'.'.join(parts[:i]) or 'the top'}"
                )
            node = items[int(part)]
        else:
            raise errors.ArgumentError(f"{where}: the result has nothing at {'.'.join(parts[: i + 1])}")
    return node


def resolve(value: Any, results: list[dict[str, Any]], step: int) -> Any:
    """`value` with each reference replaced by the field of the earlier result it names."""
    if _is_ref(value):
        ref = cast(dict[str, Any], value)
        source = ref["from_step"]
        where = f"step {step}, reference to step {source} path {ref['path']!r}"
        return _walk(results[source - 1], str(ref["path"]), where)
    if isinstance(value, dict):
        return {k: resolve(v, results, step) for k, v in cast(dict[str, Any], value).items()}
    if isinstance(value, list):
        return [resolve(v, results, step) for v in cast(list[Any], value)]
    return value


def steps_of(plan: ApplyPlan, catalogue: dict[str, Operation], validate: Any) -> list[Step]:
    """Every step checked before anything runs; a broken plan raises ArgumentError or NotAllowed, naming the step."""
    steps: list[Step] = []
    for i, raw in enumerate(plan.steps, start=1):
        op = catalogue.get(raw.name)
        if op is None:
            find = f"; use {SEARCH_TOOLS} to find one" if SEARCH_TOOLS in catalogue else ""
            raise errors.ArgumentError(f"step {i}: no tool named {raw.name!r} is available{find}")
        if op.runs is not None or op.plan:
            raise errors.ArgumentError(f"step {i}: {raw.name} is a meta-tool and cannot be a plan step")
        refs = references(raw.arguments)
        for source, path in refs:
            if not isinstance(source, int) or isinstance(source, bool) or not 1 <= source < i:
                raise errors.ArgumentError(
                    f"step {i}: a reference's from_step must be the number of an earlier step (1 to {i - 1})"
                )
            if not isinstance(path, str):
                raise errors.ArgumentError(f"step {i}: a reference's path must be a string such as 'data.group_id'")
        try:
            params = None if refs else validate(op, raw.arguments)
        except errors.LanyingError as exc:
            raise errors.ArgumentError(f"step {i} ({raw.name}): {exc.message}") from None
        steps.append(Step(i, op, raw.arguments, params))
    return steps


async def prepared(steps: list[Step], ctx: CallContext) -> list[Step]:
    """The steps with users given by username resolved to IDs, where the arguments are exact.

    Done before any step runs, by the gate and by the plan alike, so the question, the grant and the
    call are about the same users, and a name that matches nobody stops the plan before it starts.
    """
    out: list[Step] = []
    for step in steps:
        if step.params is None:
            out.append(step)
            continue
        try:
            arguments = await usernames.resolve(step.op, step.arguments, ctx)
            params = validate(step.op, arguments) if arguments is not step.arguments else step.params
        except errors.LanyingError as exc:
            raise errors.ArgumentError(f"step {step.index} ({step.op.name}): {exc.message}") from None
        out.append(Step(step.index, step.op, arguments, params))
    return out


def template_fingerprint(step: Step) -> str:
    """Identifies a referring step as the human saw it: its tool and its arguments with the references."""
    body = json.dumps(step.arguments, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "template:" + hashlib.sha256(f"{step.op.name}\0{body}".encode()).hexdigest()


def step_fingerprint(step: Step) -> str:
    return template_fingerprint(step) if step.params is None else consent.fingerprint(step.op, step.params)


def plan_fingerprint(steps: list[Step]) -> str:
    """Identifies what one question asks about: the steps that need a yes, in order."""
    body = "\n".join(f"{s.index}:{step_fingerprint(s)}" for s in steps)
    return hashlib.sha256(f"{NAME}\0{body}".encode()).hexdigest()


def _shown(value: Any, lang: str) -> str:
    if _is_ref(value):
        ref = cast(dict[str, Any], value)
        path = untrusted.clean(str(ref["path"]))
        return f"«第{ref['from_step']}步结果的{path}»" if lang == "zh" else f"«step {ref['from_step']}'s {path}»"
    if isinstance(value, dict):
        items = cast(dict[str, Any], value).items()
        return "{" + ", ".join(f"{untrusted.clean(str(k))}: {_shown(v, lang)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v, lang) for v in cast(list[Any], value)) + "]"
    return error_text.excerpt(untrusted.clean(json.dumps(value, ensure_ascii=False)), 200)


def describe_template(step: Step, lang: str) -> str:
    """A referring step in words: its tool, and its arguments with each reference named."""
    title = step.op.text(lang)[0]
    args = ", ".join(f"{k}={_shown(v, lang)}" for k, v in step.arguments.items())
    if lang == "zh":
        return f"{title}({step.op.name}),参数:{args or '无'}。标有«»的值来自前面步骤的结果。"
    return f"{title} ({step.op.name}) with {args or 'no arguments'}. Values in «» come from earlier steps' results."


def question_head(total: int, asked: list[Step], lang: str) -> str:
    n, rest = len(asked), total - len(asked)
    if lang == "zh":
        return f"执行这个包含{total}步的计划?其中{n}步需要你的确认" + (f"(其余{rest}步无需确认):" if rest else ":")
    steps = "step" if total == 1 else "steps"
    need = "needs" if n == 1 else "need"
    return f"Apply this plan of {total} {steps}? {n} of them {need} your yes" + (
        f" (the other {rest} need none):" if rest else ":"
    )


def step_line(index: int, text: str, lang: str) -> str:
    return f"第{index}步:{text}" if lang == "zh" else f"Step {index}: {text}"


async def asks(
    op: Operation, arguments: dict[str, Any], ctx: CallContext, policy: Policy | None
) -> list[tuple[Step, tuple[Risk, ...]]] | None:
    """The steps of a plan that need a yes, with their risks; None when the plan is broken (the call says why).

    A step with exact arguments needs one when `consent.risks` says so, as if called alone (its groups
    counted by their members); a step whose arguments wait on an earlier result, whenever its tool could
    need one at all.
    """
    try:
        whole = cast(ApplyPlan, validate(op, arguments))
        steps = await prepared(steps_of(whole, ctx.catalogue, validate), ctx)
        found: list[tuple[Step, tuple[Risk, ...]]] = []
        for step in steps:
            if step.params is None:
                if consent.may_ask(step.op, policy):
                    found.append((step, ()))
                continue
            if policy is not None:
                policy.check(step.op, step.params)
            sizes = None
            if consent.needs_sizes(step.op, step.params, policy):  # a group reaches its members
                sizes = await names.group_sizes(step.op, step.params, ctx)
            if risky := consent.risks(step.op, step.params, policy, sizes):
                found.append((step, risky))
    except errors.LanyingError:
        return None
    return found


async def question(
    op: Operation, arguments: dict[str, Any], asked: list[tuple[Step, tuple[Risk, ...]]], ctx: CallContext, lang: str
) -> str:
    """The one question a plan asks: every step that needs a yes, each as it would be asked alone."""
    total = len(cast(ApplyPlan, validate(op, arguments)).steps)
    lines = [question_head(total, [s for s, _ in asked], lang)]
    for step, found in asked:
        text = None
        if step.params is not None:
            text = await describe(step.op, step.params, ctx, found)
        lines.append(step_line(step.index, text or describe_template(step, lang), lang))
    return "\n".join(lines)


def _cut(structured: dict[str, Any], lang: str) -> dict[str, Any]:
    size = len(json.dumps(structured, ensure_ascii=False, default=str).encode("utf-8"))
    if size <= STEP_RESULT_BYTES:
        return structured
    if lang == "zh":
        return {"omitted": f"结果{size}字节,此处省略;后续步骤仍可通过引用读取"}
    return {"omitted": f"{size} B result left out here; later steps could still refer to it"}


def build() -> Operation:
    """The apply_plan operation: it runs steps over the calling context's catalogue (what is reachable)."""

    async def run(ctx: CallContext, p: ApplyPlan) -> Outcome:
        try:
            steps = await prepared(steps_of(p, ctx.catalogue, validate), ctx)
            for step in steps:  # a step beyond the token's scopes stops the plan before any step runs
                if ctx.access is not None and step.params is not None:
                    if why := ctx.access.refusal(step.op, step.params, ctx.policy):
                        raise errors.ScopeMissing(f"step {step.index}: {why}")
        except errors.LanyingError as exc:
            return failure(NAME, exc, ctx.lang)
        plan_id = "plan_" + secrets.token_hex(6)
        results: list[dict[str, Any]] = []
        shown: list[StepOutcome] = []
        stopped = False
        for step in steps:
            if stopped:
                shown.append(StepOutcome(step=step.index, name=step.op.name, status="not_run"))
                continue
            grant = ctx.grant
            arguments = step.arguments
            if step.templated:
                try:
                    arguments = resolve(step.arguments, results, step.index)
                    arguments = await usernames.resolve(step.op, arguments, ctx)
                    params = validate(step.op, arguments)
                except errors.LanyingError as exc:
                    outcome = failure(step.op.name, exc, ctx.lang)
                else:
                    # The human saw this step with its references; its resolved call is granted if that was.
                    covered = ctx.grant.has(template_fingerprint(step))
                    grant = consent.Grant.of([(step.op, params)], ctx.grant.expires) if covered else consent.Grant()
                    outcome = await execute(step.op, arguments, replace(ctx, grant=grant, plan_id=plan_id))
            else:
                outcome = await execute(step.op, arguments, replace(ctx, grant=grant, plan_id=plan_id))
            if outcome.ok:
                results.append(outcome.structured)
                shown.append(
                    StepOutcome(
                        step=step.index, name=step.op.name, status="applied", result=_cut(outcome.structured, ctx.lang)
                    )
                )
            else:
                results.append(outcome.structured)
                shown.append(
                    StepOutcome(
                        step=step.index, name=step.op.name, status="failed", error=outcome.structured.get("error")
                    )
                )
                stopped = True
        counts = {s: sum(1 for o in shown if o.status == s) for s in ("applied", "failed", "not_run")}
        rows = [o.model_dump(mode="json", exclude_none=True) for o in shown]
        result = PlanResult(plan_id=plan_id, steps=rows, **counts)
        structured = {"data": result.model_dump(mode="json", exclude_none=True)}
        if ctx.lang == "zh":
            line = f"计划{plan_id}:{counts['applied']}步完成,{counts['failed']}步失败,{counts['not_run']}步未执行。"
        else:
            line = (
                f"Plan {plan_id}: {counts['applied']} step(s) applied, {counts['failed']} failed, "
                f"{counts['not_run']} not run."
            )
        # A failed step does not make the plan's answer an error: the steps before it stay applied, and
        # the answer says which ran, which failed and which did not run.
        return success(structured, text=line)

    return Operation(
        name=NAME,
        http="LOCAL apply_plan",
        local=True,
        params=ApplyPlan,
        result=dict[str, Any],  # a PlanResult; its fields are said in the answer's first line (listing budget)
        handler=run,
        hints=WRITE,
        toolset="discovery",
        plan=True,
        title=("Apply a plan", "执行计划"),
        description=(
            "Run tool calls in order, one confirmation for all; stops at the first failure.",
            "按顺序执行多个工具调用,只需确认一次;遇到失败即停止。",
        ),
    )
