"""DataRobot's asynchronous jobs: 202 + `Location` → `GET /status/{id}/` → 303 to the finished resource.

While the job runs the status route answers 200 with INITIALIZED/RUNNING (ERROR and ABORTED end it); once it
is done it answers 303 See Other, and the `Location` names the finished resource — a test, feature impact, a
new version — which is fetched (only through a documented route of the configured endpoint) and becomes the
job's result. The declared rules read both answers: `/status` on the status body, and e.g. `/overallStatus`
on a finished test, so a test that ran but failed ends the job `failed` with its checks as the message.
"""

from __future__ import annotations

from typing import Any

from modelops_mcp.calls.reply import Reply
from modelops_mcp.core.errors import ToolFailure
from modelops_mcp.jobs.adapters import Caller, Observation
from modelops_mcp.jobs.declared import DeclaredAdapter
from modelops_mcp.jobs.model import Job

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The fields a finished DataRobot resource reports its own state in, most specific first.
STATE_FIELDS = ("overallStatus", "buildStatus", "status")


def describe_checks(body: Any) -> str | None:
    """`errorCheck failed: custom.py was not found…` from a test's `testingStatus`; None for other resources."""
    checks = body.get("testingStatus") if isinstance(body, dict) else None
    if not isinstance(checks, dict) or not checks:
        return None
    shown: list[str] = []
    passed = 0
    for name, check in checks.items():
        if not isinstance(check, dict):
            continue
        status = str(check.get("status", "?"))
        if status == "succeeded":
            passed += 1
            continue
        message = check.get("message")
        shown.append(f"{name} {status}" + (f": {message}" if message else ""))
    if not shown:
        return f"all {passed} checks succeeded"
    return "; ".join(shown)


def _state(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    return next((str(body[k]) for k in STATE_FIELDS if isinstance(body.get(k), str)), None)


class StatusLocationAdapter(DeclaredAdapter):
    async def poll(self, job: Job, call: Caller) -> Observation:
        reply = await self._status(job, call)
        if reply.status in REDIRECTS:
            return await self._finished(call, reply)
        seen = self.interpret(reply.body)
        if seen.status == "working" and _state(reply.body) == "COMPLETED":
            # Done without a redirect: nothing further to fetch, the status body is all there is.
            return Observation(status="completed", state="COMPLETED", message=seen.message, result=reply.body)
        return seen

    async def _status(self, job: Job, call: Caller) -> Reply:
        location = job.remote.get("location")
        if isinstance(location, str) and location:
            op, arguments = await call.route(self.start.backend, location)
        elif self._status_op is not None and self.declaration.status is not None:
            op = self._status_op
            arguments = self.arguments_for(op, self.declaration.status, job.remote)
        else:
            raise AssertionError(f"{self.start.tool_name}: a status job needs a Location or a status operation")
        return await call(op, arguments)

    async def _finished(self, call: Caller, reply: Reply) -> Observation:
        target = reply.headers.get("location")
        if not target:
            return Observation(status="completed", state="COMPLETED", result=reply.body)
        try:
            op, arguments = await call.route(self.start.backend, target)
        except ToolFailure as refused:
            # Done, but the resource is not one we may or can fetch: say where it is instead.
            note = f"finished; the result at {target} was not fetched: {refused.error.message}"
            return Observation(status="completed", state="COMPLETED", message=note, result={"location": target})
        resource = await call(op, arguments)
        seen = self.interpret(resource.body)
        status = "completed" if seen.status == "working" else seen.status
        body = resource.body if isinstance(resource.body, dict) else {"result": resource.body}
        return Observation(
            status=status,
            state=_state(resource.body) or "COMPLETED",
            message=describe_checks(resource.body) or seen.message,
            result={**body, "location": target},
        )
