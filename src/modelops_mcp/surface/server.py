"""MCP wiring on the SDK's low-level Server: handlers only; the work happens in the runtime's parts."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from modelops_mcp import __version__
from modelops_mcp.jobs import Job
from modelops_mcp.jobs.tracker import UnknownJob
from modelops_mcp.surface import backends_setup, dashboard, prompts, resources
from modelops_mcp.surface.confirm import Confirmation, cancel_question, operation_question
from modelops_mcp.surface.discovery import DiscoveryTools
from modelops_mcp.surface.exposure import SETUP_TOOL
from modelops_mcp.surface.job_tools import JobTools
from modelops_mcp.surface.listing import listed_tools
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.roots import client_roots
from modelops_mcp.surface.subscriptions import Subscriptions
from modelops_mcp.surface.tasks import Tasks, client_wants_tasks
from modelops_mcp.surface.wire_result import wire_result

INSTRUCTIONS = (
    "Tools drive model fine-tuning and model operations on remote ML platforms, one tool per documented "
    "API operation, named <backend>_<verb>_<noun>. Every tool validates its arguments before anything is "
    "sent; a failure comes back as a result with isError: a one-line text, then the error object as JSON "
    'text {"error": {kind, status, code, message, retryable, retry_after}}. Long operations (fits, trainings, '
    "tests, builds) return at once with a job handle {id, uri, status}: wait with jobs_wait (it returns on "
    "timeout without error; call it again), read with jobs_get or the job:// resource, subscribe to the uri "
    "for updates, cancel with jobs_cancel. Jobs survive a server restart. Read modelops://backends to see "
    "which backends are configured."
)

SEARCH_INSTRUCTIONS = (
    " This server runs in search mode: find an operation with ops_search, read its arguments with "
    "ops_describe, run it with ops_call (same results, errors and job handles as a direct tool)."
)

DESCRIPTION = "Fine-tunes and model operations on Caila, the Training Module, Tune the Model, DataRobot and Pieces OS."

_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}


def build_server(runtime: Runtime) -> Server[object]:
    executor = runtime.executor
    settings = runtime.settings
    exposed = runtime.exposed
    text_limit = settings.limits.text_chars
    job_tools = JobTools(runtime.jobs, sorted(runtime.catalog.backends), text_limit, settings.read_only)
    discovery = DiscoveryTools(exposed, settings.read_only, text_limit) if settings.discovery == "search" else None
    exposure = runtime.exposure
    tools = listed_tools(settings, runtime.catalog, exposed, runtime.shown_outputs, exposure)
    # What a host that negotiated MCP Apps lists: the same tools, the jobs ones pointing at the dashboard.
    app_tools = dashboard.declare(tools)
    subscriptions = Subscriptions()
    tasks = Tasks(runtime.jobs, runtime.catalog)
    confirmation = Confirmation(settings.confirm)

    async def job_changed(job: Job) -> None:
        await subscriptions.publish(job.uri)

    runtime.jobs.add_listener(job_changed)

    async def list_tools(
        ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=app_tools if dashboard.wants_apps(ctx) else tools)

    async def call_tool(
        ctx: ServerRequestContext[object], params: types.CallToolRequestParams
    ) -> types.CallToolResult | dict[str, Any]:
        if params.name in job_tools:
            if params.name == "jobs_cancel":
                stop = await confirm_cancel(ctx, params)
                if stop is not None:
                    return stop
            return await job_tools.call(params.name, params.arguments, ctx.session.report_progress)

        async def invoke(name: str, arguments: dict[str, Any] | None) -> types.CallToolResult | dict[str, Any]:
            op = exposed[name]
            if op.destructive_call(arguments or {}):
                # Bad arguments are refused first: the user is never asked about a call that cannot run.
                stop = executor.refusal(name, arguments or {}) or await confirmation.ask(
                    ctx, params, name, arguments or {}, operation_question(op, arguments or {}), op.backend
                )
                if stop is not None:
                    return stop
            result = await executor.call(name, arguments, client_roots(ctx))
            if exposed[name].job is not None and client_wants_tasks(ctx):
                return tasks.created(result) or result
            return result

        if params.name == SETUP_TOOL and exposure.hidden:
            client = ctx.session.client_params
            return backends_setup.answer(exposure, backends_setup.host_of(client.client_info.name if client else None))
        if discovery is not None and params.name in discovery:
            return await discovery.call(params.name, params.arguments, invoke)
        # In search mode an exposed operation stays callable by its own name, though not listed.
        if params.name not in exposed:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}{unlisted_because(params.name)}")
        return await invoke(params.name, params.arguments)

    def unlisted_because(name: str) -> str:
        """For an operation of a backend left out for want of settings: what would list it."""
        op = runtime.catalog.operations.get(name)
        place = exposure.of(op.backend) if op is not None else None
        if place is None or not place.hidden_unconfigured:
            return ""
        return f" ({place.title} is not configured: to list its tools, {place.to_configure()}, and restart)"

    async def confirm_cancel(
        ctx: ServerRequestContext[object], params: types.CallToolRequestParams
    ) -> types.CallToolResult | dict[str, Any] | None:
        arguments = params.arguments or {}
        try:
            job = runtime.jobs.get(str(arguments.get("job_id")))
        except UnknownJob:
            return None  # jobs_cancel itself says so
        if job.terminal or not job.following:
            return None  # nothing left to cancel: nothing is sent
        return await confirmation.ask(ctx, params, "jobs_cancel", arguments, cancel_question(job), job.backend)

    async def list_resources(
        ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        listed = resources.list_resources(runtime)
        return types.ListResourcesResult(
            resources=[*listed, dashboard.resource()] if dashboard.wants_apps(ctx) else listed
        )

    async def list_templates(
        ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=resources.templates())

    async def read_resource(
        ctx: ServerRequestContext[object], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        if str(params.uri) == dashboard.URI:
            return types.ReadResourceResult(contents=[dashboard.contents()])
        try:
            return types.ReadResourceResult(contents=[await resources.read(runtime, str(params.uri))])
        except resources.ResourceNotFound as exc:
            raise MCPError(resources.not_found_code(ctx.protocol_version), str(exc), {"uri": exc.uri}) from None

    async def complete(ctx: ServerRequestContext[object], params: types.CompleteRequestParams) -> types.CompleteResult:
        uri = params.ref.uri if isinstance(params.ref, types.ResourceTemplateReference) else ""
        values = resources.complete(runtime, uri, params.argument.name, params.argument.value)
        return types.CompleteResult(
            completion=types.Completion(values=values[:100], total=len(values), has_more=len(values) > 100)
        )

    async def subscribe(ctx: ServerRequestContext[object], params: types.SubscribeRequestParams) -> types.EmptyResult:
        # Any URI may be subscribed to (the spec does not require it to exist yet); only job:// ones change.
        subscriptions.subscribe(str(params.uri), ctx.session)
        return types.EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext[object], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        subscriptions.unsubscribe(str(params.uri), ctx.session)
        return types.EmptyResult()

    # Only journeys whose every tool is exposed: a prompt would walk an agent into tools it cannot call.
    journeys = prompts.Prompts(runtime.catalog, exposed, search_mode=discovery is not None)

    async def list_prompts(
        ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=journeys.list())

    async def get_prompt(
        ctx: ServerRequestContext[object], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        try:
            return journeys.get(params.name, params.arguments or {})
        except prompts.PromptNotFound:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}") from None

    async def set_level(ctx: ServerRequestContext[object], params: types.SetLevelRequestParams) -> types.EmptyResult:
        logging.getLogger("modelops_mcp").setLevel(_LOG_LEVELS.get(params.level, logging.INFO))
        return types.EmptyResult()

    # logging/setLevel is deprecated in 2026-07-28 but still part of 2025-11-25, which most clients speak.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        server: Server[object] = Server(
            "modelops-mcp",
            version=__version__,
            title="modelops-mcp",
            description=DESCRIPTION,
            instructions=INSTRUCTIONS
            + exposure.note()
            + (SEARCH_INSTRUCTIONS if discovery is not None and exposed else ""),
            on_list_tools=list_tools,
            on_list_resources=list_resources,
            on_list_resource_templates=list_templates,
            on_read_resource=read_resource,
            on_subscribe_resource=subscribe,
            on_unsubscribe_resource=unsubscribe,
            on_list_prompts=list_prompts,
            on_get_prompt=get_prompt,
            on_completion=complete,
            on_set_logging_level=set_level,
            on_subscriptions_listen=subscriptions.listen,
        )

    # Registered directly: with the Tasks extension a tools/call may answer with a task handle, a result
    # shape the typed `on_call_tool` slot does not admit.
    async def call_tool_wired(
        ctx: ServerRequestContext[object], params: types.CallToolRequestParams
    ) -> types.CallToolResult | dict[str, Any]:
        return wire_result(await call_tool(ctx, params))

    server.add_request_handler("tools/call", types.CallToolRequestParams, call_tool_wired)
    tasks.install(server)
    return server
