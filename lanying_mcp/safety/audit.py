"""Audit log: one JSON line per write call, on disk before the result goes back to the agent.

Each entry: time, tool, the HTTP call(s), the app it went to (`app`: ID, endpoint and profile name,
and `app_key`, a one-way digest of the app's credentials), who called (`caller`, see identity.py:
`local:<user>` on stdio, a digest of the bearer and per-request credentials on HTTP, `oauth:<sub>`
with OAuth, then also `who`: the token's subject, email and name), the arguments
with secrets removed, the outcome and the Lanying code. The file is opened for append, written,
flushed and fsync'ed per entry, so a crash right after a call cannot lose its record. Reads are not
logged (they change nothing).

It fails closed: `begin` writes an "intent" line before a write is sent, and raises
`AuditUnavailable` when it cannot, so no write reaches the API without its record. `finish`
writes the outcome under the same entry ID. Every entry goes through the `Redactor` first, so a
token the API echoed in an argument or a note is masked on disk too, and every argument declared
secret on any operation (`f(..., secret=True)`) or named as a secret result field is removed.

`tail` reads the last entries from the end of the file, a block at a time, never more than
`max_bytes` of it, and keeps only the entries of the apps asked for.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import threading
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..core.errors import AuditUnavailable, SettingsError
from ..core.json_values import as_object
from .redact import Redactor, redact_arguments, secret_keys

BLOCK = 64 * 1024
TAIL_MAX_BYTES = 4 * 1024 * 1024  # the most of the file one read of the resource looks at

__all__ = ["AuditLog", "redact_arguments", "secret_keys"]


class AuditLog:
    def __init__(
        self, path: str | Path, *, redactor: Redactor | None = None, declared: Callable[[], frozenset[str]] = frozenset
    ) -> None:
        self.path = Path(path)
        self.redactor = redactor
        self.declared = declared  # the arguments the catalogue declares secret (redact.secret_keys), at first use
        self.tags: dict[str, Any] = {}  # what `bound` adds to every entry: the app and the caller
        self._lock = threading.Lock()
        # Fail at start-up, not at the first write, when the file cannot be written.
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise SettingsError(f"cannot write the audit log {self.path}: {exc.strerror}") from None

    def bound(self, **tags: Any) -> AuditLog:
        """This log, adding `tags` (app, app_key, caller) to every entry one call writes; same file and lock."""
        view = copy.copy(self)
        view.tags = {**self.tags, **{k: v for k, v in tags.items() if v not in (None, "", {})}}
        return view

    def begin(self, tool: str, http: Any, arguments: Any) -> str:
        """Record that a write is about to be sent; raise AuditUnavailable (send nothing) when it cannot be."""
        entry_id = secrets.token_hex(8)
        entry = self._entry(tool, http, arguments, id=entry_id, outcome="intent")
        try:
            self._write(entry)
        except OSError as exc:
            raise AuditUnavailable(str(self.path), exc.strerror or type(exc).__name__) from None
        return entry_id

    def finish(
        self,
        entry_id: str,
        tool: str,
        http: Any,
        arguments: Any,
        ok: bool,
        code: Any = None,
        note: str | None = None,
    ) -> None:
        """The outcome of a write that `begin` recorded. The write was made: a failure here is not raised."""
        entry = self._entry(tool, http, arguments, id=entry_id, outcome="ok" if ok else "error", code=code, note=note)
        try:
            self._write(entry)
        except OSError:
            pass  # the intent line is on disk; the caller must still get the write's real outcome

    def record(self, tool: str, http: Any, arguments: Any, ok: bool, code: Any = None, note: str | None = None) -> None:
        self._write(self._entry(tool, http, arguments, outcome="ok" if ok else "error", code=code, note=note))

    def _entry(self, tool: str, http: Any, arguments: Any, **fields: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "tool": tool,
            "http": http,
            **self.tags,
            "arguments": redact_arguments(arguments, self.declared()),
        }
        entry.update({k: v for k, v in fields.items() if v is not None and v != ""})
        return self.redactor.clean(entry) if self.redactor is not None else entry

    def _write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    def tail(
        self, n: int = 100, app_keys: Collection[str] | None = None, max_bytes: int = TAIL_MAX_BYTES
    ) -> list[dict[str, Any]]:
        """The last `n` entries, oldest first, of the apps in `app_keys` (all when None).

        Read backwards from the end of the file, a block at a time, and never more than `max_bytes`
        of it: a large log costs what the last entries cost, not its size."""
        try:
            fh = open(self.path, "rb")
        except OSError:
            return []
        with fh:
            return _tail(fh, n, app_keys, max_bytes)


def _tail(fh: BinaryIO, n: int, app_keys: Collection[str] | None, max_bytes: int) -> list[dict[str, Any]]:
    end = fh.seek(0, os.SEEK_END)
    found: list[dict[str, Any]] = []
    carry = b""  # the start of a line whose beginning is in an earlier block
    pos, read = end, 0
    while pos > 0 and len(found) < n and read < max_bytes:
        size = min(BLOCK, pos, max_bytes - read)
        pos -= size
        fh.seek(pos)
        block = fh.read(size) + carry
        read += size
        lines = block.split(b"\n")
        carry = lines.pop(0) if pos > 0 else b""  # possibly cut: completed by the next block back
        for line in reversed(lines):
            if len(found) >= n:
                break
            entry = _parse(line, app_keys)
            if entry is not None:
                found.append(entry)
    if pos == 0 and carry and len(found) < n:
        entry = _parse(carry, app_keys)
        if entry is not None:
            found.append(entry)
    found.reverse()
    return found


def _parse(line: bytes, app_keys: Collection[str] | None) -> dict[str, Any] | None:
    line = line.strip()
    if not line:
        return None
    try:
        entry = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    record = as_object(entry)
    if record is None:
        return None
    if app_keys is not None and record.get("app_key") not in app_keys:
        return None
    return record
