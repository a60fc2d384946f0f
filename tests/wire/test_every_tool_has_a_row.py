"""Every API tool appears in at least one wire-table row (arguments → exact request)."""

from __future__ import annotations

import importlib
import pkgutil

import tests.wire as wire
from lanying_mcp.toolsets import CATALOGUE


def test_every_tool_has_a_wire_row():
    covered: set[str] = set()
    for info in pkgutil.iter_modules(wire.__path__):
        module = importlib.import_module(f"tests.wire.{info.name}")
        for value in vars(module).values():
            if isinstance(value, list):
                covered |= {getattr(case, "tool", None) for case in value} - {None}
    assert sorted(set(CATALOGUE) - covered) == []
