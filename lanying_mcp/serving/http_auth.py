"""Bearer-token guard for the HTTP transports (an ASGI middleware, independent of MCP).

The token is compared in constant time. Lifespan events pass through; every HTTP request without
the right `Authorization: Bearer …` header gets 401 before it reaches the MCP transport. Paths under
`open_prefixes` (the approval page) pass without it: a browser holds no bearer token, and the page
checks its own proof, a one-time secret that a host's bearer token never replaces.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class BearerAuth:
    def __init__(self, app: Any, token: str, open_prefixes: tuple[str, ...] = ()) -> None:
        if not token:
            raise ValueError("BearerAuth needs a non-empty token")
        self.app = app
        self._expected = b"Bearer " + token.encode("utf-8")
        self._open = open_prefixes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (self._open and str(scope.get("path", "")).startswith(self._open)):
            await self.app(scope, receive, send)
            return
        given = b""
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                given = value
                break
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "unauthorized", "hint": "send Authorization: Bearer <the server's auth token>"})
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b'Bearer realm="lanying-mcp"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})
