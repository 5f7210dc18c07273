"""Loading the schema documents: each OpenAPI 3.1 document and its `x-mcp` keys checked and turned into a backend's
operations, and the catalog of every loaded backend."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Collection, Iterable, Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import mcp_types as types

from modelops_mcp.core import start_cache
from modelops_mcp.spec.catalog import HTTP_METHODS, AuthSpec, BackendSpec, Catalog, Operation
from modelops_mcp.spec.extension import DocumentExtension, OperationExtension, SessionSpec, parse
from modelops_mcp.spec.flatten import flatten_input
from modelops_mcp.spec.inputs import pagination_of, with_local_arguments, with_next_page, with_session
from modelops_mcp.spec.labels import with_classes_output
from modelops_mcp.spec.openapi import Resolver, SchemaError, load_document, pointer_join
from modelops_mcp.spec.outputs import output_of, with_job_handle, with_upload_output
from modelops_mcp.spec.tolerant import tolerance_for


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
                flat, session_arg = with_session(flat, ext.session, start_tool)
            output_schema, wrap, download = output_of(resolver, raw, at, tolerance_for(ext.backend))
            pagination = pagination_of(ext.pagination, method, flat, output_schema)
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
    operations = [with_upload_output(source, op, operations) for op in operations]
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
