"""A listed output schema with each subschema it repeats written once, in `$defs`, and referred to.

A lean output schema repeats the same small subschemas many times: on DataRobot, where every field may be
null, `{"anyOf": [{"type": "string"}, {"type": "null"}]}` stands for 26 of one version's fields. Written
once under `$defs` and referred to as `{"$ref": "#/$defs/a"}`, the schema accepts exactly the same answers:
a local `$ref` to a definition without siblings is that definition (JSON Schema 2020-12, §8.2.3.1), and
every validator clients use resolves one (the Python SDK's `jsonschema`, the TypeScript SDK's Ajv; the MCP
Inspector's portability check accepts `#/$defs/…`). Only repeats whose replacement saves bytes are moved;
the root and its `properties` map stay where clients unpack a result.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from modelops_mcp.present.subschemas import children, map_children

_NAMES = "abcdefghijklmnopqrstuvwxyz"


def _canonical(value: Any, keys: dict[int, str]) -> str:
    """`value` as compact JSON with sorted keys; each dict's text is also kept in `keys` by its id."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)  # the C encoder: faster than joining parts
    if isinstance(value, dict):
        keys[id(value)] = text
        for child in value.values():
            if isinstance(child, (dict, list)):
                _canonical(child, keys)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, (dict, list)):
                _canonical(child, keys)
    return text


def _count(schema: dict[str, Any], keys: dict[int, str], counts: dict[str, int]) -> None:
    """How often each subschema below `schema` occurs, by its text."""
    for child in children(schema):
        counts[keys[id(child)]] = counts.get(keys[id(child)], 0) + 1
        _count(child, keys, counts)


def _replaced(schema: dict[str, Any], refs: dict[str, dict[str, str]], keys: dict[int, str]) -> dict[str, Any]:
    return map_children(schema, lambda child: refs.get(keys[id(child)]) or _replaced(child, refs, keys))


def _name(index: int) -> str:
    name = _NAMES[index % len(_NAMES)]
    return name if index < len(_NAMES) else f"{name}{index // len(_NAMES)}"


# Each listing of a process (a server, the tests' many in-process ones) shares the same schemas: found once.
_FOUND: dict[str, dict[str, Any]] = {}


def shared_definitions(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its repeated subschemas in `$defs`; `schema` itself when nothing repeats enough."""
    text = _canonical(schema, {})
    if "$ref" in text or "$defs" in schema:
        return schema  # already uses references: leave its own names alone
    if text not in _FOUND:
        _FOUND[text] = _shared(schema)
    return copy.deepcopy(_FOUND[text])  # the caller's to change


def _shared(schema: dict[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    current = schema
    while True:
        keys: dict[int, str] = {}
        _canonical(current, keys)
        counts: dict[str, int] = {}
        _count(current, keys, counts)  # the body's and the definitions' subschemas ($defs is a map of them)
        gains: list[tuple[int, str]] = []
        for key, count in counts.items():
            # n copies become n references and one definition ("name":schema, and a comma); names are short.
            name = _name(len(defs) + len(gains))
            ref_size = len(json.dumps({"$ref": f"#/$defs/{name}"}, separators=(",", ":")))
            gain = count * (len(key) - ref_size) - (len(key) + len(name) + 4)
            if count > 1 and gain > 0:
                gains.append((gain, key))
        # The best repeats in one pass, as long as none holds another (replacing one leaves the others' counts).
        chosen: list[str] = []
        for _, key in sorted(gains, reverse=True):
            if all(key not in other and other not in key for other in chosen):
                chosen.append(key)
        if not chosen:
            break
        refs = {key: {"$ref": f"#/$defs/{_name(len(defs) + i)}"} for i, key in enumerate(chosen)}
        current = _replaced(current, refs, keys)
        defs = {**current.get("$defs", {}), **{_name(len(defs) + i): json.loads(key) for i, key in enumerate(chosen)}}
        current = {**{k: v for k, v in current.items() if k != "$defs"}, "$defs": defs}
    return current if defs else schema
