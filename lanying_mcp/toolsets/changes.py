"""list_changes: the change journal of the caller's app, read as a tool (answered locally, no API call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import errors
from ..core.errors import StateError
from ..core.spec import READ, Operation, Pages, Paging, Params, f
from ..engine.client import Envelope
from ..engine.journal import PAGE_BYTES

if TYPE_CHECKING:
    from ..engine.call import CallContext


class ListChanges(Params):
    target: str | int | None = f(
        "Only changes to this target: an ID or a name.",
        "只看对此目标(ID或名称)的变更。",
        None,
    )
    tool: str | None = f("Only changes made by this tool.", "只看此工具做的变更。", None)
    since: str | None = f(
        "Only changes since this UTC time, e.g. 2026-07-01T09:00Z.",
        "只看此UTC时间之后的变更,如2026-07-01T09:00Z。",
        None,
    )
    limit: int = f("Most entries.", "最多条数。", 20, ge=1, le=100)
    cursor: str | None = f("From a previous page.", "上一页返回的cursor。", None)


async def list_changes(ctx: CallContext, p: ListChanges) -> Envelope:
    journal = ctx.journal
    if journal is None:
        raise errors.NotAllowed(
            "the change journal is off on this server (the operator set LANYING_JOURNAL=false); nothing is recorded",
            zh="此服务器未开启变更日志(运营者设置了LANYING_JOURNAL=false),没有记录",
        )
    settings = ctx.client.settings
    if not journal.app_key or not settings.app_id or not settings.access_token.get_secret_value():
        raise errors.NotAllowed(
            "no Lanying credentials for this request: send the X-Lanying-App-Id and X-Lanying-Access-Token headers "
            "to read your app's changes",
            code="missing_credentials",
        )
    try:
        entries, nxt = await journal.page(
            journal.app_key,
            target=p.target,
            tool=p.tool,
            since=p.since,
            limit=p.limit,
            cursor=p.cursor,
            max_bytes=PAGE_BYTES - 512,  # room for the envelope and the cursor
        )
    except StateError as exc:
        raise errors.LanyingError(f"the change journal cannot be read: {exc}", code="internal_error") from None
    return Envelope(entries, {"cursor": nxt or ""})


LIST_CHANGES = Operation(
    name="list_changes",
    http="LOCAL list_changes",
    local=True,
    params=ListChanges,
    # Each entry: id, time, tool, outcome, and when set targets, changes, caller, app, arguments, error,
    # inverse, plan_id, undoes. Untyped in the schema (the default listing's budget): the description says them.
    result=list[dict[str, Any]],
    extras=("cursor",),
    handler=list_changes,
    title=("List changes", "变更记录"),
    description=(
        "The journal of writes to this app, newest first: id (for undo_change), time, caller, tool, targets by "
        "name, changes, outcome (applied, failed, or unknown: may have been applied).",
        "本应用的写操作记录(最新在前):id(供undo_change)、时间、调用者、工具、目标名称、变更内容、结果"
        "(applied、failed或unknown:可能已生效)。",
    ),
    paging=Paging(Pages.CURSOR, arg="cursor", next="cursor"),
    hints=READ,
    toolset="meta",
)
