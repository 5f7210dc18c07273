"""The tool catalog: every schema document loaded, each documented operation turned into one MCP tool."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import mcp_types as types

from modelops_mcp import start_cache
from modelops_mcp.jobs.model import HANDLE_SCHEMA
from modelops_mcp.tools.downloads import DOWNLOAD_SCHEMA
from modelops_mcp.tools.extension import (
    DiscoverySpec,
    DocumentExtension,
    FileSetSpec,
    JobDeclaration,
    LabelsSpec,
    OperationExtension,
    PaginationSpec,
    SessionSpec,
    UploadSpec,
    parse,
)
from modelops_mcp.tools.flatten import BodyMode, Field, FlatInput, flatten_input, is_binary
from modelops_mcp.tools.labels import with_classes_output
from modelops_mcp.tools.openapi import Resolver, SchemaError, load_document, pointer_join
from modelops_mcp.tools.tolerant import Tolerance, tolerance_for, tolerant_body, tolerant_value

# A 2xx without a documented body (204 No Content, a bare 202): the tool still answers structured content.
NO_CONTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"http_status": {"type": "integer", "description": "The backend's HTTP status; it sent no body."}},
}
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
AuthStyle = Literal["header", "bearer"]


@dataclass(frozen=True, slots=True)
class AuthSpec:
    """How a backend's credential travels: a header carrying the raw secret, or a bearer token."""

    style: AuthStyle
    header: str
    credential_env: str | None
    # For a bearer scheme: a variable naming another scheme word (DataRobot's client sends `Token <key>`).
    scheme_env: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    backend: str
    operation_id: str
    tool_name: str
    method: str
    path: str
    title: str
    description: str
    fields: tuple[Field, ...]
    body_mode: BodyMode
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    wrap_output: bool
    annotations: types.ToolAnnotations
    authenticated: bool
    job: JobDeclaration | None
    source: str
    # The 2xx answer is a file: it is saved to the download directory and described, never inlined.
    download: bool = False
    # The argument that carries the backend's session key, filled in from the remembered session when omitted.
    session_arg: str | None = None
    # Not a tool: an operation the server calls itself (the status route a job's Location points at).
    internal: bool = False
    # Documented 3xx answers: data for the caller (a finished job's Location), not failures.
    redirects: frozenset[int] = frozenset()
    file_set: FileSetSpec | None = None
    # An offset/limit list whose answers link the next page; its tool takes that link back.
    pagination: PaginationSpec | None = None
    upload: UploadSpec | None = None
    # The operation's first OpenAPI tag: its toolset group, selected as `<backend>.<group>`.
    group: str | None = None
    # Arguments that make a call destructive (x-mcp `confirm_when`); empty: the destructiveHint decides.
    confirm_when: tuple[str, ...] = ()
    # The document marks the operation `deprecated: true` (search ranks it below what replaces it).
    deprecated: bool = False
    # Class names the server keeps for this backend's numbered classes (tools/labels.py).
    labels: LabelsSpec | None = None

    @property
    def idempotent(self) -> bool:
        return bool(self.annotations.idempotent_hint)

    def destructive_call(self, arguments: dict[str, Any]) -> bool:
        """Whether this call, with these arguments, is one a user should confirm before it is sent."""
        if not self.annotations.destructive_hint:
            return False
        if not self.confirm_when:
            return True
        return any(arguments.get(name) not in (None, 0, False, "", "0") for name in self.confirm_when)

    def tool(self) -> types.Tool:
        return types.Tool(
            name=self.tool_name,
            title=self.title,
            description=self.description,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            annotations=self.annotations,
        )


