"""Every error result of every listed tool, in every listing mode, is one the TypeScript SDK accepts.

The SDK's Client (`@modelcontextprotocol/sdk` 1.32.2, client/index.js `callTool`) compiles each listed
tool's `outputSchema` and, when a result carries `structuredContent`, checks it against that schema even if
`isError` is set; a mismatch becomes JSON-RPC -32602 and the agent never sees our message. So an error
carries no `structuredContent` (the rule the checks below would enforce for any that did), and its error
object travels as JSON text (tests/support.py `error_in_json` reads it as a client does).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from jsonschema import Draft202012Validator
from mcp import Client

from modelops_mcp.sandbox import Fault
from tests.support import RunningSandbox, error_of, in_process

pytestmark = pytest.mark.anyio

MODES: dict[str, dict[str, Any]] = {
    "lean": {},
    "full": {"output_schemas": "full"},
    "search": {"discovery": "search"},
}
NOT_AN_ARGUMENT = {"__not_an_argument__": 1}


def check_as_the_ts_sdk_does(tool: types.Tool, result: types.CallToolResult) -> None:
    """The SDK's check (structuredContent present and an outputSchema listed: it must validate), and ours."""
    assert result.is_error, (tool.name, result)
    if tool.output_schema is not None and result.structured_content is not None:
        errors = [e.message for e in Draft202012Validator(tool.output_schema).iter_errors(result.structured_content)]
        assert not errors, (tool.name, errors)
    assert result.structured_content is None, (tool.name, result.structured_content)
    error = error_of(result)
    assert error["message"], (tool.name, error)


def minimal(schema: dict[str, Any]) -> Any:
    """The smallest value of a schema that passes its checks, for the argument shapes our tools take."""
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: minimal(properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal(schema.get("items", {})) for _ in range(max(1, schema.get("minItems", 0)))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return float(max(1, schema.get("minimum", 1)))
    if kind == "boolean":
        return True
    if schema.get("format") == "uuid":
        return str(uuid.UUID(int=1))
    return "x" * max(1, schema.get("minLength", 1))


def valid_arguments(tool: types.Tool) -> dict[str, Any]:
    arguments = minimal(tool.input_schema)
    assert isinstance(arguments, dict)
    problems = [e.message for e in Draft202012Validator(tool.input_schema).iter_errors(arguments)]
    assert not problems, (tool.name, arguments, problems)
    return arguments


async def listed(client: Client) -> list[types.Tool]:
    tools = (await client.list_tools()).tools
    assert len(tools) > 3
    return tools


@pytest.mark.parametrize("mode", list(MODES))
async def test_every_tools_validation_error_passes_the_ts_sdk_check(
    sandbox: RunningSandbox, state_dir: Path, mode: str
) -> None:
    async with (
        in_process(sandbox.env(), state_dir, **MODES[mode]) as (server, runtime),
        Client(server, mode="legacy") as client,
    ):
        tools = await listed(client)
        for tool in tools:
            result = await client.call_tool(tool.name, NOT_AN_ARGUMENT)
            check_as_the_ts_sdk_does(tool, result)
            assert error_of(result)["kind"] == "validation"
        if mode == "search":
            # ops_call reaches every operation: its errors are the operation's own, in the same shape.
            ops_call = next(tool for tool in tools if tool.name == "ops_call")
            for name in runtime.exposed:
                result = await client.call_tool("ops_call", {"name": name, "arguments": NOT_AN_ARGUMENT})
                check_as_the_ts_sdk_does(ops_call, result)
                assert error_of(result)["operation"] == name
    assert not sandbox.requests(), "a refused call must send nothing"


@pytest.mark.parametrize("mode", list(MODES))
async def test_every_tools_backend_error_passes_the_ts_sdk_check(
    sandbox: RunningSandbox, state_dir: Path, tmp_path: Path, mode: str
) -> None:
    """Valid arguments, and every route of every backend answering 500 (or the job unknown)."""
    sandbox.emulators.faults.add(Fault(status=500, body={"message": "the backend is down"}))
    kinds: dict[str, str] = {}
    uploads = tmp_path / "uploads"  # an allowed folder without the files named: those uploads are refused
    uploads.mkdir()
    async with (
        in_process(sandbox.env(), state_dir, allow_dirs=[uploads], **MODES[mode]) as (server, runtime),
        Client(server, mode="legacy") as client,
    ):
        tools = {tool.name: tool for tool in await listed(client)}
        calls: list[tuple[types.Tool, str, dict[str, Any]]] = []
        for name, tool in tools.items():
            if name.startswith(("jobs_get", "jobs_wait", "jobs_cancel")):
                calls.append((tool, name, {"job_id": "no-such-job"}))
            elif name in runtime.exposed:
                calls.append((tool, name, valid_arguments(tool)))
        if mode == "search":
            for name, op in runtime.exposed.items():
                calls.append((tools["ops_call"], name, {"name": name, "arguments": valid_arguments(op.tool())}))
            calls.append((tools["ops_describe"], "ops_describe", {"names": ["no_such_operation"]}))
        for tool, name, arguments in calls:
            result = await client.call_tool(tool.name, arguments)
            check_as_the_ts_sdk_does(tool, result)
            kinds[name] = error_of(result)["kind"]
    # Most calls reached the backend; the rest were refused first (a file that is not there, no session).
    assert set(kinds.values()) <= {"backend", "validation", "not_found"}, kinds
    reached = [name for name, kind in kinds.items() if kind == "backend"]
    assert len(reached) >= 0.8 * len(runtime.exposed), (len(reached), len(runtime.exposed), kinds)
    assert {kinds[name] for name in ("jobs_get", "jobs_wait") if name in kinds} <= {"not_found"}
