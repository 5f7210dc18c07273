"""The MCP Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on top of jobs.

A client that names the extension in a tools/call's `_meta` client capabilities gets, for a job-starting
tool, a task handle (`resultType: "task"`) whose id is the job id, instead of the tool result. `tasks/get`
reads the job (polling the backend at most once per minimum interval) and inlines the tool result once
the job has ended; `tasks/cancel` is `jobs_cancel`. mcp 2.3 does not ship the extension, so it is built
here on the SDK's request-handler hooks. Tasks exist only on the 2026-07-28 wire, where results carry
`resultType`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field

from modelops_mcp.calls.conform import conform, listed
from modelops_mcp.calls.response import compact
from modelops_mcp.calls.validation import compile_schema
from modelops_mcp.core.errors import ToolError, ToolFailure, error_result
from modelops_mcp.jobs import Job
from modelops_mcp.jobs.report import describe
from modelops_mcp.jobs.tracker import Tracker, UnknownJob
from modelops_mcp.spec.catalog import Catalog

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

log = logging.getLogger(__name__)

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
# No job asks the client for input through the task (there are no inputRequests to show), so such a job
# reads as working; its statusMessage says what it waits for.
_TASK_STATUS = {"working": "working", "input_required": "working", "cancelled": "cancelled"}


class TaskParams(types.RequestParams):
    task_id: str = Field(alias="taskId")
    request_state: str | None = Field(default=None, alias="requestState")


class TaskUpdateParams(TaskParams):
    input_responses: dict[str, Any] = Field(default_factory=dict, alias="inputResponses")


def _require_extension(ctx: ServerRequestContext[Any]) -> None:
    """tasks/get, tasks/update and tasks/cancel from a 2026-07-28 request that does not name the extension are
    -32021 (SEP-2663 on SEP-2575's missing required client capability; the SDK answers it with HTTP 400)."""
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS and not client_wants_tasks(ctx):
        required = types.ClientCapabilities(extensions={TASKS_EXTENSION: {}})
        raise MCPError(
            types.MISSING_REQUIRED_CLIENT_CAPABILITY,
            f"This request needs the {TASKS_EXTENSION} extension in the client's capabilities",
            types.MissingRequiredClientCapabilityErrorData(required_capabilities=required).model_dump(
                by_alias=True, mode="json", exclude_none=True
            ),
        )


def client_wants_tasks(ctx: ServerRequestContext[Any]) -> bool:
    """Only a request that names the extension may get a task back (the SEP's MUST NOT otherwise)."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS or not ctx.meta:
        return False
    capabilities = ctx.meta.get(types.CLIENT_CAPABILITIES_META_KEY)
    extensions = capabilities.get("extensions") if isinstance(capabilities, dict) else None
    return isinstance(extensions, dict) and TASKS_EXTENSION in extensions


class Tasks:
    def __init__(self, tracker: Tracker, catalog: Catalog) -> None:
        self.tracker = tracker
        self.catalog = catalog
        # Compiled when a task is first read (`_output_check`), not at the server's start.
        self._output_schemas = {
            name: op.output_schema
            for name, op in catalog.operations.items()
            if op.job is not None and op.output_schema is not None
        }
        self._outputs: dict[str, Draft202012Validator] = {}

    def _output_check(self, name: str) -> Draft202012Validator | None:
        validator = self._outputs.get(name)
        if validator is None and name in self._output_schemas:
            validator = self._outputs[name] = compile_schema(self._output_schemas[name])
        return validator

    def install(self, server: Server[Any]) -> None:
        server.extensions[TASKS_EXTENSION] = {}
        server.add_request_handler("tasks/get", TaskParams, self.get)
        server.add_request_handler("tasks/cancel", TaskParams, self.cancel)
        server.add_request_handler("tasks/update", TaskUpdateParams, self.update)

    @property
    def poll_interval_ms(self) -> int:
        return max(1, round(self.tracker.policy.min_interval * 1000))

    def task(self, job: Job) -> dict[str, Any]:
        # A job that failed on the backend is a tool result with isError, which the SEP files under
        # `completed`; `failed` is reserved for JSON-RPC errors.
        status = _TASK_STATUS.get(job.status, "completed")
        if not job.following and not job.terminal:
            # The task (this server following the job) was cancelled; the job itself stays as last seen, and
            # the status message says the remote work may still run.
            status = "cancelled"
        return {
            "taskId": job.id,
            "status": status,
            "statusMessage": describe(job),
            "createdAt": job.created_at,
            "lastUpdatedAt": job.updated_at,
            "ttlSeconds": None,  # jobs are kept until the state dir is cleared
            "pollIntervalMilliseconds": self.poll_interval_ms,
        }

    def created(self, result: types.CallToolResult) -> dict[str, Any] | None:
        """The task handle replacing a job-starting tool's result, or None to answer with the result itself."""
        handle = (result.structured_content or {}).get("job")
        if result.is_error or not isinstance(handle, dict):
            return None
        job = self.tracker.get(str(handle["id"]))
        return {"resultType": "task", **self.task(job)}

    def final_result(self, job: Job) -> types.CallToolResult:
        """What the tools/call would have returned had it waited for the end: the job's last backend answer."""
        if job.status == "failed":
            error = ToolError.model_validate(job.error) if job.error else ToolError(kind="backend", message="failed")
            return error_result(error)
        structured: dict[str, Any] = {"job": job.handle()}
        if isinstance(job.result, dict):
            structured = {**job.result, **structured}
        text = describe(job)
        validator = self._output_check(job.operation)
        if validator is not None and not validator.is_valid(structured):
            # The status answer is not shaped like the start answer (or the backend broke its schema): the job
            # still ended as it did, so the result is fitted to the schema the client checks, never an error.
            log.debug("job %s: final answer does not match %s's output schema", job.id, job.operation)
            fitted, paths = conform(structured, validator)
            structured = {**fitted, "job": job.handle()}
            text += (
                f"\nIts last answer differs from {job.operation}'s output schema at {listed(paths)}: "
                f"structuredContent has those values as null or left out. The whole answer: "
                f"{compact(job.result, 2000)}"
            )
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)

    async def get(self, ctx: ServerRequestContext[Any], params: TaskParams) -> dict[str, Any]:
        _require_extension(ctx)
        try:
            job = await self.tracker.refresh(params.task_id)
        except UnknownJob:
            raise MCPError(types.INVALID_PARAMS, f"Unknown task: {params.task_id}") from None
        task = self.task(job)
        if job.terminal and job.status != "cancelled":
            task["result"] = self.final_result(job).model_dump(by_alias=True, mode="json", exclude_none=True)
        return task

    async def cancel(self, ctx: ServerRequestContext[Any], params: TaskParams) -> dict[str, Any]:
        _require_extension(ctx)
        # Acknowledged whatever happens (the SEP: even for an unknown id); the task's status tells the outcome.
        try:
            # A task cancelled is one the client no longer waits on: let go of it even where nothing can be sent.
            await self.tracker.cancel(params.task_id, stop_following=True)
        except UnknownJob:
            pass
        except ToolFailure as failure:
            log.info("task %s: cancel failed: %s", params.task_id, failure.error.one_line())
        return {}

    async def update(self, ctx: ServerRequestContext[Any], params: TaskUpdateParams) -> dict[str, Any]:
        _require_extension(ctx)
        # No job asks the client for input yet; the SEP requires an acknowledgement regardless.
        return {}
