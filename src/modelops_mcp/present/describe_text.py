"""`ops_describe` as text, for hosts that pass only a tool result's text to the model.

Each operation is written whole: its name and summary, then every argument (required ones first) with its
type, constraints and description, then the rest of its description, then its output fields only when the
caller asks for them. Each operation has its own budget; one that does not fit is written again with less
prose (shorter descriptions, then nested fields without descriptions), never cut: every argument and the
required list always appear. The full schemas stay in structuredContent.
"""

from __future__ import annotations

import json
from typing import Any

# Levels of detail, most first: (characters of the operation's description, of each argument's
# description, whether nested fields keep their descriptions).
_LEVELS: tuple[tuple[int | None, int | None, bool], ...] = (
    (None, None, True),
    (600, 300, True),
    (300, 160, False),
    (160, 80, False),
    (0, 0, False),
)
_NESTED_DEPTH = 3
MIN_BUDGET = 1500  # characters every operation may use, however many are described at once
SHORTENED = "(descriptions shortened to fit; every argument is listed, the full text is in structuredContent)"


def _clip(text: str, limit: int | None) -> str:
    text = " ".join(text.split())
    if limit is None or len(text) <= limit:
        return text
    if limit == 0:
        return ""
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in schema.get("anyOf", schema.get("oneOf", [schema])) if isinstance(b, dict)]


def type_of(schema: dict[str, Any]) -> str:
    """A compact type expression: `string`, `integer|null`, `array of string`, `object`."""
    kinds: list[str] = []
    for branch in _branches(schema):
        kind = branch.get("type", schema.get("type"))
        for one in kind if isinstance(kind, list) else [kind]:
            if one == "array":
                items = branch.get("items") if isinstance(branch.get("items"), dict) else {}
                one = f"array of {type_of(items)}" if items else "array"
            if one and one not in kinds:
                kinds.append(str(one))
    if "const" in schema:
        return f"const {json.dumps(schema['const'])}"
    return "|".join(kinds) or "any"


def _constraints(schema: dict[str, Any]) -> list[str]:
    found: list[str] = []
    merged: dict[str, Any] = {}
    for branch in _branches(schema):
        merged.update({k: v for k, v in branch.items() if k != "type"})
    merged.update({k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")})
    if "enum" in merged:
        found.append("one of " + ", ".join(json.dumps(v) for v in merged["enum"]))
    if "default" in merged:
        found.append(f"default {json.dumps(merged['default'])}")
    if "format" in merged:
        found.append(str(merged["format"]))
    for key, word in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in merged:
            found.append(f"{word} {merged[key]}")
    for key, word in (("minLength", "min length"), ("maxLength", "max length")):
        if key in merged:
            found.append(f"{word} {merged[key]}")
    for key, word in (("minItems", "min items"), ("maxItems", "max items")):
        if key in merged:
            found.append(f"{word} {merged[key]}")
    return found


def _object_of(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The object an argument holds (itself, or its array's items), when it has named fields."""
    for branch in _branches(schema):
        if isinstance(branch.get("properties"), dict) and branch["properties"]:
            return branch
        items = branch.get("items")
        if isinstance(items, dict) and isinstance(items.get("properties"), dict) and items["properties"]:
            return items
    return None


def _arguments(schema: dict[str, Any], described: int | None, nested_prose: bool, depth: int = 0) -> list[str]:
    properties: dict[str, Any] = schema.get("properties") or {}
    required = [n for n in schema.get("required", []) if n in properties]
    order = [*required, *(n for n in properties if n not in required)]
    indent = "  " * (depth + 1)
    lines: list[str] = []
    for name in order:
        field = properties[name] if isinstance(properties[name], dict) else {}
        facts = [type_of(field), *(["required"] if name in required else []), *_constraints(field)]
        prose = _clip(str(field.get("description", "")), described if depth == 0 or nested_prose else 0)
        lines.append(f"{indent}- {name} ({', '.join(facts)})" + (f": {prose}" if prose else ""))
        inner = _object_of(field)
        if inner is not None and depth + 1 < _NESTED_DEPTH:
            lines += _arguments(inner, described, nested_prose, depth + 1)
        elif inner is not None:
            lines.append(f"{indent}  - fields: {', '.join(inner['properties'])}")
    return lines


def _render(operation: dict[str, Any], level: tuple[int | None, int | None, bool], with_output: bool) -> str:
    about, described, nested_prose = level
    summary, _, rest = str(operation.get("description", "")).partition("\n")
    head = f"## {operation['name']}: {summary.strip() or operation.get('title', '')}"
    flags = []
    if operation.get("starts_job"):
        flags.append("starts a job: follow it with jobs_wait")
    hints = operation.get("annotations") or {}
    if hints.get("readOnlyHint"):
        flags.append("read-only")
    if hints.get("destructiveHint"):
        flags.append("destructive")
    lines = [head, *([f"({'; '.join(flags)})"] if flags else [])]
    schema = operation.get("input_schema") or {}
    required = [n for n in schema.get("required", []) if n in (schema.get("properties") or {})]
    arguments = _arguments(schema, described, nested_prose)
    lines.append(f"Arguments (required: {', '.join(required) or 'none'}):" if arguments else "Arguments: none")
    lines += arguments
    more = _clip(rest, about)
    if more:
        lines.append(f"About: {more}")
    output = operation.get("output_schema")
    if with_output and isinstance(output, dict):
        fields = _arguments(output, described, nested_prose)
        lines.append("Output fields (required: always present):" if fields else f"Output: {type_of(output)}")
        lines += fields
    return "\n".join(lines)


def render_operation(operation: dict[str, Any], budget: int, with_output: bool = False) -> str:
    """The operation whole, at the most detail that fits `budget` characters (the least detail if none
    does: arguments are never dropped)."""
    text = ""
    for detail, level in enumerate(_LEVELS):
        text = _render(operation, level, with_output)
        if len(text) <= budget:
            return text if detail == 0 else text + f"\n{SHORTENED}"
    return text + f"\n{SHORTENED}"


def budgets(sizes: list[int], limit: int, floor: int = MIN_BUDGET) -> list[int]:
    """Each operation's share of `limit`: an equal share, with what the smaller ones leave going to the
    larger ones (never below `floor`)."""
    shares = [0] * len(sizes)
    left = limit
    for done, i in enumerate(sorted(range(len(sizes)), key=lambda i: sizes[i])):
        fair = max(left // (len(sizes) - done), floor)
        shares[i] = max(min(sizes[i], fair), floor)
        left = max(left - min(sizes[i], shares[i]), 0)  # what it will really use
    return shares


def render(operations: list[dict[str, Any]], unknown: list[str], limit: int, with_output: bool) -> str:
    """Every operation asked, whole, each within its share of `limit`."""
    full = [len(_render(op, _LEVELS[0], with_output)) for op in operations]
    shares = budgets(full, limit)
    parts = [render_operation(op, share, with_output) for op, share in zip(operations, shares, strict=True)]
    if unknown:
        parts.append(f"Unknown: {', '.join(unknown)} (find names with ops_search)")
    return "\n\n".join(parts)
