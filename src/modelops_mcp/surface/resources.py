"""Resources: the configured backends, each backend's schema, every job (`job://{job_id}`), and downloads.

A downloaded file is announced as a `resource_link` to its `file://` URI; reading that URI serves the file
(up to a size) for clients that read links rather than open paths, and only from the download directory.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import anyio
import mcp_types as types
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from modelops_mcp.http.downloads import NotReadable, read_saved
from modelops_mcp.jobs.model import JOB_SCHEME
from modelops_mcp.jobs.report import describe
from modelops_mcp.jobs.tracker import UnknownJob
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.roots import file_uri_path

BACKENDS_URI = "modelops://backends"
SCHEMA_TEMPLATE = "modelops://schemas/{backend}"
_SCHEMA_PREFIX = "modelops://schemas/"
JOB_TEMPLATE = JOB_SCHEME + "{job_id}"
# An unknown resource: -32002 up to 2025-11-25; the 2026-07-28 revision (SEP-2164) says -32602, invalid params.
RESOURCE_NOT_FOUND = -32002
# resources/list shows this many recent jobs; jobs_list pages through all of them.
LISTED_JOBS = 50
# A downloaded file's resource_link can be read back up to this size; bigger files are opened from disk.
READABLE_DOWNLOAD_BYTES = 8 * 1024 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/xml")


class ResourceNotFound(Exception):
    def __init__(self, uri: str) -> None:
        super().__init__(f"Resource not found: {uri}")
        self.uri = uri


def not_found_code(protocol_version: str | None) -> int:
    """The JSON-RPC code for an unknown resource on the request's protocol revision."""
    return types.INVALID_PARAMS if protocol_version in MODERN_PROTOCOL_VERSIONS else RESOURCE_NOT_FOUND


def list_resources(runtime: Runtime) -> list[types.Resource]:
    listed = [
        types.Resource(
            uri=BACKENDS_URI,
            name="backends",
            title="Configured backends",
            description="Each backend's base URL, whether its credential is set, whether it is configured and "
            "listed (and why), what to set to configure it, and its tool names.",
            mime_type="application/json",
        )
    ]
    listed += [
        types.Resource(
            uri=_SCHEMA_PREFIX + name,
            name=f"schema-{name}",
            title=f"{spec.title} OpenAPI document",
            description=f"The OpenAPI 3.1 document the {spec.title} tools are generated from.",
            mime_type="application/json",
        )
        for name, spec in runtime.catalog.backends.items()
    ]
    jobs, _ = runtime.jobs.store.page(limit=LISTED_JOBS)
    listed += [
        types.Resource(
            uri=job.uri,
            name=f"job-{job.id}",
            title=f"{job.operation} job ({job.status}{'' if job.following else ', not followed'})",
            description=describe(job),
            mime_type="application/json",
        )
        for job in jobs
    ]
    return listed


def templates() -> list[types.ResourceTemplate]:
    return [
        types.ResourceTemplate(
            uri_template=SCHEMA_TEMPLATE,
            name="backend-schema",
            title="A backend's OpenAPI document",
            description="The full OpenAPI 3.1 document of one backend, x-mcp extensions included.",
            mime_type="application/json",
        ),
        types.ResourceTemplate(
            uri_template=JOB_TEMPLATE,
            name="job",
            title="A job",
            description="One long-running operation: status, progress, message, backend state, result or error. "
            "Subscribe to it to be told of every change.",
            mime_type="application/json",
        ),
    ]


def _backends(runtime: Runtime) -> list[dict[str, Any]]:
    out = []
    for name, spec in runtime.catalog.backends.items():
        client = runtime.clients[name]
        config = client.config
        place = runtime.exposure.of(name)
        out.append(
            {
                "backend": name,
                "title": spec.title,
                "base_url": client.known_base_url,
                # Set when the configured URL is unusable: every call of this backend then answers kind config.
                "base_url_problem": config.url_problem,
                # Not configured: the first call probes these ports of the default host for a running service.
                "discovers_ports": config.discovery.ports if config.discovery is not None else None,
                "base_url_env": spec.base_url_env,
                "credential_env": config.credential_env,
                "credential_set": config.credential is not None,
                # Only what tools/call accepts (or ops_call, in search mode): no internal status operation
                # (datarobot_get_status), nothing outside the selection.
                "tools": [op.tool_name for op in spec.operations if op.tool_name in runtime.exposed],
                # Whether the tool list holds it, why, and the variables that configure it (names, never values).
                **({k: v for k, v in place.to_json().items() if k not in ("backend", "title")} if place else {}),
            }
        )
    return out


async def _read_download(runtime: Runtime, uri: str) -> types.TextResourceContents | types.BlobResourceContents:
    path = file_uri_path(uri)
    if path is None:
        raise ResourceNotFound(uri)
    try:
        data, mime = await anyio.to_thread.run_sync(
            read_saved, path, runtime.workspace.downloads, READABLE_DOWNLOAD_BYTES
        )
    except (NotReadable, OSError):
        raise ResourceNotFound(uri) from None
    if mime is not None and mime.startswith(_TEXT_TYPES):
        try:
            return types.TextResourceContents(uri=uri, mime_type=mime, text=data.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    encoded = base64.b64encode(data).decode("ascii")
    return types.BlobResourceContents(uri=uri, mime_type=mime or "application/octet-stream", blob=encoded)


async def read(runtime: Runtime, uri: str) -> types.TextResourceContents | types.BlobResourceContents:
    if uri.startswith("file:"):
        return await _read_download(runtime, uri)
    if uri.startswith(JOB_SCHEME):
        try:
            payload: Any = (await runtime.jobs.refresh(uri[len(JOB_SCHEME) :])).public()
        except UnknownJob:
            raise ResourceNotFound(uri) from None
    elif uri == BACKENDS_URI:
        payload = _backends(runtime)
    elif uri.startswith(_SCHEMA_PREFIX) and uri[len(_SCHEMA_PREFIX) :] in runtime.catalog.backends:
        payload = runtime.catalog.backends[uri[len(_SCHEMA_PREFIX) :]].document
    else:
        raise ResourceNotFound(uri)
    return types.TextResourceContents(uri=uri, mime_type="application/json", text=json.dumps(payload, indent=1))


def complete(runtime: Runtime, ref_uri: str, argument: str, prefix: str) -> list[str]:
    if ref_uri == SCHEMA_TEMPLATE and argument == "backend":
        return sorted(name for name in runtime.catalog.backends if name.startswith(prefix))
    if ref_uri == JOB_TEMPLATE and argument == "job_id":
        return runtime.jobs.store.ids_starting(prefix)
    return []