@dataclass(frozen=True, slots=True)
class BackendSpec:
    name: str
    title: str
    source: str
    default_base_url: str
    base_url_env: str | None
    auth: AuthSpec | None
    operations: tuple[Operation, ...]
    document: dict[str, Any] = field(repr=False)
    session: SessionSpec | None = None
    discovery: DiscoverySpec | None = None
    # The document's tags: the backend's toolset groups and what each holds.
    groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    backends: dict[str, BackendSpec]
    operations: dict[str, Operation]
    # Each document's path and content digest when every one is a bundled (trusted) document, else None:
    # two catalogs with the same fingerprint were built alike, so what is derived from one (the listing)
    # holds for the other.
    fingerprint: tuple[tuple[str, bytes], ...] | None = None

    def tools(self) -> list[types.Tool]:
        return [op.tool() for op in self.operations.values()]

    def find(self, backend: str, operation_id: str) -> Operation | None:
        spec = self.backends.get(backend)
        if spec is None:
            return None
        return next((op for op in spec.operations if op.operation_id == operation_id), None)

    def every_operation(self) -> list[Operation]:
        """Tools and internal operations alike."""
        return [op for spec in self.backends.values() for op in spec.operations]


def method_annotations(method: str, open_world: bool, title: str) -> dict[str, Any]:
    """MCP's defaults assume a tool is destructive unless told otherwise, so every hint is set explicitly."""
    read_only = method in ("get", "head", "options")
    return {
        "title": title,
        "readOnlyHint": read_only,
        "destructiveHint": method == "delete",
        "idempotentHint": method in ("get", "head", "options", "put", "delete"),
        "openWorldHint": open_world,
    }


def _auth(resolver: Resolver, document: dict[str, Any]) -> AuthSpec | None:
    requirements = document.get("security") or []
    if not requirements:
        return None
    names = list(requirements[0])
    if len(requirements) != 1 or len(names) != 1:
        raise SchemaError(resolver.source, "/security", "exactly one security scheme is supported")
    at = pointer_join("/components/securitySchemes", names[0])
    scheme = resolver.lookup("#" + at, "/security")
    env = scheme.get("x-mcp-credential-env")
    if scheme.get("type") == "apiKey" and scheme.get("in") == "header" and isinstance(scheme.get("name"), str):
        return AuthSpec(style="header", header=scheme["name"], credential_env=env)
    if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        return AuthSpec(
            style="bearer", header="Authorization", credential_env=env, scheme_env=scheme.get("x-mcp-scheme-env")
        )
    raise SchemaError(resolver.source, at, "supported schemes: apiKey in a header, or http bearer")


