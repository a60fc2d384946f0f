"""Mask secrets wherever they surface: results, audit entries, log lines.

An upstream may echo the access token in any field, and not only verbatim: upper-cased, cut by one
character, spaced out, or JSON-escaped inside a string inside a string. Exact-match replacement
misses all of those. A `Redactor` therefore looks for the token's *distinctive runs*: any window of
`run` consecutive letters/digits of the token, in any case, with up to a few non-alphanumeric
characters (spaces, dashes, quotes, backslashes, JSON escapes) between them. Windows are found at
every offset, overlapping, and their union is masked, so a copy is masked from end to end. A run
that long does not occur by chance in prose, so nothing else is masked.

That only works when the token has enough letters and digits for a run to be distinctive; a
shorter token is refused at start-up (`check_maskable`).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any, cast

from ..core.errors import SettingsError
from ..core.spec import Operation, secret_arguments

MASK = "[redacted]"
MIN_SIGNIFICANT = 10  # letters/digits a token needs before it can be masked safely
MAX_RUN = 16

# Between two token characters: nothing, or a few separators, or JSON escapes of them.
_SEP = r"(?:[^0-9A-Za-z]|\\[nrtbf]|\\u00[0-7][0-9a-fA-F]){0,8}"
_NOT_SIGNIFICANT = re.compile(r"\\[nrtbf]|\\u00[0-7][0-9a-fA-F]|[^0-9A-Za-z]+")
PROBE_FROM = 4096  # longer strings are first probed cheaply (see Redactor.text)
# Every byte but ASCII letters and digits: deleting them from a text's UTF-8 bytes is what
# _NOT_SIGNIFICANT does to a text without backslashes (no JSON escapes), at C speed.
_NOT_SIGNIFICANT_BYTES = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalnum())


def _significant(secret: str) -> list[str]:
    """The token's ASCII letters and digits, read the same way as a text is (escapes are separators)."""
    return list(_NOT_SIGNIFICANT.sub("", secret))


def check_maskable(token: str, name: str = "LANYING_ACCESS_TOKEN") -> None:
    """Refuse a token that could not be told apart from ordinary text in a result or a log line."""
    count = len(_significant(token))
    if token and count < MIN_SIGNIFICANT:
        raise SettingsError(
            f"{name} has {count} letters/digits; at least {MIN_SIGNIFICANT} are needed so that every copy of it "
            "can be masked in results and logs. Use the full token from the Lanying console."
        )


def _run(chars: list[str]) -> int:
    return max(8, min(MAX_RUN, len(chars) - 2))  # short enough that a copy cut by one or two is still caught


def _pattern(secret: str) -> str | None:
    chars = [c.lower() for c in _significant(secret)]
    if len(chars) < MIN_SIGNIFICANT:
        return None
    run = _run(chars)
    trie: dict[str, Any] = {}
    for i in range(len(chars) - run + 1):
        node = trie
        for c in chars[i : i + run]:
            node = node.setdefault(c, {})
    return _trie_regex(trie)


def _probes(secret: str) -> list[str]:
    """Grams such that every window of the token contains one whole: half a window long, at that stride."""
    chars = [c.lower() for c in _significant(secret)]
    if len(chars) < MIN_SIGNIFICANT:
        return []
    gram = _run(chars) // 2
    return ["".join(chars[i : i + gram]) for i in range(0, len(chars) - gram + 1, gram)]


def _trie_regex(node: dict[str, Any]) -> str:
    """The windows as one prefix tree, so the engine follows one path instead of trying every window."""
    branches = [re.escape(c) + (_SEP + _trie_regex(child) if child else "") for c, child in node.items()]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


