"""What the server adds to a documented operation's input: an optional session key, a next-page URL, upload
arguments it reads itself."""

from __future__ import annotations

from typing import Any

from modelops_mcp.spec.extension import PaginationSpec, SessionSpec
from modelops_mcp.spec.flatten import Field, FlatInput
from modelops_mcp.spec.openapi import SchemaError, pointer_join


def with_session(flat: FlatInput, session: SessionSpec, start_tool: str) -> tuple[FlatInput, str | None]:
    """The session argument becomes optional: omitted, it is filled in from the remembered session."""
    if not any(f.arg == session.argument and f.location == "path" for f in flat.fields):
        return flat, None
    schema = dict(flat.schema)
    properties = dict(schema["properties"])
    described = str(properties[session.argument].get("description", "")).strip()
    properties[session.argument] = {
        **properties[session.argument],
        "description": (f"{described} " if described else "")
        + f"Optional: defaults to the key of the session this server started with {start_tool}.",
    }
    schema["properties"] = properties
    required = [name for name in schema.get("required", []) if name != session.argument]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return FlatInput(fields=flat.fields, body_mode=flat.body_mode, schema=schema), session.argument


def pagination_of(
    spec: PaginationSpec | None, method: str, flat: FlatInput, output: dict[str, Any] | None
) -> PaginationSpec | None:
    """A GET taking the offset query parameter whose answer has the next-page link is a paginated list."""
    if spec is None or method != "get" or output is None:
        return None
    takes_offset = any(f.location == "query" and f.wire == spec.offset for f in flat.fields)
    links_next = spec.next.lstrip("/") in output.get("properties", {})
    return spec if takes_offset and links_next else None


def with_next_page(flat: FlatInput, spec: PaginationSpec) -> FlatInput:
    """Offset and limit get defaults (the backend still receives them); the next page's URL is an argument."""
    schema = dict(flat.schema)
    properties = dict(schema["properties"])
    defaults = {spec.offset: 0, spec.limit: spec.default_limit}
    for f in flat.fields:
        if f.location == "query" and f.wire in defaults:
            properties[f.arg] = {**properties[f.arg], "default": defaults[f.wire]}
    properties[spec.argument] = {
        "type": "string",
        "format": "uri",
        "description": f"The `{spec.next.lstrip('/')}` URL of a previous answer, to fetch the page after it; the "
        "other arguments are then read from that URL. Only URLs of this backend's configured endpoint are followed.",
    }
    schema["properties"] = properties
    defaulted = {f.arg for f in flat.fields if f.location == "query" and f.wire in defaults}
    required = [name for name in schema.get("required", []) if name not in defaulted]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return FlatInput(fields=flat.fields, body_mode=flat.body_mode, schema=schema)


def with_local_arguments(flat: FlatInput, arguments: dict[str, Any], source: str, at: str) -> FlatInput:
    """The upload's own arguments join the tool's; they are read by the server, not sent in the call."""
    properties = dict(flat.schema["properties"])
    fields = list(flat.fields)
    for name, schema in arguments.items():
        if name in properties:
            raise SchemaError(source, pointer_join(at, "x-mcp", "upload", "arguments", name), "clashes with a field")
        properties[name] = schema
        fields.append(Field(arg=name, location="local", wire=name))
    return FlatInput(fields=tuple(fields), body_mode=flat.body_mode, schema={**flat.schema, "properties": properties})
