"""Liveness and readiness on the HTTP transports, for load balancers and orchestrators.

- `GET /healthz`: the process serves HTTP (200, nothing checked).
- `GET /readyz`: the server can do its work: the state store answers (the Redis shared by replicas,
  or the state file) and the Lanying API endpoint answers HTTP. 200 when both do, else 503; the body
  says which check failed and why, without credentials.

A server with no fixed endpoint (its profiles name their own) checks the store only.

- `GET /metrics`: the server's Prometheus metrics (metrics.py).

Each is a setting (`LANYING_HEALTH`, `LANYING_METRICS`): `on` serves it beside the MCP endpoint, behind
the same guard (the bearer token or OAuth, when set); `off` serves it nowhere; `host:port` serves it on
that address instead, without auth, for a scraper or a probe on a private network (`OpsListeners`
runs those listeners for as long as the main server runs).
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Generator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.errors import SettingsError, StateError

log = logging.getLogger("lanying_mcp.http")

CHECK_SECONDS = 5.0  # each check's bound: a probe answers within about this long, whatever hangs


async def check_store(state: Any) -> dict[str, Any]:
    try:
        with anyio.fail_after(CHECK_SECONDS):
            await state.ping()
    except StateError as exc:
        return {"ok": False, "error": str(exc)}
    except TimeoutError:
        return {"ok": False, "error": f"the state store did not answer within {CHECK_SECONDS:g} s"}
    return {"ok": True}


async def check_upstream(client: Any, endpoint: str) -> dict[str, Any]:
    if not endpoint:
        return {"ok": True, "note": "no fixed endpoint: each request names its own"}
    why = await client.probe(CHECK_SECONDS)
    if why is not None:
        return {"ok": False, "endpoint": endpoint, "error": why}
    return {"ok": True, "endpoint": endpoint}


async def readiness(server: Any) -> tuple[bool, dict[str, Any]]:
    """Whether the server is ready, and each check's result (a server without a store or a client has
    nothing of that kind to check)."""
    checks: dict[str, dict[str, Any]] = {}
    if (state := getattr(server, "state", None)) is not None:
        checks["state"] = await check_store(state)
    if (client := getattr(server, "lanying_client", None)) is not None:
        checks["upstream"] = await check_upstream(client, client.settings.endpoint)
    return all(c["ok"] for c in checks.values()), checks


def health_routes(server: Any) -> dict[str, Any]:
    """The /healthz and /readyz handlers of `server`, by path."""

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> JSONResponse:
        ready, checks = await readiness(server)
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    return {"/healthz": healthz, "/readyz": readyz}


def metrics_routes(server: Any) -> dict[str, Any]:
    """The /metrics handler of `server` (its metrics are turned on here)."""
    counted = server.enable_metrics()

    async def metrics(request: Request) -> Response:
        body, content_type = counted.render()
        return Response(body, media_type=content_type)

    return {"/metrics": metrics}


def add_health_routes(server: Any) -> None:
    """Register /healthz and /readyz on `server` (before its HTTP app is built; once per server)."""
    _add(server, "_health_routes", health_routes(server))


def add_metrics_route(server: Any) -> None:
    """Register /metrics on `server` (before its HTTP app is built; once per server)."""
    _add(server, "_metrics_route", metrics_routes(server))


def _add(server: Any, flag: str, routes: dict[str, Any]) -> None:
    if getattr(server, flag, False):
        return
    setattr(server, flag, True)
    for path, handler in routes.items():
        server.custom_route(path, methods=["GET"], include_in_schema=False)(handler)


def ops_app(routes: dict[str, Any]) -> Starlette:
    """A small app serving only `routes` (the health and metrics endpoints moved to their own address)."""
    return Starlette(routes=[Route(path, handler, methods=["GET"]) for path, handler in routes.items()])


class OpsListeners:
    """ASGI middleware: while the wrapped app's lifespan runs, serve each (host, port, app) with uvicorn too."""

    def __init__(self, app: Any, listeners: list[tuple[str, int, Any]]) -> None:
        self.app = app
        self.listeners = listeners
        self.sockets: list[socket.socket] = []

    def bind(self) -> None:
        """Take each address now, before the main server starts: one in use stops the start, saying which."""
        for host, port, _ in self.listeners:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                sock.close()
                raise SettingsError(
                    f"LANYING_METRICS / LANYING_HEALTH: cannot listen on {host}:{port} ({exc.strerror or exc}); "
                    "pick a free address, or `on` to serve them beside /mcp"
                ) from None
            self.sockets.append(sock)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan" or not self.listeners:
            await self.app(scope, receive, send)
            return
        if not self.sockets:
            self.bind()
        servers = [
            (_listener(host, port, app), sock)
            for (host, port, app), sock in zip(self.listeners, self.sockets, strict=True)
        ]
        async with anyio.create_task_group() as tg:
            for server, sock in servers:
                tg.start_soon(server.serve, [sock])
            try:
                await self.app(scope, receive, send)
            finally:
                for server, _ in servers:
                    server.should_exit = True


def _listener(host: str, port: int, app: Any) -> Any:
    import uvicorn

    class Listener(uvicorn.Server):
        """A second server in the same process: the main server alone handles the signals."""

        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None]:
            yield

    log.info("serving %s on %s:%d", ", ".join(r.path for r in app.routes), host, port)
    return Listener(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off"))
