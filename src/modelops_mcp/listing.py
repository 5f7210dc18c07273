"""The tools a server lists: the exposed operations, or search mode's three tools, and the jobs_* tools.

One function, so `modelops-mcp tools --json` prints exactly what tools/list answers.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types

from modelops_mcp import backends_setup, discovery, job_tools
from modelops_mcp.config import Settings
from modelops_mcp.exposure import Exposure
from modelops_mcp.tools.catalog import Catalog, Operation
from modelops_mcp.tools.lean import lean_output
from modelops_mcp.tools.portable import single_types


def listed_tools(
    settings: Settings,
    catalog: Catalog,
    exposed: dict[str, Operation],
    shown: dict[str, dict[str, Any]] | None = None,
    exposure: Exposure | None = None,
) -> list[types.Tool]:
    """`shown`: shown_output_schemas' answer when the caller already has it (the runtime computes it once).
    `exposure`: with a backend left out for want of settings, backends_setup is listed too (last)."""
    jobs = job_tools.definitions(sorted(catalog.backends), settings.read_only)
    if exposure is not None and exposure.hidden:
        jobs.append(backends_setup.definition(exposure))
    if settings.discovery == "search":
        backends = sorted({op.backend for op in exposed.values()})
        # Nothing exposed, nothing to search: ops_* would only cost context (and an empty enum).
        found = discovery.definitions(backends, settings.read_only) if exposed else []
        return [portable(tool) for tool in [*found, *jobs]]
    tools = [op.tool() for op in exposed.values()]
    if shown is None:
        shown = shown_output_schemas(settings, catalog)
    for tool in tools:
        tool.output_schema = shown.get(tool.name, tool.output_schema)
    return [portable(tool) for tool in [*tools, *jobs]]


def shown_output_schemas(settings: Settings, catalog: Catalog) -> dict[str, dict[str, Any]]:
    """The output schema tools/list shows for each operation, which its answers are checked against."""
    if settings.output_schemas == "full":
        return {}
    names = catalog.operations.keys()
    return {
        op.tool_name: lean_output(op.output_schema, names)
        for op in catalog.every_operation()
        if op.output_schema is not None
    }


def portable(tool: types.Tool) -> types.Tool:
    tool.input_schema = single_types(tool.input_schema)
    if tool.output_schema is not None:
        tool.output_schema = single_types(tool.output_schema)
    return tool
