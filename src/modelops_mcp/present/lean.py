"""The output schema a tool list carries: the result's shape, not its full documentation.

Output schemas are most of a tool list's bytes (a DataRobot custom model object alone is inlined in six
tools), yet models act on input schemas; clients use an output schema to check and unpack a result. So the
listed output schema keeps what that needs: every top-level field with its type, enum and required-ness,
and the same for the items of a top-level list (a list tool's rows); deeper objects keep their type only.
Descriptions stay where they say what to do next (they name another tool or argument); limits such as
maxLength, meaningless for what a server returns, go. Every result valid under the full schema is valid
under the lean one, since fields and constraints are only ever dropped. The full schema stays one call
away: ops_describe, the modelops://schemas/{backend} resource, or `--output-schemas full`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

# Constraints on values a backend returns: they tell a client nothing it acts on.
_OUTPUT_LIMITS = frozenset(
    {
        "maxLength",
        "minLength",
        "maximum",
        "minimum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "maxItems",
        "minItems",
        "uniqueItems",
        "pattern",
        "format",
        "default",
        "examples",
        "title",
    }
)
_BRANCHES = ("anyOf", "oneOf", "allOf")


def _is_array(schema: Any) -> bool:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _guides(description: str, names: Collection[str]) -> bool:
    """A description worth its bytes in a lean schema: it points at another tool (what to call next)."""
    return any(name in description for name in names)


def lean_output(schema: dict[str, Any], tool_names: Collection[str]) -> dict[str, Any]:
    return _lean(schema, 0, tool_names)


def _lean(schema: dict[str, Any], depth: int, names: Collection[str]) -> dict[str, Any]:
    lean: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OUTPUT_LIMITS:
            continue
        if key == "description":
            if isinstance(value, str) and _guides(value, names):
                lean[key] = value
        elif key == "properties" and isinstance(value, dict):
            if depth >= 1:
                continue  # a nested object keeps its type; its fields are in the full schema
            # A field holding a list keeps its rows' fields: a list tool's answer is those rows.
            lean[key] = {
                name: _lean(sub, depth + (0 if _is_array(sub) else 1), names) if isinstance(sub, dict) else sub
                for name, sub in value.items()
            }
        elif key in ("required", "additionalProperties", "patternProperties") and depth >= 1:
            continue
        elif key == "items" and isinstance(value, dict):
            lean[key] = _lean(value, depth, names)
        elif key in _BRANCHES and isinstance(value, list):
            # oneOf becomes anyOf: with fields dropped, a value could match two branches, which oneOf refuses.
            branches = [_lean(branch, depth, names) if isinstance(branch, dict) else branch for branch in value]
            lean["anyOf" if key == "oneOf" else key] = branches
        elif key == "additionalProperties" and isinstance(value, dict):
            lean[key] = _lean(value, depth + 1, names)
        else:
            lean[key] = value
    return lean
