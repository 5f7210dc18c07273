"""tools/list and tools/call as plain async handlers on one object, built from the runtime.

A call goes to the jobs_* tools, to backends_setup, to search mode's ops_* tools, or to an exposed operation
by its own name (in search mode too, though not listed). A destructive call is confirmed before anything is
sent; a job-starting call from a client that asked for tasks answers with a task handle.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from modelops_mcp.jobs.tracker import UnknownJob
from modelops_mcp.surface import backends_setup, dashboard
from modelops_mcp.surface.confirm import Confirmation, Interruption, cancel_question, operation_question
from modelops_mcp.surface.discovery import DiscoveryTools
from modelops_mcp.surface.exposure import SETUP_TOOL
from modelops_mcp.surface.job_tools import JobTools
from modelops_mcp.surface.listing import listed_tools
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.roots import client_roots
from modelops_mcp.surface.tasks import Tasks, client_wants_tasks
from modelops_mcp.surface.wire_result import wire_result

Answer = types.CallToolResult | dict[str, Any]


class ToolHandlers:
    def __init__(self, runtime: Runtime, tasks: Tasks) -> None:
        settings = runtime.settings
        text_limit = settings.limits.text_chars
        self.runtime = runtime
        self.tasks = tasks
        self.tools = listed_tools(settings, runtime.catalog, runtime.exposed, runtime.shown_outputs, runtime.exposure)
        # What a host that negotiated MCP Apps lists: the same tools, the jobs ones pointing at the dashboard.
        self.app_tools = dashboard.declare(self.tools)
        self._input_schemas = {tool.name: tool.input_schema for tool in self.tools}
        self.job_tools = JobTools(runtime.jobs, sorted(runtime.catalog.backends), text_limit, settings.read_only)
        self.discovery = (
            DiscoveryTools(runtime.exposed, settings.read_only, text_limit) if settings.discovery == "search" else None
        )
        self.confirmation = Confirmation(settings.confirm)

    async def list_tools(
        self, ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.app_tools if dashboard.wants_apps(ctx) else self.tools)

    def input_schema(self, name: str) -> dict[str, Any] | None:
        """A listed tool's inputSchema, for the SDK's check of a 2026-07-28 call's `Mcp-Param-*` headers.

        Without it the SDK runs tools/list and serialises all of it on every stateless tools/call to find one
        schema: about 15 ms of CPU per call here, most of what such a call cost."""
        return self._input_schemas.get(name)

    async def call_tool(self, ctx: ServerRequestContext[object], params: types.CallToolRequestParams) -> Answer:
        """The result as the wire carries it (wire_result): its structuredContent is not walked again."""
        return wire_result(await self._call(ctx, params))

    async def _call(self, ctx: ServerRequestContext[object], params: types.CallToolRequestParams) -> Answer:
        name = params.name
        if name in self.job_tools:
            if name == "jobs_cancel":
                stop = await self._confirm_cancel(ctx, params)
                if stop is not None:
                    return stop
            return await self.job_tools.call(name, params.arguments, ctx.session.report_progress)
        exposure = self.runtime.exposure
        if name == SETUP_TOOL and exposure.hidden:
            client = ctx.session.client_params
            return backends_setup.answer(exposure, backends_setup.host_of(client.client_info.name if client else None))

        async def invoke(target: str, arguments: dict[str, Any] | None) -> Answer:
            return await self._invoke(ctx, params, target, arguments)

        if self.discovery is not None and name in self.discovery:
            return await self.discovery.call(name, params.arguments, invoke)
        # In search mode an exposed operation stays callable by its own name, though not listed.
        if name not in self.runtime.exposed:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {name}{self._unlisted_because(name)}")
        return await invoke(name, params.arguments)

    async def _invoke(
        self,
        ctx: ServerRequestContext[object],
        params: types.CallToolRequestParams,
        name: str,
        arguments: dict[str, Any] | None,
    ) -> Answer:
        """One exposed operation, by its own tool or through ops_call: `params` is the tools/call as sent."""
        executor = self.runtime.executor
        op = self.runtime.exposed[name]
        if op.destructive_call(arguments or {}):
            # Bad arguments are refused first: the user is never asked about a call that cannot run.
            stop = executor.refusal(name, arguments or {}) or await self.confirmation.ask(
                ctx, params, name, arguments or {}, operation_question(op, arguments or {}), op.backend
            )
            if stop is not None:
                return stop
        result = await executor.call(name, arguments, client_roots(ctx))
        if op.job is not None and client_wants_tasks(ctx):
            return self.tasks.created(result) or result
        return result

    def _unlisted_because(self, name: str) -> str:
        """For an operation of a backend left out for want of settings: what would list it."""
        op = self.runtime.catalog.operations.get(name)
        place = self.runtime.exposure.of(op.backend) if op is not None else None
        if place is None or not place.hidden_unconfigured:
            return ""
        return f" ({place.title} is not configured: to list its tools, {place.to_configure()}, and restart)"

    async def _confirm_cancel(
        self, ctx: ServerRequestContext[object], params: types.CallToolRequestParams
    ) -> Interruption | None:
        arguments = params.arguments or {}
        try:
            job = self.runtime.jobs.get(str(arguments.get("job_id")))
        except UnknownJob:
            return None  # jobs_cancel itself says so
        if job.terminal or not job.following:
            return None  # nothing left to cancel: nothing is sent
        return await self.confirmation.ask(ctx, params, "jobs_cancel", arguments, cancel_question(job), job.backend)
