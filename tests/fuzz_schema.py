"""Hypothesis strategies built from a tool's `inputSchema`: arguments it accepts, and arguments it must refuse.

Our own, not hypothesis-jsonschema: that package (0.23.1, the newest) fails on every schema with current
hypothesis (`'many' object has no attribute 'more'`), and our schemas use a small subset of 2020-12 (type,
enum, bounds, lengths, items, properties/required/additionalProperties, oneOf, format uuid/uri/date-time)
that is short to cover here. Every value drawn is checked against the schema with the same validator class
the server uses, so a generator slip shows up as a skipped example, never as a false finding.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC
from functools import partial
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

Schema = dict[str, Any]
Path = tuple[str | int, ...]
# Hints: per argument name, values worth trying beside random ones (ids the sandbox knows, files it may read).
Hints = Mapping[str, st.SearchStrategy[Any]]

# Arrays and strings stay small unless the schema demands more: calls are what is being fuzzed, not memory.
EXTRA_ITEMS = 3
EXTRA_CHARS = 24
HUGE = (5_000, 100_000)

SCALARS: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def validator(schema: Schema) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def huge_text() -> st.SearchStrategy[str]:
    """A long string without a long draw: a short random stem repeated to 5k-100k characters."""
    return st.tuples(st.text(min_size=1, max_size=6), st.integers(*HUGE)).map(
        lambda stem_n: (stem_n[0] * (stem_n[1] // len(stem_n[0]) + 1))[: stem_n[1]]
    )


def _branches(schema: Schema) -> list[Schema]:
    return [b for key in ("anyOf", "oneOf") for b in schema.get(key, []) if isinstance(b, dict)]


def _types(schema: Schema) -> list[str]:
    if _branches(schema):  # `anyOf: [{type: integer, …}, {type: null}]`, as the listed schemas spell nullable
        return [t for branch in _branches(schema) for t in _types(branch)]
    declared = schema.get("type")
    if isinstance(declared, list):
        return [str(t) for t in declared]
    if isinstance(declared, str):
        return [declared]
    if "properties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return []


def _text(schema: Schema) -> st.SearchStrategy[str]:
    fmt = schema.get("format")
    if fmt == "uuid":
        return st.uuids().map(str)
    if fmt == "date-time":
        return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if fmt == "uri":
        path = st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=12)
        # Odd ones too: `uri` is not a format jsonschema checks, so the server meets whatever a client sends.
        origins = st.sampled_from(["https://example.com/", "http://127.0.0.1:9/", "ftp://x/", "/", "http://[::1", ""])
        base = st.tuples(origins, path).map("".join)
        return base.filter(lambda s: len(s) >= low and (high is None or len(s) <= high))
    short = st.text(min_size=low, max_size=min(int(high), low + EXTRA_CHARS) if high is not None else low + EXTRA_CHARS)
    if high is None:
        # A string no schema bounds may be long, and the server must cope; one in ten is 5k-100k characters.
        return st.integers(0, 9).flatmap(lambda roll: huge_text() if roll == 0 else short)
    return short


def _integer(schema: Schema) -> st.SearchStrategy[int]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if "exclusiveMinimum" in schema:
        low = int(schema["exclusiveMinimum"]) + 1
    if "exclusiveMaximum" in schema:
        high = int(schema["exclusiveMaximum"]) - 1
    low = None if low is None else int(low)
    high = None if high is None else int(high)
    anywhere = st.integers(low, high)
    # Small numbers are what ids, counts and limits mostly are; the whole range is tried too.
    near_low = max(low, -5) if low is not None else -5
    near_high = min(high, 50) if high is not None else 50
    return st.integers(near_low, near_high) | anywhere if near_low <= near_high else anywhere


def _number(schema: Schema) -> st.SearchStrategy[float]:
    return st.floats(
        min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
        max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema,
        allow_nan=False,
        allow_infinity=False,
    )


def _array(schema: Schema, hints: Hints) -> st.SearchStrategy[list[Any]]:
    items = schema.get("items")
    element = valid_value(items, hints) if isinstance(items, dict) else JSON_VALUES
    low = int(schema.get("minItems", 0))
    high = min(int(schema.get("maxItems", low + EXTRA_ITEMS)), low + EXTRA_ITEMS)
    unique = (lambda v: json.dumps(v, sort_keys=True)) if schema.get("uniqueItems") else None
    return st.lists(element, min_size=low, max_size=high, unique_by=unique)


def _object(schema: Schema, hints: Hints, top: bool) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Schema] = schema.get("properties", {})
    required = set(schema.get("required", []))

    def member(name: str, sub: Schema) -> st.SearchStrategy[Any]:
        own = valid_value(sub, hints)
        hint = hints.get(name) if top else None
        if hint is None:
            return own
        check = validator(sub)
        return hint.filter(check.is_valid) | own

    fixed = {k: member(k, v) for k, v in properties.items() if k in required}
    optional = {k: member(k, v) for k, v in properties.items() if k not in required}
    base = st.fixed_dictionaries(fixed, optional=optional)
    extra = schema.get("additionalProperties", True)
    if extra is False:
        return base
    more = st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in properties),
        valid_value(extra, hints) if isinstance(extra, dict) else JSON_VALUES,
        max_size=2,
    )
    return st.tuples(base, more).map(lambda pair: {**pair[1], **pair[0]})


def valid_value(schema: Any, hints: Hints | None = None, *, top: bool = False) -> st.SearchStrategy[Any]:
    """Values `schema` accepts (most of the time: oneOf and formats are checked after drawing)."""
    hints = hints or {}
    if not isinstance(schema, dict) or not schema:
        return JSON_VALUES
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([valid_value(branch, hints) for branch in schema[key]])
    options: list[st.SearchStrategy[Any]] = []
    for kind in _types(schema) or ["string", "integer", "boolean", "object"]:
        if kind == "string":
            options.append(_text(schema))
        elif kind == "integer":
            options.append(_integer(schema))
        elif kind == "number":
            options.append(_number(schema) | _integer(schema))
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "null":
            options.append(st.none())
        elif kind == "array":
            options.append(_array(schema, hints))
        elif kind == "object":
            options.append(_object(schema, hints, top))
    return st.one_of(options)


def valid_arguments(schema: Schema, hints: Hints | None = None) -> st.SearchStrategy[dict[str, Any]]:
    check = validator(schema)
    return valid_value(schema, hints, top=True).filter(lambda v: isinstance(v, dict) and check.is_valid(v))


# --- invalid arguments: a valid base with one mutation the schema forbids ---------------------------------------


def _sites(schema: Any, value: Any, at: Path = ()) -> list[tuple[Path, Schema]]:
    """Every (location, schema) pair in a value whose schema is known: where a mutation can go."""
    if not isinstance(schema, dict):
        return []
    found = [(at, schema)]
    matching = [b for b in _branches(schema) if validator(b).is_valid(value)]
    if matching:  # deeper, through the branch the value took
        return found + _sites(matching[0], value, at)[1:]
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += _sites(sub, value[key], (*at, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += _sites(schema["items"], item, (*at, index))
    return found


def _replace(value: Any, at: Path, new: Any) -> Any:
    if not at:
        return new
    head, rest = at[0], at[1:]
    if isinstance(value, dict):
        return {**value, str(head): _replace(value[str(head)], rest, new)}
    copy = list(value)
    copy[int(head)] = _replace(copy[int(head)], rest, new)
    return copy


_ALL_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
_OF_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(-(2**70), 2**70),
    "number": st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    "string": st.text(max_size=12) | huge_text(),
    "array": st.lists(SCALARS, max_size=3),
    "object": st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
}


def _wrong_type(schema: Schema) -> st.SearchStrategy[Any] | None:
    allowed = set(_types(schema))
    if not allowed or "enum" in schema or any("type" not in b for b in _branches(schema)):
        return None
    if "number" in allowed:
        allowed.add("integer")
    others = [t for t in _ALL_TYPES if t not in allowed]
    return st.sampled_from(others).flatmap(lambda t: _OF_TYPE[t]) if others else None


def _out_of_range(schema: Schema) -> list[st.SearchStrategy[Any]]:
    if _branches(schema):  # out of one branch's bounds; the final check drops what another branch accepts
        return [fault for branch in _branches(schema) for fault in _out_of_range(branch)]
    found: list[st.SearchStrategy[Any]] = []
    kinds = set(_types(schema))
    if kinds & {"integer", "number"}:
        if "minimum" in schema:
            found.append(st.integers(max_value=math.ceil(schema["minimum"]) - 1))
        if "exclusiveMinimum" in schema:
            found.append(st.just(schema["exclusiveMinimum"]))
        if "maximum" in schema:
            found.append(st.integers(min_value=math.floor(schema["maximum"]) + 1))
    if "string" in kinds:
        if int(schema.get("minLength", 0)) > 0:
            found.append(st.text(max_size=int(schema["minLength"]) - 1))
        if "maxLength" in schema:
            cap = int(schema["maxLength"])
            lengths = st.sampled_from([cap + 1, cap + EXTRA_CHARS]) | st.integers(cap + 1, max(cap + 1, HUGE[1]))
            found.append(lengths.map(lambda n: "z" * n))
        if schema.get("format") == "uuid":
            found.append(st.text(max_size=40).filter(lambda s: len(s) != 36) | st.just("not-a-uuid"))
    if "enum" in schema:
        enum = list(schema["enum"])
        found.append(st.text(max_size=16).filter(lambda s: s not in enum))
    if "array" in kinds:
        if int(schema.get("minItems", 0)) > 0:
            found.append(st.lists(SCALARS, max_size=int(schema["minItems"]) - 1))
        if "maxItems" in schema:
            found.append(st.just(["x"] * (int(schema["maxItems"]) + 1)))
    return found


@st.composite
def invalid_arguments(draw: st.DrawFn, schema: Schema, hints: Hints | None = None) -> dict[str, Any]:
    """Arguments with one fault the schema forbids: a wrong type, a missing required or an unknown member, a
    number out of range, a string too short or too long (up to 100k characters), a bad enum or uuid, an array
    too short or too long; anywhere in the arguments, nested members included."""
    base: dict[str, Any] = draw(valid_value(schema, hints, top=True).filter(lambda v: isinstance(v, dict)))
    choices: list[st.SearchStrategy[Any]] = []
    for at, sub in _sites(schema, base):
        here = _get(base, at)
        wrong = _wrong_type(sub)
        if wrong is not None and at:
            choices.append(wrong.map(partial(_replace, base, at)))
        choices += [s.map(partial(_replace, base, at)) for s in _out_of_range(sub) if at]
        if isinstance(here, dict):
            choices += _object_faults(sub, here, at, base)
    assert choices, f"no fault fits {schema}"
    mutated: dict[str, Any] = draw(st.one_of(choices))
    return mutated


def _get(value: Any, at: Path) -> Any:
    for step in at:
        value = value[step]
    return value


def _object_faults(
    schema: Schema, here: dict[str, Any], at: Path, base: dict[str, Any]
) -> list[st.SearchStrategy[Any]]:
    faults: list[st.SearchStrategy[Any]] = []
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if name in here:
            faults.append(st.just(_replace(base, at, {k: v for k, v in here.items() if k != name})))
    if schema.get("additionalProperties") is False:
        unknown = st.text(min_size=1, max_size=20).filter(lambda k: k not in properties)
        extra = st.tuples(unknown, JSON_VALUES | huge_text())
        faults.append(extra.map(lambda kv: _replace(base, at, {**here, kv[0]: kv[1]})))
    return faults


def invalid_only(schema: Schema, hints: Hints | None = None) -> st.SearchStrategy[dict[str, Any]]:
    check = validator(schema)
    return invalid_arguments(schema, hints).filter(lambda v: not check.is_valid(v))


def tool_order(names: Sequence[str], destructive: Mapping[str, bool]) -> list[str]:
    """Reads and writes first, deletes last, so a delete does not leave the tools after it nothing to act on."""
    return sorted(names, key=lambda n: (destructive.get(n, False), n))
