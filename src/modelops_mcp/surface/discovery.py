"""Search mode (`--discovery search`): three tools stand in for every operation's own tool.

`ops_search` finds operations by a plain-language query, `ops_describe` gives their full schemas and
`ops_call` runs one through the very path its own tool takes. The tool list then stays a few kilobytes
however many operations are loaded, which is what keeps a server with every backend switched on within a
client's tool cap and an agent's context.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types

from modelops_mcp.calls.validation import ArgumentValidator
from modelops_mcp.core.errors import ToolError, ToolFailure, error_result
from modelops_mcp.present.describe_text import render
from modelops_mcp.present.portable import single_types
from modelops_mcp.present.search import OperationIndex
from modelops_mcp.spec.catalog import Operation
from modelops_mcp.surface.job_tools import READ_ONLY, object_tool

log = logging.getLogger(__name__)

SEARCH_LIMIT_DEFAULT = 8
DESCRIBE_MAX = 10
NEXT_SHOWN = 3  # operations that usually follow a hit, shown with it

# Runs an exposed operation exactly as its own tool would: the server passes in its call path.
Invoke = Callable[[str, dict[str, Any]], Awaitable[types.CallToolResult | dict[str, Any]]]

_NAME = {"type": "string", "minLength": 1, "maxLength": 64}


def definitions(backends: list[str], read_only: bool) -> list[types.Tool]:
    # Each found operation: name, summary, read_only / starts_job when true, what usually follows it, and
    # for a deprecated one what replaces it.
    names = {"type": "array", "items": {"type": "string"}}
    summary = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "summary": {"type": "string"},
            "next": names,
            "deprecated_use": names,
        },
        "required": ["name", "summary"],
    }
    return [
        object_tool(
            "ops_search",
            "Search operations",
            "Find operations (fits, tests, uploads, downloads...) by a plain-language query, best first, with "
            "what usually follows each. Then ops_describe, then ops_call.",
            {
                "query": {"type": "string", "minLength": 1, "maxLength": 500},
                "backend": {"type": "string", "enum": backends},
                "limit": {"type": "integer", "minimum": 1, "maximum": 25, "default": SEARCH_LIMIT_DEFAULT},
            },
            ["query"],
            {
                "type": "object",
                "properties": {"operations": {"type": "array", "items": summary}},
                "required": ["operations"],
            },
            READ_ONLY,
        ),
        object_tool(
            "ops_describe",
            "Describe operations",
            "Each named operation's arguments for ops_call (required first), description, and output fields if "
            "output_schema.",
            {
                "names": {"type": "array", "items": _NAME, "minItems": 1, "maxItems": DESCRIBE_MAX},
                "output_schema": {"type": "boolean", "default": False},
            },
            ["names"],
            {
                "type": "object",
                "properties": {
                    "operations": {"type": "array", "items": {"type": "object"}},
                    "unknown": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["operations"],
            },
            READ_ONLY,
        ),
        object_tool(
            "ops_call",
            "Call an operation",
            "Run an operation with its arguments: the same validation, result, errors and job handle as its "
            "own tool. Jobs: jobs_wait.",
            {"name": _NAME, "arguments": {"type": "object", "default": {}}},
            ["name"],
            None,
            types.ToolAnnotations(
                read_only_hint=read_only,
                destructive_hint=not read_only,
                idempotent_hint=read_only,
                open_world_hint=True,
            ),
        ),
    ]


def describe_operation(op: Operation) -> dict[str, Any]:
    tool = op.tool()  # the full schemas, in the same portable spelling as tools/list
    described: dict[str, Any] = {
        "name": op.tool_name,
        "title": op.title,
        "description": op.description,
        "input_schema": single_types(tool.input_schema),
        "output_schema": single_types(tool.output_schema),
        "annotations": op.annotations.model_dump(by_alias=True, exclude_none=True),
    }
    if op.job is not None:
        described["starts_job"] = True
    return described


def _line(entry: dict[str, Any]) -> str:
    line = f"{entry['name']} — {entry['summary']}"
    if entry.get("starts_job"):
        line += " [starts a job]"
    if "deprecated_use" in entry:
        line += f" [deprecated: use {' or '.join(entry['deprecated_use']) or 'another operation'}]"
    if entry.get("next"):
        line += f" → then: {', '.join(entry['next'])}"
    return line


class DiscoveryTools:
    def __init__(self, exposed: dict[str, Operation], read_only: bool, text_limit: int) -> None:
        self.operations = exposed
        self.tools = definitions(sorted({op.backend for op in exposed.values()}), read_only)
        self._validators = {tool.name: ArgumentValidator(tool.input_schema) for tool in self.tools}
        self._text_limit = text_limit

    @functools.cached_property
    def index(self) -> OperationIndex:
        """Built on the first search, not at start: a server that is never searched never pays for it."""
        return OperationIndex(self.operations.values())

    def __contains__(self, name: str) -> bool:
        return name in self._validators

    async def call(
        self, name: str, arguments: dict[str, Any] | None, invoke: Invoke
    ) -> types.CallToolResult | dict[str, Any]:
        arguments = arguments or {}
        try:
            self._validators[name].check(arguments, name)
            if name == "ops_search":
                return self._search(arguments)
            if name == "ops_describe":
                return self._describe(arguments["names"], bool(arguments.get("output_schema", False)))
            target = arguments["name"]
            if target not in self.operations:
                raise self._unknown([target])
            return await invoke(target, dict(arguments.get("arguments") or {}))
        except ToolFailure as failure:
            return error_result(failure.error.model_copy(update={"operation": failure.error.operation or name}))
        except Exception as exc:  # the server must keep serving whatever one call meets
            log.exception("%s: unexpected failure", name)
            message = f"unexpected failure: {type(exc).__name__}"
            return error_result(ToolError(kind="backend", message=message, operation=name))

    def _result(self, structured: dict[str, Any], text: str) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)

    def _search(self, arguments: dict[str, Any]) -> types.CallToolResult:
        backend = arguments.get("backend")
        hits = self.index.search(
            arguments["query"], arguments.get("limit", SEARCH_LIMIT_DEFAULT), [backend] if backend else None
        )
        relations = self.index.relations
        found = []
        for hit in hits:
            op = hit.operation
            entry: dict[str, Any] = {"name": op.tool_name, "summary": op.description.split("\n", 1)[0]}
            if op.annotations.read_only_hint:
                entry["read_only"] = True
            if op.job is not None:
                entry["starts_job"] = True
            following = relations.follows.get(op.tool_name, [])[:NEXT_SHOWN]
            if following:
                entry["next"] = following
            if op.tool_name in relations.deprecated:
                entry["deprecated_use"] = relations.deprecated[op.tool_name]
            found.append(entry)
        lines = [_line(e) for e in found]
        text = "\n".join(lines) if lines else "no operation matches; try other words, or drop the backend filter"
        return self._result({"operations": found}, text)

    def _describe(self, names: list[str], with_output: bool) -> types.CallToolResult:
        known = [describe_operation(self.operations[n]) for n in dict.fromkeys(names) if n in self.operations]
        unknown = [n for n in dict.fromkeys(names) if n not in self.operations]
        if not known:
            raise self._unknown(unknown)
        structured: dict[str, Any] = {"operations": known}
        if unknown:
            structured["unknown"] = unknown
        return self._result(structured, render(known, unknown, self._text_limit, with_output))

    def _unknown(self, names: list[str]) -> ToolFailure:
        suggestions = [hit.operation.tool_name for hit in self.index.search(" ".join(names), 3)]
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else "; find names with ops_search"
        return ToolFailure(
            ToolError(
                kind="validation",
                code="unknown_operation",
                message=f"no operation named {', '.join(repr(n) for n in names)}{hint}",
            )
        )
