"""Reading the `Effect` each write declares: checking it against the catalogue, and saying it in words.

The undo sentence of a confirmation question comes from here, so what a human is told about taking a
change back is what the declaration says, in English or Chinese, and names only tools this server
can run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel

from ..core.spec import Effect, Operation

_T: dict[str, tuple[str, str]] = {
    "undo": ("It can be undone with {tool}.", "可用{tool}撤销。"),
    "undo_elsewhere": (
        "It can be undone, though not with the tools this server serves.",
        "此操作可以撤销,但本服务提供的工具无法撤销它。",
    ),
    "final": ("This cannot be undone: {why}.", "此操作无法撤销:{why}。"),
    "recall": ("{tool} can withdraw it while the recall window is open.", "撤回时限内可用{tool}撤回。"),
}


def _sources(source: Any) -> list[str]:
    """The plain sources inside one mapped value: "[result.id]" → ["result.id"]; literals have none."""
    if not isinstance(source, str):
        return []
    if source.startswith("[") and source.endswith("]"):
        return _sources(source[1:-1])
    return [source]


def _result_fields(op: Operation) -> set[str] | None:
    """The fields of the forward answer, or None when its type names none (a bool, a list, Any)."""
    result = op.result
    if isinstance(result, type) and issubclass(result, BaseModel):
        return set(result.model_fields)
    return None


def problems(op: Operation, catalogue: Mapping[str, Operation]) -> list[str]:
    """What is wrong with `op`'s declaration: missing, both or neither, or an inverse that cannot be built."""
    if op.hints.read_only:
        return [] if op.effect is None else [f"{op.name} is read-only but declares an effect"]
    effect = op.effect
    if effect is None:
        return [f"{op.name} is a write and declares no effect"]
    found: list[str] = []
    if (effect.inverse is None) == (effect.irreversible is None):
        found.append(f"{op.name} must declare exactly one of an inverse and a reason it is irreversible")
    if effect.irreversible is not None and not all(effect.irreversible):
        found.append(f"{op.name}: the irreversible reason needs both an English and a Chinese text")
    if effect.recall is not None and effect.recall not in catalogue:
        found.append(f"{op.name}: recall names an unknown operation {effect.recall}")
    if not effect.fields:
        found.append(f"{op.name} names no changed field")
    inverse = effect.inverse
    if inverse is None:
        return found
    target = catalogue.get(inverse.tool)
    if target is None:
        return [*found, f"{op.name}: the inverse names an unknown operation {inverse.tool}"]
    if target.hints.read_only:
        found.append(f"{op.name}: the inverse {inverse.tool} is read-only")
    forward = set(op.params.model_fields)
    if inverse.each is not None and inverse.each not in forward:
        found.append(f"{op.name}: the inverse runs per item of {inverse.each}, which {op.name} does not take")
    result = _result_fields(op)
    for name, value in inverse.args:
        if name not in target.params.model_fields:
            found.append(f"{op.name}: the inverse {inverse.tool} has no argument {name}")
        for source in _sources(value):
            kind, _, field = source.partition(".")
            if kind == "before":
                ok = field in effect.fields
            elif kind == "result":
                ok = result is None if not field else (result is not None and field in result)
            elif source == "item":
                ok = inverse.each is not None
            else:
                ok = source in forward
            if not ok:
                found.append(f"{op.name}: the inverse's {name} comes from {source}, which {op.name} does not have")
    required = {n for n, fld in target.params.model_fields.items() if fld.is_required()}
    missing = required - {name for name, _ in inverse.args}
    if missing:
        found.append(f"{op.name}: the inverse {inverse.tool} needs {sorted(missing)}, which the mapping does not give")
    return found


def undo_sentences(effect: Effect | None, lang: str, reachable: Collection[str] | None = None) -> list[str]:
    """What a human is told about taking the change back; `reachable` (when given) limits the tools named."""
    if effect is None:
        return []
    i = 1 if lang == "zh" else 0

    def served(tool: str) -> bool:
        return not reachable or tool in reachable

    if effect.inverse is not None:
        tool = effect.inverse.tool
        said = [_T["undo"][i].format(tool=tool) if served(tool) else _T["undo_elsewhere"][i]]
        if effect.inverse.note is not None:
            said.append(effect.inverse.note[i])
        return said
    said = [_T["final"][i].format(why=(effect.irreversible or ("", ""))[i])]
    if effect.recall is not None and served(effect.recall):
        said.append(_T["recall"][i].format(tool=effect.recall))
    return said
