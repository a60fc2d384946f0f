"""A sandbox kept on disk, so that successive `lanying-mcp call --sandbox` runs share one app.

Each run loads the file (or starts an empty sandbox), makes its call, and writes the sandbox back. A
lock file next to it serialises runs that overlap. The file is a pickle that this command wrote: it is
created readable by its owner only, and one owned by someone else, writable by others, or written by
another version of lanying-mcp is not loaded (an empty sandbox replaces it, with a note on stderr).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, cast

from ..core.version import __version__
from .core import Store

FILE_NAME = "sandbox.pickle"


def default_path() -> Path:
    """`$XDG_STATE_HOME/lanying-mcp/sandbox.pickle`, else `~/.local/state/lanying-mcp/…`, else the temp folder."""
    base = os.environ.get("XDG_STATE_HOME", "")
    if base:
        return Path(base) / "lanying-mcp" / FILE_NAME
    home = os.environ.get("HOME", "")
    if home:
        return Path(home) / ".local" / "state" / "lanying-mcp" / FILE_NAME
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"lanying-mcp-{uid}" / FILE_NAME


@contextlib.contextmanager
def _locked(path: Path) -> Generator[None, None, None]:
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform: overlapping runs may lose a write
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _why_not_loaded(path: Path) -> str | None:
    info = path.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return "it belongs to another user"
    if info.st_mode & 0o022:
        return "others can write to it"
    return None


def _load(path: Path, say: Callable[[str], None]) -> Store | None:
    if not path.exists():
        return None
    why = _why_not_loaded(path)
    if why is None:
        try:
            with open(path, "rb") as fh:
                saved = pickle.load(fh)  # noqa: S301 - a file this command wrote, owner-only (checked above)
        except Exception as exc:  # a damaged file is replaced, never a crash
            why = f"it cannot be read ({type(exc).__name__})"
        else:
            fields = cast(dict[str, Any], saved) if isinstance(saved, dict) else {}  # what pickle read back
            if fields.get("version") == __version__ and isinstance(fields.get("store"), Store):
                return fields["store"]
            why = "another version of lanying-mcp wrote it"
    say(f"lanying-mcp: not loading the saved sandbox {path}: {why}; starting an empty one in its place")
    return None


def _save(path: Path, store: Store) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sandbox-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump({"version": __version__, "store": store}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def kept(
    path: Path, *, fresh: bool = False, say: Callable[[str], None] = lambda _: None
) -> Generator[Store, None, None]:
    """The saved sandbox at `path` (an empty one when there is none or `fresh`), written back afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(path):
        store = None if fresh else _load(path, say)
        if store is None:
            store = Store()
            say(f"lanying-mcp: a new sandbox, saved in {path} for the next `call --sandbox`")
        try:
            yield store
        finally:
            _save(path, store)
