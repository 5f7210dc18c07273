"""MCP wiring on the SDK's low-level Server: each request goes to a plain async handler of one of the handler
objects (tools, resources, prompts, tasks), which can be called and tested alone; the work happens in the
runtime's parts."""

from __future__ import annotations

import logging
import warnings

import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning

from modelops_mcp import __version__
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.prompt_handlers import PromptHandlers
from modelops_mcp.surface.resource_handlers import ResourceHandlers
from modelops_mcp.surface.tasks import Tasks
from modelops_mcp.surface.tool_handlers import ToolHandlers
from modelops_mcp.surface.wire_result import SieveBypass

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


async def set_level(ctx: ServerRequestContext[object], params: types.SetLevelRequestParams) -> types.EmptyResult:
    """logging/setLevel: the level of this server's own loggers."""
    logging.getLogger("modelops_mcp").setLevel(_LOG_LEVELS.get(params.level, logging.INFO))
    return types.EmptyResult()


def build_server(runtime: Runtime) -> Server[object]:
    tasks = Tasks(runtime.jobs, runtime.catalog)
    tools = ToolHandlers(runtime, tasks)
    resources = ResourceHandlers(runtime)
    prompts = PromptHandlers(runtime)
    runtime.jobs.add_listener(resources.job_changed)
    search_mode = tools.discovery is not None and bool(runtime.exposed)

    # logging/setLevel is deprecated in 2026-07-28 but still part of 2025-11-25, which most clients speak.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        server: Server[object] = Server(
            "modelops-mcp",
            version=__version__,
            title="modelops-mcp",
            description=DESCRIPTION,
            instructions=INSTRUCTIONS + runtime.exposure.note() + (SEARCH_INSTRUCTIONS if search_mode else ""),
            on_list_tools=tools.list_tools,
            get_tool_input_schema=tools.input_schema,
            on_list_resources=resources.list_resources,
            on_list_resource_templates=resources.list_templates,
            on_read_resource=resources.read_resource,
            on_subscribe_resource=resources.subscribe,
            on_unsubscribe_resource=resources.unsubscribe,
            on_list_prompts=prompts.list_prompts,
            on_get_prompt=prompts.get_prompt,
            on_completion=resources.complete,
            on_set_logging_level=set_level,
            on_subscriptions_listen=resources.listen,
        )
    # Registered directly: with the Tasks extension a tools/call may answer with a task handle, a result
    # shape the typed `on_call_tool` slot does not admit.
    server.add_request_handler("tools/call", types.CallToolRequestParams, tools.call_tool)
    server.middleware.append(SieveBypass())  # wire_result's partner: the content skips the SDK's sieve
    tasks.install(server)
    return server
