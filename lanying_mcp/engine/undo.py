"""`undo_change`: take back one journaled write by running its declared inverse with the before-values.

The journal entry says what ran (tool, arguments) and what it changed (`changes`, with the values
before and after). The inverse comes from the operation's `Effect` (changes.inverse_calls). Each
inverse call runs through `dispatch.execute` like any tool call: a risky one needs the human's yes
(the gate asks about exactly these calls, see `plan`), it is journaled with `undoes` naming the entry,
and its own result carries a `change_id`, so an undo can be undone in turn.

It refuses, saying why, when:
- the change cannot be taken back (irreversible, failed, or its before-values were not read);
- the inverse needs an argument the journal does not keep (a password, a push token);
- the target changed since: a declared field's current value is no longer the entry's after-value.
  The refusal says what it is now and, when the journal knows, which change made it so. `force: true`
  undoes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import ValidationError

from ..core import error_text, errors
from ..core.json_values import as_object
from ..core.spec import Operation, Params, f, secret_arguments
from ..safety.redact import MASK
from . import changes, effects
from .apps import key_of
from .call import CallContext, Outcome, failure, success, validate
from .dispatch import execute

_REDACTED = (MASK, "[redacted]", "[masked]")


class UndoChange(Params):
    change_id: str = f(
        "From a write's result, or a plan_id (undoes its steps in reverse).",
        "见写操作结果;或plan_id(倒序撤销其各步)。",
        min_length=1,
        max_length=100,
    )
    force: bool = f("Undo even if changed since.", "即使此后已变也撤销。", False)


@dataclass
class Plan:
    """What an undo would run, or why it will not: the entry, its operation and the inverse calls."""

    entry: dict[str, Any] | None = None
    op: Operation | None = None
    calls: list[tuple[Operation, dict[str, Any]]] = field(default_factory=list[tuple[Operation, dict[str, Any]]])
    refusal: errors.LanyingError | None = None


def _refuse(message: str, zh: str, code: str = "cannot_undo") -> errors.LanyingError:
    return errors.NotAllowed(message, code=code, zh=zh)


def _app_key(ctx: CallContext) -> str:
    journal = ctx.journal
    if journal is not None and getattr(journal, "app_key", ""):
        return str(journal.app_key)
    return key_of(ctx.client.settings)


def _result_from(op: Operation, entry: dict[str, Any]) -> dict[str, Any]:
    """The answer fields an inverse may need (a created ID, a joined group), as the entry's changes keep them."""
    out: dict[str, Any] = {}
    created = changes.CREATED_ID.get(op.name)
    listed: list[Any] = entry.get("changes") or []
    for change in listed:
        if not isinstance(change, dict):
            continue
        change = cast(dict[str, Any], change)
        target = cast(dict[str, Any], change.get("target") or {})
        if created is not None and change.get("after") == "created":
            out[created[0]] = target.get("id")
        elif change.get("after") is not None:
            out.setdefault(str(change.get("field")), change.get("after"))
    return out


PLAN_PREFIX = "plan_"  # the IDs apply_plan gives its plans
MAX_PLAN_ENTRIES = 100  # a plan has at most 20 steps; a bulk step may journal a few entries


