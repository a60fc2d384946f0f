"""Text written by end users is data, never instructions: mark where it is, and clean it.

Nicknames, group names, announcements and message text reach the model inside tool results and the
human inside confirmation questions. Anyone who can register a user or name a group writes them, so
a result says which of its fields carry such text (`_meta["lanying/untrusted"]`: JSONPath patterns,
from the operation's `IdPaths.text` declaration plus the name maps added by names.py), and the text
loses the characters that hide or reorder what a reader sees: bidi controls, zero-width and other
format characters, Unicode tag characters, and control characters other than newline and tab.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from typing import Any, cast

from ..core.spec import Operation

__all__ = ["META_KEY", "NAME_PATHS", "RAW", "clean", "clean_tree", "meta", "paths", "quote", "sanitise", "slots"]

META_KEY = "lanying/untrusted"
# The name maps names.py adds beside `data`: every value there was written by an end user.
NAME_PATHS = ("users.*.username", "users.*.nick_name", "groups.*")
# An answer off its documented shape comes back whole in `raw_data`: nothing says which of it end users
# wrote, so all of it is marked, unless the operation declares `raw_data` paths of its own.
RAW = "raw_data"

# Invisible although not of category Cf: Hangul fillers, and the supplementary variation selectors
# used to smuggle text (the basic ones, U+FE00-FE0F, stay: emoji need them).
_INVISIBLE = {0x115F, 0x1160, 0x3164, 0xFFA0}


def _hidden(ch: str) -> bool:
    code = ord(ch)
    if code in _INVISIBLE or 0xE0100 <= code <= 0xE01EF:
        return True
    # Cc control, Cf format (bidi, zero-width, tags, BOM), Zl/Zp line/paragraph separators, Co/Cs.
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs")


def clean(text: str, keep_lines: bool = True) -> str:
    """`text` without invisible, bidi and control characters; newline and tab kept (or made spaces)."""
    if text.isascii() and text.isprintable():
        return text  # the common case, and cheap
    out: list[str] = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch if keep_lines else " ")
        elif not _hidden(ch):
            out.append(ch)
    return "".join(out)


def clean_tree(value: Any) -> Any:
    """`value` with every string in it (object keys too, at any depth) cleaned as `clean` does."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_tree(item) for item in cast(list[Any], value)]
    if isinstance(value, dict):
        items = cast(dict[Any, Any], value).items()
        return {clean(k) if isinstance(k, str) else k: clean_tree(item) for k, item in items}
    return value


def _has_text(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, list):
        return any(_has_text(item) for item in cast(list[Any], value))
    if isinstance(value, dict):
        return any(_has_text(item) for item in cast(dict[Any, Any], value).values())
    return False


def quote(text: str, limit: int = 40) -> str:
    """End-user text shown to a human: one line, at most `limit` characters, in unambiguous quotes.

    JSON quoting escapes any quote mark inside, so a name cannot close the quote and go on to
    write a question of its own.
    """
    flat = " ".join(clean(str(text), keep_lines=False).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return json.dumps(flat, ensure_ascii=False)


def _steps(path: str) -> list[str]:
    steps: list[str] = []
    for part in path.split("."):
        name = part.removesuffix("[]")
        if name:
            steps.append(name)
        if part.endswith("[]"):
            steps.append("[]")
    return steps


def slots(root: Any, path: str) -> Iterator[tuple[Any, Any, Any]]:
    """(container, key, value) of every value `path` reaches: `a.b`, `a[]` (list items), `a.*` (dict values)."""
    level: list[tuple[Any, Any, Any]] = [(None, None, root)]
    for step in _steps(path):
        nxt: list[tuple[Any, Any, Any]] = []
        for _, _, value in level:
            if step == "[]":
                if isinstance(value, list):
                    items = cast(list[Any], value)  # a JSON array: any values
                    nxt.extend((items, i, item) for i, item in enumerate(items))
            elif step == "*":
                if isinstance(value, dict):
                    obj = cast(dict[Any, Any], value)  # a JSON object: any values
                    nxt.extend((obj, k, item) for k, item in obj.items())
            elif isinstance(value, dict) and step in value:
                obj = cast(dict[Any, Any], value)
                nxt.append((obj, step, obj[step]))
        level = nxt
    return iter([slot for slot in level if slot[0] is not None])


def _declared(op: Operation) -> tuple[str, ...]:
    return (op.ids.text if op.ids is not None else ()) + NAME_PATHS


def _jsonpath(path: str) -> str:
    return "$." + path.replace("[]", "[*]")


def paths(op: Operation, structured: dict[str, Any]) -> list[str]:
    """JSONPath patterns of the end-user text this result holds (only those with a value present).

    An off-shape answer's `raw_data` is marked whole (`$.raw_data..*`, every value under it, or
    `$.raw_data` when it is one string), unless the operation declares paths under `raw_data`.
    """
    declared = _declared(op)
    found = [
        _jsonpath(path)
        for path in declared
        if any(isinstance(value, str) and value for _, _, value in slots(structured, path))
    ]
    raw = structured.get(RAW)
    if _has_text(raw) and not any(p == RAW or p.startswith((RAW + ".", RAW + "[")) for p in declared):
        found.append("$." + RAW if isinstance(raw, str) else "$." + RAW + "..*")
    return found


def meta(op: Operation, structured: dict[str, Any]) -> dict[str, Any]:
    """The result's `_meta` entry for untrusted content, or {} when it holds none."""
    found = paths(op, structured)
    return {META_KEY: found} if found else {}


def sanitise(op: Operation, structured: dict[str, Any]) -> dict[str, Any]:
    """Clean every end-user string of `structured` in place (the text result is made from it).

    The name maps are cleaned by names.py as it caches them, so only the declared paths are walked.
    """
    for path in op.ids.text if op.ids is not None else ():
        for container, key, value in list(slots(structured, path)):
            if isinstance(value, str):
                container[key] = clean(value)
    return structured
