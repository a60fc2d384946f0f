"""Liveness and readiness on the HTTP transports, for load balancers and orchestrators.

- `GET /healthz`: the process serves HTTP (200, nothing checked).
- `GET /readyz`: the server can do its work: the state store answers (the Redis shared by replicas,
  or the state file) and the Lanying API endpoint answers HTTP. 200 when both do, else 503; the body
  says which check failed and why, without credentials.

Both sit behind the same guard as the MCP endpoint (the bearer token, when one is set). A server with
no fixed endpoint (its profiles name their own) checks the store only.
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse

from .state import StateError

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


def add_health_routes(server: Any) -> None:
    """Register /healthz and /readyz on `server` (before its HTTP app is built; once per server)."""
    if getattr(server, "_health_routes", False):
        return
    server._health_routes = True

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> JSONResponse:
        ready, checks = await readiness(server)
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    server.custom_route("/healthz", methods=["GET"], include_in_schema=False)(healthz)
    server.custom_route("/readyz", methods=["GET"], include_in_schema=False)(readyz)
