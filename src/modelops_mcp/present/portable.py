"""Schemas as strict clients accept them: one `type` per schema.

`"type": ["string", "null"]` is legal JSON Schema, but clients that map tool schemas onto a single-type
dialect (the OpenAPI subset behind Gemini's function declarations, for one) reject the tool or drop the
constraint; the MCP Inspector's portability check warns on it. Each such schema becomes `anyOf` branches
with one type each, the type-specific keywords moving into their branch, which accepts exactly the same
values. Applied to what tools/list and ops_describe show; validation inside the server keeps the
documents' own spelling, which the request builder reads.
"""

from __future__ import annotations

from typing import Any

from modelops_mcp.present.subschemas import map_children

# Keywords that only constrain values of one type: they go into that type's branch.
_FOR_TYPE = {
    "string": {"minLength", "maxLength", "pattern", "contentEncoding", "contentMediaType"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "array": {"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains"},
    "object": {
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "dependentRequired",
        "dependentSchemas",
    },
}
_FOR_TYPE["integer"] = _FOR_TYPE["number"]
_TYPED = frozenset(k for keys in _FOR_TYPE.values() for k in keys) | {"format"}


def single_types(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    walked = map_children(schema, single_types)
    kinds = walked.get("type")
    if not isinstance(kinds, list) or len(kinds) < 2 or "anyOf" in walked:
        return walked
    shared = {k: v for k, v in walked.items() if k != "type" and k not in _TYPED}
    branches = []
    for kind in kinds:
        branch: dict[str, Any] = {"type": kind}
        branch.update({k: v for k, v in walked.items() if k in _FOR_TYPE.get(kind, ())})
        if "format" in walked and kind not in ("null", "boolean"):
            branch["format"] = walked["format"]
        branches.append(branch)
    return {**shared, "anyOf": branches}
