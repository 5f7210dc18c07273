"""The output schema a tool list carries: the result's shape, not its full documentation.

Output schemas are most of a tool list's bytes (a DataRobot custom model object alone is inlined in six
tools), yet models act on input schemas; clients use an output schema to check and unpack a result. So the
listed output schema keeps what that needs: every top-level field with its type, enum and required-ness,
and the same for the items of a top-level list (a list tool's rows); deeper objects keep their type only.
Descriptions stay where they say what to do next (they name another tool or argument); limits such as
maxLength, meaningless for what a server returns, go. Every result valid under the full schema is valid
under the lean one, since fields and constraints are only ever dropped. The full schema stays one call
away: ops_describe, the modelops://schemas/{backend} resource, or `--output-schemas full`.

The server checks answers against that lean schema (lean_output); the tool list shows less still
(listed_output): a field that may be null (most fields of DataRobot, Caila and Pieces answers) keeps its
name, enum and guiding description but not its type nor its place in `required` (with no enum, it is
named in its object's description, "Nullable: …", rather than listed as a schema that accepts anything,
which the MCP Inspector's strict check refuses), and a list inside a list tool's row keeps its type only.
Spelled as `anyOf` of the type and null, those types were two thirds of the listed output bytes, and the
answer a model reads shows each value's type anyway. What the server passes has been checked against the
typed schema, which only adds constraints to the listed one, so clients' own checks still pass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
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


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schemas of its anyOf / oneOf / allOf branches."""
    return [b for key in _BRANCHES for b in schema.get(key, ()) if isinstance(b, dict)]


def _has_rows(schema: dict[str, Any]) -> bool:
    """A list of objects with fields (a list tool's rows), not of strings or numbers."""
    arrays = [schema, *_branches(schema)]
    return any(_is_array(a) and isinstance(a.get("items"), dict) and "properties" in a["items"] for a in arrays)


def _nullable(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return (isinstance(kind, list) and "null" in kind) or any(b.get("type") == "null" for b in _branches(schema))


# A nullable field's type and what only describes its non-null values.
_TYPED = frozenset({"type", *_BRANCHES, "items", "properties", "required", "additionalProperties"})


def listed_output(lean: dict[str, Any]) -> dict[str, Any]:
    """The tool list's form of a lean output schema (lean_output's answer): only ever drops from it."""
    return _listed(lean, rows=True)


# What makes a schema constrain a value. A field listed with none of these would accept anything, which the MCP
# Inspector's strict check flags (`{}`, or a description alone): such a field is named in its object's
# description instead, which costs fewer bytes and keeps its name and guidance in front of the model.
_CONSTRAINING = frozenset({"type", "enum", "const", "not", "$ref", *_BRANCHES, "items", "properties"})


def _listed(schema: dict[str, Any], rows: bool) -> dict[str, Any]:
    listed = dict(schema)
    fields = schema.get("properties")
    if not isinstance(fields, dict):
        return listed
    shown: dict[str, Any] = {}
    named: list[str] = []
    for name, sub in fields.items():
        field = _listed_field(sub, rows) if isinstance(sub, dict) else sub
        if isinstance(field, dict) and _CONSTRAINING.isdisjoint(field):
            guidance = field.get("description")
            named.append(f"{name} ({guidance.rstrip('.')})" if isinstance(guidance, str) else name)
        else:
            shown[name] = field
    listed["properties"] = shown
    if named:
        said = f"Nullable: {', '.join(named)}."
        listed["description"] = f"{listed['description']} {said}" if listed.get("description") else said
        if listed.get("additionalProperties") is False:
            del listed["additionalProperties"]  # the fields named in the description are still answered
    # A field listed untyped may be null: that its key is always there tells a model nothing it acts on.
    untyped = {
        name
        for name, sub in fields.items()
        if isinstance(sub, dict) and _nullable(sub) and (name not in shown or _TYPED.isdisjoint(shown[name]))
    }
    required = [name for name in schema.get("required", ()) if name not in untyped]
    if required:
        listed["required"] = required
    else:
        listed.pop("required", None)
    return listed


def _listed_field(field: dict[str, Any], rows: bool) -> dict[str, Any]:
    if rows and _has_rows(field):  # a list tool's rows keep their fields, each listed as a field is
        return map_items(field, lambda items: _listed(items, rows=False))
    if _nullable(field):  # the name, enum and guiding description say what it is; its value shows its type
        return {key: value for key, value in field.items() if key not in _TYPED}
    return map_items(field, _shape)  # a list inside a row: the type of its items, not their fields


def _shape(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` without the fields of its objects, at any depth."""
    drop = ("properties", "required", "additionalProperties", "patternProperties")
    return map_items({key: value for key, value in schema.items() if key not in drop}, _shape)


def map_items(schema: dict[str, Any], change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """`schema` with `change` applied to its items (in each branch, for a nullable list)."""
    mapped = dict(schema)
    if isinstance(schema.get("items"), dict):
        mapped["items"] = change(schema["items"])
    for key in _BRANCHES:
        if isinstance(schema.get(key), list):
            mapped[key] = [map_items(b, change) if isinstance(b, dict) else b for b in schema[key]]
    return mapped
