"""prompts/list and prompts/get as plain async handlers on one object, built from the runtime (prompts.py has
the journeys)."""

from __future__ import annotations

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from modelops_mcp.surface import prompts
from modelops_mcp.surface.parts import Runtime


class PromptHandlers:
    def __init__(self, runtime: Runtime) -> None:
        # Only journeys whose every tool is exposed: a prompt would walk an agent into tools it cannot call.
        self.journeys = prompts.Prompts(
            runtime.catalog, runtime.exposed, search_mode=runtime.settings.discovery == "search"
        )

    async def list_prompts(
        self, ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=self.journeys.list())

    async def get_prompt(
        self, ctx: ServerRequestContext[object], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        try:
            return self.journeys.get(params.name, params.arguments or {})
        except prompts.PromptNotFound:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}") from None
