"""The line before a list result's JSON: how many items came back and how to ask for the next page.

It is read from the operation's declared `Paging` (spec.py), never guessed from the result's keys or
the arguments' names: the declaration says where the items are, which argument asks for the next page
and where the answer holds its value. A result without a declaration gets no line.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json

from ..core.json_values import as_array, as_object
from ..core.spec import Pages, Paging


def page_line(paging: Paging | None, structured: dict[str, Any], params: BaseModel | None, lang: str) -> str | None:
    """How many items came back and how to ask for the next page, in the words of the tool's arguments."""
    if paging is None:
        return None
    data = structured.get("data")
    page = as_object(data)
    found = as_array((page.get(paging.items) if page is not None else None) if paging.items else data)
    if found is None:
        return None
    count = len(found)
    last, nxt = _next(paging, structured, page, params, count)
    total = structured.get(paging.total) if paging.total else None
    noun = paging.unit
    if lang == "zh":
        line = f"本页{count}{noun[1]}" + (f"(共{total})" if total is not None else "") + "。"
        return line + ("已是最后一页。" if last else f"下一页:{nxt}。" if nxt else "")
    word = noun[0] if count != 1 else noun[0][:-1]  # "1 item", "1 message"
    line = f"{count} {word}" + (f" of {total}" if total is not None else "") + "."
    return line + (" Last page." if last else f" Next page: {nxt}." if nxt else "")


def _next(
    paging: Paging, structured: dict[str, Any], page: dict[str, Any] | None, params: BaseModel | None, count: int
) -> tuple[bool, str | None]:
    """Whether this is the last page, and else the argument that asks for the next one (`arg=value`)."""
    if paging.style is Pages.CURSOR and paging.next is not None and paging.next in structured:
        cursor = structured[paging.next]
        return (True, None) if not cursor else (False, f"{paging.arg}={to_json(cursor).decode()}")
    if paging.style is Pages.NUMBER and params is not None and paging.arg is not None:
        size = getattr(params, paging.size, None) if paging.size else None
        if count == 0 or (size is not None and count < size):
            return True, None
        return False, f"{paging.arg}={(getattr(params, paging.arg, None) or 1) + 1}"
    if paging.style is Pages.WINDOW and page is not None and paging.next is not None:
        start = page.get(paging.next)
        if (paging.last is not None and page.get(paging.last)) or not start:
            return True, None
        return False, f"{paging.arg}={start}"
    return False, None
