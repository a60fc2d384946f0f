"""Audit log: one JSON line per write call, on disk before the result goes back to the agent.

Each entry: time, tool, the HTTP call(s), arguments with secrets removed, outcome and Lanying code.
The file is opened for append, written, flushed and fsync'ed per entry, so a crash right after a
call cannot lose its record. Reads are not logged (they change nothing).

It fails closed: `begin` writes an "intent" line before a write is sent, and raises
`AuditUnavailable` when it cannot, so no write reaches the API without its record. `finish`
writes the outcome under the same entry ID. Every entry goes through the `Redactor` first, so a
token the API echoed in an argument or a note is masked on disk too.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import AuditUnavailable
from .redact import Redactor
from .settings import SettingsError

SECRET_KEYS = {
    "password",
    "new_password",
    "old_password",
    "auth_answer",
    "device_token",
    "access_token",
    "token",
    "sign",
}
LARGE_KEYS = {"file_base64"}


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in SECRET_KEYS or "password" in key or "secret" in key:
                out[key] = "[redacted]"
            elif key in LARGE_KEYS and isinstance(item, str):
                out[key] = f"[{len(item)} characters]"
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value[:1000]]
    if isinstance(value, str) and len(value) > 2000:
        return value[:2000] + "…"
    return value


class AuditLog:
    def __init__(self, path: str | Path, keep: int = 200, *, redactor: Redactor | None = None) -> None:
        self.path = Path(path)
        self.redactor = redactor
        self._lock = threading.Lock()
        self._recent: deque[dict[str, Any]] = deque(maxlen=keep)
        # Fail at start-up, not at the first write, when the file cannot be written.
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise SettingsError(f"cannot write the audit log {self.path}: {exc.strerror}") from None

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
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "tool": tool,
            "http": http,
            "arguments": redact(arguments),
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
            self._recent.append(entry)

    def tail(self, n: int = 100) -> list[dict[str, Any]]:
        """The last entries: from memory, or from the file when this process has written fewer."""
        with self._lock:
            if len(self._recent) >= n:
                return list(self._recent)[-n:]
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()[-n:]
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out
