"""The tools a server lists: the exposed operations, or search mode's three tools, and the jobs_* tools.

One function, so `modelops-mcp tools --json` prints exactly what tools/list answers.
"""

from __future__ import annotations

import mcp_types as types

from modelops_mcp import discovery, job_tools
from modelops_mcp.config import Settings
from modelops_mcp.tools.catalog import Catalog, Operation
from modelops_mcp.tools.lean import lean_output
from modelops_mcp.tools.portable import single_types


def listed_tools(settings: Settings, catalog: Catalog, exposed: dict[str, Operation]) -> list[types.Tool]:
    jobs = job_tools.definitions(sorted(catalog.backends), settings.read_only)
    if settings.discovery == "search":
        backends = sorted({op.backend for op in exposed.values()})
        return [portable(tool) for tool in [*discovery.definitions(backends, settings.read_only), *jobs]]
    tools = [op.tool() for op in exposed.values()]
    if settings.output_schemas == "lean":
        names = catalog.operations.keys()
        for tool in tools:
            if tool.output_schema is not None:
                tool.output_schema = lean_output(tool.output_schema, names)
    return [portable(tool) for tool in [*tools, *jobs]]


def portable(tool: types.Tool) -> types.Tool:
    tool.input_schema = single_types(tool.input_schema)
    if tool.output_schema is not None:
        tool.output_schema = single_types(tool.output_schema)
    return tool