def _output(
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


def _with_session(flat: FlatInput, session: SessionSpec, start_tool: str) -> tuple[FlatInput, str | None]:
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


def _pagination(
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


UPLOAD_SUMMARY = {
    "uploaded_rows": {"type": "integer", "description": "Rows sent to the upload URL."},
    "class_names": {
        "type": ["array", "null"],
        "items": {"type": "string"},
        "description": "For string labels: the label of class 0, 1, … in order; null when labels were numbers.",
    },
}


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


def _with_upload_output(source: str, op: Operation, operations: Sequence[Operation]) -> Operation:
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


def _check_schema(schema: dict[str, Any] | None, source: str, at: str) -> None:
    if schema is None:
        return
    # Imported here: the bundled documents are not meta-validated at a start (check_schemas=False), so a
    # start need not load jsonschema at all.
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError as JsonSchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except JsonSchemaError as exc:
        where = pointer_join(at, *(str(p) for p in exc.path))
        raise SchemaError(source, where, f"not a valid JSON Schema: {exc.message}") from None


def _first_tag(operation: dict[str, Any]) -> str | None:
    tags = operation.get("tags")
    return str(tags[0]) if isinstance(tags, list) and tags and isinstance(tags[0], str) else None


def _describe(operation: dict[str, Any]) -> str:
    summary = str(operation.get("summary", "")).strip()
    description = str(operation.get("description", "")).strip()
    return "\n\n".join(part for part in (summary, description) if part)


def load_backend(path: Path | Traversable, *, check_schemas: bool = True) -> BackendSpec:
    """One document's backend. `check_schemas=False` skips the JSON Schema meta-validation of every tool's
    schemas, which is most of the load time: for the bundled documents, which the test suite checks."""
    source, document = load_document(path)
    if not str(document.get("openapi", "")).startswith("3.1"):
        raise SchemaError(source, "/openapi", "an OpenAPI 3.1 document is required")
    ext = parse(DocumentExtension, document.get("x-mcp"), source, "/x-mcp")
    resolver = Resolver(source, document)
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0].get("url"), str):
        raise SchemaError(source, "/servers", "a server URL (the default base URL) is required")
    auth = _auth(resolver, document)
    documented_security = bool(document.get("security"))
    start_tool = _session_start_tool(source, document, ext.session)

    operations: list[Operation] = []
    for route, path_item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method not in path_item:
                continue
            raw = path_item[method]
            at = pointer_join("/paths", route, method)
            if "operationId" not in raw:
                raise SchemaError(source, at, "every operation needs an operationId")
            op_ext = parse(OperationExtension, raw.get("x-mcp"), source, pointer_join(at, "x-mcp"))
            if not op_ext.tool.startswith(ext.backend + "_"):
                where = pointer_join(at, "x-mcp", "tool")
                raise SchemaError(source, where, f"tool name {op_ext.tool!r} must start with {ext.backend + '_'!r}")
            flat = flatten_input(resolver, path_item, raw, at, op_ext.files)
            session_arg = None
            if ext.session is not None and start_tool is not None:
                flat, session_arg = _with_session(flat, ext.session, start_tool)
            output_schema, wrap, download = _output(resolver, raw, at, tolerance_for(ext.backend))
            pagination = _pagination(ext.pagination, method, flat, output_schema)
            if pagination is not None:
                flat = with_next_page(flat, pagination)
            if op_ext.upload is not None:
                flat = with_local_arguments(flat, op_ext.upload.arguments, resolver.source, at)
            if op_ext.job is not None:
                output_schema = with_job_handle(output_schema)
            if op_ext.labels is not None and op_ext.labels.scores is not None:
                output_schema = with_classes_output(output_schema, op_ext.labels.scores)
            if check_schemas:
                _check_schema(flat.schema, source, at)
                _check_schema(output_schema, source, pointer_join(at, "responses"))
            unknown = [name for name in op_ext.confirm_when if name not in {f.arg for f in flat.fields}]
            if unknown:
                where = pointer_join(at, "x-mcp", "confirm_when")
                raise SchemaError(source, where, f"{unknown[0]!r} is not an argument of {op_ext.tool}")
            title = op_ext.title or str(raw.get("summary") or op_ext.tool)
            hints = method_annotations(method, ext.open_world, title)
            if op_ext.annotations is not None:
                hints.update(op_ext.annotations.model_dump(exclude_none=True))
            security = raw.get("security", document.get("security"))
            operations.append(
                Operation(
                    backend=ext.backend,
                    operation_id=str(raw["operationId"]),
                    tool_name=op_ext.tool,
                    method=method.upper(),
                    path=route,
                    title=title,
                    description=_describe(raw),
                    fields=flat.fields,
                    body_mode=flat.body_mode,
                    input_schema=flat.schema,
                    output_schema=output_schema,
                    wrap_output=wrap,
                    annotations=types.ToolAnnotations.model_validate(hints),
                    authenticated=documented_security and bool(security),
                    job=op_ext.job,
                    source=f"{source}#{at}",
                    download=download,
                    session_arg=session_arg,
                    internal=op_ext.internal,
                    redirects=frozenset(
                        int(c) for c in raw.get("responses", {}) if str(c)[:1] == "3" and str(c).isdigit()
                    ),
                    file_set=op_ext.files,
                    pagination=pagination,
                    upload=op_ext.upload,
                    group=_first_tag(raw),
                    confirm_when=tuple(op_ext.confirm_when),
                    deprecated=raw.get("deprecated") is True,
                    labels=op_ext.labels,
                )
            )
    _check_jobs(source, operations)
    operations = [_with_upload_output(source, op, operations) for op in operations]
    return BackendSpec(
        name=ext.backend,
        title=ext.title or str(document.get("info", {}).get("title", ext.backend)),
        source=source,
        default_base_url=servers[0]["url"],
        base_url_env=ext.base_url_env,
        auth=auth,
        operations=tuple(operations),
        document=document,
        session=ext.session,
        discovery=ext.discovery,
        groups={
            str(tag["name"]): str(tag.get("description", ""))
            for tag in document.get("tags") or []
            if isinstance(tag, dict) and "name" in tag
        },
    )


