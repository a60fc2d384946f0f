"""The vendored Swagger and reference pages, read the way the conformance tests need them."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

UPSTREAM = Path(__file__).resolve().parents[2] / "tools" / "upstream" / "lanying-api"
LIMIT_KEYS = ("maximum", "minimum", "maxLength", "pattern")
AUTH_HEADERS = ("access-token", "app_id", "user_id", "group_id")


@cache
def swagger() -> dict[str, Any]:
    return json.loads((UPSTREAM / "api-docs.json").read_text())


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation the Swagger documents."""
    return [(m.upper(), p, op) for p, ms in swagger()["paths"].items() for m, op in ms.items()]


def definition(ref: str) -> dict[str, Any]:
    return swagger()["definitions"][ref.rsplit("/", 1)[-1]]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    return definition(schema["$ref"]) if "$ref" in schema else schema


def limited_parameters(op: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, wire name, limits) of every query parameter and top-level body property with a limit."""
    out = []
    for prm in op.get("parameters", []):
        if prm["in"] == "body":
            body = resolve(prm["schema"])
            for name, prop in body.get("properties", {}).items():
                if lim := {k: prop[k] for k in LIMIT_KEYS if k in prop}:
                    out.append(("body", name, lim))
        elif prm["in"] != "header" and (lim := {k: prm[k] for k in LIMIT_KEYS if k in prm}):
            out.append((prm["in"], prm["name"], lim))
    return out


@cache
def error_table() -> dict[int, str]:
    """The quick guide's error table: code → description."""
    text = (UPSTREAM / "quick-guide.txt").read_text()
    return {int(c): d.strip() for c, d in re.findall(r"^(\d{5}) \| ([^|]+) \|", text, re.M)}
