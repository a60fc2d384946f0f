"""The sandbox as an ASGI app: auth, act-as headers, the envelope, and the file store's upload URL."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import ai, devices, files, group_content, group_moderation, groups, messages, push, roster, tokens, users
from .core import Actor, Call, Fail, Reply, RouteInfo, Store, parse_body

log = logging.getLogger("lanying_mcp.sandbox")

# The sandbox's areas, each a module exporting `ROUTES` (its route table) and `forget_user(store,
# user_id)` (its part of deleting a user). The users area comes last: it drops the user record
# itself, after the others have let go of it.
AREAS = (tokens, devices, roster, groups, group_moderation, group_content, messages, files, push, ai, users)


def route_table() -> dict[tuple[str, str], RouteInfo]:
    """Every (method, path) the sandbox serves, merged from the areas' own tables."""
    table: dict[tuple[str, str], RouteInfo] = {}
    for area in AREAS:
        for key, info in area.ROUTES.table.items():
            if key in table:
                raise RuntimeError(f"sandbox route {key} is served by two areas")
            table[key] = info
    return table


ROUTES = route_table()

NOTICE = "Lanying sandbox: emulates the public API documentation in memory, not the real service."


def envelope(code: int, message: str | None = None, data: Any = None, **extras: Any) -> JSONResponse:
    body = {"code": code, "message": message, "data": data, **extras}
    return JSONResponse(body, status_code=200)


def _actor(store: Store, request: Request, open_route: bool) -> Actor:
    app_id = request.headers.get("app_id")
    if not app_id:
        raise Fail(40000, "the app_id header is missing")
    if app_id != store.app_id:
        raise Fail(40000, f"app_id {app_id!r} does not exist")
    token = request.headers.get("access-token")
    if not token:
        if open_route:
            return Actor(admin=False)
        raise Fail(10003, "the access-token header is missing")
    if token == store.admin_token:
        actor = Actor(admin=True)
        if (uid := request.headers.get("user_id")) is not None:
            actor.user_id = store.user(uid).user_id
        if (gid := request.headers.get("group_id")) is not None:
            try:
                actor.group_id = int(gid)
            except ValueError:
                raise Fail(10002, "the group_id header must be an integer") from None
        return actor
    user_id = store.user_tokens.get(token)
    if user_id is None or user_id not in store.users:
        raise Fail(10008, "the access-token is invalid")
    return Actor(admin=False, user_id=user_id)


def build_app(store: Store | None = None) -> Starlette:
    """A fresh sandbox app with its own store (`app.state.store`)."""
    store = store or Store()
    store.forgetters = tuple(area.forget_user for area in AREAS)

    async def dispatch(request: Request) -> Response:
        path = "/" + request.path_params["path"]
        method = request.method.upper()
        info = ROUTES.get((method, path))
        if info is None:
            if any(p == path for _, p in ROUTES):
                return JSONResponse({"error": "Method Not Allowed"}, status_code=405)
            if path.startswith("/_files/"):
                return await files.serve(store, request, path)
            return JSONResponse({"error": "Not Found", "path": path}, status_code=404)
        raw = await request.body()
        try:
            body = parse_body(raw)
        except UnicodeDecodeError:
            return envelope(10002, "the body is not UTF-8 text")
        try:
            with store.lock:
                actor = _actor(store, request, info.open)
            call = Call(
                store,
                method,
                path,
                dict(request.headers),
                dict(request.query_params),
                body,
                actor,
                raw.decode("utf-8", "replace"),
            )
            with store.lock:
                result = info.handler(call)
                if inspect.isawaitable(result):
                    result = await result
        except Fail as exc:
            return envelope(exc.code, exc.message)
        except Exception:
            log.exception("sandbox handler for %s %s crashed", method, path)
            return envelope(20000, "sandbox internal error")
        if isinstance(result, Response):
            return result
        if isinstance(result, Reply):
            return envelope(200, None, result.data, **result.extras)
        return envelope(200, None, result)

    async def upload(request: Request) -> Response:
        try:
            return await files.receive_upload(store, request)
        finally:
            await request.close()  # the form's spooled temporary files

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    app = Starlette(
        routes=[
            Route("/_upload/{key:path}", upload, methods=["POST", "PUT"]),
            Route("/{path:path}", dispatch, methods=methods),
        ]
    )
    app.state.store = store
    return app
