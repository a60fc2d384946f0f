"""MCP over stdio and HTTP: the server, the SDK adapter, the consent gate, routing, selection, auth."""
