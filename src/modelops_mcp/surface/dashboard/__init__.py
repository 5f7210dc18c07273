"""The jobs dashboard as an MCP App (extension `io.modelcontextprotocol/ui`, spec 2026-01-26, SDK ext-apps 2.0.4).

One `ui://` resource, a self-contained HTML document (`jobs.html` beside this module), declared on jobs_list,
jobs_get and jobs_wait through `_meta.ui.resourceUri`. The spec has the server check the client's capabilities
before declaring UI on tools: only a client that advertised the extension with the HTML profile among its
`mimeTypes` sees the declarations and the resource in resources/list, so any other client's tools/list,
resources/list and tool results are exactly what they were. The app calls the same tools through the host
(tools/call over the host's postMessage bridge); it never reaches a backend or the network itself.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import mcp_types as types
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID, client_supports_apps
from mcp.server.context import ServerRequestContext

__all__ = ["APP_MIME_TYPE", "EXTENSION_ID", "URI", "contents", "declare", "resource", "wants_apps"]

URI = "ui://modelops-mcp/jobs-dashboard.html"
# The tools whose results the dashboard renders: all three answer with jobs. jobs_cancel is called by the app
# (through the host, so the server's confirmation rules apply) but opens no view of its own.
TOOLS = ("jobs_list", "jobs_get", "jobs_wait")
# The flat key the 2026-01-26 spec deprecates; the SDK's registerAppTool still sets both for hosts of ext-apps
# 1.x, and so does this.
_LEGACY_KEY = "ui/resourceUri"


def wants_apps(ctx: ServerRequestContext[Any]) -> bool:
    """Whether the client advertised MCP Apps with `text/html;profile=mcp-app` (the spec's negotiation)."""
    return client_supports_apps(ctx)


def declare(tools: list[types.Tool]) -> list[types.Tool]:
    """The tools as an MCP Apps host sees them: the jobs tools point at the dashboard, the others unchanged."""
    return [_declared(tool) if tool.name in TOOLS else tool for tool in tools]


def _declared(tool: types.Tool) -> types.Tool:
    meta = {**(tool.meta or {}), "ui": {"resourceUri": URI}, _LEGACY_KEY: URI}
    return tool.model_copy(update={"meta": meta})


def resource() -> types.Resource:
    return types.Resource(
        uri=URI,
        name="jobs-dashboard",
        title="Jobs dashboard",
        description="Live status, progress, timeline and metric curves of the jobs this server follows; cancel "
        "from the view (through the host, with the usual confirmation).",
        mime_type=APP_MIME_TYPE,
    )


def contents() -> types.TextResourceContents:
    # No `csp`: the app needs no origin at all, so the host applies the spec's restrictive default
    # (connect-src 'none'). A border, since the view is a panel of its own rather than part of the chat text.
    return types.TextResourceContents(
        uri=URI, mime_type=APP_MIME_TYPE, text=html(), _meta={"ui": {"prefersBorder": True}}
    )


@cache
def html() -> str:
    return files(__package__).joinpath("jobs.html").read_text(encoding="utf-8")
