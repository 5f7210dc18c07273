"""MCP wiring on the SDK's low-level Server: handlers only; the work happens in the runtime's parts."""

from __future__ import annotations

import logging
import warnings

import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from modelops_mcp import __version__, prompts, resources
from modelops_mcp.runtime import Runtime

INSTRUCTIONS = (
    "Tools drive model fine-tuning and model operations on remote ML platforms, one tool per documented "
    "API operation, named <backend>_<verb>_<noun>. Every tool validates its arguments before anything is "
    "sent; a failure comes back as a result with isError and structuredContent.error "
    "{kind, status, code, message, retryable, retry_after}. Long operations (fits) return at once: follow "
    "them with the matching status tool. Read modelops://backends to see which backends are configured."
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
    tools = runtime.catalog.tools()
    executor = runtime.executor

    async def list_tools(
        ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[object], params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in runtime.catalog.operations:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        return await executor.call(params.name, params.arguments)

    async def list_resources(
        ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=resources.list_resources(runtime))

    async def list_templates(
        ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=resources.templates())

    async def read_resource(
        ctx: ServerRequestContext[object], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        try:
            return types.ReadResourceResult(contents=[resources.read(runtime, str(params.uri))])
        except resources.ResourceNotFound as exc:
            raise MCPError(resources.RESOURCE_NOT_FOUND, str(exc), {"uri": exc.uri}) from None

    async def complete(ctx: ServerRequestContext[object], params: types.CompleteRequestParams) -> types.CompleteResult:
        uri = params.ref.uri if isinstance(params.ref, types.ResourceTemplateReference) else ""
        values = resources.complete(runtime, uri, params.argument.name, params.argument.value)
        return types.CompleteResult(
            completion=types.Completion(values=values[:100], total=len(values), has_more=len(values) > 100)
        )

    async def subscribe(ctx: ServerRequestContext[object], params: types.SubscribeRequestParams) -> types.EmptyResult:
        # Any URI may be subscribed to (the spec does not require it to exist yet); the catalog resources
        # never change while the server runs, so there is nothing to send for them.
        return types.EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext[object], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        return types.EmptyResult()

    backends = set(runtime.catalog.backends)

    async def list_prompts(
        ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=prompts.list_prompts(backends))

    async def get_prompt(
        ctx: ServerRequestContext[object], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        try:
            return prompts.get_prompt(params.name, params.arguments or {}, backends)
        except prompts.PromptNotFound:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}") from None

    async def set_level(ctx: ServerRequestContext[object], params: types.SetLevelRequestParams) -> types.EmptyResult:
        logging.getLogger("modelops_mcp").setLevel(_LOG_LEVELS.get(params.level, logging.INFO))
        return types.EmptyResult()

    # logging/setLevel is deprecated in 2026-07-28 but still part of 2025-11-25, which most clients speak.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        return Server(
            "modelops-mcp",
            version=__version__,
            title="modelops-mcp",
            description=DESCRIPTION,
            instructions=INSTRUCTIONS,
            on_list_tools=list_tools,
            on_call_tool=call_tool,
            on_list_resources=list_resources,
            on_list_resource_templates=list_templates,
            on_read_resource=read_resource,
            on_subscribe_resource=subscribe,
            on_unsubscribe_resource=unsubscribe,
            on_list_prompts=list_prompts,
            on_get_prompt=get_prompt,
            on_completion=complete,
            on_set_logging_level=set_level,
        )
