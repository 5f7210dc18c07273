"""What a tool answers, from the documented 2xx response, and the shapes the server adds: no content, a saved
file, a job handle, an upload's summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, get_args

from modelops_mcp.spec.catalog import Operation
from modelops_mcp.spec.extension import JobStatus
from modelops_mcp.spec.flatten import is_binary
from modelops_mcp.spec.openapi import Resolver, SchemaError, pointer_join
from modelops_mcp.spec.tolerant import Tolerance, tolerant_body, tolerant_value

# A 2xx without a documented body (204 No Content, a bare 202): the tool still answers structured content.
NO_CONTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"http_status": {"type": "integer", "description": "The backend's HTTP status; it sent no body."}},
}
# A binary answer is saved to a file (http/downloads.py); the tool answers where.
DOWNLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The response was a file: it was saved on the server's machine, not returned inline.",
    "properties": {
        "path": {"type": "string", "description": "Absolute path of the saved file."},
        "file_name": {"type": "string"},
        "size": {"type": "integer", "minimum": 0, "description": "Bytes written."},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "content_type": {"type": ["string", "null"]},
        "uri": {"type": "string", "description": "file:// URI of the saved file (also sent as a resource_link)."},
    },
    "required": ["path", "file_name", "size", "sha256", "content_type", "uri"],
}


# A job-starting tool's answer carries the handle of the job that follows it (jobs/).
HANDLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The job tracking this operation: follow it with jobs_wait / jobs_get or read its uri.",
    "properties": {
        "id": {"type": "string"},
        "uri": {"type": "string"},
        "status": {"type": "string", "enum": list(get_args(JobStatus))},
    },
    "required": ["id", "uri", "status"],
}

UPLOAD_SUMMARY = {
    "uploaded_rows": {"type": "integer", "description": "Rows sent to the upload URL."},
    "class_names": {
        "type": ["array", "null"],
        "items": {"type": "string"},
        "description": "For string labels: the label of class 0, 1, … in order; null when labels were numbers.",
    },
}


def output_of(
    resolver: Resolver, operation: dict[str, Any], at: str, tolerance: Tolerance
) -> tuple[dict[str, Any] | None, bool, bool]:
    """The output schema, whether the body is wrapped as `{"result": ...}`, and whether the body is a file.

    The body's schema is as liberal as the backend's official client (`tolerant`): what it accepts, the tool
    result accepts."""
    responses = operation.get("responses", {})
    success = sorted(code for code in responses if str(code).startswith("2"))
    if not success:
        raise SchemaError(resolver.source, pointer_join(at, "responses"), "no 2xx response is documented")
    where = pointer_join(at, "responses", success[0])
    if str(success[0]) == "204":
        return NO_CONTENT_SCHEMA, False, False  # No Content has no body, whatever schema a document gives it
    response = resolver.deref(responses[success[0]], where)
    content = response.get("content") or {}
    for media_type, media in content.items():
        schema = media.get("schema") if isinstance(media, dict) else None
        if "json" not in media_type and is_binary(resolver.deref(schema, pointer_join(where, "content"))):
            return DOWNLOAD_SCHEMA, False, True
    # A text answer (a health check's "ok") is a string: structured as {"result": "..."} like any non-object.
    media = content.get("application/json") or content.get("*/*") or content.get("text/plain")
    if media is None or "schema" not in media:
        return NO_CONTENT_SCHEMA, False, False
    # Output is not bounded like input: the range of a backend's ids is its business, not ours to police.
    schema = resolver.inline(media["schema"], pointer_join(where, "content"))
    if schema.get("type") == "object" and not any(k in schema for k in ("anyOf", "oneOf", "allOf")):
        return tolerant_body(schema, tolerance), False, False
    wrapped = {"result": tolerant_value(schema, tolerance)}
    return {"type": "object", "properties": wrapped, "required": ["result"]}, True, False


def with_job_handle(schema: dict[str, Any] | None) -> dict[str, Any]:
    """A job-starting tool's output also carries the handle of the job that follows the operation."""
    if schema is None:
        return {"type": "object", "properties": {"job": HANDLE_SCHEMA}}
    return {**schema, "properties": {**schema.get("properties", {}), "job": HANDLE_SCHEMA}}


def with_upload_output(source: str, op: Operation, operations: Sequence[Operation]) -> Operation:
    """An upload tool answers what its `then` operation reads back, plus what was uploaded."""
    if op.upload is None:
        return op
    then = next((o for o in operations if op.upload.then and o.operation_id == op.upload.then.operation), None)
    where = pointer_join(op.source.split("#", 1)[1], "x-mcp", "upload", "then")
    if op.upload.then is not None and then is None:
        raise SchemaError(source, where, f"unknown operation {op.upload.then.operation!r}")
    base = (then.output_schema if then is not None else op.output_schema) or {"type": "object"}
    schema = {**base, "properties": {**base.get("properties", {}), **UPLOAD_SUMMARY}}
    return replace(op, output_schema=schema, wrap_output=False)
