"""One flat tool `inputSchema` from an operation's parameters and request body."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from modelops_mcp.spec.extension import FileSetSpec
from modelops_mcp.spec.openapi import Resolver, SchemaError, pointer_join

# "local": an argument the server uses itself (e.g. a dataset it reads and uploads), never sent as it is.
Location = Literal["path", "query", "header", "body", "local"]
BodyMode = Literal["none", "json_object", "json_value", "multipart"]
MULTIPART = "multipart/form-data"

INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_ARG_NAME = re.compile(r"[^A-Za-z0-9_]")
_COMPOSITIONS = ("anyOf", "oneOf", "allOf")


@dataclass(frozen=True, slots=True)
class Field:
    """One tool argument and where it goes in the HTTP request."""

    arg: str
    location: Location
    wire: str
    # A multipart file part: the argument is a local path whose file is streamed as the part's content.
    file: bool = False
    # A multipart file set: the argument lists local files and folders, sent as paired file/path parts.
    file_set: bool = False


@dataclass(frozen=True, slots=True)
class FlatInput:
    fields: tuple[Field, ...]
    body_mode: BodyMode
    schema: dict[str, Any]


def bound_integers(schema: Any) -> Any:
    """Give `format: int32/int64` integers their range, so out-of-range numbers fail validation, not the backend."""
    if isinstance(schema, list):
        return [bound_integers(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: bound_integers(v) for k, v in schema.items()}
    types = out.get("type")
    is_integer = types == "integer" or (isinstance(types, list) and "integer" in types)
    if is_integer and out.get("format") in INT_BOUNDS:
        low, high = INT_BOUNDS[out["format"]]
        out.setdefault("minimum", low)
        out.setdefault("maximum", high)
    return out


def is_binary(schema: Any) -> bool:
    """A file's content, in either spelling: OpenAPI 3.0's `format: binary` or 3.1's `contentMediaType`."""
    if not isinstance(schema, dict) or schema.get("type") != "string":
        return False
    return schema.get("format") == "binary" or "contentMediaType" in schema


def _file_argument(schema: dict[str, Any]) -> dict[str, Any]:
    described = str(schema.get("description", "")).strip()
    return {
        "type": "string",
        "minLength": 1,
        "description": (f"{described} " if described else "")
        + "Local path of the file to upload (absolute, or relative to an allowed directory); "
        "it must lie under the client's roots or an --allow-dir directory.",
    }


def _file_set_argument(spec: FileSetSpec) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "minItems": 1,
        "maxItems": spec.max_files,
        "description": "Local files or folders to upload (absolute, or relative to an allowed directory; under the "
        "client's roots or an --allow-dir directory). A file is sent under its own name; a folder sends every "
        f"file under it, each with its path relative to the folder (`{spec.path_field}`).",
    }