class Redactor:
    """Masks every copy of the given secrets in strings and in nested structures."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self._secrets = tuple(dict.fromkeys(s for s in secrets if s))
        self._compiled = False
        self._re: re.Pattern[str] | None = None
        self._probe: re.Pattern[str] | None = None
        self._probe_bytes: tuple[bytes, ...] | None = None

    def _compile(self) -> None:
        """Built on first use, not at start-up: the patterns take tens of milliseconds to compile."""
        parts = [p for s in self._secrets for p in [_pattern(s)] if p]
        self._re = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        probes = {g for s in self._secrets for g in _probes(s)}
        self._probe = re.compile("|".join(re.escape(g) for g in sorted(probes))) if probes else None
        # Plain substring tests (C memmem per gram) are several times faster than one alternation regex.
        self._probe_bytes = tuple(g.encode("ascii") for g in sorted(probes)) if probes else None
        self._compiled = True

    def __bool__(self) -> bool:
        return any(_pattern(s) for s in self._secrets)

    def text(self, value: str) -> str:
        if not self._compiled:
            self._compile()
        if self._re is None or not value:
            return value
        if len(value) >= PROBE_FROM and self._probe is not None:
            # Letters and digits only, lower-cased: no window there means no copy in the text (fast path).
            if "\\" not in value and self._probe_bytes is not None:
                stripped = value.encode("utf-8", "surrogatepass").translate(None, _NOT_SIGNIFICANT_BYTES).lower()
                if not any(g in stripped for g in self._probe_bytes):
                    return value
            elif not self._probe.search(_NOT_SIGNIFICANT.sub("", value).lower()):
                return value
        # Windows at every offset, overlapping (search again one past each start); their union is masked.
        spans: list[list[int]] = []
        pos = 0
        while (match := self._re.search(value, pos)) is not None:
            start, end = match.span()
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
            pos = start + 1
        if not spans:
            return value
        out: list[str] = []
        last = 0
        for start, end in spans:
            out += [value[last:start], MASK]
            last = end
        out.append(value[last:])
        return "".join(out)

    def clean(self, value: Any) -> Any:
        """A copy of `value` with every string (dict keys included) masked; other values as they are."""
        if not self._compiled:
            self._compile()
        if self._re is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.clean(k): self.clean(v) for k, v in cast(dict[Any, Any], value).items()}
        if isinstance(value, list):
            items = cast(list[Any], value)
            if set(map(type, items)) <= _PLAIN:  # thousands of IDs: one C-speed pass, nothing to mask
                return list(items)
            return [self.clean(v) for v in items]
        if isinstance(value, tuple):
            return tuple(self.clean(v) for v in cast(tuple[Any, ...], value))
        return value


@functools.lru_cache(maxsize=64)
def redactor_for(secrets: tuple[str, ...]) -> Redactor:
    """One shared Redactor per set of secrets (each compiles its patterns once, on first use)."""
    return Redactor(secrets)


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record: the formatted message, and the exception and stack text."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.redactor:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: keep the raw parts
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redactor.text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        return True


_installed: dict[str, Any] = {}


def install_log_filter(redactor: Redactor) -> RedactingFilter:
    """Scrub every log record of this process, whichever logger or handler it goes through.

    The filter runs when a record is made (a record factory), so handlers added later (uvicorn's,
    a host's) see only masked text. Installing again replaces the previous redactor.
    """
    filt = RedactingFilter(redactor)
    if "base" not in _installed:
        _installed["base"] = logging.getLogRecordFactory()
    base = _installed["base"]

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        filt.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    return filt


LARGE_KEYS = {"file_base64"}  # arguments kept as their length only (a file's contents)


def secret_keys(operations: Iterable[Operation]) -> frozenset[str]:
    """Every argument these operations declare secret, and every result field they declare a secret.

    The server computes it once from its catalogue and hands it to the audit log and the journal."""
    keys: set[str] = set()
    for op in operations:
        keys |= secret_arguments(op.params)
        keys |= set(op.secret_fields)
    return frozenset(keys)


def _is_secret(key: str, declared: frozenset[str]) -> bool:
    return key in declared or "password" in key or "secret" in key


_PLAIN = {int, float, bool, type(None)}  # values with no text in them: never masked nor cut


def redact_arguments(value: Any, declared: frozenset[str] = frozenset()) -> Any:
    """A call's arguments as the audit log and the change journal keep them: every argument declared
    secret (`declared`, from `secret_keys`) or named like a password or secret replaced, file contents by
    their length, long texts and lists cut. The access token's copies are masked after this by a `Redactor`."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in cast(dict[Any, Any], value).items():  # a logged value: keys of any type
            if _is_secret(str(key), declared):
                out[key] = "[redacted]"
            elif key in LARGE_KEYS and isinstance(item, str):
                out[key] = f"[{len(item)} characters]"
            else:
                out[key] = redact_arguments(item, declared)
        return out
    if isinstance(value, list):
        items = cast(list[Any], value)[:1000]
        if set(map(type, items)) <= _PLAIN:  # a list of IDs: nothing in it is secret
            return items
        return [redact_arguments(v, declared) for v in items]
    if isinstance(value, str) and len(value) > 2000:
        return value[:2000] + "…"
    return value
