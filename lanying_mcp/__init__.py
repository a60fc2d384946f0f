"""lanying-mcp: the Lanying IM (蓝莺IM) server REST API as typed MCP tools."""

__version__ = "0.1.0"

__all__ = ["__version__"]
