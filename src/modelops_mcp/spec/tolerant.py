"""Output schemas as liberal as each vendor's official client: what that client accepts, a tool result accepts.

A documented response schema says what a service means to send; the service's official client shows what it
may really send, since a client that refused a real answer would be fixed. So a 2xx body schema is derived
from the document at load time (every mode reads it from there: lean, full, ops_describe, task results):

- **Nulls.** `null` where the client treats null as missing. DataRobot's `datarobot` 3.20.0 drops every key
  whose value is null before it validates (`datarobot/utils/__init__.py:106`, called from
  `APIObject.from_server_data`, `datarobot/models/api_object.py:85`): on DataRobot every property at every
  depth may be null, required ones included, and since that client cannot tell a null from a missing key,
  nothing is required either. Elsewhere a property the document does not require may be null:
  Pieces' `pieces_os_client` 5.0.1 (openapi-generator pydantic) types each one `Optional[...] = None`
  (`pieces_os_client/models/model.py:44`) while a required one is strict (`model.py:43`, `52`); Caila's vendor
  OpenAPI is springdoc output, which lists Kotlin's non-null fields as required and leaves nullable ones out,
  and never writes `nullable`; Tune the Model's client returns `r.json()` as a plain dict
  (`tune_the_model/resource.py:79`) and reads keys it needs by name, so a null where it reads nothing is no
  harm; the Training Module has no client at all (plain dicts too). Besides, every top-level field of an
  answer may be null: when an answer breaks its schema anyway, the offending field is shown as null (see
  `conform`), so the tool still has a structured result to give.
- **Enums** admit null wherever their field does (`networkEgressPolicy` on DataRobot is one). Pieces' client
  maps any unknown enum value to `UNKNOWN` (`_missing_` in every one of its 53 enums, e.g.
  `pieces_os_client/models/model_type_enum.py:44`), so on Pieces an enum lists values, it does not limit them.
- **Extra fields** everywhere: no `additionalProperties: false` (DataRobot's converters `ignore_extra("*")`,
  `datarobot/models/custom_model.py:52`; pydantic ignores unknown keys by default).
- **Value limits** go (maxLength, pattern, format, minimum, …): no official client checks them on answers
  (DataRobot's `String()` / `Int()`, pydantic's plain `StrictStr`), and a service's value outside a documented
  limit is still its answer. `oneOf` becomes `anyOf`, since a null or a loosened value can match two branches.

Input schemas are untouched: what the server sends is still checked as the documents say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

NullPolicy = Literal["every", "optional"]

# Keywords that limit values a backend returns (beyond their type): none of the official clients checks them.
_LIMITS = frozenset(
    {
        "maxLength",
        "minLength",
        "pattern",
        "format",
        "maximum",
        "minimum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "multipleOf",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxContains",
        "minContains",
        "maxProperties",
        "minProperties",
    }
)
# Keywords whose `false` forbids extra fields.
_CLOSING = ("additionalProperties", "unevaluatedProperties")
_SCALARS = frozenset({"string", "integer", "number", "boolean", "null"})
_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_LISTS = ("anyOf", "allOf", "prefixItems")
_ONE = ("items", "contains", "not", "if", "then", "else", "propertyNames", "unevaluatedItems")


@dataclass(frozen=True, slots=True)
class Tolerance:
    """What a backend's official client accepts beyond its documents."""

    # "every": any property at any depth may be null; "optional": those the document does not require.
    nulls: NullPolicy = "optional"
    # The client accepts a value outside an enum (so the enum documents values and no longer limits them).
    open_enums: bool = False


# By backend name, from each official client (see the module docstring); any other document gets the default.
TOLERANCE: dict[str, Tolerance] = {
    "datarobot": Tolerance(nulls="every"),
    "pieces": Tolerance(open_enums=True),
}
DEFAULT = Tolerance()


def tolerance_for(backend: str) -> Tolerance:
    return TOLERANCE.get(backend, DEFAULT)


def tolerant_body(schema: dict[str, Any], tolerance: Tolerance) -> dict[str, Any]:
    """A 2xx object body's schema: its own fields as the client accepts them, each top-level one nullable."""
    loose: dict[str, Any] = _loosen(schema, tolerance)
    properties = loose.get("properties")
    if isinstance(properties, dict):
        loose["properties"] = {name: nullable(sub) for name, sub in properties.items()}
    return loose