def flatten_input(
    resolver: Resolver,
    path_item: dict[str, Any],
    operation: dict[str, Any],
    at: str,
    file_set: FileSetSpec | None = None,
) -> FlatInput:
    # wire, location, schema, required, kind ("" for a plain value)
    candidates: list[tuple[str, Location, dict[str, Any], bool, str]] = []
    parameters = [*path_item.get("parameters", []), *operation.get("parameters", [])]
    by_key: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for index, raw in enumerate(parameters):
        where = pointer_join(at, "parameters", index)
        param = resolver.deref(raw, where)
        if not isinstance(param, dict) or "name" not in param or "in" not in param:
            raise SchemaError(resolver.source, where, "a parameter needs `name` and `in`")
        # Operation-level parameters override path-level ones of the same name and location.
        by_key[(param["name"], param["in"])] = (param, where)
    for (name, raw_location), (param, where) in by_key.items():
        if raw_location not in ("path", "query", "header"):
            raise SchemaError(resolver.source, where, f"parameters in {raw_location!r} are not supported")
        location: Location = raw_location  # type: ignore[assignment]  # narrowed by the check above
        schema = resolver.inline(param.get("schema", {}), pointer_join(where, "schema"))
        if "description" in param:
            schema = {**schema, "description": param["description"]}
        required = location == "path" or bool(param.get("required", False))
        candidates.append((name, location, schema, required, ""))

    body_mode: BodyMode = "none"
    body = operation.get("requestBody")
    if body is not None:
        where = pointer_join(at, "requestBody")
        body = resolver.deref(body, where)
        content = body.get("content", {})
        media = "application/json" if "application/json" in content else MULTIPART if MULTIPART in content else None
        if media is None:
            kinds = ", ".join(sorted(content)) or "none"
            raise SchemaError(resolver.source, pointer_join(where, "content"), f"unsupported media types: {kinds}")
        schema = resolver.inline(content[media].get("schema", {}), pointer_join(where, "content"))
        properties = schema.get("properties")
        flat_object = (
            schema.get("type") == "object"
            and isinstance(properties, dict)
            and not any(k in schema for k in _COMPOSITIONS)
        )
        if media == MULTIPART and not flat_object:
            at_schema = pointer_join(where, "content", MULTIPART, "schema")
            raise SchemaError(
                resolver.source, at_schema, "a multipart body must be an object with properties (no anyOf/oneOf/allOf)"
            )
        if flat_object:
            body_mode = "multipart" if media == MULTIPART else "json_object"
            body_required = set(schema.get("required", []))
            paired = _paired_parts(resolver, properties, file_set, media, pointer_join(where, "content"))
            for name, sub in properties.items():
                if name in paired:
                    continue
                file = media == MULTIPART and is_binary(sub)
                shown = _file_argument(sub) if file else sub
                candidates.append((name, "body", shown, name in body_required, "file" if file else ""))
            if file_set is not None:
                schema_out = _file_set_argument(file_set)
                candidates.append((file_set.argument, "body", schema_out, False, "file_set"))
        else:
            body_mode = "json_value"
            described = {**schema, "description": body.get("description", schema.get("description", "Request body"))}
            candidates.append(("body", "body", described, bool(body.get("required", False)), ""))
    if file_set is not None and body_mode != "multipart":
        raise SchemaError(resolver.source, at, "x-mcp.files needs a multipart/form-data request body")

    counts = Counter(_ARG_NAME.sub("_", wire) for wire, _, _, _, _ in candidates)
    fields: list[Field] = []
    properties_out: dict[str, Any] = {}
    required_out: list[str] = []
    for wire, location, schema, required, kind in candidates:
        arg = _ARG_NAME.sub("_", wire)
        if counts[arg] > 1:
            arg = f"{arg}_{location}"
        if arg in properties_out:
            raise SchemaError(resolver.source, at, f"two fields map to the argument name {arg!r}")
        fields.append(Field(arg=arg, location=location, wire=wire, file=kind == "file", file_set=kind == "file_set"))
        properties_out[arg] = bound_integers(schema)
        if required:
            required_out.append(arg)
    input_schema: dict[str, Any] = {"type": "object", "properties": properties_out, "additionalProperties": False}
    if required_out:
        input_schema["required"] = required_out
    return FlatInput(fields=tuple(fields), body_mode=body_mode, schema=input_schema)


def _paired_parts(
    resolver: Resolver, properties: dict[str, Any], file_set: FileSetSpec | None, media: str, at: str
) -> set[str]:
    """The two body properties a file set replaces; both must be documented, the part as a file."""
    if file_set is None or media != MULTIPART:
        return set()
    part = properties.get(file_set.part)
    if not is_binary(part) or file_set.path_field not in properties:
        raise SchemaError(
            resolver.source,
            at,
            f"x-mcp.files names {file_set.part!r} and {file_set.path_field!r}: the body must document both, "
            f"{file_set.part!r} as a file (format: binary)",
        )
    return {file_set.part, file_set.path_field}