async def _plan_of_plan(ctx: CallContext, p: UndoChange, check_drift: bool) -> Plan:
    """The inverse calls of every applied write of a plan, newest first, or why the plan cannot be undone.

    Each write is taken back as `undo_change` would take it back alone, in the reverse of the order it ran.
    A step that cannot be (irreversible, changed since, not known to have applied) stops the whole undo
    before anything runs, naming the step, so a plan is never half taken back by surprise.
    """
    assert ctx.journal is not None
    entries, _ = await ctx.journal.page(_app_key(ctx), plan=p.change_id, limit=MAX_PLAN_ENTRIES)
    if not entries:
        return Plan(
            refusal=_refuse(
                f"no writes of plan {error_text.excerpt(p.change_id, 60)!r} in this app's journal: pass the plan_id "
                "from apply_plan's result (a plan of reads only changed nothing)",
                f"本应用的变更日志中没有计划{error_text.excerpt(p.change_id, 60)}的写操作:请使用apply_plan结果中的plan_id",
                "unknown_change",
            )
        )
    found = Plan(entry={"id": p.change_id, "tool": "apply_plan", "outcome": "applied"})
    for entry in entries:  # newest first: the reverse of the order the steps ran
        if entry.get("outcome") == "failed":
            continue  # nothing of it was applied: nothing to take back
        one = await plan(ctx, UndoChange(change_id=str(entry.get("id")), force=p.force), check_drift=check_drift)
        if one.refusal is not None:
            found.refusal = _refuse(
                f"plan {p.change_id} was not undone: its write {entry.get('tool')} (change {entry.get('id')}) "
                f"cannot be taken back: {one.refusal.message}. Undo the other writes one by one with their "
                "change_id (list_changes shows them) if you still want them taken back",
                f"未撤销计划{p.change_id}:其中的写操作{entry.get('tool')}(变更{entry.get('id')})无法撤销:"
                f"{one.refusal.message}。如仍需撤销其他写操作,请用各自的change_id逐个撤销(list_changes可查看)",
                one.refusal.code if isinstance(one.refusal.code, str) else "cannot_undo",
            )
            return found
        found.calls += one.calls
    if not found.calls:
        found.refusal = _refuse(
            f"plan {p.change_id} applied no write that can be set back",
            f"计划{p.change_id}没有可以改回的写操作",
        )
    return found


async def plan(ctx: CallContext, p: UndoChange, *, check_drift: bool = True) -> Plan:
    """The inverse calls of the entry `p.change_id`, or the reason there are none to run."""
    lang = ctx.lang
    journal = ctx.journal
    if journal is None:
        return Plan(
            refusal=_refuse(
                "undo_change needs the change journal, and it is off on this server (the operator turns it on "
                "with LANYING_JOURNAL=true)",
                "undo_change需要变更日志,而本服务未开启(运维可设置LANYING_JOURNAL=true开启)",
                "journal_off",
            )
        )
    if p.change_id.startswith(PLAN_PREFIX):
        return await _plan_of_plan(ctx, p, check_drift)
    entry = await journal.get(p.change_id, _app_key(ctx))
    if entry is None:
        return Plan(
            refusal=_refuse(
                f"no change {error_text.excerpt(p.change_id, 60)!r} in this app's journal: pass the change_id from a "
                "write's result",
                f"本应用的变更日志中没有{error_text.excerpt(p.change_id, 60)}:请使用写操作结果中的change_id",
                "unknown_change",
            )
        )
    tool = str(entry.get("tool"))
    op = ctx.operations.get(tool)
    found = Plan(entry, op)
    if op is None or op.effect is None:
        found.refusal = _refuse(f"{tool} is not a write this server can take back", f"{tool}不是可撤销的写操作")
        return found
    if entry.get("outcome") != "applied":
        state = entry.get("outcome")
        found.refusal = _refuse(
            f"change {p.change_id} ({tool}) was not applied (outcome {state}): there is nothing to take back",
            f"变更{p.change_id}({tool})未生效(结果{state}),无可撤销",
        )
        return found
    effect = op.effect
    if effect.inverse is None:
        why = " ".join(effects.undo_sentences(effect, lang))
        found.refusal = _refuse(f"{tool} cannot be undone. {why}", f"{tool}无法撤销。{why}", "irreversible")
        return found
    arguments = cast(dict[str, Any], entry.get("arguments") or {})
    listed: list[Any] = entry.get("changes") or []
    kept = [c for item in listed if (c := as_object(item)) is not None]
    before = changes.Before.from_changes(kept)
    secret = secret_arguments(op.params)
    for name, source in effect.inverse.args:
        plain = source.strip("[]") if isinstance(source, str) else ""
        if arguments.get(plain) is not None and (plain in secret or arguments.get(plain) in _REDACTED):
            found.refusal = _refuse(
                f"{tool} cannot be undone from the journal: its inverse {effect.inverse.tool} needs {name}, taken from "
                f"the secret argument {plain}, which the journal does not keep",
                f"无法从变更日志撤销{tool}:其逆操作{effect.inverse.tool}需要的{name}来自保密参数{plain},日志不保存它",
            )
            return found
    missing = changes.missing_before(op, before, from_journal=True)
    if missing:
        found.refusal = _refuse(
            f"{tool} cannot be undone: the value(s) before it ({', '.join(missing)}) were not read, so they are "
            "not known",
            f"无法撤销{tool}:写入前的{'、'.join(missing)}未能读取,不得而知",
        )
        return found
    for name, args in changes.inverse_calls(op, arguments, before, _result_from(op, entry)):
        inverse = ctx.operations.get(name)
        if inverse is None:
            found.refusal = _refuse(f"the inverse {name} is unknown", f"逆操作{name}未知")
            return found
        if name not in ctx.catalogue and ctx.catalogue:
            found.refusal = errors.NotAllowed(
                f"the inverse of {tool}, {name}, is not available on this server (not in the selected tools)"
            )
            return found
        try:
            validate(inverse, args)
        except errors.LanyingError as exc:
            found.refusal = _refuse(
                f"{tool} cannot be undone: {name} cannot set back the value before ({exc.message})",
                f"无法撤销{tool}:{name}无法设回写入前的值({exc.message})",
            )
            return found
        found.calls.append((inverse, args))
    if not found.calls:
        found.refusal = _refuse(
            f"{tool} changed nothing that can be set back (no before-values in change {p.change_id})",
            f"{tool}没有可以改回的内容(变更{p.change_id}中没有写入前的值)",
        )
        return found
    if check_drift and not p.force:
        found.refusal = await drift(ctx, op, entry)
    return found


