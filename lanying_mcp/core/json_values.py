"""Typed views of parsed JSON (an upstream envelope's `data`, a row in it, a saved file).

`json.loads` and the HTTP client hand back `Any`. Once code has checked that a value is an object or an
array, these functions give it the type JSON guarantees: an object's keys are strings, its values anything.
They only narrow the static type; the value returned is the value given.
"""

from __future__ import annotations

from typing import Any, cast


def as_object(value: object) -> dict[str, Any] | None:
    """`value` when it is a JSON object, else None."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def as_array(value: object) -> list[Any] | None:
    """`value` when it is a JSON array, else None."""
    return cast(list[Any], value) if isinstance(value, list) else None


def objects(value: object) -> list[dict[str, Any]]:
    """The items of a JSON array that are objects, in order; none when `value` is not an array."""
    return [obj for item in as_array(value) or () if (obj := as_object(item)) is not None]
