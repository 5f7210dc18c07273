"""What the MCP surface serves from: one server process's working parts, as app/runtime.py opens them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelops_mcp.calls.executor import Workspace
from modelops_mcp.core.redact import Redactor
from modelops_mcp.http.backends import BackendClient
from modelops_mcp.jobs.tool_calls import ToolCalls
from modelops_mcp.jobs.tracker import Tracker
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.catalog import Catalog, Operation
from modelops_mcp.surface.exposure import Exposure


@dataclass
class Runtime:
    settings: Settings
    catalog: Catalog
    clients: dict[str, BackendClient]
    # Tool calls, each executed and followed as a job when it starts one.
    executor: ToolCalls
    redactor: Redactor
    jobs: Tracker
    workspace: Workspace
    # The operations the tool list offers (toolsets, allowlist, read-only); the catalog stays whole.
    exposed: dict[str, Operation]
    # The output schema the tool list shows per tool, which answers are checked against.
    shown_outputs: dict[str, dict[str, Any]]
    # Each backend's place in the tool list and why (configured, named, or left out).
    exposure: Exposure