def _shown(value: Any) -> str:
    mute = as_object(value)
    if mute is not None and "until" in mute:
        return f"muted until {mute['until']}"
    if value is None:
        return "none"
    return error_text.excerpt(repr(value), 80)


async def drift(ctx: CallContext, op: Operation, entry: dict[str, Any]) -> errors.LanyingError | None:
    """The refusal when a declared field of the target is no longer the entry's after-value; None when unchanged."""
    if changes.reader_of(op) is None:
        return None  # nothing readable to compare: the inverse runs on the journal's word
    try:
        params = validate(op, cast(dict[str, Any], entry.get("arguments") or {}))
    except errors.LanyingError:
        return None
    saved = ctx.before
    ctx.before = None
    try:
        now = await changes.read_before(op, params, ctx)
    finally:
        ctx.before = saved
    if now is None:
        return None
    moved: list[tuple[dict[str, Any], Any]] = []
    listed: list[Any] = entry.get("changes") or []
    for raw in listed:
        if not isinstance(raw, dict):
            continue
        change = cast(dict[str, Any], raw)
        target = cast(dict[str, Any], change.get("target") or {})
        state = now.find(str(target.get("kind")), target.get("id"))
        fld = str(change.get("field"))
        if state is None or fld not in state.fields:
            continue
        if not changes.same(state.fields[fld], change.get("after")):
            moved.append((change, state.fields[fld]))
    if not moved:
        return None
    change, current = moved[0]
    target = cast(dict[str, Any], change.get("target") or {})
    what = f"{target.get('kind')} {target.get('id')}" + (f" ({target.get('name')})" if target.get("name") else "")
    who = ""
    journal = ctx.journal
    if journal is not None:
        last = await journal.last_change(_app_key(ctx), str(target.get("kind")), target.get("id"))
        if last is not None and last.get("id") != entry.get("id"):
            who = (
                f"; changed since by {last.get('tool')} (change {last.get('id')}, {last.get('time')}, "
                f"caller {last.get('caller')})"
            )
    if not who:
        who = "; changed since outside this server's journal"
    message = (
        f"{entry.get('tool')} was not undone: the {change.get('field')} of {what} is now {_shown(current)}, not "
        f"{_shown(change.get('after'))} as change {entry.get('id')} left it{who}. Undoing would overwrite that; "
        "call undo_change again with force: true to undo anyway"
    )
    zh = (
        f"未撤销{entry.get('tool')}:{what}的{change.get('field')}现在是{_shown(current)},不再是变更{entry.get('id')}"
        f"写入后的{_shown(change.get('after'))}{who}。撤销会覆盖此后的修改;如仍要撤销,请加force: true再次调用"
    )
    return _refuse(message, zh, "changed_since")


