"""Which operations this server lists, and which it can run: the operator's selection, applied once.

Listed tools are what a model sees in tools/list. Reachable operations are what can run: the listed
ones, plus every other operation the operator did not rule out, found with `search_tools` and run by
name or through `call_tool`.
With no `--toolsets`, the everyday tools are listed beside the discovery meta-tools, and the rest of
the catalogue stays one `search_tools` away; `--discovery` lists only the meta-tools; an explicit
`--toolsets`/`--tools` choice is both what is listed and all that can run.
"""

from __future__ import annotations

from ..core.settings import Settings
from ..core.spec import Operation
from ..engine import discovery
from ..review import approval, plan, preview
from ..safety.policy import Policy
from ..toolsets import CATALOGUE, TOOLSETS, select
from ..toolsets.meta import LIST_CHANGES, LOCAL_OPERATIONS, UNDO_CHANGE

# Every operation this server knows, listed or not: the catalogue and the local meta-operations. The
# engine's own look-ups and the pruning of tool names from texts read it through the call's context.
OPERATIONS: dict[str, Operation] = {**CATALOGUE, **{op.name: op for op in LOCAL_OPERATIONS}}


class Selection:
    def __init__(self, settings: Settings, policy: Policy | None) -> None:
        self.settings = settings
        self.policy = policy
        denied: frozenset[str] = policy.deny_tools if policy else frozenset()
        explicit = bool(settings.toolsets) and not settings.discovery
        sets = settings.toolsets if explicit else ("all",)
        ops = select(sets, settings.tools, settings.exclude_tools, settings.read_only)
        self.reachable: dict[str, Operation] = {
            op.name: op
            for op in [*ops, *LOCAL_OPERATIONS]
            if op.name not in denied and (op.hints.read_only or not settings.read_only)
        }
        # preview_call describes any reachable call without sending a write: reachable in every selection.
        dry = [preview.build(lambda: self.reachable, self.refusal)] if preview.PREVIEW_CALL not in denied else []
        # apply_plan runs only what is reachable, so it widens nothing: listed beside the selected or
        # everyday tools, and reached through call_tool in discovery mode.
        steps = [] if settings.read_only or plan.NAME in denied else [plan.build()]
        if explicit:
            self.reachable.update({op.name: op for op in steps})
            listed = list(self.reachable.values())
            self.reachable.update({op.name: op for op in dry})
        else:
            meta = discovery.build(lambda: self.reachable, self.refusal)
            self.reachable.update({op.name: op for op in [*meta, *dry, *steps]})
            # explain_error stays reachable but unlisted: every error result already explains itself.
            if settings.discovery:
                listed = list(meta)
            else:
                default = select(("default",), settings.tools, settings.exclude_tools, settings.read_only)
                listed = [*(op for op in default if op.name in self.reachable), *meta, *dry, *steps]
                # list_changes reads the journal and undo_change takes back any journaled write: listed
                # beside the everyday tools.
                listed += [
                    op for op in LOCAL_OPERATIONS if op in (LIST_CHANGES, UNDO_CHANGE) and op.name in self.reachable
                ]
        # await_approval continues a call approved on the page: listed wherever the page or askpass may ask.
        if settings.confirm and not settings.read_only and approval.may_use_page(settings.approval):
            if approval.AWAIT_APPROVAL not in denied:
                self.reachable[approval.AWAIT_APPROVAL] = approval.AWAIT_OPERATION
                listed.append(approval.AWAIT_OPERATION)
        self.listed: dict[str, Operation] = {
            op.name: op for op in listed if op.name not in settings.exclude_tools and op.name in self.reachable
        }

    @property
    def hidden_toolsets(self) -> list[str]:
        """Toolsets with reachable operations that are not listed (reached through search_tools)."""
        names = {op.toolset for op in self.reachable.values() if op.name not in self.listed and op.toolset in TOOLSETS}
        return [name for name in TOOLSETS if name in names]

    def refusal(self, name: str) -> str | None:
        """Why a catalogue tool that is not reachable here is off, or None if it is reachable or unknown."""
        if name in self.reachable or name not in CATALOGUE:
            return None
        op = CATALOGUE[name]
        if self.policy is not None and name in self.policy.deny_tools:
            return f"tool {name!r} is not available: the operator's policy denies it"
        if self.settings.read_only and not op.hints.read_only:
            return f"tool {name!r} is not available: the server runs in read-only mode and this tool writes"
        return (
            f"tool {name!r} is not available: it is not in the selected tools "
            f"(the operator can enable it with --toolsets {op.toolset} or --tools {name})"
        )
