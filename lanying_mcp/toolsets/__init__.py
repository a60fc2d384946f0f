"""The catalogue: every operation, grouped in toolsets (one module per API area).

Each module defines `TOOLSET` (its name and description) and `OPERATIONS` (an ordered list).
`CATALOGUE` maps tool name → Operation with its toolset filled in; `select` applies the
operator's choice of toolsets, tools, exclusions and read-only mode.
"""

from dataclasses import replace

from ..settings import SettingsError
from ..spec import Operation, Toolset
from . import (
    ai,
    devices,
    diagnose,
    files,
    group_content,
    group_moderation,
    groups,
    insight,
    messages,
    push,
    roster,
    tokens,
    users,
)

_MODULES = (
    users,
    devices,
    roster,
    groups,
    group_moderation,
    group_content,
    messages,
    push,
    files,
    tokens,
    ai,
    insight,
    diagnose,
)

TOOLSETS: dict[str, Toolset] = {m.TOOLSET.name: m.TOOLSET for m in _MODULES}


def _build() -> dict[str, Operation]:
    catalogue: dict[str, Operation] = {}
    for module in _MODULES:
        for op in module.OPERATIONS:
            if op.name in catalogue:
                raise RuntimeError(f"duplicate tool name {op.name!r}")
            catalogue[op.name] = replace(op, toolset=module.TOOLSET.name)
    return catalogue


CATALOGUE: dict[str, Operation] = _build()

SPECIAL_TOOLSETS = {
    "default": ("The ~20 operations an admin uses most.", "管理员最常用的约20个操作。"),
    "all": ("Every operation.", "全部操作。"),
}


def select(
    toolsets: tuple[str, ...] = ("default",),
    tools: tuple[str, ...] = (),
    exclude_tools: tuple[str, ...] = (),
    read_only: bool = False,
) -> list[Operation]:
    """The operations to serve, in catalogue order. Unknown names raise SettingsError listing valid ones."""
    valid_sets = sorted(TOOLSETS) + sorted(SPECIAL_TOOLSETS)
    for name in toolsets:
        if name not in TOOLSETS and name not in SPECIAL_TOOLSETS:
            raise SettingsError(f"unknown toolset {name!r}; valid toolsets: {', '.join(valid_sets)}")
    for name in (*tools, *exclude_tools):
        if name not in CATALOGUE:
            raise SettingsError(f"unknown tool {name!r}; run `lanying-mcp tools --toolset all` to list valid names")
    chosen = {
        op.name
        for op in CATALOGUE.values()
        if "all" in toolsets or op.toolset in toolsets or ("default" in toolsets and op.default)
    }
    chosen |= set(tools)
    chosen -= set(exclude_tools)
    return [op for op in CATALOGUE.values() if op.name in chosen and (op.hints.read_only or not read_only)]
