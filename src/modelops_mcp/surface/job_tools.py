"""The jobs_* tools: list, read, wait on and cancel jobs, for clients that do not read resources."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types

from modelops_mcp.calls.response import compact
from modelops_mcp.calls.validation import ArgumentValidator
from modelops_mcp.core.errors import ToolError, ToolFailure, error_result
from modelops_mcp.jobs import JOB_STATUSES, Job
from modelops_mcp.jobs.history import HISTORY_VIEWS
from modelops_mcp.jobs.model import JOB_SCHEMA, JOB_WITH_HISTORY_SCHEMA
from modelops_mcp.jobs.report import describe
from modelops_mcp.jobs.store import StoreError
from modelops_mcp.jobs.tracker import Tracker, UnknownJob

log = logging.getLogger(__name__)

WAIT_DEFAULT_S = 50.0
WAIT_MAX_S = 600.0
# While nothing changes, jobs_wait still reports progress this often, so clients that reset their
# request timeout on progress keep waiting.
HEARTBEAT_S = 5.0

Reporter = Callable[[float, float | None, str | None], Awaitable[None]]

_JOB_ID = {"type": "string", "minLength": 1, "maxLength": 64, "description": "From a job handle."}
# The spec reads destructiveHint and idempotentHint only when readOnlyHint is false: left out here.
READ_ONLY = types.ToolAnnotations(read_only_hint=True, open_world_hint=False)


def object_tool(
    name: str,
    title: str,
    description: str,
    properties: dict[str, Any],
    required: list[str],
    output: dict[str, Any] | None,
    annotations: types.ToolAnnotations,
) -> types.Tool:
    """A tool the server defines itself (jobs_*, ops_*): one closed object of arguments."""
    return types.Tool(
        name=name,
        title=title,
        description=description,
        input_schema={"type": "object", "properties": properties, "required": required, "additionalProperties": False},
        output_schema=output,
        annotations=annotations,
    )


def definitions(backends: list[str], read_only: bool = False) -> list[types.Tool]:
    """The jobs_* tools; read-only mode keeps jobs readable but not cancellable (cancelling acts remotely)."""
    return [tool for tool in _definitions(backends) if not (read_only and tool.name == "jobs_cancel")]


def _definitions(backends: list[str]) -> list[types.Tool]:
    one_job = {"type": "object", "properties": {"job": JOB_WITH_HISTORY_SCHEMA}, "required": ["job"]}
    return [
        object_tool(
            "jobs_list",
            "List jobs",
            "List the jobs this server follows (fits, trainings, tests, builds), newest first, without their "
            "results (jobs_get). Filter by backend and status; pass next_cursor back as cursor for more.",
            {
                "backend": {"type": "string", "enum": backends},
                "status": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(JOB_STATUSES)},
                    "uniqueItems": True,
                    "description": "Only jobs in one of these statuses.",
                },
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                "cursor": {"type": "string", "description": "next_cursor from the previous page."},
            },
            [],
            {
                "type": "object",
                "properties": {"jobs": {"type": "array", "items": JOB_SCHEMA}, "next_cursor": {"type": "string"}},
                "required": ["jobs"],
            },
            READ_ONLY,
        ),
        object_tool(
            "jobs_get",
            "Get a job",
            "A job: status, progress (0..1), message, operation (the tool that started it), remote (the "
            "backend's ids), state (its raw state), history (states, metric series: compact unless history: "
            "full) and, once ended, result or error. Asks the backend at most once per poll interval.",
            {"job_id": _JOB_ID, "history": {"type": "string", "enum": list(HISTORY_VIEWS)}},
            ["job_id"],
            one_job,
            READ_ONLY,
        ),
        object_tool(
            "jobs_wait",
            "Wait for a job",
            f"Wait until a job ends or timeout_s passes (default {WAIT_DEFAULT_S:g}, at most {WAIT_MAX_S:g}), "
            "with progress notifications. On timeout it returns the running job (timed_out: true), not an "
            "error: call it again to keep waiting.",
            {
                "job_id": _JOB_ID,
                "timeout_s": {"type": "number", "minimum": 0, "maximum": WAIT_MAX_S, "default": WAIT_DEFAULT_S},
            },
            ["job_id"],
            {
                "type": "object",
                "properties": {"job": JOB_WITH_HISTORY_SCHEMA, "timed_out": {"type": "boolean"}},
                "required": ["job", "timed_out"],
            },
            READ_ONLY,
        ),
        object_tool(
            "jobs_cancel",
            "Cancel a job",
            "Cancel a job by its backend's cancel operation. If none, nothing is sent (backend_cancelled: false); "
            "stop_following: true stops following it anyway.",
            {"job_id": _JOB_ID, "stop_following": {"type": "boolean"}},
            ["job_id"],
            {
                "type": "object",
                "properties": {
                    "job": JOB_SCHEMA,
                    "backend_cancelled": {"type": "boolean"},
                    "message": {"type": "string"},
                },
                "required": ["job", "backend_cancelled", "message"],
            },
            types.ToolAnnotations(
                read_only_hint=False,
                destructive_hint=True,
                idempotent_hint=True,
                open_world_hint=True,
            ),
        ),
    ]


PROGRESS_TOTAL = 100.0
# While a job runs its percentage is shown at most this high, so the value can keep growing (the spec's MUST)
# by _STEP per notification after a backend reports 100% but before it says the job ended: 1000 steps of room,
# more than a longest wait's heartbeats. The end itself is PROGRESS_TOTAL.
_RUNNING_CEILING = 99.0
_STEP = 0.001


class ProgressScale:
    """One scale per wait: every notification is a percentage with total 100, from the first to the last.

    A backend that gives no percentage keeps the value where it was plus a step too small to read as
    progress (the value must grow with each notification, and a heartbeat is one); when it gives one, the
    value is that percentage (never less than the last sent); the job's end is 100.
    """

    def __init__(self) -> None:
        self.last = -_STEP

    def next(self, job: Job) -> float:
        if job.terminal:
            value = max(PROGRESS_TOTAL, self.last + _STEP)
        else:
            known = 0.0 if job.progress is None else min(job.progress * 100, _RUNNING_CEILING)
            # Past the room, halving what is left keeps each value below the total and still larger than the last.
            step = min(_STEP, (PROGRESS_TOTAL - self.last) / 2)
            value = max(known, self.last + step)
        self.last = value
        return value


def _result(structured: dict[str, Any], text: str, limit: int) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"{text}\n{compact(structured, limit)}")],
        structured_content=structured,
    )


class JobTools:
    def __init__(self, tracker: Tracker, backends: list[str], text_limit: int, read_only: bool = False) -> None:
        self.tracker = tracker
        self.tools = definitions(backends, read_only)
        self._validators = {tool.name: ArgumentValidator(tool.input_schema) for tool in self.tools}
        self._text_limit = text_limit

    def __contains__(self, name: str) -> bool:
        return name in self._validators

    async def call(self, name: str, arguments: dict[str, Any] | None, report: Reporter) -> types.CallToolResult:
        arguments = arguments or {}
        try:
            self._validators[name].check(arguments, name)
            return await self._call(name, arguments, report)
        except ToolFailure as failure:
            return error_result(failure.error.model_copy(update={"operation": name}))
        except UnknownJob as exc:
            # The message already says to list jobs; `next` says it to a client that reads the object.
            message = str(exc)
            return error_result(
                ToolError(kind="not_found", code="unknown_job", message=message, operation=name, next=["jobs_list"])
            )
        except StoreError as exc:
            return error_result(ToolError(kind="validation", message=str(exc), operation=name))
        except Exception as exc:  # the server must keep serving whatever one call meets
            log.exception("%s: unexpected failure", name)
            message = f"unexpected failure: {type(exc).__name__}"
            return error_result(ToolError(kind="backend", message=message, operation=name))

    async def _call(self, name: str, args: dict[str, Any], report: Reporter) -> types.CallToolResult:
        tracker = self.tracker
        if name == "jobs_list":
            jobs, cursor = tracker.store.page(
                backend=args.get("backend"),
                statuses=args.get("status"),
                limit=args.get("limit", 20),
                cursor=args.get("cursor"),
            )
            listed = [{k: v for k, v in job.public("none").items() if k != "result"} for job in jobs]
            structured: dict[str, Any] = {"jobs": listed}
            if cursor is not None:
                structured["next_cursor"] = cursor
            text = "\n".join(describe(job) for job in jobs) or "no jobs"
            return _result(structured, text, self._text_limit)
        if name == "jobs_get":
            job = await tracker.refresh(args["job_id"])
            return _result({"job": job.public(args.get("history", "compact"))}, describe(job), self._text_limit)
        if name == "jobs_wait":
            job, timed_out = await self._wait(args["job_id"], float(args.get("timeout_s", WAIT_DEFAULT_S)), report)
            text = describe(job)
            if not job.following and not job.terminal:
                text += " (not followed: this job will not change here; nothing to wait for)"
            elif timed_out:
                text += " (still running when the wait ended; call jobs_wait again)"
            return _result({"job": job.public(), "timed_out": timed_out}, text, self._text_limit)
        job, outcome = await tracker.cancel(args["job_id"], bool(args.get("stop_following", False)))
        structured = {"job": job.public(), "backend_cancelled": outcome.requested, "message": outcome.message}
        return _result(structured, f"{describe(job)}\n{outcome.message}", self._text_limit)

    async def _wait(self, job_id: str, seconds: float, report: Reporter) -> tuple[Job, bool]:
        deadline = time.monotonic() + seconds
        scale = ProgressScale()

        async def update(job: Job) -> None:
            await report(scale.next(job), PROGRESS_TOTAL, describe(job))

        job = self.tracker.get(job_id)
        await update(job)
        while True:
            job = await self.tracker.wait(job_id, max(0.0, min(HEARTBEAT_S, deadline - time.monotonic())), update)
            if not job.following and not job.terminal:
                return job, False  # let go of: it will not change, so waiting longer tells nothing
            if job.terminal or time.monotonic() >= deadline:
                return job, not job.terminal
            await update(job)
