"""A local, stateful, Lanying-compatible service for trying, testing and rehearsing.

It emulates the public API documentation (paths, headers, envelope, error codes) in memory; it is
not the real service. `build_app()` gives a fresh ASGI app with its own `Store`.
"""

from .app import AREAS, NOTICE, ROUTES, build_app
from .core import SANDBOX_APP_ID, Store

__all__ = ["AREAS", "NOTICE", "ROUTES", "SANDBOX_APP_ID", "Store", "build_app"]