def _session_start_tool(source: str, document: dict[str, Any], session: SessionSpec | None) -> str | None:
    if session is None:
        return None
    for path_item in (document.get("paths") or {}).values():
        for method in HTTP_METHODS:
            raw = path_item.get(method) if isinstance(path_item, dict) else None
            if isinstance(raw, dict) and raw.get("operationId") == session.start:
                tool = (raw.get("x-mcp") or {}).get("tool")
                return str(tool) if tool else None
    raise SchemaError(source, "/x-mcp/session/start", f"unknown operation {session.start!r}")


def _check_jobs(source: str, operations: Sequence[Operation]) -> None:
    known = {op.operation_id for op in operations}
    for op in operations:
        if op.job is None:
            continue
        refs = [("status", op.job.status), ("cancel", op.job.cancel)]
        refs += [(f"resolve/{name}", spec) for name, spec in op.job.resolve.items()]
        for key, ref in refs:
            if ref is not None and ref.operation not in known:
                where = op.source.split("#", 1)[1]
                raise SchemaError(
                    source,
                    pointer_join(where, "x-mcp", "job", *key.split("/"), "operation"),
                    f"unknown operation {ref.operation!r}",
                )


# A trusted document's backend as built once in this process, pickled, by the document's path and content.
# One server builds its catalog once; a process that opens many runtimes (the test suite, about 400; the demo)
# would rebuild the same five backends each time, 0.08 s of CPU, where unpickling a copy takes 0.02 s. Each
# caller gets its own copy, so nothing one runtime does to its catalog reaches another.
_BUILT: dict[tuple[str, bytes], bytes] = {}


def _load_trusted(path: Path | Traversable) -> tuple[BackendSpec, tuple[str, bytes] | None]:
    """The backend, and the key it is built under (None when the file could not be read)."""
    try:
        key = (str(path), hashlib.sha256(path.read_bytes()).digest())
    except OSError:
        return load_backend(path, check_schemas=False), None  # load_backend names the unreadable file
    built = _BUILT.get(key)
    if built is not None:
        copy: BackendSpec = pickle.loads(built)
        return copy, key
    cached = start_cache.load("backend", key)  # the path too: every operation's `source` names it
    if cached is not None:
        _BUILT[key] = cached[0]
        found: BackendSpec = cached[1]
        return found, key
    backend = load_backend(path, check_schemas=False)
    _BUILT[key] = pickle.dumps(backend)
    start_cache.store("backend", key, _BUILT[key])
    return backend, key


def load_catalog(paths: Iterable[Path | Traversable], *, trusted: Collection[Path | Traversable] = ()) -> Catalog:
    """Every document's operations; `trusted` documents (the bundled ones) skip the meta-schema check."""
    backends: dict[str, BackendSpec] = {}
    operations: dict[str, Operation] = {}
    keys: list[tuple[str, bytes] | None] = []
    for path in paths:
        if path in trusted:
            backend, key = _load_trusted(path)
        else:
            backend, key = load_backend(path), None
        keys.append(key)
        if backend.name in backends:
            raise SchemaError(backend.source, "/x-mcp/backend", f"backend {backend.name!r} is already loaded")
        backends[backend.name] = backend
        for op in backend.operations:
            if op.internal:
                continue
            if op.tool_name in operations:
                where = op.source.split("#", 1)[1]
                raise SchemaError(
                    backend.source, pointer_join(where, "x-mcp", "tool"), f"duplicate tool {op.tool_name!r}"
                )
            operations[op.tool_name] = op
    known = [key for key in keys if key is not None]
    fingerprint = tuple(known) if len(known) == len(keys) else None
    return Catalog(backends=backends, operations=operations, fingerprint=fingerprint)
