"""Audit log: one JSON line per write call, on disk before the result goes back to the agent.

Each entry: time, tool, the HTTP call(s), arguments with secrets removed, outcome and Lanying code.
The file is opened for append, written, flushed and fsync'ed per entry, so a crash right after a
call cannot lose its record. Reads are not logged (they change nothing).
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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
    def __init__(self, path: str | Path, keep: int = 200) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._recent: deque[dict[str, Any]] = deque(maxlen=keep)
        # Fail at start-up, not at the first write, when the file cannot be written.
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise SettingsError(f"cannot write the audit log {self.path}: {exc.strerror}") from None

    def record(self, tool: str, http: Any, arguments: Any, ok: bool, code: Any = None, note: str | None = None) -> None:
        entry: dict[str, Any] = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "tool": tool,
            "http": http,
            "arguments": redact(arguments),
            "outcome": "ok" if ok else "error",
        }
        if code is not None:
            entry["code"] = code
        if note:
            entry["note"] = note
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
