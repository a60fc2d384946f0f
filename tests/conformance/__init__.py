"""Harness for the official MCP conformance suite: fixtures live here, never in the shipped server."""
