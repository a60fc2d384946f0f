"""Baseline MCP servers for tools/bench.py: what our server is compared against in the same run.

    python tools/bench_baselines.py minimal [stdio | http PORT]
    python tools/bench_baselines.py handwritten [stdio | http PORT]

`minimal` is the smallest honest MCPServer: one tool, no HTTP client. It is the floor for cold
start and resident memory, the cost of Python + the MCP SDK alone.

`handwritten` is what a developer would write by hand for one Lanying operation: an MCPServer tool
`get_group_info(group_id)` that makes the same `GET /group/info` call with one shared httpx2 client,
checks the `{code, message, data}` envelope and returns `data`. It is the fair baseline for the
per-call cost of our generic machinery (argument model, dispatcher, typed result, error boundary):
same SDK, same transport, same HTTP call, none of our layers. It reads the same LANYING_API_ENDPOINT,
LANYING_APP_ID and LANYING_ACCESS_TOKEN variables as our server.

Both serve streamable HTTP the way `lanying-mcp --transport http` does (stateful, SSE responses, no
access log), so only the server-side work differs.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

# Idle connections are closed by the client before this many seconds, under the 5 s after which uvicorn
# (the sandbox's and every MCP server's HTTP server here) closes them: a connection closed by the server
# at the moment the client reuses it fails with "Server disconnected without sending a response".
KEEPALIVE_SECONDS = 3.0


def minimal() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer(name="minimal", version="0.0.0")

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    return server


def handwritten() -> MCPServer[Any]:
    import httpx2

    endpoint = os.environ["LANYING_API_ENDPOINT"].rstrip("/")
    headers = {"app_id": os.environ["LANYING_APP_ID"], "access-token": os.environ["LANYING_ACCESS_TOKEN"]}
    server: MCPServer[Any] = MCPServer(name="handwritten", version="0.0.0")
    clients: list[httpx2.AsyncClient] = []  # created inside the server's event loop, on first use

    @server.tool()
    async def get_group_info(group_id: int) -> dict[str, Any]:
        """A group's name, owner, member count and settings."""
        if not clients:
            # Idle connections are dropped before the sandbox's own keep-alive limit (uvicorn: 5 s) ends them.
            limits = httpx2.Limits(keepalive_expiry=KEEPALIVE_SECONDS)
            clients.append(httpx2.AsyncClient(base_url=endpoint, headers=headers, timeout=20.0, limits=limits))
        try:
            response = await clients[0].get("/group/info", params={"group_id": group_id})
        except httpx2.TransportError:
            # A keep-alive connection the sandbox closed as it was reused: this read is sent again once, as
            # our server sends a read again after a dropped connection.
            response = await clients[0].get("/group/info", params={"group_id": group_id})
        body = response.json()
        if body.get("code") != 200:
            raise ToolError(f"Lanying error {body.get('code')}: {body.get('message')}")
        return body["data"]

    return server


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else "minimal"
    transport = argv[1] if len(argv) > 1 else "stdio"
    server = {"minimal": minimal, "handwritten": handwritten}[kind]()
    if transport == "stdio":
        server.run("stdio")
        return 0
    import uvicorn

    port = int(argv[2])
    app = server.streamable_http_app(host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
