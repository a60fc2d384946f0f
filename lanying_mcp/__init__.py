"""lanying-mcp: the Lanying IM (蓝莺IM) server REST API as typed MCP tools.

The public surface is what `__all__` names: build a server from settings, or the local sandbox app.
Everything else is internal and may change between releases. The names load on first use, so that
`import lanying_mcp` (which the CLI's `--version` does) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.version import __version__

__all__ = ["Settings", "SettingsError", "__version__", "build_sandbox_app", "build_server"]

if TYPE_CHECKING:
    from .core.errors import SettingsError
    from .core.settings import Settings
    from .sandbox.app import build_app as build_sandbox_app
    from .serving.server import build_server

_LAZY = {
    "Settings": ("core.settings", "Settings"),
    "SettingsError": ("core.errors", "SettingsError"),
    "build_server": ("serving.server", "build_server"),
    "build_sandbox_app": ("sandbox.app", "build_app"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'lanying_mcp' has no attribute {name!r}")
    from importlib import import_module

    module, attr = _LAZY[name]
    return getattr(import_module(f".{module}", __name__), attr)
