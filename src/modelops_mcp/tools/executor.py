"""Executing a tool call: validate → build the request → send → shape the result. Never raises."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx
import mcp_types as types
from jsonschema import Draft202012Validator

from modelops_mcp.backends import BackendClient, retry_after_seconds
from modelops_mcp.config import Limits
from modelops_mcp.jobs.adapters import Reply
from modelops_mcp.redact import Redactor
from modelops_mcp.tools.catalog import Catalog, Operation
from modelops_mcp.tools.errors import ToolError, ToolFailure, error_result
from modelops_mcp.tools.request import build_request
from modelops_mcp.tools.response import error_from_response, parse_body, success_result
from modelops_mcp.tools.validation import ArgumentValidator

if TYPE_CHECKING:
    from modelops_mcp.jobs.tracker import Tracker

log = logging.getLogger(__name__)


class Executor:
    def __init__(self, catalog: Catalog, clients: dict[str, BackendClient], limits: Limits, redactor: Redactor) -> None:
        self.catalog = catalog
        self._clients = clients
        self._limits = limits
        self._redactor = redactor
        self._inputs = {name: ArgumentValidator(op.input_schema) for name, op in catalog.operations.items()}
        self._outputs = {
            name: Draft202012Validator(op.output_schema)
            for name, op in catalog.operations.items()
            if op.output_schema is not None
        }
        self.jobs: Tracker | None = None

    async def call(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        op = self.catalog.operations[name]
        try:
            return await self._call(op, arguments or {})
        except ToolFailure as failure:
            log.info("%s failed: %s", name, failure.error.one_line())
            return error_result(failure.error)
        except Exception as exc:  # the server must keep serving whatever one call meets
            log.exception("%s: unexpected failure", name)
            error = ToolError(
                kind="backend",
                message=self._redactor.text(f"unexpected failure: {type(exc).__name__}: {exc}")[:500],
                backend=op.backend,
                operation=op.tool_name,
            )
            return error_result(error)

    async def invoke(self, op: Operation, arguments: dict[str, Any]) -> Reply:
        """One operation for the server's own use (job status checks): the parsed answer, or `ToolFailure`."""
        response = await self._send(op, arguments)
        return Reply(response.status_code, self._redactor.value(parse_body(response)), response.headers)

    async def _send(self, op: Operation, arguments: dict[str, Any]) -> httpx.Response:
        self._inputs[op.tool_name].check(arguments, op.tool_name, op.backend)
        client = self._clients[op.backend]
        request = build_request(op, arguments, client.config.base_url)
        if op.authenticated:
            client.authorize(request, op.tool_name)
        response = await client.send(request, idempotent=op.idempotent, operation=op.tool_name)
        if not response.is_success:
            raise ToolFailure(error_from_response(op, response, self._redactor, retry_after_seconds(response)))
        return response

    async def _call(self, op: Operation, arguments: dict[str, Any]) -> types.CallToolResult:
        response = await self._send(op, arguments)
        result = success_result(op, response, self._outputs.get(op.tool_name), self._redactor, self._limits.text_chars)
        if self.jobs is None or not self.jobs.follows(op):
            return result
        reply = Reply(response.status_code, self._redactor.value(parse_body(response)), response.headers)
        job = self.jobs.start(op, arguments, reply)
        structured = dict(result.structured_content or {})
        structured["job"] = job.handle()
        follow = (
            f'Started job {job.id} ({job.status}). Follow it with jobs_wait {{"job_id": "{job.id}"}}, '
            f"jobs_get, or by reading / subscribing to {job.uri}."
        )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=follow), *result.content], structured_content=structured
        )
