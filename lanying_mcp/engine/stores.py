"""Which state store a server opens: the one place that knows every backend (state.py, state_redis.py)."""

from __future__ import annotations

from pathlib import Path

from .state import MEMORY, MemoryState, SQLiteState, State, default_path
from .state_redis import RedisState


def open_state(setting: str = "", url: str = "") -> State:
    """The store a server uses: a Redis server when `url` is set (shared by replicas), else the setting's
    path, `:memory:` for this process only, or the default file."""
    if url.strip():
        return RedisState(url.strip())
    if setting.strip() == MEMORY:
        return MemoryState()
    return SQLiteState(Path(setting).expanduser() if setting.strip() else default_path)  # found at first use
