"""The tools a server lists: the exposed operations, or search mode's three tools, and the jobs_* tools.

One function, so `modelops-mcp tools --json` prints exactly what tools/list answers.
"""

from __future__ import annotations

import pickle
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

import mcp_types as types

from modelops_mcp.core import start_cache
from modelops_mcp.present.lean import lean_output, listed_output
from modelops_mcp.present.lean_input import lean_input
from modelops_mcp.present.lean_shared import share_descriptions, share_outputs
from modelops_mcp.present.lean_text import Routes, build_routes, lean_text
from modelops_mcp.present.portable import single_types
from modelops_mcp.present.shared_defs import shared_definitions
from modelops_mcp.settings.config import Settings
from modelops_mcp.spec.catalog import Catalog, Operation
from modelops_mcp.spec.relations import is_deprecated
from modelops_mcp.surface import backends_setup, discovery, job_tools
from modelops_mcp.surface.exposure import Exposure


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
    key = None if catalog.fingerprint is None else (catalog.fingerprint, settings.output_schemas, tuple(exposed))
    cached = None if key is None or key in _LISTED else start_cache.load("listed", key)
    if key is not None and cached is not None:
        _LISTED[key] = cached[0]
    if key is not None and key in _LISTED:
        tools: list[types.Tool] = pickle.loads(_LISTED[key])
    else:
        tools = _operation_tools(settings, catalog, exposed, shown)
        if key is not None:
            _LISTED[key] = pickle.dumps(tools)
            start_cache.store("listed", key, _LISTED[key])
    return [*tools, *_finished(settings, jobs)]


# The operations' tools as listed, by the bundled catalog's fingerprint, the output-schema mode and the
# exposed names (which fix `shown` too: the runtime derives it from the same settings and catalog). A process
# that opens many runtimes (the test suite, the demo) would lean the same hundred tools each time, about
# 0.3 s of CPU; unpickling a copy takes 3 ms, and each caller gets its own.
_LISTED: dict[tuple[object, ...], bytes] = {}


def _operation_tools(
    settings: Settings, catalog: Catalog, exposed: dict[str, Operation], shown: dict[str, dict[str, Any]] | None
) -> list[types.Tool]:
    routes = catalog_routes(catalog)
    tools = [lean_tool(op, routes, catalog.operations.keys()) for op in exposed.values()]
    # Deprecated by flag or in so many words ("(since v2.23) DEPRECATED"): a reference never points there.
    deprecated = {op.tool_name for op in exposed.values() if is_deprecated(op)}
    shared = share_descriptions({tool.name: tool.input_schema for tool in tools}, deprecated)
    for tool in tools:
        tool.input_schema = shared[tool.name]
    if shown is None:
        shown = shown_output_schemas(settings, catalog)
    for tool in tools:
        checked = shown.get(tool.name)
        # Answers are checked against `shown`; the list shows its lighter form, which accepts all they pass.
        tool.output_schema = tool.output_schema if checked is None else listed_output(checked)
    if settings.output_schemas != "full":  # full mode lists every schema as the document spells it
        read_only = {t.name for t in tools if t.annotations is not None and t.annotations.read_only_hint}
        backend = {op.tool_name: op.backend for op in exposed.values()}
        outputs = share_outputs({t.name: t.output_schema for t in tools}, deprecated, read_only, backend)
        for tool in tools:
            tool.output_schema = outputs[tool.name]
    return _finished(settings, tools)


def _finished(settings: Settings, tools: list[types.Tool]) -> list[types.Tool]:
    listed = [portable(tool) for tool in tools]
    if settings.output_schemas != "full":  # full mode lists every schema as the document spells it
        for tool in listed:
            if tool.output_schema is not None:
                tool.output_schema = shared_definitions(tool.output_schema)
    return listed


def catalog_routes(catalog: Catalog) -> Routes:
    """Which tool serves each documented route, so prose naming a route can name the tool instead."""
    return build_routes(
        [
            (op.method, op.path, urlsplit(catalog.backends[op.backend].default_base_url).path, op.tool_name)
            for op in catalog.operations.values()
        ]
    )


def lean_tool(op: Operation, routes: Routes, tool_names: Collection[str]) -> types.Tool:
    """The tool as listed: its description and its input schema's descriptions leaned (lean_text,
    lean_input); the title said once, not again in the annotations nor as the whole description. The
    Operation keeps the original."""
    tool = op.tool()
    # Where a cut code passage is still readable: the resource resources.SCHEMA_TEMPLATE names (a
    # literal here, since resources imports the runtime, which imports this module).
    note = f"Full text: modelops://schemas/{op.backend}."
    tool.description = lean_text(op.description, routes, cut_note=note)
    tool.input_schema = lean_input(op.input_schema, routes, op.tool_name, tool_names)
    if tool.annotations is not None:
        tool.annotations = lean_annotations(tool.annotations, tool.title)
    if tool.title == tool.description:
        # A document whose summary is all it says (most DataRobot operations): the sentence once, where
        # models read it; a host shows the name instead (the spec's fallback for a tool without a title).
        tool.title = None
    return tool


def lean_annotations(hints: types.ToolAnnotations, title: str | None) -> types.ToolAnnotations:
    """The hints a client would not assume: the spec's ToolAnnotations (schema.ts 2025-11-25 and 2026-07-28)
    defaults idempotentHint to false and openWorldHint to true, and reads destructiveHint and idempotentHint
    only when readOnlyHint is false. readOnlyHint stays (hosts and `tools --json` readers key off it), and so
    does destructiveHint: a host that read a missing one as false would not ask before a delete."""
    drop: dict[str, None] = {}
    if hints.title == title:
        drop["title"] = None
    if hints.read_only_hint:
        drop.update(destructive_hint=None, idempotent_hint=None)
    if hints.idempotent_hint is False:
        drop["idempotent_hint"] = None
    if hints.open_world_hint is True:
        drop["open_world_hint"] = None
    return hints.model_copy(update=drop)


def shown_output_schemas(settings: Settings, catalog: Catalog) -> dict[str, dict[str, Any]]:
    """The output schema tools/list shows for each operation, which its answers are checked against."""
    if settings.output_schemas == "full":
        return {}
    key = catalog.fingerprint
    cached = None if key is None or key in _SHOWN else start_cache.load("shown", key)
    if key is not None and cached is not None:
        _SHOWN[key] = cached[0]
    if key is not None and key in _SHOWN:  # as _LISTED, for the same reason
        found: dict[str, dict[str, Any]] = pickle.loads(_SHOWN[key])
        return found
    names = catalog.operations.keys()
    shown = {
        op.tool_name: lean_output(op.output_schema, names)
        for op in catalog.every_operation()
        if op.output_schema is not None
    }
    if key is not None:
        _SHOWN[key] = pickle.dumps(shown)
        start_cache.store("shown", key, _SHOWN[key])
    return shown


_SHOWN: dict[tuple[tuple[str, bytes], ...], bytes] = {}


def portable(tool: types.Tool) -> types.Tool:
    tool.input_schema = single_types(tool.input_schema)
    if tool.output_schema is not None:
        tool.output_schema = single_types(tool.output_schema)
    return tool
