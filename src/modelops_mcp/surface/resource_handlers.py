"""Resources, their completions and subscriptions as plain async handlers on one object, built from the runtime.

resources.py says what each resource holds; this object answers the MCP requests for them and tells
subscribers of a job:// URI when the job changes (both protocol eras: subscriptions.py).
"""

from __future__ import annotations

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from modelops_mcp.jobs import Job
from modelops_mcp.surface import dashboard, resources
from modelops_mcp.surface.parts import Runtime
from modelops_mcp.surface.subscriptions import Subscriptions

# The most values one completion answers; `total` and `hasMore` say how many there were.
MAX_COMPLETIONS = 100


class ResourceHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.subscriptions = Subscriptions()
        # subscriptions/listen (2026-07-28) is the SDK's handler over the same bus `publish` feeds.
        self.listen = self.subscriptions.listen

    async def job_changed(self, job: Job) -> None:
        """The tracker's listener: every subscriber of the job's URI is told."""
        await self.subscriptions.publish(job.uri)

    async def list_resources(
        self, ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        listed = resources.list_resources(self.runtime)
        # The jobs dashboard (an MCP App) only for a client that negotiated MCP Apps.
        return types.ListResourcesResult(
            resources=[*listed, dashboard.resource()] if dashboard.wants_apps(ctx) else listed
        )

    async def list_templates(
        self, ctx: ServerRequestContext[object], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=resources.templates())

    async def read_resource(
        self, ctx: ServerRequestContext[object], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        if str(params.uri) == dashboard.URI:
            return types.ReadResourceResult(contents=[dashboard.contents()])
        try:
            return types.ReadResourceResult(contents=[await resources.read(self.runtime, str(params.uri))])
        except resources.ResourceNotFound as exc:
            raise MCPError(resources.not_found_code(ctx.protocol_version), str(exc), {"uri": exc.uri}) from None

    async def complete(
        self, ctx: ServerRequestContext[object], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        uri = params.ref.uri if isinstance(params.ref, types.ResourceTemplateReference) else ""
        values = resources.complete(self.runtime, uri, params.argument.name, params.argument.value)
        return types.CompleteResult(
            completion=types.Completion(
                values=values[:MAX_COMPLETIONS], total=len(values), has_more=len(values) > MAX_COMPLETIONS
            )
        )

    async def subscribe(
        self, ctx: ServerRequestContext[object], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        # Any URI may be subscribed to (the spec does not require it to exist yet); only job:// ones change.
        self.subscriptions.subscribe(str(params.uri), ctx.session)
        return types.EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[object], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self.subscriptions.unsubscribe(str(params.uri), ctx.session)
        return types.EmptyResult()