async def run(ctx: CallContext, p: UndoChange, own: Operation) -> Outcome:
    """Run the inverse calls of a change through dispatch (consent, journal, effects), or refuse.

    `own` is the undo_change operation itself (toolsets/meta.py): its name and paging shape the result."""
    name = own.name
    found = await plan(ctx, p)
    if found.refusal is not None:
        return failure(name, found.refusal, ctx.lang)
    saved = ctx.undoes
    ctx.undoes = p.change_id
    results: list[Outcome] = []
    try:
        for inverse, args in found.calls:
            outcome = await execute(inverse, args, ctx)
            results.append(outcome)
            if not outcome.ok:
                break
    finally:
        ctx.undoes = saved
    if len(found.calls) == 1:
        only = results[0]
        if not only.ok:
            return only
        structured = {**only.structured, "undoes": p.change_id}
        return success(structured, only.text.partition("\n")[0] if "\n" in only.text else None)
    steps: list[dict[str, Any]] = []
    merged: list[Any] = []
    for (inverse, args), outcome in zip(found.calls, results, strict=False):
        step: dict[str, Any] = {"tool": inverse.name, "arguments": args, "ok": outcome.ok}
        if outcome.ok:
            step["change_id"] = outcome.structured.get("change_id")
            merged += outcome.structured.get("changes") or []
        else:
            step["error"] = outcome.structured.get("error")
        steps.append(step)
    skipped = len(found.calls) - len(results)
    structured: dict[str, Any] = {"data": steps, "changes": merged[: changes.SHOWN], "undoes": p.change_id}
    if skipped:
        structured["not_run"] = skipped
    ok = all(o.ok for o in results) and not skipped
    if not ok:
        err = next(o.structured.get("error") for o in results if not o.ok)
        return failure(
            name,
            errors.LanyingError(
                f"the undo stopped at step {len(results)} of {len(found.calls)}: {err.get('message') if err else ''}; "
                f"steps applied before it stay applied: {[s.get('change_id') for s in steps if s['ok']]}",
                code="undo_incomplete",
            ),
            ctx.lang,
        )
    return success(structured, paging=own.paging)


async def expand(ctx: CallContext, params: Params) -> list[tuple[Operation, Params]]:
    """The exact calls an undo will run, validated, for the gate to ask about; [] when it will refuse.

    The target is read only when one of the calls needs a human's yes, so a refusal for drift is never
    asked about first."""
    p = cast(UndoChange, params)
    found = await plan(ctx, p, check_drift=False)
    if found.refusal is not None:
        return []
    out: list[tuple[Operation, Params]] = []
    for inverse, args in found.calls:
        try:
            out.append((inverse, validate(inverse, args)))
        except (errors.LanyingError, ValidationError):
            return []
    return out


async def drifted(ctx: CallContext, params: Params) -> bool:
    """Whether the undo will refuse because the target changed since (no question is asked then)."""
    p = cast(UndoChange, params)
    if p.force:
        return False
    found = await plan(ctx, p)
    return found.refusal is not None
