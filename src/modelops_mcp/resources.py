"""Read-only resources about the server itself: which backends are configured, and each backend's schema."""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types

from modelops_mcp.runtime import Runtime

BACKENDS_URI = "modelops://backends"
SCHEMA_TEMPLATE = "modelops://schemas/{backend}"
_SCHEMA_PREFIX = "modelops://schemas/"
RESOURCE_NOT_FOUND = -32002


class ResourceNotFound(Exception):
    def __init__(self, uri: str) -> None:
        super().__init__(f"Resource not found: {uri}")
        self.uri = uri


def list_resources(runtime: Runtime) -> list[types.Resource]:
    listed = [
        types.Resource(
            uri=BACKENDS_URI,
            name="backends",
            title="Configured backends",
            description="Each backend's base URL, whether its credential is set, and its tool names.",
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
    return listed


def templates() -> list[types.ResourceTemplate]:
    return [
        types.ResourceTemplate(
            uri_template=SCHEMA_TEMPLATE,
            name="backend-schema",
            title="A backend's OpenAPI document",
            description="The full OpenAPI 3.1 document of one backend, x-mcp extensions included.",
            mime_type="application/json",
        )
    ]


def _backends(runtime: Runtime) -> list[dict[str, Any]]:
    out = []
    for name, spec in runtime.catalog.backends.items():
        config = runtime.clients[name].config
        out.append(
            {
                "backend": name,
                "title": spec.title,
                "base_url": config.base_url,
                "base_url_env": spec.base_url_env,
                "credential_env": config.credential_env,
                "credential_set": config.credential is not None,
                "tools": [op.tool_name for op in spec.operations],
            }
        )
    return out


def read(runtime: Runtime, uri: str) -> types.TextResourceContents:
    if uri == BACKENDS_URI:
        payload: Any = _backends(runtime)
    elif uri.startswith(_SCHEMA_PREFIX) and uri[len(_SCHEMA_PREFIX) :] in runtime.catalog.backends:
        payload = runtime.catalog.backends[uri[len(_SCHEMA_PREFIX) :]].document
    else:
        raise ResourceNotFound(uri)
    return types.TextResourceContents(uri=uri, mime_type="application/json", text=json.dumps(payload, indent=1))


def complete(runtime: Runtime, ref_uri: str, argument: str, prefix: str) -> list[str]:
    if ref_uri == SCHEMA_TEMPLATE and argument == "backend":
        return sorted(name for name in runtime.catalog.backends if name.startswith(prefix))
    return []