def tolerant_value(schema: Any, tolerance: Tolerance) -> Any:
    """A body that is not an object (wrapped as `{"result": ...}` by the tool): loosened, and nullable."""
    return nullable(_loosen(schema, tolerance))


def _loosen(schema: Any, tolerance: Tolerance) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _LIMITS or (key in _CLOSING and value is False):
            continue
        if key == "enum" and tolerance.open_enums and isinstance(value, list):
            kinds = sorted({_json_type(v) for v in value})
            if "type" not in schema and kinds:
                out["type"] = kinds[0] if len(kinds) == 1 else kinds
            continue
        if key == "oneOf" and isinstance(value, list) and "anyOf" not in schema:
            out["anyOf"] = [_loosen(sub, tolerance) for sub in value]
        elif key == "oneOf" and isinstance(value, list):
            out[key] = [_loosen(sub, tolerance) for sub in value]  # beside an anyOf: kept, loosened
        elif key in _LISTS and isinstance(value, list):
            out[key] = [_loosen(sub, tolerance) for sub in value]
        elif key in _MAPS and isinstance(value, dict):
            out[key] = {name: _loosen(sub, tolerance) for name, sub in value.items()}
        elif key in _ONE or key in _CLOSING:
            out[key] = _loosen(value, tolerance)
        else:
            out[key] = value
    return _with_nulls(out, tolerance)


def _with_nulls(schema: dict[str, Any], tolerance: Tolerance) -> dict[str, Any]:
    """An object's fields made nullable as the policy says (its own subschemas are already loosened)."""
    properties = schema.get("properties")
    if isinstance(properties, dict):
        required = set(schema.get("required") or ()) if tolerance.nulls == "optional" else set()
        schema["properties"] = {name: sub if name in required else nullable(sub) for name, sub in properties.items()}
    if tolerance.nulls == "every":
        # A client that reads null as missing cannot tell a required field sent as null from one left out:
        # the schema does not either (and saves the bytes of the list).
        schema.pop("required", None)
        # A map's values are fields too (DataRobot's client drops a null in any object).
        if isinstance(schema.get("additionalProperties"), dict):
            schema["additionalProperties"] = nullable(schema["additionalProperties"])
        if isinstance(schema.get("patternProperties"), dict):
            schema["patternProperties"] = {k: nullable(v) for k, v in schema["patternProperties"].items()}
    return schema


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def accepts_null(schema: Any) -> bool:
    """Whether a schema admits null as it stands (judged by its own keywords; a conservative reading)."""
    if not isinstance(schema, dict):
        return schema is True
    kinds = schema.get("type")
    typed = [kinds] if isinstance(kinds, str) else kinds
    if "enum" in schema:
        return None in schema["enum"] and (typed is None or "null" in typed)
    if "const" in schema:
        return schema["const"] is None
    if typed is not None:
        return "null" in typed
    if "anyOf" in schema:
        return any(accepts_null(branch) for branch in schema["anyOf"])
    return not any(key in schema for key in ("oneOf", "allOf", "not", "$ref", "if"))


def nullable(schema: Any) -> Any:
    """The same schema, also admitting null, spelled as cheaply as the listing's one-`type` rule allows."""
    if not isinstance(schema, dict) or accepts_null(schema):
        return schema
    out = dict(schema)
    kinds = out.get("type")
    if "enum" in out and isinstance(out["enum"], list):
        # The values say it all: an enum with null needs no `type`, which would become two anyOf branches.
        if None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        typed = [kinds] if isinstance(kinds, str) else list(kinds or [])
        if all(kind in _SCALARS for kind in typed):
            out.pop("type", None)
        elif "null" not in typed:
            out["type"] = [*typed, "null"]
        return out
    if "const" in out and kinds is None:
        out["enum"] = [out.pop("const"), None]
        return out
    if isinstance(kinds, str):
        out["type"] = [kinds, "null"]
        return out
    if isinstance(kinds, list):
        out["type"] = [*kinds, "null"]
        return out
    if isinstance(out.get("anyOf"), list) and not any(k in out for k in ("allOf", "not", "$ref", "if", "const")):
        out["anyOf"] = [*out["anyOf"], {"type": "null"}]
        return out
    # Anything else (allOf, not, …): null beside it, its description kept where a reader looks first.
    described = {k: out.pop(k) for k in ("description", "title") if k in out}
    return {**described, "anyOf": [out, {"type": "null"}]}
