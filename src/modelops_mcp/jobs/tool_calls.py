"""A tool call as the MCP surface makes it: executed by the calls layer, then followed as a job if it started one.

Executing a call knows nothing of jobs (calls/executor.py returns the backend's answer); this is the step
above it that hands a long-running operation's answer to the tracker and adds the job's handle to the result.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types

from modelops_mcp.calls.executor import Executor
from modelops_mcp.calls.reply import Reply
from modelops_mcp.core.errors import ToolFailure
from modelops_mcp.http.uploads import RootsProvider
from modelops_mcp.jobs.tracker import Tracker
from modelops_mcp.spec.catalog import Operation


class ToolCalls:
    def __init__(self, executor: Executor, jobs: Tracker) -> None:
        self.executor = executor
        self.jobs = jobs

    def refusal(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult | None:
        """The validation error a call would get, checked before the user is asked to confirm it."""
        return self.executor.refusal(name, arguments)

    async def call(
        self, name: str, arguments: dict[str, Any] | None, roots: RootsProvider | None = None
    ) -> types.CallToolResult:
        """One tool call (never raises); `roots` lists the client's roots, for calls that upload local files."""
        return await self.executor.call(name, arguments, roots, after=self._follow)

    async def _follow(
        self, op: Operation, arguments: dict[str, Any], reply: Reply, result: types.CallToolResult
    ) -> types.CallToolResult:
        if not self.jobs.follows(op):
            return result
        try:
            job = self.jobs.start(op, arguments, reply, self.executor.known_base_url(op.backend))
            job = await self.jobs.first_look(job.id)  # so the first listing shows the backend's state
        except ToolFailure as failure:
            # The backend did start the operation: that its answer names no job to follow is no failure of the
            # call, and reporting one would have the agent start the operation again.
            note = (
                f"HTTP {reply.status}: {failure.error.message}. Do not repeat the call: the backend carried it "
                f"out; look for what it started with this backend's list or get tools."
            )
            return result.model_copy(update={"content": [types.TextContent(type="text", text=note), *result.content]})
        structured = dict(result.structured_content or {})
        structured["job"] = job.handle()
        follow = (
            f"Started job {job.id} ({job.status}{f', state {job.state}' if job.state else ''}). "
            f'Follow it with jobs_wait {{"job_id": "{job.id}"}}, '
            f"jobs_get, or by reading / subscribing to {job.uri}."
        )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=follow), *result.content], structured_content=structured
        )
