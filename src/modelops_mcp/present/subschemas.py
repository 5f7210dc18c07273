"""Where a JSON Schema keeps its subschemas: a keyword holding one, a map of them, or a list of them.

The walkers that rewrite every subschema of a listed schema (portable.single_types, shared_defs) read it
from here, so they agree on what a subschema is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

ONE = ("items", "additionalProperties", "propertyNames", "contains", "not", "if", "then", "else")
MAP = ("properties", "patternProperties", "$defs", "dependentSchemas")
LIST = ("anyOf", "oneOf", "allOf", "prefixItems")


def children(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The subschemas directly below `schema` (booleans such as `additionalProperties: false` aside)."""
    for key, value in schema.items():
        found: list[Any] = []
        if key in ONE:
            found = [value]
        elif key in MAP and isinstance(value, dict):
            found = list(value.values())
        elif key in LIST and isinstance(value, list):
            found = value
        yield from (child for child in found if isinstance(child, dict))


def map_children(schema: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """A copy of `schema` with `change` applied to each subschema directly below it; the rest kept as is."""

    def one(value: Any) -> Any:
        return change(value) if isinstance(value, dict) else value

    walked: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ONE:
            walked[key] = one(value)
        elif key in MAP and isinstance(value, dict):
            walked[key] = {name: one(sub) for name, sub in value.items()}
        elif key in LIST and isinstance(value, list):
            walked[key] = [one(sub) for sub in value]
        else:
            walked[key] = value
    return walked
