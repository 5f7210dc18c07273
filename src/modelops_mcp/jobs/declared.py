"""The status adapter built from an `x-mcp.job` declaration: ids, status call, status rules, progress."""

from __future__ import annotations

from typing import Any

from modelops_mcp.calls.reply import Reply, evaluate, fill_arguments
from modelops_mcp.core.errors import ToolError, ToolFailure
from modelops_mcp.jobs.adapters import Caller, CancelOutcome, Observation
from modelops_mcp.jobs.model import Job, JobStatus
from modelops_mcp.spec.catalog import Catalog, Operation
from modelops_mcp.spec.extension import JobDeclaration, OperationRef, ProgressSpec
from modelops_mcp.spec.openapi import MISSING, resolve_pointer


def matches(actual: Any, expected: Any) -> bool:
    """A rule's value: a list matches any of its members; strings compare case-insensitively (SUCCESS, success)."""
    if isinstance(expected, list):
        return any(matches(actual, option) for option in expected)
    if isinstance(expected, str) and isinstance(actual, str):
        return actual.casefold() == expected.casefold()
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected  # `True == 1` in Python; a JSON boolean must not match a number
    return bool(actual == expected)


class DeclaredAdapter:
    def __init__(self, declaration: JobDeclaration, start: Operation, catalog: Catalog) -> None:
        self.declaration = declaration
        self.start = start
        self._catalog = catalog
        self._status_op = self._find(catalog, declaration.status)
        self._cancel_op = self._find(catalog, declaration.cancel)

    def _find(self, catalog: Catalog, ref: OperationRef | None) -> Operation | None:
        if ref is None:
            return None
        # The catalog checked at load that the operation exists in this backend.
        op = catalog.find(self.start.backend, ref.operation)
        assert op is not None, ref.operation
        return op

    def remote_ids(self, arguments: dict[str, Any], reply: Reply) -> dict[str, Any]:
        ids: dict[str, Any] = {}
        for name, expression in self.declaration.ids.items():
            value = evaluate(expression, self.start, arguments, reply)
            if value is MISSING or value is None:
                raise ToolFailure(
                    ToolError(
                        kind="backend",
                        code="unexpected_response",
                        message=f"the backend started the operation but its answer has no {name} "
                        f"({expression}), so the job cannot be followed",
                        backend=self.start.backend,
                        operation=self.start.tool_name,
                    )
                )
            ids[name] = value
        return ids

    # The status call's arguments from the job's remote ids (also used for `resolve` and cancel calls).
    arguments_for = staticmethod(fill_arguments)

    def interpret(self, body: Any) -> Observation:
        decl = self.declaration
        status: JobStatus = "working"
        for rule in decl.rules:
            if all(matches(resolve_pointer(body, pointer), value) for pointer, value in rule.when.items()):
                status = rule.status
                break
        state = self._text(body, decl.state)
        message = self._text(body, decl.message)
        return Observation(
            status=status,
            state=state,
            message=message,
            progress=self._progress(body),
            result=body if status in ("completed", "failed", "cancelled") else None,
        )

    @staticmethod
    def _text(body: Any, pointer: str | None) -> str | None:
        if pointer is None:
            return None
        value = resolve_pointer(body, pointer)
        if value is MISSING or value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def _progress(self, body: Any) -> float | None:
        spec = self.declaration.progress
        if spec is None:
            return None
        if isinstance(spec, str):
            spec = ProgressSpec(pointer=spec)
        value = resolve_pointer(body, spec.pointer)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return min(1.0, max(0.0, float(value) / spec.scale))

    async def poll(self, job: Job, call: Caller) -> Observation:
        if self._status_op is None or self.declaration.status is None:
            raise ToolFailure(
                ToolError(
                    kind="config",
                    message=f"{self.start.tool_name} declares a job without a status operation",
                    backend=self.start.backend,
                    operation=self.start.tool_name,
                )
            )
        arguments = self.arguments_for(self._status_op, self.declaration.status, job.remote)
        reply = await call(self._status_op, arguments)
        return self.interpret(reply.body)

    async def cancel(self, job: Job, call: Caller) -> CancelOutcome:
        if self._cancel_op is None or self.declaration.cancel is None:
            return CancelOutcome(
                requested=False,
                message=f"{self.start.backend} documents no way to cancel {self.start.tool_name}: no cancel was sent",
            )
        remote = await self.resolved(job, call)
        arguments = self.arguments_for(self._cancel_op, self.declaration.cancel, remote)
        await call(self._cancel_op, arguments)
        return CancelOutcome(requested=True, message=f"cancel requested through {self._cancel_op.tool_name}")

    async def resolved(self, job: Job, call: Caller) -> dict[str, Any]:
        """The job's remote ids plus those declared under `resolve`, each looked up by its call."""
        remote = dict(job.remote)
        for name, spec in self.declaration.resolve.items():
            if name in remote:
                continue
            op = self._find(self._catalog, spec)
            assert op is not None, spec.operation
            reply = await call(op, self.arguments_for(op, spec, remote))
            value = resolve_pointer(reply.body, spec.value)
            if value is MISSING or value is None:
                raise ToolFailure(
                    ToolError(
                        kind="backend",
                        code="unexpected_response",
                        message=f"{op.tool_name} did not answer the job's {name} (at {spec.value})",
                        backend=self.start.backend,
                        operation=op.tool_name,
                    )
                )
            remote[name] = value
        return remote
